#!/usr/bin/env python3
"""Times two perfcorr binaries on the same queries, alternately (A B A B ...),
as whole processes: medians of wall time and peak RSS. For before/after
figures of one change (BENCHMARKS.md).

    python3 bench/ab.py DATA_DIR BEFORE_BINARY AFTER_BINARY [--runs 5]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import QUERIES, ROOT, timed  # noqa: E402

WINDOW = ("WITH a AS (SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d FROM app "
          "WHERE ts >= TIMESTAMP '2026-11-23 00:00:00'), "
          "v AS (SELECT view, ts, diff(response_ms) OVER (PARTITION BY view ORDER BY ts) AS d FROM views "
          "WHERE ts >= TIMESTAMP '2026-11-23 00:00:00') "
          "SELECT view, pearson_r(v.d, a.d) AS r FROM v JOIN a USING (ts) GROUP BY view ORDER BY r DESC LIMIT 5")
SHAPES = {
    "three saved questions": [a for q in QUERIES for a in ("-f", os.path.join(ROOT, "queries", q))],
    "time window before diff": ["-c", WINDOW],
    "count(*) FROM views": ["-c", "SELECT count(*) FROM views"],
    "max(response_ms) FROM views": ["-c", "SELECT max(response_ms) FROM views"],
    "SELECT * FROM rank_correlations(...)": [
        "-c", "SELECT * FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms')"],
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| query | before | after | after / before | peak RSS before / after |")
    print("|---|---|---|---|---|")
    for name, query in SHAPES.items():
        times = {"before": [], "after": []}
        rss = {"before": [], "after": []}
        outputs = {}
        for _ in range(args.runs):
            for label in ("before", "after"):
                binary = getattr(args, label)
                out, wall, peak = timed([binary, "-q", "--format", "csv", "--data", args.data, *query])
                times[label].append(wall)
                rss[label].append(peak)
                outputs[label] = out
        if outputs["before"] != outputs["after"]:
            print(f"note: {name}: outputs differ", file=sys.stderr)
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"| {name} | {b:.3f} s | {a:.3f} s | {a / b:.2f} | "
              f"{statistics.median(rss['before']):.0f} MB / {statistics.median(rss['after']):.0f} MB |")


if __name__ == "__main__":
    main()
