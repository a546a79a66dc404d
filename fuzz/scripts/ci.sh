#!/usr/bin/env bash
# CI for the fuzzers: every target built for both engines, each run a short
# bounded time on its seed corpus, fuzz_threads also under ThreadSanitizer
# (preset fuzz-tsan), and the OSS-Fuzz build.sh run locally with OSS-Fuzz's
# environment, its targets replaying their seed corpora.  Any crash,
# sanitizer report (a TSan data race too) or broken invariant fails.
#
#   ci.sh [--seconds N]   N seconds per target and engine (default 8)
#         [--no-afl] [--no-tsan] [--no-oss-fuzz]
#
# Known, still unfixed allocator bugs (fuzz/known-bugs.txt) do not fail the
# run; everything else does.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$FUZZ_ROOT"

secs=8 afl=1 oss=1 tsan=1
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) secs=$2; shift 2 ;;
	--no-afl) afl=0; shift ;;
	--no-tsan) tsan=0; shift ;;
	--no-oss-fuzz) oss=0; shift ;;
	*) echo "ci.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
werror=-DBUDDY_WERROR=OFF
[ "${CI:-}" = true ] && werror=-DBUDDY_WERROR=ON
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fz_sanitizer_env
failed=()

build() {
	local preset=$1
	shift
	fz_say "ci: building $preset"
	cmake --preset "$preset" "$werror" >/dev/null
	cmake --build --preset "$preset" --target "$@" >"$tmp/build-$preset.log" 2>&1 ||
		{ cat "$tmp/build-$preset.log" >&2; exit 1; }
}

# ---- libFuzzer ----
build fuzz "${FUZZ_TARGETS[@]}"
for t in "${FUZZ_TARGETS[@]}"; do
	mkdir -p "$tmp/lf-$t"
	cp "corpus/$t"/* "$tmp/lf-$t/"
	fz_say "ci: libFuzzer $t for ${secs}s"
	if ! build/fuzz/fuzz/$t -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
		-dict="fuzz/dict/$t.dict" -artifact_prefix="$tmp/lf-crash-$t-" "$tmp/lf-$t" >"$tmp/lf-$t.log" 2>&1; then
		tail -n 60 "$tmp/lf-$t.log" >&2
		failed+=("libfuzzer:$t")
	else
		grep -E '^Done|stat::' "$tmp/lf-$t.log" | head -3 >&2 || true
	fi
done

# ---- libFuzzer under ThreadSanitizer: the multithreaded target ----
TSAN_TARGETS=(fuzz_threads)
if [ "$tsan" = 1 ]; then
	build fuzz-tsan "${TSAN_TARGETS[@]}"
	for t in "${TSAN_TARGETS[@]}"; do
		mkdir -p "$tmp/tsan-$t"
		cp "corpus/$t"/* "$tmp/tsan-$t/"
		fz_say "ci: libFuzzer + TSan $t for ${secs}s"
		# halt_on_error: a race ends the run with a crash, like any report
		# (timeout: a wedged TSan run fails instead of stalling CI)
		if ! timeout $((secs + 120)) build/fuzz-tsan/fuzz/$t -max_total_time="$secs" -timeout=60 -rss_limit_mb=4096 -max_len=4096 \
			-dict="fuzz/dict/$t.dict" -artifact_prefix="$tmp/tsan-crash-$t-" "$tmp/tsan-$t" >"$tmp/tsan-$t.log" 2>&1 ||
			grep -q 'WARNING: ThreadSanitizer' "$tmp/tsan-$t.log"; then
			tail -n 80 "$tmp/tsan-$t.log" >&2
			failed+=("tsan:$t")
		else
			grep -E '^Done|stat::' "$tmp/tsan-$t.log" | head -3 >&2 || true
		fi
	done
fi

# ---- AFL++ ----
if [ "$afl" = 1 ]; then
	if ! command -v afl-fuzz >/dev/null; then
		echo "ci.sh: afl-fuzz missing (Debian package afl++)" >&2
		exit 1
	fi
	build afl "${FUZZ_TARGETS[@]}"
	for t in "${FUZZ_TARGETS[@]}"; do
		fz_say "ci: AFL++ $t for ${secs}s"
		ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1 \
			UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0 \
			AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
			AFL_BENCH_UNTIL_CRASH=1 \
			timeout $((secs + 60)) afl-fuzz -i "corpus/$t" -o "$tmp/afl-$t" -x "fuzz/dict/$t.dict" -m none -t 20000 \
			-V "$secs" -- "build/afl/fuzz/$t" >"$tmp/afl-$t.log" 2>&1 || true
		stats="$tmp/afl-$t/default/fuzzer_stats"
		crashes=$(find "$tmp/afl-$t/default/crashes" -name 'id:*' 2>/dev/null | wc -l)
		if [ ! -f "$stats" ]; then
			tail -n 40 "$tmp/afl-$t.log" >&2
			failed+=("afl:$t (did not start)")
		elif [ "$crashes" -gt 0 ]; then
			for c in "$tmp/afl-$t/default/crashes"/id:*; do
				"build/afl/fuzz/$t" <"$c" 2>&1 | tail -n 30 >&2 || true
				break
			done
			failed+=("afl:$t ($crashes crashes)")
		else
			awk -F' *: *' '$1 ~ /^(execs_done|execs_per_sec|corpus_count|edges_found)$/ {printf "%s=%s ", $1, $2} END {print ""}' "$stats" >&2
		fi
	done
fi

# ---- the campaign script, as ./pagetorture fuzz and campaign run it ----
fz_say "ci: a 3 s libFuzzer campaign of fuzz_ops through campaign.sh"
if ! bash fuzz/scripts/campaign.sh --engine libfuzzer --target fuzz_ops --time 3 --jobs 1 --no-coverage \
	--out "$tmp/campaign" >"$tmp/campaign.log" 2>&1 || [ ! -s "$tmp/campaign/summary.md" ]; then
	tail -n 40 "$tmp/campaign.log" >&2
	failed+=("campaign.sh")
fi

# ---- OSS-Fuzz build.sh, locally ----
if [ "$oss" = 1 ]; then
	fz_say "ci: OSS-Fuzz build.sh with the OSS-Fuzz environment"
	export SANITIZER=address
	export CC=clang CXX=clang++
	export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize-address-use-after-scope -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
	export CXXFLAGS="$CFLAGS"
	export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
	export OUT="$tmp/oss/out" WORK="$tmp/oss/work" SRC="$(dirname "$FUZZ_ROOT")"
	mkdir -p "$OUT" "$WORK"
	if ! ./build.sh >"$tmp/oss-build.log" 2>&1; then
		cat "$tmp/oss-build.log" >&2
		failed+=("oss-fuzz:build.sh")
	else
		for t in "${FUZZ_TARGETS[@]}"; do
			for f in "$OUT/$t" "$OUT/${t}_seed_corpus.zip" "$OUT/$t.dict" "$OUT/$t.options"; do
				[ -s "$f" ] || failed+=("oss-fuzz:missing $(basename "$f")")
			done
			mkdir -p "$tmp/oss/seeds-$t"
			(cd "$tmp/oss/seeds-$t" && unzip -q "$OUT/${t}_seed_corpus.zip")
			if ! "$OUT/$t" -runs=0 "$tmp/oss/seeds-$t" >"$tmp/oss-$t.log" 2>&1; then
				tail -n 40 "$tmp/oss-$t.log" >&2
				failed+=("oss-fuzz:$t seeds")
			fi
		done
	fi
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz CI FAILED: ${failed[*]}" >&2
	exit 1
fi
fz_say "fuzz CI passed"
