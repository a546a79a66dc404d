#!/usr/bin/env bash
# A fuzzing campaign with a report.
#
#   campaign.sh --engine libfuzzer|afl --target fuzz_ops|fuzz_gfp|fuzz_topology|fuzz_threads
#               [--sanitizer asan|tsan] [--time SECONDS] [--jobs N] [--out DIR] [--no-coverage]
#
# --sanitizer (libFuzzer only): asan, the default, or tsan, the default for
# fuzz_threads, whose point is ThreadSanitizer.
#
# Expects the builds to exist (./pagetorture fuzz makes them):
#   build/fuzz        libFuzzer targets, ASan + UBSan          (--engine libfuzzer)
#   build/fuzz-tsan   libFuzzer targets, TSan                  (--engine libfuzzer --sanitizer tsan)
#   build/afl         AFL++ targets, ASan + UBSan              (--engine afl)
#   build/afl-cmplog  AFL++ CMPLOG targets, used by the main   (--engine afl)
#   build/fuzz-cov    <target>_run with source coverage        (the coverage report)
#   build/dev         ptfuzz, for readable traces of fuzz_ops crashes
#
# libFuzzer runs with -fork=JOBS (crashes do not stop it); AFL++ runs one
# main (-M, with CMPLOG) and JOBS-1 secondaries (-S) on a shared sync dir.
# The report directory (reports/fuzz-<date>-<engine>-<target>/ by default)
# gets:
#   summary.md        engine, target, duration, execs, exec/s, corpus, edges, crashes
#   timeline.csv      seconds, execs, exec/s, corpus, edges, crashes over the run
#   corpus/           the final corpus
#   crashes/<sig>/    per distinct crash (invariant or sanitizer report + top
#                     frames): the inputs, the smallest minimised, its trace
#   coverage/         llvm-cov HTML of alloc/ replaying the final corpus, and
#                     coverage.txt (llvm-cov report)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$FUZZ_ROOT"

engine=libfuzzer target=fuzz_ops secs=60 jobs=2 out="" coverage=1 sanitizer=
while [ $# -gt 0 ]; do
	case "$1" in
	--engine) engine=$2; shift 2 ;;
	--target) target=$2; shift 2 ;;
	--sanitizer) sanitizer=$2; shift 2 ;;
	--time) secs=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--no-coverage) coverage=0; shift ;;
	*) echo "campaign.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$engine" in libfuzzer | afl) ;; *) echo "campaign.sh: --engine libfuzzer or afl" >&2; exit 2 ;; esac
case " ${FUZZ_TARGETS[*]} " in *" $target "*) ;; *) echo "campaign.sh: unknown target $target" >&2; exit 2 ;; esac
if [ -z "$sanitizer" ]; then
	sanitizer=asan
	[ "$target" = fuzz_threads ] && [ "$engine" = libfuzzer ] && sanitizer=tsan
fi
case "$engine/$sanitizer" in
libfuzzer/asan | libfuzzer/tsan | afl/asan) ;;
*) echo "campaign.sh: --sanitizer asan or tsan (tsan with --engine libfuzzer only)" >&2; exit 2 ;;
esac
lf_build=build/fuzz
[ "$sanitizer" = tsan ] && lf_build=build/fuzz-tsan
[ "$jobs" -ge 1 ] || jobs=1
# Not a "[ ] && echo" substitution: under set -e its false test would end the script.
tsan_tag=""
[ "$sanitizer" = tsan ] && tsan_tag=-tsan
out=${out:-reports/fuzz-$(date +%Y%m%d-%H%M%S)-$engine$tsan_tag-$target}
mkdir -p "$out"/{corpus,crashes,raw-crashes,logs}
out=$(cd "$out" && pwd)
dict="fuzz/dict/$target.dict"
seeds="corpus/$target"
fz_sanitizer_env

# ---- running ----
run_libfuzzer() {
	local bin=$lf_build/fuzz/$target
	[ -x "$bin" ] || { echo "campaign.sh: $bin missing (build the $(basename "$lf_build") preset)" >&2; exit 1; }
	cp -r "$seeds"/. "$out/corpus/" 2>/dev/null || true
	fz_say "libFuzzer ($sanitizer): $target, $jobs jobs, ${secs}s -> $out"
	# -fork merges the jobs' findings into the first corpus dir; a crash
	# is saved under -artifact_prefix and the run goes on.
	"$bin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$secs" \
		-max_len=4096 -timeout=20 -rss_limit_mb=4096 -dict="$dict" -print_final_stats=1 \
		-artifact_prefix="$out/raw-crashes/" "$out/corpus" >"$out/logs/libfuzzer.log" 2>&1 || true
	# "#123456: cov: 2817 ft: 9931 corp: 421 exec/s: 310 oom/timeout/crash: 0/0/1 time: 61s ..."
	awk 'BEGIN { print "seconds,execs,exec_per_s,corpus,edges,crashes" }
	     /^#[0-9]+: cov: / {
		execs = substr($1, 2); sub(":", "", execs)
		for (i = 2; i <= NF; i++) {
			if ($i == "cov:") cov = $(i + 1)
			if ($i == "corp:") corp = $(i + 1)
			if ($i ~ /^exec\/s:?$/) eps = $(i + 1)
			if ($i == "oom/timeout/crash:") { split($(i + 1), c, "/"); crashes = c[3] }
			if ($i == "time:") { t = $(i + 1); sub("s", "", t) }
		}
		print t "," execs "," eps "," corp "," cov "," crashes
	     }' "$out/logs/libfuzzer.log" >"$out/timeline.csv"
}

# execs, exec/s, corpus, edges, crashes: summed over the instances, except
# corpus and edges, which are the main's (it imports the others' finds).
afl_sample() {
	local sync=$1
	[ -f "$sync/main/fuzzer_stats" ] || return 0
	awk -F' *: *' '
		FILENAME ~ /\/main\/fuzzer_stats$/ && $1 == "corpus_count" { corpus = $2 }
		FILENAME ~ /\/main\/fuzzer_stats$/ && $1 == "edges_found" { edges = $2 }
		$1 == "execs_done" { execs += $2 }
		$1 == "execs_per_sec" { eps += $2 }
		$1 == "saved_crashes" { crashes += $2 }
		END { printf "%d,%.0f,%d,%d,%d\n", execs, eps, corpus, edges, crashes }' "$sync"/*/fuzzer_stats
}

run_afl() {
	local bin=build/afl/fuzz/$target cmplog=build/afl-cmplog/fuzz/$target sync="$out/afl-sync"
	[ -x "$bin" ] || { echo "campaign.sh: $bin missing (build the afl preset)" >&2; exit 1; }
	command -v afl-fuzz >/dev/null || { echo "campaign.sh: afl-fuzz missing (Debian package afl++)" >&2; exit 1; }
	mkdir -p "$sync"
	# afl-fuzz insists on these for sanitizer builds; no UI, no core
	# pattern or CPU governor changes to the machine.
	export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1
	export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0
	export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
	export AFL_IMPORT_FIRST=1 AFL_SKIP_CRASHES=1
	local cmplog_args=()
	[ -x "$cmplog" ] && cmplog_args=(-c "$cmplog")
	fz_say "AFL++: $target, main + $((jobs - 1)) secondaries, ${secs}s -> $out"
	local pids=()
	afl-fuzz -M main -i "$seeds" -o "$sync" -x "$dict" -m none -t 20000 -V "$secs" "${cmplog_args[@]}" \
		-- "$bin" >"$out/logs/afl-main.log" 2>&1 &
	pids+=($!)
	for ((j = 1; j < jobs; j++)); do
		afl-fuzz -S "sec$j" -i "$seeds" -o "$sync" -x "$dict" -m none -t 20000 -V "$secs" \
			-- "$bin" >"$out/logs/afl-sec$j.log" 2>&1 &
		pids+=($!)
	done
	# AFL++ rewrites fuzzer_stats about once a minute: sample every
	# instance's file every 10 s and keep the rows where something moved.
	local t0 sampler
	t0=$(date +%s)
	(
		echo "seconds,execs,exec_per_s,corpus,edges,crashes"
		last=""
		while :; do
			sleep 10
			row=$(afl_sample "$sync")
			[ -n "$row" ] && [ "$row" != "$last" ] && echo "$(($(date +%s) - t0)),$row" && last=$row
		done
	) >"$out/timeline.csv" &
	sampler=$!
	wait "${pids[@]}" || true
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	row=$(afl_sample "$sync")
	if [ -n "$row" ]; then
		echo "$(($(date +%s) - t0)),$row" >>"$out/timeline.csv"
	fi
	afl_total_execs=0
	afl_total_eps=0
	for st in "$sync"/*/fuzzer_stats; do
		[ -f "$st" ] || continue
		afl_total_execs=$((afl_total_execs + $(awk -F' *: *' '$1 == "execs_done" {print $2}' "$st")))
		afl_total_eps=$(awk -v a="$afl_total_eps" -F' *: *' '$1 == "execs_per_sec" {printf "%.0f", a + $2}' "$st")
	done
	cp -r "$sync/main/queue"/. "$out/corpus/" 2>/dev/null || true
	rm -rf "$out/corpus/.state"
	for d in "$sync"/*/crashes; do
		for f in "$d"/id:*; do
			if [ -e "$f" ]; then
				cp "$f" "$out/raw-crashes/$(basename "$(dirname "$d")")-$(basename "$f" | tr ':,' '__')"
			fi
		done
	done
}

# ---- crashes: signature, dedupe, minimise, trace ----
# The invariant the harness named, or the sanitizer's report kind, plus the
# first three frames of our own code.
signature() {
	local log=$1 kind op frames
	kind=$(grep -m1 -oE '==pagetorture== invariant [a-z0-9-]+' "$log" | awk '{print $3}') || true
	# where the harness saw it: "violated at op 7 (alloc)"
	op=$(grep -m1 -oE 'violated at op [0-9]+ \([a-z ]+\)' "$log" | sed -E 's/.*\((.*)\)/\1/; s/ /-/g') || true
	if [ -z "$kind" ]; then
		kind=$(grep -m1 -oE 'ERROR: [A-Za-z]+Sanitizer: [a-z-]+|WARNING: ThreadSanitizer: [a-z -]+|runtime error: [a-z ]+' "$log" | tr ' ' '-' |
			tr -cd 'A-Za-z0-9-') || true
	fi
	# the first three frames in our own sources, below the harness's reporting
	frames=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [^ ]+ [^ ]*/(alloc|fuzz)/[^ ]*\.c:' "$log" |
		grep -vE ' in (fz_run|report_and_abort|violation|run_checker|check_touched|exec_op|fail|LLVMFuzzerTestOneInput|main) ' |
		head -3 | awk '{print $4}' | paste -sd- -) || true
	printf '%s%s__%s' "${kind:-unknown}" "${op:+@$op}" "${frames:-harness}" | tr -c 'A-Za-z0-9_.@-' '_' | cut -c1-150
}

triage() {
	local libfuzzer_bin=$lf_build/fuzz/$target afl_bin=build/afl/fuzz/$target ptfuzz=build/dev/fuzz/ptfuzz
	local replay_bin=$libfuzzer_bin
	[ -x "$replay_bin" ] || replay_bin=build/dev/fuzz/${target}_run
	local n=0
	for f in "$out"/raw-crashes/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		local log="$out/logs/crash-$n.log"
		# symbolised stacks for the signature, whatever the engine used
		ASAN_OPTIONS=abort_on_error=1:symbolize=1:detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:symbolize=1 \
			TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0:symbolize=1:second_deadlock_stack=1 \
			timeout 60 "$replay_bin" "$f" >"$log" 2>&1 || true
		local sig
		sig=$(signature "$log")
		mkdir -p "$out/crashes/$sig"
		cp "$f" "$out/crashes/$sig/"
		local size smallest="$out/crashes/$sig/smallest"
		size=$(stat -c %s "$f")
		if [ ! -e "$smallest" ] || [ "$size" -lt "$(stat -c %s "$smallest")" ]; then
			cp "$f" "$smallest"
			cp "$log" "$out/crashes/$sig/report.txt"
		fi
	done
	for d in "$out"/crashes/*/; do
		[ -d "$d" ] || continue
		local min="$d/minimized"
		if [ "$engine" = afl ] && [ -x "$afl_bin" ] && command -v afl-tmin >/dev/null; then
			ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 AFL_SKIP_CPUFREQ=1 \
				timeout 300 afl-tmin -i "$d/smallest" -o "$min" -m none -t 20000 -- "$afl_bin" >"$d/minimize.log" 2>&1 || true
		elif [ -x "$libfuzzer_bin" ]; then
			timeout 300 "$libfuzzer_bin" -minimize_crash=1 -runs=20000 -max_total_time=240 \
				-exact_artifact_path="$min" "$d/smallest" >"$d/minimize.log" 2>&1 || true
		fi
		[ -s "$min" ] || cp "$d/smallest" "$min"
		# The readable trace: ptfuzz for programs, the target's own report otherwise.
		if [ "$target" = fuzz_ops ] && [ -x "$ptfuzz" ]; then
			{
				echo "# decoded:"
				"$ptfuzz" decode "$min"
				echo
				echo "# replayed with the full checker after every op:"
				"$ptfuzz" replay "$min" || true
			} >"$d/trace.txt" 2>&1
		else
			ASAN_OPTIONS=abort_on_error=1:symbolize=1:detect_leaks=0 TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0:symbolize=1 \
				timeout 60 "$replay_bin" "$min" >"$d/trace.txt" 2>&1 || true
			# A race stops the TSan replay before the harness prints
			# anything: the two programs from a build without TSan.
			if [ "$target" = fuzz_threads ] && [ -x build/dev/fuzz/fuzz_threads_run ]; then
				{
					echo
					echo "# the two programs, replayed without TSan (build/dev, PAGETORTURE_FUZZ_TRACE=1):"
					PAGETORTURE_FUZZ_TRACE=1 ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 \
						timeout 60 build/dev/fuzz/fuzz_threads_run "$min" 2>&1 || true
				} >>"$d/trace.txt"
			fi
		fi
	done
	echo "$n"
}

# ---- coverage of alloc/ from the final corpus ----
coverage_report() {
	local bin=build/fuzz-cov/fuzz/${target}_run
	[ -x "$bin" ] || { fz_say "no build/fuzz-cov: coverage report skipped"; return 0; }
	local prof="$out/coverage/profraw"
	mkdir -p "$prof"
	# A crashing input would end the replay: run the corpus in chunks, each
	# with its own profile, and keep going.
	local i=0
	find "$out/corpus" -maxdepth 1 -type f | sort | split -l 200 - "$out/coverage/chunk-"
	for c in "$out"/coverage/chunk-*; do
		i=$((i + 1))
		# shellcheck disable=SC2046
		LLVM_PROFILE_FILE="$prof/$i-%p.profraw" timeout 600 "$bin" $(cat "$c") >/dev/null 2>&1 || true
	done
	rm -f "$out"/coverage/chunk-*
	local profdata=$(command -v llvm-profdata || command -v llvm-profdata-14)
	local llvmcov=$(command -v llvm-cov || command -v llvm-cov-14)
	"$profdata" merge -sparse "$prof"/*.profraw -o "$out/coverage/corpus.profdata"
	rm -rf "$prof"
	"$llvmcov" show "$bin" -instr-profile="$out/coverage/corpus.profdata" -format=html \
		-output-dir="$out/coverage/html" -show-line-counts-or-regions "$FUZZ_ROOT/alloc" >/dev/null
	"$llvmcov" report "$bin" -instr-profile="$out/coverage/corpus.profdata" "$FUZZ_ROOT/alloc" \
		>"$out/coverage/coverage.txt"
}

start=$(date +%s)
if [ "$engine" = libfuzzer ]; then run_libfuzzer; else run_afl; fi
elapsed=$(($(date +%s) - start))
fz_say "triaging crashes"
nraw=$(triage)
if [ "$coverage" = 1 ]; then
	fz_say "coverage of alloc/ from the final corpus"
	coverage_report
fi

# ---- summary ----
last=$(tail -n 1 "$out/timeline.csv")
IFS=, read -r t_last execs_last eps_last corp_last edges_last crashes_last <<<"${last}"
[ "$t_last" = seconds ] && { execs_last=0; corp_last=0; edges_last=0; }
if [ "$engine" = afl ]; then
	execs_last=$afl_total_execs
	eps_last=$afl_total_eps
fi
ncorpus=$(find "$out/corpus" -maxdepth 1 -type f | wc -l)
ndistinct=$(find "$out/crashes" -mindepth 1 -maxdepth 1 -type d | wc -l)
avg_eps=$((elapsed > 0 ? ${execs_last:-0} / elapsed : 0))
{
	echo "# Fuzzing campaign: $target with $engine"
	echo
	echo "| | |"
	echo "| --- | --- |"
	echo "| date | $(date -u +%Y-%m-%dT%H:%M:%SZ) |"
	echo "| engine, sanitizer, jobs | $engine, $sanitizer, $jobs |"
	echo "| duration | ${elapsed}s (asked ${secs}s) |"
	echo "| executions | ${execs_last:-0} |"
	echo "| exec/s, all jobs | $avg_eps (last report: ${eps_last:-?}) |"
	echo "| corpus | $ncorpus inputs (seeds: $(ls "$seeds" | wc -l)) |"
	echo "| edges (engine's count) | ${edges_last:-?} |"
	echo "| crash inputs | $nraw, $ndistinct distinct |"
	echo "| known bugs ignored | ${PAGETORTURE_FUZZ_IGNORE:-none} |"
	if [ -f "$out/coverage/coverage.txt" ]; then
		echo "| alloc/ coverage (llvm-cov, regions / functions / lines / branches) | $(awk '/^TOTAL/ {print $4 " / " $7 " / " $10 " / " $13}' "$out/coverage/coverage.txt") |"
	fi
	echo
	echo "Timeline: timeline.csv.$([ -f "$out/coverage/html/index.html" ] && echo " Coverage: coverage/html/index.html.")"
	echo
	echo "## Distinct crashes"
	for d in "$out"/crashes/*/; do
		[ -d "$d" ] || continue
		echo
		echo "### $(basename "$d")"
		echo
		echo "$(ls "$d" | grep -cvE '^(smallest|minimized|report.txt|trace.txt|minimize.log)$') inputs; minimized: $(stat -c %s "$d/minimized") bytes; trace: crashes/$(basename "$d")/trace.txt"
		echo
		echo '```'
		grep -m3 -E '==pagetorture== (invariant|FIRST)|ERROR: |WARNING: ThreadSanitizer|runtime error' "$d/trace.txt" "$d/report.txt" 2>/dev/null | head -4
		echo '```'
	done
} >"$out/summary.md"
rm -rf "$out/raw-crashes"
cat "$out/summary.md"
