#!/usr/bin/env python3
"""The pagetorture report: one HTML page and a short summary.md.

    report.py [--root DIR] [--bench RUN_DIR] [--out DIR]

Collects, from DIR/reports/ (DIR defaults to the current directory):
  bench-*/          the newest benchmark run (./pagetorture bench): JSON of
                    bench_alloc and bench_{glibc,jemalloc,tcmalloc}, and
                    compaction.json from bench_compaction_snapshot
  stress-*/         stress driver runs: summary.json, or failure.txt
  fuzz-*/           fuzzing campaigns: summary.md, timeline.csv,
                    coverage/html/index.html (llvm-cov), coverage/coverage.txt,
                    and AFL++'s plot_data / fuzzer_stats or a libFuzzer log when
                    the timeline is missing
  scoreboard*/      the bug-detection scoreboard, whatever JSON, CSV or
                    Markdown it holds
and writes OUT (default reports/<date-time>/) with index.html, summary.md
and the plots as PNG files beside them.  Everything missing is skipped with a
note.  The page fetches nothing: CSS is inline, images and links are
relative paths.  Plots use matplotlib's Agg backend (Debian:
python3-matplotlib); without it the page is written with tables only.
"""

import argparse
import csv
import datetime
import glob
import html
import json
import os
import platform
import re
import subprocess
import sys

# No __pycache__ beside the sources of a checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchjson as bj  # noqa: E402

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
except ImportError:  # the page still has every table
    plt = None

COLORS = {"ours": "#1f5fa8", "ours_zone_lock": "#6fa0dc", "ours_shared_zone": "#6fa0dc", "glibc": "#c0392b",
          "jemalloc": "#27864a", "tcmalloc": "#d68910"}
LABELS = {"ours": "pagetorture (pcp where the kernel uses it)", "ours_zone_lock": "pagetorture, zone lock only",
          "ours_shared_zone": "pagetorture, pcp off: one zone lock", "glibc": "glibc posix_memalign/free",
          "jemalloc": "jemalloc", "tcmalloc": "tcmalloc (gperftools)"}

CSS = """
body { font: 15px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #1d1d1f;
       background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 2px solid #e3e3e3;
   padding-bottom: 4px; } h3 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: #666; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f1f3f6; } td.l, th.l { text-align: left; }
.pass { color: #1e7b34; font-weight: 600; } .miss { color: #b3261e; font-weight: 600; } .skip { color: #777; }
img { max-width: 100%; border: 1px solid #eee; margin: 6px 0 14px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
.note { color: #555; font-size: 13px; } .bad { color: #b3261e; } .good { color: #1e7b34; }
nav a { margin-right: 14px; }
"""


def esc(s):
    return html.escape(str(s))


def rel(path, out_dir):
    return os.path.relpath(path, out_dir).replace(os.sep, "/")


def newest(paths):
    paths = [p for p in paths if os.path.exists(p)]
    return max(paths, key=os.path.getmtime) if paths else None


def html_table(headers, rows, left=1):
    out = ["<table><tr>"]
    out += [f'<th class="{"l" if i < left else ""}">{esc(h)}</th>' for i, h in enumerate(headers)]
    out.append("</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(r)) +
                   "</tr>")
    out.append("</table>")
    return "\n".join(out)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def machine_info(root):
    info = {"host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["commit"] = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                        text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return info


# ---------------------------------------------------------------- plots

class Plots:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.made = []

    def save(self, fig, name, layout=True):
        path = os.path.join(self.out_dir, name)
        if layout:
            fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        self.made.append(name)
        return name


def ns_formatter():
    def f(v, _pos):
        if v >= 1e6:
            return f"{v / 1e6:g} ms"
        if v >= 1e3:
            return f"{v / 1e3:g} µs"
        return f"{v:g} ns"
    return FuncFormatter(f)


def plot_latency(plots, suites):
    rows = bj.latency_table(suites)
    fig, ax = plt.subplots(figsize=(9.5, 5.2))
    xs = [o for o, _ in rows]
    for key in ("ours", "ours_zone_lock") + bj.OTHERS:
        pts = [(o, c.get(key)) for o, c in rows if c.get(key) is not None]
        if not pts:
            continue
        style = "--" if key == "ours_zone_lock" else "-"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", color=COLORS[key], label=LABELS[key],
                linewidth=2.2 if key == "ours" else 1.6)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ns_formatter())
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{o}\n{bj.block_size(o)}" for o in xs])
    ax.set_xlabel("order (block size)")
    ax.set_ylabel("time per alloc+free (log scale)")
    ax.set_title("Alloc+free of one aligned block: best of the run's repetitions")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    return plots.save(fig, "latency_per_order.png")


def plot_ratios(plots, suites):
    rows = bj.latency_table(suites)
    others = [o for o in bj.OTHERS if o in suites]
    if not others:
        return None
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    width = 0.8 / len(others)
    for i, o in enumerate(others):
        xs, ys = [], []
        for order, c in rows:
            r = bj.ratio(c.get("ours"), c.get(o))
            if r is not None:
                xs.append(order + (i - (len(others) - 1) / 2) * width)
                ys.append(r)
        ax.bar(xs, ys, width=width, color=COLORS[o], label=f"pagetorture / {o}")
    ax.axhline(1.0, color="#333", linewidth=1)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}x"))
    ax.set_xticks(list(bj.ORDERS))
    ax.set_xticklabels([f"{o}\n{bj.block_size(o)}" for o in bj.ORDERS])
    ax.set_xlabel("order (block size)")
    ax.set_ylabel("time ratio (below 1x: pagetorture faster)")
    ax.set_title("pagetorture relative to each allocator, same run")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=9)
    return plots.save(fig, "ratio_per_order.png")


def plot_threads(plots, suites):
    wall = bj.threads_table(suites, wall=True)
    cpu = bj.threads_table(suites, wall=False)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11.5, 4.8))
    any_line = False
    for key in ("ours", "ours_shared_zone") + bj.OTHERS:
        style = "--" if key == "ours_shared_zone" else "-"
        label = LABELS[key] if key != "ours" else "pagetorture, one simulated CPU per thread"
        pts = [(t, c[key]) for t, c in cpu if c.get(key)]
        if pts:
            any_line = True
            a1.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", color=COLORS[key], label=label)
        pts = [(t, 1e3 / c[key]) for t, c in wall if c.get(key)]
        if pts:
            a2.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", color=COLORS[key], label=label)
    if not any_line:
        plt.close(fig)
        return None
    for ax in (a1, a2):
        ax.set_xticks([1, 2, 4])
        ax.set_xlabel(f"threads (this machine has {os.cpu_count()} CPUs)")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    a1.yaxis.set_major_formatter(ns_formatter())
    a1.set_ylabel("CPU time per alloc+free (log scale)")
    a1.set_title("Cost per operation (CPU time of all threads)")
    a2.set_ylabel("alloc+free per second, all threads (millions)")
    a2.set_title("Throughput (wall time)")
    handles, labels = a1.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8.5, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return plots.save(fig, "threads.png", layout=False)


def mem_label(mib):
    return f"{mib} MiB" if mib < 1024 else f"{mib // 1024} GiB"


def plot_scaling(plots, ours):
    mem = bj.memory_scaling(ours)
    nodes = bj.node_scaling(ours)
    if not any(mem.values()) and not any(nodes.values()):
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    for order, pts in mem.items():
        if pts:
            a1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"order {order}",
                    color="#1f5fa8" if order == 0 else "#8e44ad")
    a1.set_xscale("log", base=2)
    xs = sorted({m for pts in mem.values() for m, _ in pts})
    a1.set_xticks(xs)
    a1.set_xticklabels([mem_label(m) for m in xs], fontsize=8)
    a1.set_ylim(bottom=0)
    a1.yaxis.set_major_formatter(ns_formatter())
    a1.set_xlabel("simulated memory (one node, metadata only)")
    a1.set_ylabel("time per alloc+free")
    a1.set_title("Cost against memory size")
    a1.grid(True, alpha=0.3)
    a1.legend()
    for order, pts in nodes.items():
        if pts:
            a2.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"order {order}",
                    color="#1f5fa8" if order == 0 else "#8e44ad")
    a2.set_xscale("log", base=2)
    a2.set_xticks(list(bj.NODES))
    a2.set_xticklabels([str(n) for n in bj.NODES])
    a2.set_ylim(bottom=0)
    a2.yaxis.set_major_formatter(ns_formatter())
    a2.set_xlabel("nodes (1 GiB each, allocating on node 0)")
    a2.set_title("Cost against node count")
    a2.grid(True, alpha=0.3)
    a2.legend()
    return plots.save(fig, "scaling.png")


def plot_create(plots, ours):
    rows = bj.creation(ours)
    if not rows:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    a1.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", color="#1f5fa8")
    a1.set_xscale("log", base=2)
    a1.set_yscale("log")
    a1.set_xticks([r[0] for r in rows])
    a1.set_xticklabels([mem_label(r[0]) for r in rows], fontsize=8)
    a1.axhline(1000, color="#b3261e", linewidth=1, linestyle=":")
    a1.text(rows[0][0], 1000, " 1 s", color="#b3261e", va="top", fontsize=8)
    a1.set_xlabel("simulated memory")
    a1.set_ylabel("buddy_system_create (ms, log scale)")
    a1.set_title("Time to create the allocator")
    a1.grid(True, which="both", alpha=0.3)
    labels = [mem_label(r[0]) for r in rows]
    xs = range(len(rows))
    a2.bar([x - 0.2 for x in xs], [r[2] or 0 for r in rows], width=0.4, color="#1f5fa8", label="metadata (info)")
    a2.bar([x + 0.2 for x in xs], [r[3] or 0 for r in rows], width=0.4, color="#6fa0dc", label="made resident")
    a2.axhline(64, color="#b3261e", linewidth=1, linestyle=":")
    a2.set_xticks(list(xs))
    a2.set_xticklabels(labels, fontsize=8)
    a2.set_ylabel("bytes per 4 KiB page")
    a2.set_title("Metadata per page (target: 64 B or less)")
    a2.legend(fontsize=8, loc="lower right")
    return plots.save(fig, "create.png")


def plot_compaction(plots, comp):
    before, after = comp["before"]["free_blocks"], comp["after"]["free_blocks"]
    orders = list(range(len(before)))
    pages_b = [n << o for o, n in zip(orders, before)]
    pages_a = [n << o for o, n in zip(orders, after)]
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    ax.bar([o - 0.2 for o in orders], pages_b, width=0.4, color="#c0392b", label="before")
    ax.bar([o + 0.2 for o in orders], pages_a, width=0.4, color="#1f5fa8", label="after buddy_compact_memory()")
    ax.set_xticks(orders)
    ax.set_xticklabels([f"{o}\n{bj.block_size(o)}" for o in orders])
    ax.set_xlabel("order (block size)")
    ax.set_ylabel("free pages in blocks of this order")
    ax.set_title(f"Free pages per order, {comp.get('zone', 'zone')} of {comp.get('zone_pages', '?')} pages, "
                 f"{comp.get('pgmigrate_success', '?')} pages migrated")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend()
    return plots.save(fig, "compaction.png")


def plot_fuzz(plots, campaigns):
    series = [(c["name"], c["timeline"]) for c in campaigns if c.get("timeline")]
    if not series:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    for name, tl in series[:12]:
        short = re.sub(r"^fuzz-", "", name)
        a1.plot([p["seconds"] for p in tl], [p["exec_per_s"] for p in tl], label=short, linewidth=1.4)
        a2.plot([p["seconds"] for p in tl], [p["edges"] for p in tl], label=short, linewidth=1.4)
    a1.set_xlabel("seconds")
    a1.set_ylabel("executions per second")
    a1.set_title("Fuzzing speed")
    a1.grid(True, alpha=0.3)
    a2.set_xlabel("seconds")
    a2.set_ylabel("edges (the engine's coverage count)")
    a2.set_title("Coverage over time")
    a2.grid(True, alpha=0.3)
    a2.legend(fontsize=7)
    return plots.save(fig, "fuzz.png")


def plot_stress(plots, runs):
    latest = {}
    for r in runs:
        if r.get("summary") and r["summary"].get("ops_per_s") is not None:
            latest.setdefault(r["summary"].get("profile", "?"), r)
    if not latest:
        return None
    names = sorted(latest)
    vals = [latest[n]["summary"]["ops_per_s"] for n in names]
    colors = ["#1f5fa8" if latest[n]["summary"].get("result") == "clean" else "#b3261e" for n in names]
    fig, ax = plt.subplots(figsize=(9.5, 4))
    ax.bar(range(len(names)), vals, color=colors)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("operations per second (checker included)")
    ax.set_title("Stress profiles: latest run of each (red: violation)")
    ax.grid(True, axis="y", alpha=0.3)
    return plots.save(fig, "stress.png")


# ---------------------------------------------------------------- inputs

def load_stress(reports):
    runs = []
    for d in sorted(glob.glob(os.path.join(reports, "stress-*")), key=os.path.getmtime, reverse=True):
        if not os.path.isdir(d):
            continue
        r = {"dir": d, "name": os.path.basename(d), "summary": None, "failure": None}
        sj = os.path.join(d, "summary.json")
        if os.path.exists(sj):
            try:
                with open(sj, encoding="utf-8") as f:
                    r["summary"] = json.load(f)
            except (OSError, ValueError) as e:
                r["failure"] = f"unreadable summary.json: {e}"
        ft = os.path.join(d, "failure.txt")
        if os.path.exists(ft):
            try:
                with open(ft, encoding="utf-8", errors="replace") as f:
                    r["failure"] = f.read(600)
            except OSError:
                pass
        runs.append(r)
    return runs


def to_float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def read_timeline_csv(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            p = {k: to_float(row.get(k)) for k in ("seconds", "execs", "exec_per_s", "corpus", "edges", "crashes")}
            if p["seconds"] is not None:
                out.append(p)
    return out


def read_afl_plot_data(path):
    """AFL++'s plot_data: '# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs,
    map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found'."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#"):
                continue
            cols = [c.strip() for c in line.split(",")]
            if len(cols) < 13:
                continue
            out.append({"seconds": to_float(cols[0]), "execs": to_float(cols[11]), "exec_per_s": to_float(cols[10]),
                        "corpus": to_float(cols[3]), "edges": to_float(cols[12]), "crashes": to_float(cols[7])})
    return [p for p in out if p["seconds"] is not None]


# "#24986: cov: 6729 ft: 13401 corp: 1546 exec/s 81 oom/timeout/crash: 0/0/3 time: 141s" (-fork), or
# "#1234	NEW    cov: 812 ft: 1201 corp: 97/2Kb ... exec/s: 310 rss: 40Mb" (no time: not plotted)
LIBFUZZER_LINE = re.compile(r"^#(\d+):?\s+(?:[A-Z]+\s+)?cov: (\d+).*?corp: (\d+).*?exec/s:? (\d+)(?:.*?time: (\d+)s)?")


def read_libfuzzer_log(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LIBFUZZER_LINE.match(line)
            if m and m.group(5):
                out.append({"seconds": float(m.group(5)), "execs": float(m.group(1)), "exec_per_s": float(m.group(4)),
                            "corpus": float(m.group(3)), "edges": float(m.group(2)), "crashes": None})
    return out


def parse_md_kv_table(text):
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 2 and any(cells):
                rows.append((cells[0], " | ".join(cells[1:])))
    return [r for r in rows if r[0]]


def load_fuzz(reports):
    campaigns = []
    for d in sorted(glob.glob(os.path.join(reports, "fuzz-*")), key=os.path.getmtime, reverse=True):
        if not os.path.isdir(d):
            continue
        c = {"dir": d, "name": os.path.basename(d), "timeline": [], "summary": [], "coverage_html": None,
             "coverage_total": None, "crashes": [], "afl_stats": {}, "notes": []}
        sm = os.path.join(d, "summary.md")
        if os.path.exists(sm):
            with open(sm, encoding="utf-8", errors="replace") as f:
                c["summary"] = parse_md_kv_table(f.read())
        try:
            tl = os.path.join(d, "timeline.csv")
            if os.path.exists(tl):
                c["timeline"] = read_timeline_csv(tl)
            if not c["timeline"]:
                pd = os.path.join(d, "afl-sync", "main", "plot_data")
                if os.path.exists(pd):
                    c["timeline"] = read_afl_plot_data(pd)
            if not c["timeline"]:
                lf = os.path.join(d, "logs", "libfuzzer.log")
                if os.path.exists(lf):
                    c["timeline"] = read_libfuzzer_log(lf)
        except OSError as e:
            c["notes"].append(f"timeline unreadable: {e}")
        for st in glob.glob(os.path.join(d, "afl-sync", "*", "fuzzer_stats")):
            stats = {}
            with open(st, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        stats[k.strip()] = v.strip()
            c["afl_stats"][os.path.basename(os.path.dirname(st))] = stats
        for cand in ("coverage/html/index.html", "coverage/index.html"):
            p = os.path.join(d, cand)
            if os.path.exists(p):
                c["coverage_html"] = p
                break
        ct = os.path.join(d, "coverage", "coverage.txt")
        if os.path.exists(ct):
            with open(ct, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith("TOTAL"):
                        c["coverage_total"] = line.split()
        cr = os.path.join(d, "crashes")
        if os.path.isdir(cr):
            c["crashes"] = sorted(x for x in os.listdir(cr) if os.path.isdir(os.path.join(cr, x)))
        campaigns.append(c)
    return campaigns


def load_scoreboards(reports):
    boards = []
    for d in sorted(glob.glob(os.path.join(reports, "scoreboard*")), key=os.path.getmtime, reverse=True):
        # Top level only: a scoreboard's runs/ holds the engines' own files.
        files = [d] if os.path.isfile(d) else sorted(glob.glob(os.path.join(d, "*")))
        items = []
        for p in files:
            if not os.path.isfile(p):
                continue
            ext = os.path.splitext(p)[1].lower()
            try:
                if ext == ".json":
                    with open(p, encoding="utf-8") as f:
                        items.append(("json", p, json.load(f)))
                elif ext == ".csv":
                    with open(p, encoding="utf-8", errors="replace") as f:
                        items.append(("csv", p, list(csv.reader(f))))
                elif ext in (".md", ".txt"):
                    with open(p, encoding="utf-8", errors="replace") as f:
                        items.append(("text", p, f.read(20000)))
                elif ext in (".html", ".htm"):
                    items.append(("link", p, None))
            except (OSError, ValueError) as e:
                items.append(("text", p, f"unreadable: {e}"))
        boards.append({"dir": d, "name": os.path.basename(d), "items": items})
    return boards


def load_compaction(bench_dir, reports):
    cands = []
    if bench_dir:
        cands.append(os.path.join(bench_dir, "compaction.json"))
    cands += sorted(glob.glob(os.path.join(reports, "bench-*", "compaction.json")), key=os.path.getmtime,
                    reverse=True)
    for p in cands:
        if os.path.exists(p):
            try:
                with open(p, encoding="utf-8") as f:
                    return p, json.load(f)
            except (OSError, ValueError):
                continue
    return None, None


# ---------------------------------------------------------------- rendering

def json_rows(data):
    """A list of dicts (or a dict holding one) as (headers, rows); else None."""
    if isinstance(data, dict):
        for v in data.values():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                data = v
                break
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        headers = []
        for x in data:
            for k in x:
                if k not in headers:
                    headers.append(k)
        return headers, [[esc(x.get(k, "")) for k in headers] for x in data]
    return None


def scoreboard_line(sb):
    meta = sb.get("meta", {})
    return (f"{meta.get('found', '?')} of {meta.get('bugs', '?')} planted bugs found; budget "
            f"{meta.get('budget', '?')} s per campaign; engines {', '.join(meta.get('engines', []))}; "
            f"{meta.get('date', '')}.")


def render_known_scoreboard(sb):
    """tools/scoreboard's scoreboard.json: bug x engine, time to find."""
    engines = sb.get("meta", {}).get("engines") or sorted({e for b in sb.get("bugs", []) for e in b.get("engines", {})})
    rows = []
    for bug in sb.get("bugs", []):
        cells = []
        for e in engines:
            er = bug.get("engines", {}).get(e)
            if not er:
                cells.append('<span class="skip">not run</span>')
            elif er.get("found_runs"):
                t = er.get("median_time")
                cells.append(f'<span class="pass">{esc(f"{t:.1f} s" if isinstance(t, (int, float)) else "found")}'
                             f'</span> ({esc(er["found_runs"])}/{esc(er.get("total_runs", "?"))})<br>'
                             f'{esc(", ".join(er.get("detectors", [])))}')
            elif er.get("errors") and len(er["errors"]) >= er.get("total_runs", 1):
                cells.append('<span class="miss">build failed</span>')
            else:
                cells.append('<span class="miss">not found</span>')
        rows.append([f"<code>{esc(bug.get('name', '?'))}</code>", esc(bug.get("part", ""))] + cells +
                    [esc(", ".join(bug.get("expected", [])) if isinstance(bug.get("expected"), list)
                         else bug.get("expected", ""))])
    return (f'<p class="note">{esc(scoreboard_line(sb))} A cell: median time to the first finding over the '
            "seeds that found it (found/run), and what caught it.</p>" +
            html_table(["bug", "part"] + list(engines) + ["expected"], rows, left=2))


def verdict_cell(t):
    if t["ok"] is None:
        return '<span class="skip">SKIP</span>'
    return '<span class="pass">PASS</span>' if t["ok"] else '<span class="miss">MISS</span>'


def render(args):
    root = os.path.abspath(args.root)
    reports = os.path.join(root, "reports")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.abspath(args.out or os.path.join(reports, stamp))
    os.makedirs(out_dir, exist_ok=True)
    bench_dir = args.bench
    if not bench_dir:
        bench_dir = newest([os.path.dirname(p) for p in glob.glob(os.path.join(reports, "bench-*", "ours.json"))])
    suites = bj.load_run(bench_dir) if bench_dir else {}
    ours = suites.get("ours")
    plots = Plots(out_dir) if plt else None
    info = machine_info(root)
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")

    body, md = [], []
    body.append("<h1>pagetorture report</h1>")
    body.append(f'<p class="meta">{esc(now)} · {esc(info.get("host", ""))} · {esc(info.get("cpu", "?"))}, '
                f'{esc(info.get("cpus"))} CPUs · Linux {esc(info.get("kernel", ""))} · commit '
                f'{esc(info.get("commit") or "?")}</p>')
    body.append('<nav><a href="#bench">Benchmarks</a><a href="#compaction">Compaction</a><a href="#stress">Stress</a>'
                '<a href="#fuzz">Fuzzing</a><a href="#scoreboard">Scoreboard</a></nav>')
    md += [f"# pagetorture report, {now}", "",
           f"Machine: {info.get('cpu', '?')}, {info.get('cpus')} CPUs; commit {info.get('commit') or '?'}.", ""]
    if not plt:
        body.append('<p class="note bad">matplotlib is not installed (Debian: python3-matplotlib): no plots.</p>')

    # ---- benchmarks
    body.append('<h2 id="bench">Benchmarks</h2>')
    if not ours:
        body.append('<p class="note">No benchmark run found (run <code>./pagetorture bench</code>).</p>')
        md += ["## Benchmarks", "", "No benchmark run found.", ""]
    else:
        reps = ours.repetitions()
        others = [o for o in bj.OTHERS if o in suites]
        body.append(f'<p class="note">Run <a href="{esc(rel(bench_dir, out_dir))}/">{esc(os.path.basename(bench_dir))}'
                    f'</a>: best of {reps} repetition(s) of each benchmark; CPU time per iteration for '
                    "single-threaded runs, wall time for threaded ones. pagetorture runs in metadata-only mode "
                    "(it hands out page records, with no memory behind them); the others return mapped memory "
                    "(not touched). Every allocator was measured in this one run on this machine; ratios are "
                    "the comparison, the times say nothing beyond this machine.</p>")
        md += ["## Benchmarks", "", f"Run `{os.path.basename(bench_dir)}`, best of {reps} repetition(s); "
               "CPU time (single-threaded), wall time (threaded); all measured in this run.", ""]
        warning = bj.load_warning(bench_dir)
        if warning:
            body.append(f'<p class="note bad">{esc(warning)}</p>')
            md += [warning, ""]
        ts = bj.targets(suites)
        rows = []
        for t in ts:
            line = bj.target_line(t)
            value = line.split(": ", 1)[1].rsplit(" (target", 1)[0]
            rows.append([esc(t["what"]), esc(value), esc(t["target"]), verdict_cell(t)])
        npass = sum(1 for t in ts if t["ok"] is True)
        nmiss = sum(1 for t in ts if t["ok"] is False)
        body.append(f"<h3>Targets of issue 6: {npass} pass, {nmiss} miss</h3>")
        body.append(html_table(["target", "measured", "wanted", ""], rows))
        md += [f"### Targets of issue 6: {npass} PASS, {nmiss} MISS", ""]
        md += [f"- MISS: {bj.target_line(t).rsplit(': ', 1)[0]}" for t in ts if t["ok"] is False]
        md += [f"- PASS: {', '.join(t['what'] for t in ts if t['ok'] is True)}", ""]

        heads = ["order", "block", "pagetorture"] + others + [f"÷ {o}" for o in others] + ["zone lock only"]
        rows, mdrows = [], []
        for order, cells in bj.latency_table(suites):
            r = [order, bj.block_size(order), bj.fmt_ns(cells.get("ours"))] + \
                [bj.fmt_ns(cells.get(o)) for o in others] + \
                [bj.fmt_ratio(bj.ratio(cells.get("ours"), cells.get(o))) for o in others] + \
                [bj.fmt_ns(cells.get("ours_zone_lock"))]
            mdrows.append(r)
            rows.append([esc(c) for c in r])
        body.append("<h3>Alloc+free per order: pagetorture against the others</h3>")
        body.append(html_table(heads, rows, left=2))
        md += ["### Alloc+free per order (ratio: pagetorture time / other time)", "", md_table(heads, mdrows), ""]
        if plots:
            body.append(f'<img src="{plot_latency(plots, suites)}" alt="latency per order">')
            name = plot_ratios(plots, suites)
            if name:
                body.append(f'<img src="{name}" alt="ratio per order">')

        body.append("<h3>Threads</h3>")
        heads = ["threads", "pagetorture, CPU each", "pagetorture, pcp off"] + others
        for wall, what in ((False, "CPU time of all threads per operation"),
                           (True, "wall time divided by the operations of all threads (inverse throughput)")):
            rows = [[t, bj.fmt_ns(c.get("ours")), bj.fmt_ns(c.get("ours_shared_zone"))] +
                    [bj.fmt_ns(c.get(o)) for o in others] for t, c in bj.threads_table(suites, wall=wall)]
            body.append(f'<p class="note">Order-0 alloc+free, {esc(what)}.</p>')
            body.append(html_table(heads, [[esc(x) for x in r] for r in rows]))
            if not wall:
                md += ["### Threads (order 0; CPU time of all threads per operation)", "", md_table(heads, rows), ""]
        if plots:
            name = plot_threads(plots, suites)
            if name:
                body.append(f'<img src="{name}" alt="threads">')

        body.append("<h3>Scaling with memory and nodes, creation, metadata</h3>")
        mem = bj.memory_scaling(ours)
        srows = []
        for order, pts in mem.items():
            if pts:
                vals = [v for _, v in pts]
                srows.append([f"order {order}", bj.fmt_ns(pts[0][1]), bj.fmt_ns(pts[-1][1]),
                              bj.fmt_ratio(pts[-1][1] / pts[0][1]), bj.fmt_ratio(max(vals) / min(vals))])
        sheads = ["", f"at {mem_label(bj.MEMORY_MIB[0])}", f"at {mem_label(bj.MEMORY_MIB[-1])}", "last / first",
                  "max / min"]
        body.append(html_table(sheads, [[esc(x) for x in r] for r in srows]))
        md += ["### Scaling with simulated memory", "", md_table(sheads, srows), ""]
        nodes = bj.node_scaling(ours)
        nrows = [[f"{n} node(s)"] + [bj.fmt_ns(dict(pts).get(n)) for pts in nodes.values()] for n in bj.NODES]
        nheads = ["nodes"] + [f"order {o}" for o in nodes]
        body.append(html_table(nheads, [[esc(x) for x in r] for r in nrows]))
        md += ["### Scaling with nodes", "", md_table(nheads, nrows), ""]
        if plots:
            name = plot_scaling(plots, ours)
            if name:
                body.append(f'<img src="{name}" alt="scaling">')
        crows = [[mem_label(m), f"{ms:.2f} ms", f"{mg:.2f} ms", "n/a" if b is None else f"{b:.1f}",
                  "n/a" if r is None else f"{r:.1f}"] for m, ms, b, r, mg in bj.creation(ours)]
        cheads = ["memory", "create", "per GiB", "metadata B/page", "resident B/page"]
        body.append(html_table(cheads, [[esc(x) for x in r] for r in crows]))
        md += ["### Creating the allocator", "", md_table(cheads, crows), ""]
        if plots:
            name = plot_create(plots, ours)
            if name:
                body.append(f'<img src="{name}" alt="creation and metadata">')

        body.append("<h3>Every benchmark of this allocator</h3>")
        rows = []
        skip = ("BM_AllocFree/", "BM_ZoneLock/", "BM_ScaleMemory/", "BM_ScaleNodes/", "BM_Create/")
        for name in ours.names():
            if name.startswith(skip):
                continue
            run = ours.runs[name][0]
            counters = {k: v for k, v in run.items() if k not in (
                "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
                "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
                "items_per_second", "bytes_per_second", "label", "aggregate_name", "aggregate_unit")}
            ctext = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in counters.items())
            rows.append([esc(name), esc(bj.fmt_ns(ours.best_ns(name))), esc(run.get("iterations", "")), esc(ctext)])
        for name, msg in sorted(ours.errors.items()):
            rows.append([esc(name), '<span class="bad">error</span>', "", esc(msg)])
        body.append('<p class="note">Fallback, bulk, direct compaction, reclaim, alloc_contig_range, merging: what '
                    "each measures is described in bench/bench_alloc.cc. Counters are per iteration unless "
                    "named otherwise.</p>")
        body.append(html_table(["benchmark", "best", "iterations", "counters"], rows))

    # ---- compaction
    body.append('<h2 id="compaction">Compaction: free pages per order</h2>')
    cpath, comp = load_compaction(bench_dir, reports)
    if not comp:
        body.append('<p class="note">No compaction snapshot (bench_compaction_snapshot runs with '
                    "<code>./pagetorture bench</code>).</p>")
    else:
        b, a = comp["before"], comp["after"]
        body.append(f'<p class="note">A {esc(comp.get("zone_pages"))}-page zone filled with movable pages, then '
                    f'{esc(comp.get("fill", {}).get("free_percent"))}% of them freed at random; then '
                    f'<code>buddy_compact_memory()</code> ({esc(comp.get("compact_ms"))} ms, '
                    f'{esc(comp.get("pgmigrate_success"))} pages migrated). Fragmentation score '
                    f'{esc(b.get("fragmentation_score"))} before, {esc(a.get("fragmentation_score"))} after. '
                    f'Data: <a href="{esc(rel(cpath, out_dir))}">{esc(os.path.basename(cpath))}</a>.</p>')
        if plots:
            body.append(f'<img src="{plot_compaction(plots, comp)}" alt="compaction">')
        body.append("<pre>before\n" + esc(b.get("buddyinfo", "")) + "after\n" + esc(a.get("buddyinfo", "")) + "</pre>")
        md += ["## Compaction", "", f"Free pages in blocks of order 9 and 10: "
               f"{sum(n << o for o, n in enumerate(b['free_blocks']) if o >= 9)} before, "
               f"{sum(n << o for o, n in enumerate(a['free_blocks']) if o >= 9)} after; "
               f"{comp.get('pgmigrate_success')} pages migrated.", ""]

    # ---- stress
    body.append('<h2 id="stress">Stress</h2>')
    runs = load_stress(reports)
    if not runs:
        body.append('<p class="note">No stress runs under reports/ (run <code>./pagetorture stress</code>).</p>')
        md += ["## Stress", "", "No stress runs.", ""]
    else:
        clean = sum(1 for r in runs if r["summary"] and r["summary"].get("result") == "clean")
        bad = len(runs) - clean
        body.append(f'<p class="note">{len(runs)} run(s): <span class="good">{clean} clean</span>, '
                    f'<span class="{"bad" if bad else "good"}">{bad} with a violation or failure</span>.</p>')
        md += ["## Stress", "", f"{len(runs)} run(s): {clean} clean, {bad} with a violation or failure.", ""]
        if plots:
            name = plot_stress(plots, runs)
            if name:
                body.append(f'<img src="{name}" alt="stress">')
        rows = []
        for r in runs[:60]:
            s = r["summary"] or {}
            faults = s.get("faults", {}) if isinstance(s.get("faults"), dict) else {}
            viol = s.get("violation")
            vtext = (viol.get("name", "") + ": " + str(viol.get("detail", ""))) if isinstance(viol, dict) else ""
            result = s.get("result") or ("failure" if r["failure"] else "?")
            cls = "pass" if result == "clean" else "miss"
            rows.append([f'<a href="{esc(rel(r["dir"], out_dir))}/">{esc(r["name"])}</a>', esc(s.get("profile", "")),
                         f'<span class="{cls}">{esc(result)}</span>', esc(s.get("threads", "")),
                         esc(s.get("ops", "")), esc(f'{s["ops_per_s"]:.0f}' if s.get("ops_per_s") else ""),
                         esc(s.get("elapsed_s", "")), esc(faults.get("injected", "")),
                         esc(vtext or (r["failure"] or "")[:200])])
        body.append(html_table(["run", "profile", "result", "threads", "ops", "ops/s", "seconds", "faults",
                                "violation"], rows))

    # ---- fuzzing
    body.append('<h2 id="fuzz">Fuzzing</h2>')
    campaigns = load_fuzz(reports)
    if not campaigns:
        body.append('<p class="note">No fuzzing campaigns under reports/ (run <code>./pagetorture fuzz</code>).</p>')
        md += ["## Fuzzing", "", "No campaigns.", ""]
    else:
        md += ["## Fuzzing", ""]
        if plots:
            name = plot_fuzz(plots, campaigns)
            if name:
                body.append(f'<img src="{name}" alt="fuzzing">')
        rows = []
        for c in campaigns:
            kv = dict(c["summary"])
            last = c["timeline"][-1] if c["timeline"] else {}
            cov = ""
            if c["coverage_html"]:
                cov = f'<a href="{esc(rel(c["coverage_html"], out_dir))}">llvm-cov HTML</a>'
            if c["coverage_total"]:
                t = c["coverage_total"]
                # TOTAL regions missed cover% functions missed exec% lines missed cover% ...
                pct = [x for x in t if x.endswith("%")]
                if pct:
                    cov += f" ({esc(' / '.join(pct[:3]))} regions / functions / lines)"
            edges = kv.get("edges (engine's count)") or (f"{last.get('edges'):.0f}" if last.get("edges") else "")
            rows.append([f'<a href="{esc(rel(c["dir"], out_dir))}/">{esc(c["name"])}</a>',
                         esc(kv.get("engine, jobs", "")), esc(kv.get("duration", "")), esc(kv.get("executions", "")),
                         esc(kv.get("exec/s, all jobs", "")), esc(edges), esc(kv.get("crash inputs", "")),
                         cov or '<span class="skip">none</span>'])
            md.append(f"- {c['name']}: {kv.get('executions', '?')} execs, edges {edges or '?'}, "
                      f"crashes {kv.get('crash inputs', '?')}"
                      + (f", coverage {rel(c['coverage_html'], out_dir)}" if c["coverage_html"] else ""))
        body.append(html_table(["campaign", "engine", "duration", "executions", "exec/s", "edges", "crashes",
                                "coverage"], rows))
        md.append("")
        for c in campaigns[:10]:
            if c["crashes"]:
                body.append(f"<h3>{esc(c['name'])}: distinct crashes</h3><ul>" +
                            "".join(f'<li><a href="{esc(rel(os.path.join(c["dir"], "crashes", x), out_dir))}/">'
                                    f"{esc(x)}</a></li>" for x in c["crashes"]) + "</ul>")

    # ---- scoreboard
    body.append('<h2 id="scoreboard">Bug-detection scoreboard</h2>')
    boards = load_scoreboards(reports)
    if not boards:
        body.append('<p class="note">No scoreboard under reports/.</p>')
    else:
        def is_known(board):
            return any(k == "json" and isinstance(d, dict) and str(d.get("format", "")).startswith(
                "pagetorture-scoreboard") for k, _p, d in board["items"])
        # The newest finished one: a scoreboard still running has no scoreboard.json yet.
        b = next((x for x in boards if is_known(x)), boards[0])
        md += ["## Scoreboard", "", f"{len(boards)} scoreboard(s); shown: {b['name']}.", ""]
        others = [x["name"] for x in boards if x is not b][:5]
        body.append(f'<p class="note">Shown: <a href="{esc(rel(b["dir"], out_dir))}">{esc(b["name"])}</a>'
                    + (f"; others: {esc(', '.join(others))}" if others else "") + "</p>")
        known = [d for k, p, d in b["items"] if k == "json" and isinstance(d, dict)
                 and str(d.get("format", "")).startswith("pagetorture-scoreboard")]
        if known:
            body.append(render_known_scoreboard(known[0]))
            md += [scoreboard_line(known[0]), ""]
        for png in sorted(glob.glob(os.path.join(b["dir"], "*.png")) if os.path.isdir(b["dir"]) else []):
            body.append(f'<img src="{esc(rel(png, out_dir))}" alt="scoreboard">')
        for kind, path, data in ([] if known else b["items"][:20]):
            body.append(f"<h3>{esc(os.path.relpath(path, b['dir']) if os.path.isdir(b['dir']) else os.path.basename(path))}</h3>")
            if kind == "json":
                tr = json_rows(data)
                if tr:
                    body.append(html_table(tr[0], tr[1]))
                else:
                    body.append("<pre>" + esc(json.dumps(data, indent=1)[:20000]) + "</pre>")
            elif kind == "csv" and data:
                body.append(html_table(data[0], [[esc(c) for c in r] for r in data[1:200]]))
            elif kind == "link":
                body.append(f'<p><a href="{esc(rel(path, out_dir))}">open</a></p>')
            else:
                body.append("<pre>" + esc(data or "") + "</pre>")

    if plots:
        md += ["", "Plots: " + ", ".join(plots.made), ""]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>pagetorture report {esc(now)}</title><style>{CSS}</style></head><body><main>\n"
            + "\n".join(body) + "\n</main></body></html>\n")
    with open(os.path.join(out_dir, "index.html"), "w", encoding="utf-8") as f:
        f.write(page)
    with open(os.path.join(out_dir, "summary.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    return out_dir, plots.made if plots else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".", help="the repository (its reports/ is read)")
    ap.add_argument("--bench", help="a benchmark run directory (default: the newest reports/bench-*/)")
    ap.add_argument("--out", help="where to write (default: reports/<date-time>/)")
    args = ap.parse_args()
    out_dir, made = render(args)
    print(f"report: {os.path.join(out_dir, 'index.html')} ({len(made)} plots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
