#!/usr/bin/env bash
# Regenerate corpus/<target>/ from readable sources, then minimise each
# corpus with libFuzzer's -merge=1 when the libFuzzer build is there.
#
#   fuzz_ops       every fuzz/scenarios/*.txt, encoded (ptfuzz encode)
#   fuzz_topology  the machine of every scenario and the built-in default,
#                  as topology text, and a few raw-struct inputs
#   fuzz_gfp       every GFP name (value bytes + the name as text) and some
#                  combinations, hex and malformed text
#
# usage: gen-corpus.sh PTFUZZ [LIBFUZZER_BUILD_DIR]
#   PTFUZZ                 the ptfuzz binary of any build
#   LIBFUZZER_BUILD_DIR    e.g. build/fuzz/fuzz, holding fuzz_ops, fuzz_gfp, fuzz_topology
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ptfuzz=${1:?usage: gen-corpus.sh PTFUZZ [LIBFUZZER_BUILD_DIR]}
fuzzers=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/raw/fuzz_ops" "$tmp/raw/fuzz_topology" "$tmp/raw/fuzz_gfp"
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
