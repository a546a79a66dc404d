#!/usr/bin/env python3
"""The comparison printed at the end of `./pagetorture bench`:

    bench_compare.py RUN_DIR

Reads RUN_DIR/{ours,glibc,jemalloc,tcmalloc}.json, prints the ratio table
(this allocator / each other allocator, per order, all measured in this
run), the scaling figures, the creation time and metadata per page, and the
targets of issue 6 as PASS/MISS lines.  Writes RUN_DIR/comparison.md and
RUN_DIR/targets.json for the report.  Exits 0 whatever the targets say: they
describe a machine, they are not a test.
"""

import json
import os
import sys

# No __pycache__ beside the sources of a checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchjson as bj  # noqa: E402


def table(headers, rows):
    widths = [max([len(str(h))] + [len(str(r[i])) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(lines)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    run_dir = sys.argv[1]
    suites = bj.load_run(run_dir)
    if "ours" not in suites:
        print(f"bench: no ours.json in {run_dir}", file=sys.stderr)
        return 1
    ours = suites["ours"]
    others = [o for o in bj.OTHERS if o in suites]
    reps = ours.repetitions()
    md = [f"# Benchmark comparison ({os.path.basename(os.path.abspath(run_dir))})", ""]
    method = (f"Best of {reps} repetition(s); CPU time per alloc+free for single-threaded runs, wall time for "
              "threaded ones; every column measured in this one run on this machine. Ratios below 1x mean this "
              "allocator was faster.")
    md += [method, ""]
    print()
    print("== alloc+free of one block of 2^order pages, aligned to its size ==")
    print(method)

    heads = ["order", "block", "ours"] + others + [f"ours/{o}" for o in others] + ["ours zone-lock"]
    rows = []
    for order, cells in bj.latency_table(suites):
        row = [order, bj.block_size(order), bj.fmt_ns(cells.get("ours"))]
        row += [bj.fmt_ns(cells.get(o)) for o in others]
        row += [bj.fmt_ratio(bj.ratio(cells.get("ours"), cells.get(o))) for o in others]
        row.append(bj.fmt_ns(cells.get("ours_zone_lock")))
        rows.append(row)
    print(table(heads, rows))
    md += ["## Alloc+free per order", "", md_table(heads, rows), ""]

    heads = ["threads", "ours (own CPU each)", "ours (one zone lock)"] + others
    for wall, what in ((True, "wall time / operations of all threads: inverse throughput"),
                       (False, "CPU time of all threads / operations: cost per operation")):
        rows = []
        for t, cells in bj.threads_table(suites, wall=wall):
            rows.append([t, bj.fmt_ns(cells.get("ours")), bj.fmt_ns(cells.get("ours_shared_zone"))] +
                        [bj.fmt_ns(cells.get(o)) for o in others])
        print()
        print(f"== order-0 alloc+free with 1, 2, 4 threads ({what}) ==")
        print(table(heads, rows))
        md += [f"## Threads (order 0; {what})", "", md_table(heads, rows), ""]

    print()
    print("== scaling with simulated memory (one node, metadata only) ==")
    mem = bj.memory_scaling(ours)
    heads = ["memory"] + [f"order {o}" for o in mem]
    sizes = sorted({m for pts in mem.values() for m, _ in pts})
    rows = []
    for mib in sizes:
        row = [f"{mib} MiB" if mib < 1024 else f"{mib // 1024} GiB"]
        for o, pts in mem.items():
            row.append(bj.fmt_ns(dict(pts).get(mib)))
        rows.append(row)
    print(table(heads, rows))
    md += ["## Scaling with simulated memory", "", md_table(heads, rows), ""]

    nodes = bj.node_scaling(ours)
    heads = ["nodes (1 GiB each)"] + [f"order {o}" for o in nodes]
    counts = sorted({n for pts in nodes.values() for n, _ in pts})
    rows = [[n] + [bj.fmt_ns(dict(pts).get(n)) for pts in nodes.values()] for n in counts]
    print()
    print("== scaling with nodes ==")
    print(table(heads, rows))
    md += ["## Scaling with nodes", "", md_table(heads, rows), ""]

    heads = ["memory", "create (best)", "per GiB", "metadata B/page", "resident B/page"]
    rows = []
    for mib, ms, bpp, rss, ms_gib in bj.creation(ours):
        rows.append([f"{mib} MiB" if mib < 1024 else f"{mib // 1024} GiB", f"{ms:.2f} ms", f"{ms_gib:.2f} ms",
                     "n/a" if bpp is None else f"{bpp:.1f}", "n/a" if rss is None else f"{rss:.1f}"])
    print()
    print("== creating the allocator ==")
    print(table(heads, rows))
    md += ["## Creating the allocator", "", md_table(heads, rows), ""]

    if ours.errors:
        print()
        print("== benchmarks that reported an error ==")
        for name, msg in sorted(ours.errors.items()):
            print(f"  {name}: {msg}")
        md += ["## Errors", ""] + [f"- `{n}`: {m}" for n, m in sorted(ours.errors.items())] + [""]

    warning = bj.load_warning(run_dir)
    if warning:
        print()
        print("note: " + warning)
        md += ["Note: " + warning, ""]

    ts = bj.targets(suites)
    print()
    print("== targets of issue 6 (this run) ==")
    lines = [bj.target_line(t) for t in ts]
    for line in lines:
        print(line)
    passed = sum(1 for t in ts if t["ok"] is True)
    missed = sum(1 for t in ts if t["ok"] is False)
    skipped = sum(1 for t in ts if t["ok"] is None)
    print(f"targets: {passed} PASS, {missed} MISS, {skipped} SKIP")
    md += ["## Targets", "", "```"] + lines + [f"targets: {passed} PASS, {missed} MISS, {skipped} SKIP", "```", ""]

    with open(os.path.join(run_dir, "comparison.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    with open(os.path.join(run_dir, "targets.json"), "w", encoding="utf-8") as f:
        json.dump({"method": method, "repetitions": reps, "targets": ts}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
