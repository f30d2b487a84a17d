#!/usr/bin/env python3
"""Prints the criterion results of the hashring benches as markdown tables
(mean per iteration), for docs/benchmarks.md.

Run after `cargo bench -p synod-hashring-bench`:
    python3 crates/hashring/benches/report.py [target-dir]
"""
import json
import pathlib
import sys

target = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target")
root = target / "criterion"


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


for kind in ("lookup", "build"):
    rows = {}
    sizes = set()
    for est in sorted(root.glob(f"{kind}_*/*/*/new/estimates.json")):
        size = int(est.parts[-5].split("_")[1])
        bench = json.loads((est.parent / "benchmark.json").read_text())
        name = bench["function_id"]
        mean = json.loads(est.read_text())["mean"]["point_estimate"]
        rows.setdefault(name, {})[size] = mean
        sizes.add(size)
    sizes = sorted(sizes)
    print(f"\n### {kind}\n")
    print("| | " + " | ".join(f"{s} nodes" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name, by_size in rows.items():
        print(f"| {name} | " + " | ".join(fmt(by_size[s]) if s in by_size else "" for s in sizes) + " |")
