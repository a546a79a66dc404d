#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build: every fuzz target into $OUT with its
# seed corpus, dictionary and options.  Uses only the environment OSS-Fuzz
# gives (CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, OUT, SRC, WORK,
# SANITIZER), so it runs the same in their builder image, in
# .clusterfuzzlite/, and locally (fuzz/scripts/ci.sh does that).
cd "$(dirname "$0")"

targets="fuzz_ops fuzz_gfp fuzz_topology fuzz_threads"
obj="$WORK/pagetorture-obj"
rm -rf "$obj"
mkdir -p "$obj" "$OUT"

flags="-std=c17 -D_GNU_SOURCE -Ialloc/include -Ialloc -Ifuzz -pthread"
# The checker is the oracle: no coverage feedback from it (see
# fuzz/coverage-ignorelist.txt); only meaningful with coverage instrumentation.
ignore=""
case "$CFLAGS" in
*fuzzer-no-link* | *trace-pc-guard*) ignore="-fsanitize-coverage-ignorelist=$PWD/fuzz/coverage-ignorelist.txt" ;;
esac

objs=""
# tsan_coverage.c is fuzz_threads' (a no-op without ThreadSanitizer).
for src in alloc/*.c fuzz/ops.c fuzz/text.c fuzz/interp.c fuzz/tsan_coverage.c; do
	o="$obj/$(echo "$src" | tr / _).o"
	# shellcheck disable=SC2086
	$CC $CFLAGS $flags $ignore -c "$src" -o "$o"
	objs="$objs $o"
done
# shellcheck disable=SC2086
ar rcs "$obj/libpagetorture.a" $objs

for t in $targets; do
	# shellcheck disable=SC2086
	$CC $CFLAGS $flags -c "fuzz/$t.c" -o "$obj/$t.o"
	# shellcheck disable=SC2086
	$CXX $CXXFLAGS "$obj/$t.o" "$obj/libpagetorture.a" $LIB_FUZZING_ENGINE -pthread -lm -o "$OUT/$t"
	rm -f "$OUT/${t}_seed_corpus.zip"
	(cd "corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
	cp "fuzz/dict/$t.dict" "$OUT/$t.dict"
	cat >"$OUT/$t.options" <<OPTIONS
[libfuzzer]
dict = $t.dict
max_len = 4096
OPTIONS
done
