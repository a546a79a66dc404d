# Shared by the fuzz scripts: paths, the known-bug list, logging.
FUZZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_TARGETS=(fuzz_ops fuzz_gfp fuzz_topology fuzz_threads)

fz_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# fuzz/known-bugs.txt as the comma-separated PAGETORTURE_FUZZ_IGNORE list.
fz_known_bugs() {
	local line out=""
	while IFS= read -r line; do
		line=${line%%#*}
		line=$(printf '%s' "$line" | sed 's/[[:space:]]*$//')
		[ -n "$line" ] || continue
		out=${out:+$out,}$line
	done <"$FUZZ_ROOT/fuzz/known-bugs.txt"
	printf '%s' "$out"
}

# Sanitizer settings for every fuzz run: abort on the first report so the
# engines see a crash (a ThreadSanitizer report too), and keep leaks on.
fz_sanitizer_env() {
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1:allocator_may_return_null=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}
	# Not abort_on_error under TSan: libFuzzer's SIGABRT handler allocates,
	# which TSan reports as signal-unsafe and then hangs on.  halt_on_error
	# ends the run through libFuzzer's death callback (the crash is saved,
	# exit code 66); report_signal_unsafe=0 lets a harness abort() through
	# the same handler.
	export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:report_signal_unsafe=0:second_deadlock_stack=1}
	if [ -z "${PAGETORTURE_FUZZ_IGNORE+set}" ]; then
		PAGETORTURE_FUZZ_IGNORE=$(fz_known_bugs)
		export PAGETORTURE_FUZZ_IGNORE
	fi
}
