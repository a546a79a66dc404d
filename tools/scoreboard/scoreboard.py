#!/usr/bin/python3
"""The detection scoreboard (issue 7): build the allocator with each injected
bug of alloc/bugs.h in turn, run each engine on it for a bounded time from the
committed seed corpus, and record whether, when and by what it was found.

    ./pagetorture scoreboard [--budget 60] [--seeds N] [--bugs a,b]
                             [--engines libfuzzer,afl,stress] [--jobs 2] [--ci]

Engines:
  libfuzzer  fuzz_ops built with the fuzz preset's flags, -fork=1 so that a
             crash does not end the campaign (-ignore_crashes/-timeouts)
  afl        fuzz_ops built with the afl preset (afl-clang-fast, ASan+UBSan)
  stress     pagetorture-stress with the bug's profile, under ASan+UBSan (the
             dev preset) or TSan (the tsan preset) as alloc/bugs.h says

No engine is told which bug is in: every campaign starts from corpus/fuzz_ops
(or, for stress, the profile the registry names for the code the bug is in).

A fuzzer's finding counts only when it is the planted bug's: each crash,
timeout or hang input is replayed on the bug build and on a clean build of the
same engine (build/bug-none-<engine>); it is attributed when the bug build
fails and the clean build passes or fails differently.  Others are "noise"
(bugs the allocator has without any planting) and are listed, not counted.
Stress runs cannot be replayed: a failing run counts, and the baseline row
(the clean build, --baseline) shows what the clean allocator does under the
same profiles.

Output (reports/scoreboard-<date>/): scoreboard.json, scoreboard.md,
scoreboard.png, build.log and findings/ (each attributed input); the engines'
work directories (corpora, queues, logs) stay in build/scoreboard-work/.
The formats are described in tools/scoreboard/README.md.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ENGINES = ("libfuzzer", "afl", "stress")
# A fast, deterministic subset for CI: bugs the seed corpus reaches at once.
CI_BUGS = ("expand_account", "top_order_merge", "thisnode_fallback")
FUZZ_TIMEOUT = 10          # seconds an input may run before it is a hang
STRESS_GRACE = 30          # seconds past --time before a stress run is a hang
PRINT_LOCK = threading.Lock()


def say(msg):
    with PRINT_LOCK:
        sys.stderr.write("\033[1m==> %s\033[0m\n" % msg if sys.stderr.isatty() else "==> %s\n" % msg)
        sys.stderr.flush()


# ---------------------------------------------------------------- registry
BUG_RE = re.compile(
    r'^\s*BUG\((?P<name>[a-z0-9_]+),\s*"(?P<file>[^"]*)",\s*"(?P<part>[^"]*)",\s*"(?P<engines>[^"]*)",'
    r'\s*"(?P<profile>[^"]*)",\s*"(?P<sanitizer>[^"]*)",\s*\\?\s*"(?P<what>[^"]*)"\)',
    re.M)


def read_registry():
    text = open(os.path.join(ROOT, "alloc", "bugs.h")).read()
    # Entries are macro lines: drop the continuations so one regex reads them.
    text = re.sub(r"\\\n", "\n", text)
    bugs = []
    for m in BUG_RE.finditer(text):
        d = m.groupdict()
        d["expected"] = [e for e in d.pop("engines").split(",") if e]
        bugs.append(d)
    if not bugs:
        sys.exit("scoreboard: no BUG(...) entries in alloc/bugs.h")
    return bugs


# ---------------------------------------------------------------- builds
def build_dir(bug, engine, sanitizer="asan"):
    suffix = engine if engine != "stress" else "stress-" + sanitizer
    return os.path.join(ROOT, "build", "bug-%s-%s" % (bug, suffix))


def afl_env():
    env = dict(os.environ)
    env.update(AFL_QUIET="1", AFL_LLVM_DENYLIST=os.path.join(ROOT, "fuzz", "coverage-ignorelist.txt"))
    return env


def configure_and_build(bug, engine, sanitizer, log):
    """cmake --preset <the engine's> -B build/bug-<bug>-<engine> -DBUDDY_BUG=<bug>."""
    preset, targets, env = {
        "libfuzzer": ("fuzz", ["fuzz_ops", "fuzz_ops_run"], dict(os.environ)),
        "afl": ("afl", ["fuzz_ops", "fuzz_ops_run"], afl_env()),
        "stress": ("tsan" if sanitizer == "tsan" else "dev", ["pagetorture-stress"], dict(os.environ)),
    }[engine]
    d = build_dir(bug, engine, sanitizer)
    # Debug info names the build directory, so by default ccache keys on it;
    # the bug builds differ only by directory and one -D: let them share.
    env.update(CCACHE_NOHASHDIR="1", CCACHE_BASEDIR=ROOT)
    args = ["cmake", "--preset", preset, "-B", d, "-DBUDDY_BUG=" + ("" if bug == "none" else bug),
            "-DBUDDY_BUILD_TESTS=OFF", "-DBUDDY_WERROR=OFF"]
    if shutil.which("ccache"):
        # Only the file a bug lives in preprocesses differently from one bug
        # build to the next: ccache makes the other 20-odd builds cheap.
        args += ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    with open(log, "a") as lf:
        lf.write("$ %s\n" % " ".join(args))
        lf.flush()
        rc = subprocess.call(args, cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT, env=env)
        if rc == 0:
            cmd = ["cmake", "--build", d, "--target"] + targets
            lf.write("$ %s\n" % " ".join(cmd))
            lf.flush()
            rc = subprocess.call(cmd, cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT, env=env)
    return rc == 0


# ---------------------------------------------------------------- signatures
def signature(text):
    """What caught it: the harness's invariant name, or the sanitizer's report."""
    m = re.search(r"==pagetorture== invariant ([a-z0-9-]+)", text)
    if m:
        return m.group(1)
    m = re.search(r"^VIOLATION: ([a-z0-9-]+)", text, re.M)
    if m:
        return m.group(1)
    m = re.search(r"(?:ERROR|WARNING): (\w+Sanitizer): ([\w -]+?)(?: \(| on |$)", text, re.M)
    if m:
        return "%s:%s" % ({"AddressSanitizer": "asan", "ThreadSanitizer": "tsan", "LeakSanitizer": "lsan",
                           "UndefinedBehaviorSanitizer": "ubsan"}.get(m.group(1), m.group(1)),
                          m.group(2).strip().replace(" ", "-"))
    m = re.search(r"([\w/.-]+\.c):(\d+):\d+: runtime error: ([a-z -]+)", text)
    if m:
        return "ubsan:%s at %s:%s" % (m.group(3).strip().split(" of ")[0], os.path.basename(m.group(1)),
                                      m.group(2))
    if re.search(r"ERROR: libFuzzer: timeout|ALARM: working on the last Unit", text):
        return "timeout"
    if "ERROR: libFuzzer: out-of-memory" in text:
        return "out-of-memory"
    return "crash"


def replay(binary, path, timeout):
    """Run one input through <target>_run: (failed, signature, output)."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=0:symbolize=1:allocator_may_return_null=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:abort_on_error=1"
    env.pop("PAGETORTURE_FUZZ_IGNORE", None)
    try:
        p = subprocess.run([binary, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           env=env)
        out = p.stdout.decode("utf-8", "replace")
        return p.returncode != 0, (signature(out) if p.returncode != 0 else ""), out
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return True, "timeout", out


def attribute(bug, engine, path):
    """Is this input the planted bug's?  (attributed, signature, note)"""
    run_bin = os.path.join(build_dir(bug, engine), "fuzz", "fuzz_ops_run")
    clean_bin = os.path.join(build_dir("none", engine), "fuzz", "fuzz_ops_run")
    failed, sig, _ = replay(run_bin, path, FUZZ_TIMEOUT * 2)
    if not failed:
        return False, "", "does not fail again on the bug build (flaky)"
    cfailed, csig, _ = replay(clean_bin, path, FUZZ_TIMEOUT * 2)
    if not cfailed:
        return True, sig, "clean build passes"
    if csig != sig:
        return True, sig, "clean build fails differently (%s)" % csig
    return False, sig, "clean build fails the same way: a bug the allocator has anyway"


# ---------------------------------------------------------------- campaigns
class Run:
    def __init__(self, bug, engine, seed_index, seed, budget, workdir, findings):
        self.bug, self.engine, self.seed_index, self.seed = bug, engine, seed_index, seed
        self.budget, self.workdir, self.findings = budget, workdir, findings
        self.found = False
        self.time = None
        self.detector = None
        self.note = ""
        self.noise = []          # [{"time", "signature", "note"}]
        self.artifact = None
        self.error = None
        self.wall = 0.0
        self.profile = None

    def as_dict(self):
        return {k: getattr(self, k) for k in ("seed_index", "seed", "found", "time", "detector", "note", "noise",
                                              "artifact", "error", "wall", "profile", "workdir")}


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def watch_fuzzer(run, proc, start, scan, wall_limit):
    """Poll for findings until one is attributed, the engine exits, or time is up."""
    seen = set()
    while True:
        done = proc.poll() is not None
        for t_found, path in scan(seen):
            seen.add(path)
            if t_found > run.budget + 1:
                continue
            ok, sig, note = attribute(run.bug, run.engine, path)
            if ok:
                run.found, run.time, run.detector, run.note = True, round(t_found, 2), sig, note
                dst = os.path.join(run.findings, "%s-%s-s%d-%s" % (run.bug, run.engine, run.seed_index,
                                                                   re.sub(r"[^\w.-]", "_", os.path.basename(path))))
                os.makedirs(run.findings, exist_ok=True)
                shutil.copy(path, dst)
                run.artifact = os.path.relpath(dst, os.path.dirname(run.findings))
                kill_group(proc)
                return
            run.noise.append({"time": round(t_found, 2), "signature": sig, "note": note})
        if done:
            return
        if time.time() - start > wall_limit:
            kill_group(proc)
            done = True
            continue
        time.sleep(0.5)


def run_libfuzzer(run):
    d = build_dir(run.bug, "libfuzzer")
    corpus = os.path.join(run.workdir, "corpus")
    arts = os.path.join(run.workdir, "artifacts")
    shutil.copytree(os.path.join(ROOT, "corpus", "fuzz_ops"), corpus)
    os.makedirs(arts)
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1:symbolize=0:allocator_may_return_null=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:abort_on_error=1"
    env.pop("PAGETORTURE_FUZZ_IGNORE", None)
    cmd = [os.path.join(d, "fuzz", "fuzz_ops"), "-fork=1", "-ignore_crashes=1", "-ignore_timeouts=1",
           "-ignore_ooms=1", "-max_total_time=%d" % run.budget, "-timeout=%d" % FUZZ_TIMEOUT,
           "-rss_limit_mb=4096", "-max_len=4096", "-seed=%d" % run.seed,
           "-dict=" + os.path.join(ROOT, "fuzz", "dict", "fuzz_ops.dict"), "-artifact_prefix=" + arts + "/", corpus]
    log = open(os.path.join(run.workdir, "engine.log"), "w")
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=run.workdir, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)

    def scan(seen):
        out = []
        for f in sorted(os.listdir(arts)):
            p = os.path.join(arts, f)
            if p in seen or not re.match(r"(crash|timeout|oom|leak)-", f):
                continue
            out.append((os.path.getmtime(p) - start, p))
        return sorted(out)
    watch_fuzzer(run, proc, start, scan, run.budget + 60)
    kill_group(proc)
    log.close()
    run.wall = round(time.time() - start, 1)


# The dry run of the seeds: a seed that already fails is AFL++'s first report.
AFL_DRY_RE = re.compile(r"Attempting dry run with '([^']+)'")
AFL_SEED_RE = re.compile(r"Test case (?:'([^']+)' )?results in a (crash|timeout)")


def run_afl(run):
    d = build_dir(run.bug, "afl")
    out = os.path.join(run.workdir, "afl")
    env = afl_env()
    env.update(AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1", AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1",
               AFL_NO_AFFINITY="1", AFL_SKIP_CRASHES="1", AFL_FAST_CAL="1",
               ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1",
               UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:symbolize=0")
    env.pop("PAGETORTURE_FUZZ_IGNORE", None)
    env.pop("AFL_QUIET", None)
    cmd = ["afl-fuzz", "-i", os.path.join(ROOT, "corpus", "fuzz_ops"), "-o", out,
           "-x", os.path.join(ROOT, "fuzz", "dict", "fuzz_ops.dict"), "-m", "none",
           "-t", str(FUZZ_TIMEOUT * 1000), "-V", str(run.budget), "-s", str(run.seed), "--",
           os.path.join(d, "fuzz", "fuzz_ops")]
    logpath = os.path.join(run.workdir, "engine.log")
    log = open(logpath, "w")
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=run.workdir, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    seed_dir = os.path.join(ROOT, "corpus", "fuzz_ops")

    def scan(seen):
        found = []
        # Seeds that fail already: AFL skips them with a warning, which is
        # its report that the starting corpus triggers something.
        try:
            text = open(logpath, errors="replace").read()
        except OSError:
            text = ""
        current = None
        for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines():
            m = AFL_DRY_RE.search(line)
            if m:
                current = m.group(1)
                continue
            m = AFL_SEED_RE.search(line)
            if not m or not (m.group(1) or current):
                continue
            name = m.group(1) or current
            cand = [name, os.path.join(seed_dir, os.path.basename(name))]
            orig = re.search(r"orig:(.+)$", os.path.basename(name))
            if orig:
                cand.append(os.path.join(seed_dir, orig.group(1)))
            for c in cand:
                if os.path.isfile(c) and c not in seen:
                    found.append((time.time() - start, c))
                    break
        for sub in ("crashes", "hangs"):
            dd = os.path.join(out, "default", sub)
            if not os.path.isdir(dd):
                continue
            for f in sorted(os.listdir(dd)):
                p = os.path.join(dd, f)
                if p in seen or not f.startswith("id:"):
                    continue
                found.append((os.path.getmtime(p) - start, p))
        return sorted(found)
    watch_fuzzer(run, proc, start, scan, run.budget + 60)
    kill_group(proc)
    log.close()
    run.wall = round(time.time() - start, 1)


def run_stress(run, bug_entry):
    sanitizer = bug_entry["sanitizer"] if bug_entry else "asan"
    profile = bug_entry["profile"] if bug_entry else run.profile
    d = build_dir(run.bug, "stress", sanitizer)
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env["TSAN_OPTIONS"] = "halt_on_error=1:second_deadlock_stack=1"
    cmd = [os.path.join(d, "stress", "pagetorture-stress"), "--profile", profile, "--threads", "4", "--cpus", "4",
           "--time", "%ds" % run.budget, "--seed", str(run.seed), "--check-interval", "1000", "--plain",
           "--status-interval", "10s", "--report-dir", os.path.join(run.workdir, "reports")]
    log = open(os.path.join(run.workdir, "engine.log"), "w")
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=run.workdir, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        rc = proc.wait(run.budget + STRESS_GRACE)
        elapsed = time.time() - start
    except subprocess.TimeoutExpired:
        kill_group(proc)
        rc, elapsed = "hang", time.time() - start
    log.close()
    run.wall = round(time.time() - start, 1)
    text = open(os.path.join(run.workdir, "engine.log"), errors="replace").read()
    if rc == 0 or rc == 3:
        return
    run.found, run.time = True, round(elapsed, 2)
    if rc == "hang":
        run.detector = "hang"
        run.note = "no exit within --time + %ds" % STRESS_GRACE
    else:
        run.detector = signature(text)
        run.note = "exit %s" % rc
    run.profile = profile


# ---------------------------------------------------------------- report
def median(xs):
    return statistics.median(xs) if xs else None


def summarise(bugs, runs, engines, seeds, budget):
    rows = []
    for b in bugs:
        row = {k: b[k] for k in ("name", "file", "part", "profile", "sanitizer", "what", "expected")}
        row["engines"] = {}
        for e in engines:
            rs = [r for r in runs if r.bug == b["name"] and r.engine == e]
            times = [r.time for r in rs if r.found]
            dets = sorted({r.detector for r in rs if r.found})
            row["engines"][e] = {
                "runs": [r.as_dict() for r in sorted(rs, key=lambda r: r.seed_index)],
                "found_runs": len(times), "total_runs": len(rs),
                "median_time": median(times), "detectors": dets,
                "noise": sum(len(r.noise) for r in rs),
                "errors": [r.error for r in rs if r.error],
            }
        found = [row["engines"][e]["median_time"] for e in engines if row["engines"][e]["found_runs"]]
        row["found"] = bool(found)
        row["best_time"] = min(found) if found else None
        rows.append(row)
    return rows


def write_md(path, meta, rows, baseline, engines):
    def cell(er):
        if er["errors"] and not er["total_runs"] - len(er["errors"]):
            return "build failed"
        if not er["found_runs"]:
            return "-"
        t = er["median_time"]
        s = "%.1f s" % t
        # Found only by inputs the clean build also fails (differently): weaker evidence.
        if all(r["note"].startswith("clean build fails differently") for r in er["runs"] if r["found"]):
            s += "*"
        if er["total_runs"] > 1:
            s += " (%d/%d)" % (er["found_runs"], er["total_runs"])
        return s + "<br>`%s`" % ", ".join(er["detectors"])
    found = [r for r in rows if r["found"]]
    best = [r["best_time"] for r in found]
    with open(path, "w") as f:
        f.write("# Detection scoreboard\n\n")
        f.write("%s; budget %d s per campaign, %d seed(s) each, %d campaigns at a time on %d cores "
                "(load average at the start %s); engines: %s.\n\n" % (
                    meta["date"], meta["budget"], meta["seeds"], meta["jobs"], meta["cores"], meta["loadavg"],
                    ", ".join(engines)))
        f.write("**%d of %d planted bugs found by at least one engine**; median time to find (the best engine "
                "of each found bug): %s.\n\n" % (len(found), len(rows),
                                                  "%.1f s" % median(best) if best else "-"))
        f.write("A cell is the median time to the first attributed finding over the seeds that found it "
                "(found/run when more than one seed ran), and what caught it: the harness's invariant, the "
                "stress driver's violation, or the sanitizer. `-`: not found within the budget. `*`: every "
                "finding was an input the clean build also fails, with another signature (weaker evidence: the "
                "two executions diverged).\n\n")
        f.write("| bug | part | %s | expected |\n" % " | ".join(engines))
        f.write("| --- | --- | %s | --- |\n" % " | ".join("---" for _ in engines))
        for r in rows:
            f.write("| `%s` | %s | %s | %s |\n" % (r["name"], r["part"],
                                                   " | ".join(cell(r["engines"][e]) for e in engines),
                                                   ", ".join(r["expected"])))
        f.write("\n## Per engine\n\n| engine | bugs found | median time to find |\n| --- | --- | --- |\n")
        for e in engines:
            ts = [r["engines"][e]["median_time"] for r in rows if r["engines"][e]["found_runs"]]
            f.write("| %s | %d / %d | %s |\n" % (e, len(ts), len(rows), "%.1f s" % median(ts) if ts else "-"))
        noisy = [(r["name"], e, r["engines"][e]["noise"]) for r in rows for e in engines if r["engines"][e]["noise"]]
        if noisy or baseline:
            f.write("\n## Noise: findings that were not the planted bug\n\n")
            f.write("Inputs that fail the clean build the same way (bugs the allocator has without any "
                    "planting) are not counted; they cost the campaign time.\n\n")
            for name, e, n in noisy:
                f.write("- `%s` / %s: %d\n" % (name, e, n))
            if baseline:
                f.write("\nThe clean build under the same campaigns (baseline):\n\n")
                for e, runs in baseline.items():
                    for r in runs:
                        desc = r["detector"] if r["found"] else "clean"
                        sigs = sorted({n["signature"] for n in r["noise"]})
                        f.write("- %s seed %d: %s%s\n" % (e, r["seed"], desc,
                                                          "; fuzzer findings: " + ", ".join(sigs) if sigs else ""))
        f.write("\n## The bugs\n\n")
        for r in rows:
            f.write("- `%s` (%s, %s): %s\n" % (r["name"], r["file"], r["part"], r["what"]))


def write_plot(path, rows, engines, budget):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("matplotlib missing (Debian: python3-matplotlib): no plot")
        return False
    names = [r["name"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(rows) + 1.6))
    markers = {"libfuzzer": ("o", "tab:blue"), "afl": ("s", "tab:orange"), "stress": ("^", "tab:green")}
    offs = {e: (i - (len(engines) - 1) / 2) * 0.22 for i, e in enumerate(engines)}
    for e in engines:
        mk, col = markers.get(e, ("d", "gray"))
        xs, ys, nx, ny = [], [], [], []
        for i, r in enumerate(rows):
            er = r["engines"][e]
            if er["found_runs"]:
                for run in er["runs"]:
                    if run["found"]:
                        xs.append(max(run["time"], 0.1))
                        ys.append(i + offs[e])
            else:
                nx.append(budget * 1.25)
                ny.append(i + offs[e])
        ax.scatter(xs, ys, marker=mk, color=col, label=e, zorder=3)
        ax.scatter(nx, ny, marker="x", color=col, alpha=0.5, zorder=3)
    ax.axvline(budget, color="gray", linestyle="--", linewidth=1)
    ax.text(budget, -0.9, " budget", color="gray", fontsize=8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds to the first attributed finding (x: not found)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("pagetorture: time to find each planted bug")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------- main
def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # --list | head
    ap = argparse.ArgumentParser(prog="./pagetorture scoreboard", description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=60, help="seconds per campaign (default 60)")
    ap.add_argument("--seeds", type=int, default=1, help="campaigns per bug and engine, each its own seed")
    ap.add_argument("--bugs", default="", help="comma-separated bug names (default: all of alloc/bugs.h)")
    ap.add_argument("--engines", default="libfuzzer,afl,stress")
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)),
                    help="campaigns at a time (default: 2, or the cores if fewer)")
    ap.add_argument("--baseline", action="store_true",
                    help="also run every engine on the clean build (the false-positive control)")
    ap.add_argument("--ci", action="store_true",
                    help="CI mode: %s, libFuzzer, 10 s each; fails if none is found" % ", ".join(CI_BUGS))
    ap.add_argument("--out", default="", help="report directory (default reports/scoreboard-<date>)")
    ap.add_argument("--list", action="store_true", help="list the bugs and exit")
    ap.add_argument("--render", metavar="DIR", help="rewrite scoreboard.md and .png of DIR from its scoreboard.json")
    a = ap.parse_args()
    if a.render:
        j = json.load(open(os.path.join(a.render, "scoreboard.json")))
        write_md(os.path.join(a.render, "scoreboard.md"), j["meta"], j["bugs"], j["baseline"], j["meta"]["engines"])
        write_plot(os.path.join(a.render, "scoreboard.png"), j["bugs"], j["meta"]["engines"], j["meta"]["budget"])
        return 0

    registry = read_registry()
    if a.list:
        for b in registry:
            print("%-24s %-24s %-22s %-22s %s" % (b["name"], b["file"], b["part"], ",".join(b["expected"]),
                                                  b["profile"] + "/" + b["sanitizer"]))
        return 0
    if a.ci:
        a.bugs = ",".join(CI_BUGS)
        a.engines = "libfuzzer"
        a.budget = 10 if a.budget == 60 else a.budget
        a.seeds = 1
    engines = [e for e in a.engines.split(",") if e]
    for e in engines:
        if e not in ENGINES:
            sys.exit("scoreboard: unknown engine %s (libfuzzer, afl, stress)" % e)
    names = [n.strip().replace("-", "_") for n in a.bugs.split(",") if n.strip()] or [b["name"] for b in registry]
    byname = {b["name"]: b for b in registry}
    for n in names:
        if n not in byname:
            sys.exit("scoreboard: no bug %s in alloc/bugs.h (--list shows them)" % n)
    bugs = [byname[n] for n in names]
    if "afl" in engines and not shutil.which("afl-fuzz"):
        sys.exit("scoreboard: afl-fuzz missing (Debian package afl++)")

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.abspath(a.out or os.path.join(ROOT, "reports", "scoreboard-%s%s" % (stamp, "-ci" if a.ci else "")))
    os.makedirs(out, exist_ok=True)
    # The engines' own output (corpora, queues, logs) is bulky: it stays in
    # build/; the report keeps the attributed inputs under findings/.
    work = os.path.join(ROOT, "build", "scoreboard-work", os.path.basename(out))
    findings = os.path.join(out, "findings")
    buildlog = os.path.join(out, "build.log")
    t0 = time.time()
    loadavg = " ".join(open("/proc/loadavg").read().split()[:3])

    # ---- builds: the clean one of every fuzzer (attribution), then each bug's
    builds = []
    for e in engines:
        if e != "stress":
            builds.append(("none", e, "asan"))
        elif a.baseline:
            builds.append(("none", e, "asan"))
    for b in bugs:
        for e in engines:
            builds.append((b["name"], e, b["sanitizer"] if e == "stress" else "asan"))
    build_ok = {}
    for i, (bug, e, san) in enumerate(builds):
        say("build %d/%d: %s for %s%s" % (i + 1, len(builds), bug, e, " (%s)" % san if e == "stress" else ""))
        tb = time.time()
        build_ok[(bug, e)] = configure_and_build(bug, e, san, buildlog)
        if not build_ok[(bug, e)]:
            say("build of %s for %s failed: see %s" % (bug, e, buildlog))
        else:
            say("  %.0f s" % (time.time() - tb))
    build_secs = round(time.time() - t0, 1)

    # ---- campaigns
    runs = []
    for k in range(a.seeds):
        for b in bugs:
            for e in engines:
                wd = os.path.join(work, b["name"], "%s-s%d" % (e, k))
                runs.append(Run(b["name"], e, k, 1000 + k, a.budget, wd, findings))
    base_runs = []
    if a.baseline:
        for e in engines:
            for k in range(a.seeds):
                r = Run("none", e, k, 1000 + k, a.budget, os.path.join(work, "none", "%s-s%d" % (e, k)), findings)
                r.profile = "mix"
                base_runs.append(r)

    def one(run):
        shutil.rmtree(run.workdir, ignore_errors=True)
        os.makedirs(run.workdir)
        if not build_ok.get((run.bug, run.engine)) or (run.engine != "stress" and not build_ok.get(("none", run.engine))):
            run.error = "build failed"
            return run
        say("run %s on %s (seed %d, %d s)" % (run.engine, run.bug, run.seed, run.budget))
        try:
            if run.engine == "libfuzzer":
                run_libfuzzer(run)
            elif run.engine == "afl":
                run_afl(run)
            else:
                run_stress(run, byname.get(run.bug))
        except Exception as ex:  # a broken campaign must not end the scoreboard
            run.error = "%s: %s" % (type(ex).__name__, ex)
        say("  %s on %s: %s" % (run.engine, run.bug, "found in %.1f s by %s" % (run.time, run.detector)
                                 if run.found else (run.error or "not found")))
        return run

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        list(pool.map(one, runs + base_runs))

    rows = summarise(bugs, runs, engines, a.seeds, a.budget)
    baseline = {}
    for r in base_runs:
        baseline.setdefault(r.engine, []).append(r.as_dict())
    found = [r for r in rows if r["found"]]
    best = [r["best_time"] for r in found]
    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "budget": a.budget, "seeds": a.seeds, "jobs": a.jobs, "cores": os.cpu_count(), "loadavg": loadavg,
        "engines": engines, "ci": a.ci, "build_seconds": build_secs,
        "wall_seconds": round(time.time() - t0, 1),
        "fuzz_timeout": FUZZ_TIMEOUT, "stress_grace": STRESS_GRACE,
        "found": len(found), "bugs": len(rows), "median_best_time": median(best),
    }
    try:
        meta["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL).stdout.decode().strip()
    except OSError:
        pass
    with open(os.path.join(out, "scoreboard.json"), "w") as f:
        json.dump({"format": "pagetorture-scoreboard-1", "meta": meta, "bugs": rows, "baseline": baseline}, f,
                  indent=1)
    write_md(os.path.join(out, "scoreboard.md"), meta, rows, baseline, engines)
    write_plot(os.path.join(out, "scoreboard.png"), rows, engines, a.budget)
    sys.stdout.write(open(os.path.join(out, "scoreboard.md")).read())
    say("report: %s (%.0f s, builds %.0f s)" % (out, time.time() - t0, build_secs))
    if a.ci and not found:
        say("CI: none of %s was found" % ", ".join(CI_BUGS))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
