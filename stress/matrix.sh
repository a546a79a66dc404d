#!/usr/bin/env bash
# Every stress profile under every sanitizer preset, for a given time each,
# a few runs at a time, then one table of the results.
#
#   stress/matrix.sh [--time 10m] [--presets dev,tsan] [--jobs 3] [--profiles a,b]
#                    [--fault SPEC] [--out DIR] [-- extra driver options]
#
# Writes DIR/summary.md (default reports/stress-matrix-<date-time>/) with a
# row per run: result, steps/s per thread, per-step check cost against the
# step, checks run, bytes verified, faults injected and survived; each run's
# own summary.txt/summary.json and log sit beside it.  Exits 1 when any run
# was not clean.  The presets must be built (./pagetorture build, or the
# stress verb once); this script only runs them, so that runs started
# together do not rebuild under each other.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

time_arg=10m presets=dev,tsan jobs=3 profiles="" fault="" out=""
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time) time_arg=$2; shift 2 ;;
	--presets) presets=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--profiles) profiles=$2; shift 2 ;;
	--fault) fault=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "matrix.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || out="reports/stress-matrix-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

IFS=, read -r -a preset_list <<<"$presets"
for p in "${preset_list[@]}"; do
	if [ ! -x "build/$p/stress/pagetorture-stress" ]; then
		echo "matrix.sh: build/$p/stress/pagetorture-stress is missing: cmake --preset $p && cmake --build --preset $p" >&2
		exit 2
	fi
done
if [ -z "$profiles" ]; then
	profiles=$("build/${preset_list[0]}/stress/pagetorture-stress" --list-profiles | awk '{print $1}' | paste -sd, -)
fi
IFS=, read -r -a profile_list <<<"$profiles"

run_one() {
	local preset=$1 profile=$2 dir="$out/$1-$2"
	local args=(--profile "$profile" --time "$time_arg" --plain --quiet --report-dir "$dir")
	[ -n "$fault" ] && args+=(--fault "$fault")
	mkdir -p "$dir"
	echo "$(date +%T) start $preset $profile"
	local rc=0
	"build/$preset/stress/pagetorture-stress" "${args[@]}" "${extra[@]}" >"$dir/log.txt" 2>&1 || rc=$?
	echo "$rc" >"$dir/rc"
	echo "$(date +%T) end   $preset $profile rc=$rc"
}

pids=()
for preset in "${preset_list[@]}"; do
	for profile in "${profile_list[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n || true
		done
		run_one "$preset" "$profile" &
		pids+=($!)
	done
done
wait

/usr/bin/python3 - "$out" "$time_arg" "$jobs" <<'PY'
import glob, json, os, sys
out, time_arg, jobs = sys.argv[1], sys.argv[2], sys.argv[3]
rows, bad = [], 0
for d in sorted(glob.glob(os.path.join(out, "*-*/"))):
    name = os.path.basename(d.rstrip("/"))
    preset, profile = name.split("-", 1)
    rc = open(os.path.join(d, "rc")).read().strip() if os.path.exists(os.path.join(d, "rc")) else "?"
    summ = glob.glob(os.path.join(d, "stress-*", "summary.json"))
    if not summ:
        rows.append(f"| {profile} | {preset} | no summary (rc {rc}) | | | | | |")
        bad += 1
        continue
    s = json.load(open(summ[0]))
    threads = s.get("threads", 1) or 1
    el = s.get("elapsed_s", 0) or 1
    ops = s.get("ops", 0)
    ch = s.get("checks", {})
    f = s.get("faults") or {}
    inj = f.get("injected", 0) if isinstance(f, dict) else 0
    surv = f.get("survived", inj) if isinstance(f, dict) else 0
    result = s.get("result", "?")
    if result != "clean" or rc != "0":
        bad += 1
    step, check = s.get("step_ns_avg", 0) / 1e3, s.get("check_ns_avg", 0) / 1e3
    rows.append(f"| {profile} | {preset} | {result} (rc {rc}) after {el:.0f} s | {ops / el / threads:,.0f} |"
                f" {step:.2f} / {check:.2f} | {ch.get('touched', 0):,} / {ch.get('zone', 0):,} / {ch.get('full', 0):,} |"
                f" {s.get('bytes_verified', 0) / 2**30:.1f} GiB | {inj:,} / {surv:,} |")
with open(os.path.join(out, "summary.md"), "w") as fh:
    fh.write(f"# Stress matrix: every profile for {time_arg} under each preset, {jobs} runs at a time on {os.cpu_count()} cores\n\n")
    fh.write("| profile | preset | result | steps/s per thread | step / check us | checks touched / zone walks / full | verified | faults injected / survived |\n")
    fh.write("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
    fh.write("\n".join(rows) + "\n")
print(open(os.path.join(out, "summary.md")).read())
sys.exit(1 if bad else 0)
PY
