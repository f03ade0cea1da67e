#!/usr/bin/env python3
"""Top-1/top-3 of `rank_causes` on incident folders, with the ablations, and
a cross-check against the Python prototype's ranking.

    python3 bench/rank_causes_eval.py [PERFCORR] [ROOT] [PROTOTYPE_DIR]

PERFCORR defaults to target/release/perfcorr, ROOT to ../shared/petshop/train,
PROTOTYPE_DIR to bench/rank_causes_prototype (skipped when missing). The full
variant runs queries/rank_causes.sql exactly as measured:
`perfcorr -q --data DIR --format csv -f queries/rank_causes.sql`.
"""
import csv, glob, io, os, re, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PERFCORR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "target/release/perfcorr")
ROOT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, "../shared/petshop/train")
PROTO = sys.argv[3] if len(sys.argv) > 3 else "bench/rank_causes_prototype"
VARIANTS = {"full": None, "no_graph": "'no_graph'", "no_direction": "'no_direction'",
            "no_volume": "'no_volume'", "ref_before": "'reference=before'"}
PROTO_KW = {"full": {}, "no_graph": {"use_graph": False}, "no_direction": {"use_direction": False},
            "no_volume": {"use_volume": False}, "ref_before": {"reference": "before"}}


def run(folder, option):
    if option is None:
        args = ["-f", os.path.join(REPO, "queries/rank_causes.sql")]
    else:
        args = ["-c", f"SELECT node, score FROM rank_causes('metrics', 'graph', 'target', {option}) ORDER BY rank"]
    start = time.perf_counter()
    out = subprocess.run([PERFCORR, "-q", "--data", folder, "--format", "csv", *args],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    return [r["node"] for r in rows], [float(r["score"]) for r in rows], time.perf_counter() - start


def query_seconds(folder):
    """The query's own time (reading the tables + ranking), from `\\timing`."""
    out = subprocess.run([PERFCORR, "--data", folder, "--format", "csv", "-c", "\\timing on",
                          "-f", os.path.join(REPO, "queries/rank_causes.sql")],
                         check=True, capture_output=True, text=True)
    return float(re.findall(r"row\(s\) in ([0-9.]+) s", out.stdout + out.stderr)[-1])


def main():
    folders = sorted(glob.glob(os.path.join(ROOT, "*")))
    proto = None
    if os.path.isdir(PROTO):
        sys.path.insert(0, PROTO)
        import rank_causes as proto
    ranks = {k: [] for k in VARIANTS}
    times, query_times, mismatches, worst = [], [], [], 0.0
    for d in folders:
        with open(os.path.join(d, "answer.csv")) as f:
            answer = list(csv.DictReader(f))[0]["root_cause_node"]
        for name, option in VARIANTS.items():
            nodes, scores, seconds = run(d, option)
            if name == "full":
                times.append(seconds)
                query_times.append(query_seconds(d))
            ranks[name].append(nodes.index(answer) + 1 if answer in nodes else None)
            if proto is not None:
                rows, edges, target, base = proto.load_folder(d)
                out = proto.rank_causes(rows, edges, target, baseline=base, **PROTO_KW[name])[0]
                expected = [o["node"] for o in out]
                for a, b in zip(scores, (o["score"] for o in out)):
                    worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
                if expected != nodes:
                    mismatches.append((os.path.basename(d), name, nodes[:5], expected[:5]))
    n = len(folders)
    print(f"{n} incidents in {ROOT}")
    for name, rs in ranks.items():
        top1 = sum(r == 1 for r in rs) / n
        top3 = sum(r is not None and r <= 3 for r in rs) / n
        print(f"{name:13s} top1={top1:.2f} top3={top3:.2f} ranks={rs}")
    times.sort()
    query_times.sort()
    print(f"per incident, the query (tables read + ranking): median {1000 * query_times[n // 2]:.0f} ms, "
          f"max {1000 * query_times[-1]:.0f} ms; whole process (start, CSV loading, query): "
          f"median {1000 * times[n // 2]:.1f} ms, max {1000 * times[-1]:.1f} ms")
    if proto is not None:
        print(f"rankings differing from the prototype: {len(mismatches)} of {n * len(VARIANTS)}; "
              f"largest relative score difference {worst:.1e}")
        for m in mismatches:
            print("  ", *m)


if __name__ == "__main__":
    main()
