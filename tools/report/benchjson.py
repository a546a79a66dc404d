"""Reading Google Benchmark JSON from one `./pagetorture bench` run and
checking the targets of issue 6.  Standard library only: the comparison is
printed by the bench verb itself, before any plotting.

A run directory (reports/bench-<date>/) holds ours.json (bench_alloc) and
glibc.json, jemalloc.json, tcmalloc.json (bench_other.cc built three ways),
each written with --benchmark_out.  Every figure is the best of the run's
repetitions, as the issue's reference numbers are "best of 5": CPU time per
iteration for single-threaded benchmarks (a busy machine preempts the
process; CPU time does not count that), wall time for the threaded ones.
"""

import json
import os
import re

OTHERS = ("glibc", "jemalloc", "tcmalloc")
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
ORDERS = range(0, 11)


def block_size(order):
    size = 4096 << order
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"


class Suite:
    """The per-repetition runs of one executable, by benchmark name."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.path = path
        self.context = data.get("context", {})
        self.runs = {}
        self.errors = {}
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue
            name = b.get("run_name") or b["name"]
            if b.get("error_occurred"):
                self.errors[name] = b.get("error_message", "error")
                continue
            self.runs.setdefault(name, []).append(b)

    def names(self):
        return list(self.runs)

    def best_ns(self, name, wall=None):
        """Best time per iteration in ns; wall time for real_time runs."""
        runs = self.runs.get(name)
        if not runs:
            return None
        if wall is None:
            wall = "/real_time" in name
        key = "real_time" if wall else "cpu_time"
        return min(r[key] * UNIT_NS.get(r.get("time_unit", "ns"), 1.0) for r in runs)

    def counter(self, name, key, pick=min):
        runs = self.runs.get(name)
        if not runs:
            return None
        vals = [r[key] for r in runs if key in r]
        return pick(vals) if vals else None

    def repetitions(self):
        return max((len(v) for v in self.runs.values()), default=0)


def load_run(run_dir):
    """{'ours': Suite, 'glibc': Suite, ...} for the files that exist."""
    suites = {}
    for key, fname in (("ours", "ours.json"),) + tuple((o, o + ".json") for o in OTHERS):
        path = os.path.join(run_dir, fname)
        if os.path.exists(path):
            try:
                suites[key] = Suite(path)
            except (OSError, ValueError) as e:
                print(f"bench: cannot read {path}: {e}")
    return suites


def find_one(suite, pattern):
    """The first benchmark whose name matches the regex pattern."""
    rx = re.compile(pattern)
    for n in suite.names():
        if rx.fullmatch(n):
            return n
    return None


def latency_table(suites):
    """[(order, {allocator: ns})] for BM_AllocFree/order:N."""
    rows = []
    for order in ORDERS:
        cells = {}
        for key, suite in suites.items():
            cells[key] = suite.best_ns(f"BM_AllocFree/order:{order}")
        ours = suites.get("ours")
        cells["ours_zone_lock"] = ours.best_ns(f"BM_ZoneLock/order:{order}") if ours else None
        rows.append((order, cells))
    return rows


def threads_table(suites, wall=True):
    """[(threads, {allocator: ns})] for the threaded runs: wall time divided
    by the operations of all threads (inverse throughput), or with
    wall=False the CPU time of all threads per operation, which a busy
    machine's preemption does not inflate."""
    rows = []
    for t in (1, 2, 4):
        cells = {}
        for key, suite in suites.items():
            cells[key] = suite.best_ns(f"BM_AllocFree_MT/order:0/real_time/threads:{t}", wall=wall)
        if "ours" in suites:
            cells["ours_shared_zone"] = suites["ours"].best_ns(f"BM_SharedZone_MT/order:0/real_time/threads:{t}",
                                                               wall=wall)
        rows.append((t, cells))
    return rows


def machine_load(run_dir):
    """(load average at the start, at the end, CPUs) from machine.txt, or None."""
    path = os.path.join(run_dir, "machine.txt")
    if not os.path.exists(path):
        return None
    start = end = None
    cpus = os.cpu_count() or 1
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("load at start:"):
                start = float(line.split(":", 1)[1].split()[0])
            elif line.startswith("load at end:"):
                end = float(line.split(":", 1)[1].split()[0])
            elif line.startswith("cpus:"):
                cpus = int(line.split(":", 1)[1])
    return start, end, cpus


def load_warning(run_dir):
    """A sentence when other work competed for the CPUs during the run."""
    ml = machine_load(run_dir)
    if not ml or ml[0] is None:
        return None
    start, end, cpus = ml
    worst = max(x for x in (start, end) if x is not None)
    if worst <= 0.5 * cpus:
        return None
    return (f"The machine was busy (load average {start:.1f} at the start, "
            f"{'?' if end is None else f'{end:.1f}'} at the end, {cpus} CPUs): single-threaded figures use CPU "
            "time and hold up; wall-time figures of the threaded runs are inflated by other work.")


MEMORY_MIB = (64, 256, 1024, 4096, 16384, 65536)
NODES = (1, 2, 4, 8)


def memory_scaling(ours):
    """{order: [(MiB, ns)]}"""
    out = {}
    for order in (0, 10):
        pts = []
        for mib in MEMORY_MIB:
            ns = ours.best_ns(f"BM_ScaleMemory/MiB:{mib}/order:{order}")
            if ns is not None:
                pts.append((mib, ns))
        out[order] = pts
    return out


def node_scaling(ours):
    out = {}
    for order in (0, 10):
        pts = []
        for n in NODES:
            ns = ours.best_ns(f"BM_ScaleNodes/nodes:{n}/order:{order}")
            if ns is not None:
                pts.append((n, ns))
        out[order] = pts
    return out


def creation(ours):
    """[(MiB, best ms, bytes per page, rss bytes per page, ms per GiB)]"""
    rows = []
    for mib in MEMORY_MIB:
        name = f"BM_Create/MiB:{mib}/real_time"
        ns = ours.best_ns(name, wall=True)
        if ns is None:
            continue
        ms = ns / 1e6
        rows.append((mib, ms, ours.counter(name, "bytes_per_page", max), ours.counter(name, "rss_bytes_per_page", max),
                     ms / (mib / 1024.0)))
    return rows


def fmt_ratio(r):
    if r is None:
        return "n/a"
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x"


def fmt_ns(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.1f} ns"


def ratio(a, b):
    return a / b if a is not None and b else None


def targets(suites):
    """The targets of issue 6, each a dict with id, what, value, target, ok
    (True, False, or None when there is nothing to compare)."""
    out = []
    ours = suites.get("ours")

    def ns(key, name):
        s = suites.get(key)
        return s.best_ns(name) if s else None

    def add(tid, what, value, target_text, ok, unit="x"):
        out.append({"id": tid, "what": what, "value": value, "unit": unit, "target": target_text, "ok": ok})

    o0 = ns("ours", "BM_AllocFree/order:0")
    r = ratio(o0, ns("glibc", "BM_AllocFree/order:0"))
    add("order0-vs-glibc", "order-0 pcp vs glibc", r, "< 1x", None if r is None else r < 1.0)
    r = ratio(o0, ns("jemalloc", "BM_AllocFree/order:0"))
    add("order0-vs-jemalloc", "order-0 pcp vs jemalloc", r, "< 2x", None if r is None else r < 2.0)
    for order in (1, 2, 3):
        r = ratio(ns("ours", f"BM_AllocFree/order:{order}"), ns("tcmalloc", f"BM_AllocFree/order:{order}"))
        add(f"order{order}-vs-tcmalloc", f"order-{order} pcp vs tcmalloc", r, "< 3x", None if r is None else r < 3.0)
    for order in range(4, 11):
        mine = ns("ours", f"BM_AllocFree/order:{order}")
        for other in OTHERS:
            r = ratio(mine, ns(other, f"BM_AllocFree/order:{order}"))
            add(f"order{order}-vs-{other}", f"order-{order} vs {other}", r, "< 1x", None if r is None else r < 1.0)
    if ours:
        for order, pts in memory_scaling(ours).items():
            if len(pts) >= 2:
                vals = [v for _, v in pts]
                spread = max(vals) / min(vals)
                add(f"order{order}-memory-flat",
                    f"order-{order} cost across {pts[0][0]} MiB .. {pts[-1][0] // 1024} GiB (max/min)",
                    spread, "<= 1.20x", spread <= 1.20)
            else:
                add(f"order{order}-memory-flat", f"order-{order} cost across memory sizes", None, "<= 1.20x", None)
        rows = creation(ours)
        big = [r for r in rows if r[0] == 65536]
        if big:
            add("create-64GiB", "create a 64 GiB allocator", big[0][1] / 1000.0, "< 1 s", big[0][1] < 1000.0, "s")
        else:
            add("create-64GiB", "create a 64 GiB allocator", None, "< 1 s", None, "s")
        bpp = [r[2] for r in rows if r[2] is not None]
        if bpp:
            add("metadata-per-page", "metadata bytes per 4 KiB page (buddy_system_info)", max(bpp), "<= 64",
                max(bpp) <= 64.0, "B")
        else:
            add("metadata-per-page", "metadata bytes per 4 KiB page", None, "<= 64", None, "B")
    return out


def target_line(t):
    if t["value"] is None:
        val, verdict = "no measurement", "SKIP"
    else:
        if t["unit"] == "x":
            val = fmt_ratio(t["value"])
        elif t["unit"] == "s":
            val = f"{t['value']:.3f} s"
        else:
            val = f"{t['value']:.1f} {t['unit']}"
        verdict = "PASS" if t["ok"] else "MISS"
    return f"{t['what']}: {val} (target {t['target']}): {verdict}"
