#!/usr/bin/env python3
"""Times perfcorr's three saved ranking queries against DuckDB (+ scipy) as
whole processes, alternately (A B A B ...), with peak RSS from /usr/bin/time,
and checks that both give the same rankings and r to 1e-9.

    python3 bench/compare.py DATA_DIR [--runs 5] [--perfcorr target/release/perfcorr]
                             [--memory-limit 4G]

Run through bench/run.sh, which builds, generates the data and sets up a venv.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUERIES = ["rank_layers.sql", "rank_view_times.sql", "rank_view_throughputs.sql"]


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (stdout, wall seconds, peak RSS MB)."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    hours, minutes, seconds = wall.groups()
    seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return proc.stdout, seconds, rss_kb / 1024


def tables(csv_text):
    """Splits concatenated CSV results (one header per question) into row lists."""
    result, current = [], None
    for line in csv_text.strip().splitlines():
        fields = line.split(",")
        if fields[1:3] == ["r", "p"]:
            current = []
            result.append(current)
        else:
            current.append(fields)
    return result


def check_same(ours, theirs):
    a, b = tables(ours), tables(theirs)
    assert len(a) == len(b) == 3, (len(a), len(b))
    worst = 0.0
    for question, (rows_a, rows_b) in enumerate(zip(a, b)):
        assert [r[0] for r in rows_a] == [r[0] for r in rows_b], f"question {question + 1}: rankings differ"
        for ra, rb in zip(rows_a, rows_b):
            assert ra[3] == rb[3], f"n differs for {ra[0]}"
            if ra[1] and rb[1]:
                diff = abs(float(ra[1]) - float(rb[1]))
                worst = max(worst, diff)
                assert diff <= 1e-9, f"r differs for {ra[0]}: {ra[1]} vs {rb[1]}"
    return worst


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--perfcorr", default=os.path.join(ROOT, "target/release/perfcorr"))
    parser.add_argument("--memory-limit")
    args = parser.parse_args()
    ours = [args.perfcorr, "-q", "--format", "csv", "--data", args.data]
    if args.memory_limit:
        ours += ["--memory-limit", args.memory_limit]
    for query in QUERIES:
        ours += ["-f", os.path.join(ROOT, "queries", query)]
    theirs = [sys.executable, os.path.join(ROOT, "bench/duckdb_questions.py"), args.data]
    results = {"perfcorr": [], "duckdb": []}
    outputs = {}
    for run in range(args.runs):
        for name, cmd in (("perfcorr", ours), ("duckdb", theirs)):
            out, wall, rss = timed(cmd)
            outputs[name] = out
            results[name].append((wall, rss))
            print(f"run {run + 1} {name:8s} {wall:7.2f} s {rss:8.0f} MB", flush=True)
    worst = check_same(outputs["perfcorr"], outputs["duckdb"])
    print(f"same rankings and n; max |r difference| = {worst:.1e}")
    med = {name: statistics.median(w for w, _ in runs) for name, runs in results.items()}
    rss = {name: max(r for _, r in runs) for name, runs in results.items()}
    for name in results:
        print(f"{name:8s} median {med[name]:.2f} s, peak RSS {rss[name]:.0f} MB")
    print(f"ratio duckdb / perfcorr = {med['duckdb'] / med['perfcorr']:.2f}")


if __name__ == "__main__":
    main()
