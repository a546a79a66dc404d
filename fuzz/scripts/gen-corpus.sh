#!/usr/bin/env bash
# Regenerate corpus/<target>/ from readable sources, then minimise each
# corpus with libFuzzer's -merge=1 when the libFuzzer build is there.
#
#   fuzz_ops       every fuzz/scenarios/*.txt, encoded (ptfuzz encode)
#   fuzz_topology  the machine of every scenario and the built-in default,
#                  as topology text, and a few raw-struct inputs
#   fuzz_gfp       every GFP name (value bytes + the name as text) and some
#                  combinations, hex and malformed text
#   fuzz_threads   every fuzz/scenarios/threads/*.txt: a machine, then
#                  "=== thread A" and its ops, then "=== thread B" and its
#                  ops; each half encoded (ptfuzz encode) and joined in
#                  fuzz_threads' layout, homes CPU 0 (A) and 1 (B)
#
# usage: gen-corpus.sh PTFUZZ [LIBFUZZER_BUILD_DIR]
#   PTFUZZ                 the ptfuzz binary of any build
#   LIBFUZZER_BUILD_DIR    e.g. build/fuzz/fuzz, holding the targets
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ptfuzz=${1:?usage: gen-corpus.sh PTFUZZ [LIBFUZZER_BUILD_DIR]}
fuzzers=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in "${FUZZ_TARGETS[@]}"; do mkdir -p "$tmp/raw/$t"; done
for s in "$FUZZ_ROOT"/fuzz/scenarios/*.txt; do
	name=$(basename "$s" .txt)
	"$ptfuzz" encode "$s" "$tmp/raw/fuzz_ops/$name"
	"$ptfuzz" topo "$s" >"$tmp/raw/fuzz_topology/$name.topo"
done
"$ptfuzz" topo - >"$tmp/raw/fuzz_topology/default.topo"
# raw struct inputs start with a byte that is not text
printf '\x01\x01\x02\x00\x05\xff\x00\x00\x00\x06\x80\x01\x01\x0a\x09\x01' >"$tmp/raw/fuzz_topology/raw-one-node"
printf '\x02\x02\x03\x00\x01\x00\x11\x40\x21\x40\x00\x05\x40\x01\x0a\x09\x01\x00\x10\x00\x00' >"$tmp/raw/fuzz_topology/raw-two-nodes"

# fuzz_gfp: 4 bytes of gfp_t, task flags, buffer length, then text
while IFS= read -r line; do
	case "$line" in
	name_*) name=${line#name_}; name=${name%%=*} ;;
	value_*)
		value=${line#*=\"}; value=${value%\"}
		printf "%b\x00\x10%s" "$value" "$name" >"$tmp/raw/fuzz_gfp/$name"
		;;
	esac
done <"$FUZZ_ROOT/fuzz/dict/fuzz_gfp.dict"
printf '\xc0\x0c\x00\x00\x01\x08GFP_KERNEL|__GFP_ZERO|__GFP_COMP' >"$tmp/raw/fuzz_gfp/combo"
printf '\x00\x00\x00\x00\x02\x00 0x400cc0 ' >"$tmp/raw/fuzz_gfp/hex"
printf '\xff\xff\xff\xff\x03\x05GFP_KERNEL||' >"$tmp/raw/fuzz_gfp/bad-bar"
printf '\x05\x00\x00\x00\x00\x20none' >"$tmp/raw/fuzz_gfp/zone-bad"

# fuzz_threads: header (8 bytes), home CPUs (0: A on CPU 0, B on CPU 1),
# the length of A's ops (16 bits, little-endian), A's ops, B's ops.
for s in "$FUZZ_ROOT"/fuzz/scenarios/threads/*.txt; do
	name=$(basename "$s" .txt)
	awk -v head="$tmp/th-head" -v a="$tmp/th-a" -v b="$tmp/th-b" '
		/^===/ { part++; next }
		part == 0 { print > head; next }
		part == 1 { print > a; next }
		part == 2 { print > b; next }
		{ print "gen-corpus: " FILENAME ": more than two \"===\" sections" > "/dev/stderr"; exit 1 }
		END { if (part != 2) { print "gen-corpus: " FILENAME ": needs \"=== thread A\" and \"=== thread B\"" > "/dev/stderr"; exit 1 } }
	' "$s"
	cat "$tmp/th-head" "$tmp/th-a" >"$tmp/th-a.txt"
	cat "$tmp/th-head" "$tmp/th-b" >"$tmp/th-b.txt"
	rm -f "$tmp/th-head" "$tmp/th-a" "$tmp/th-b"
	"$ptfuzz" encode "$tmp/th-a.txt" "$tmp/th-a.bin"
	"$ptfuzz" encode "$tmp/th-b.txt" "$tmp/th-b.bin"
	len=$(($(stat -c %s "$tmp/th-a.bin") - 8))
	{
		head -c 8 "$tmp/th-a.bin"
		printf "\\x00\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
		tail -c +9 "$tmp/th-a.bin"
		tail -c +9 "$tmp/th-b.bin"
	} >"$tmp/raw/fuzz_threads/$name"
done

fz_sanitizer_env
for t in "${FUZZ_TARGETS[@]}"; do
	out="$FUZZ_ROOT/corpus/$t"
	rm -rf "$out"
	mkdir -p "$out"
	if [ -n "$fuzzers" ] && [ -x "$fuzzers/$t" ]; then
		# -merge=1 keeps the inputs that add coverage, named by their
		# sha1; keep our readable names for those.
		mkdir -p "$tmp/merged/$t"
		"$fuzzers/$t" -merge=1 "$tmp/merged/$t" "$tmp/raw/$t" >"$tmp/merge-$t.log" 2>&1 ||
			{ cat "$tmp/merge-$t.log" >&2; exit 1; }
		for f in "$tmp/raw/$t"/*; do
			if [ -e "$tmp/merged/$t/$(sha1sum "$f" | cut -d' ' -f1)" ]; then
				cp "$f" "$out/"
			fi
		done
		fz_say "$t: $(ls "$tmp/raw/$t" | wc -l) seeds, $(ls "$out" | wc -l) kept by -merge=1"
	else
		cp "$tmp/raw/$t"/* "$out/"
		fz_say "$t: $(ls "$out" | wc -l) seeds (no libFuzzer build given: not minimised)"
	fi
done
