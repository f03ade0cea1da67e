#!/usr/bin/env python3
"""The three saved questions on a local perfcorr cluster (one scheduler and
N executor processes on this machine, `perfcorr cluster ...`) against one
process (`perfcorr` alone, fused operator), alternated, whole processes,
medians of wall time; answers checked equal (rankings, n, r to 1e-9). Then
each question once more alone on the cluster, and the bytes each of its
stages wrote as shuffle files (read from the executors' work folders).

    python3 bench/cluster.py DATA_DIR [DATA_DIR ...] [--runs 5] [--executors 2] [--concurrency 1]
        [--executor-memory 8G]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import QUERIES, ROOT, check_same, timed  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Cluster:
    def __init__(self, binary, executors, concurrency, memory=None):
        self.root = tempfile.mkdtemp(prefix="perfcorr-bench-cluster-")
        port = free_port()
        self.url = f"df://127.0.0.1:{port}"
        quiet = subprocess.DEVNULL
        self.processes = [subprocess.Popen([binary, "cluster", "scheduler", "--port", str(port)], stdout=quiet, stderr=quiet)]
        wait_for(port)
        self.work_dirs = []
        for k in range(executors):
            flight, grpc = free_port(), free_port()
            work = os.path.join(self.root, f"work{k}")
            self.work_dirs.append(work)
            self.processes.append(subprocess.Popen(
                [binary, "cluster", "executor", "--scheduler", self.url, "--port", str(flight), "--grpc-port", str(grpc),
                 "--concurrency", str(concurrency), "--work-dir", work, *(["--memory-limit", memory] if memory else [])],
                stdout=quiet, stderr=quiet))
            wait_for(flight)
        time.sleep(1)  # executors register with the scheduler

    def stage_bytes(self):
        """{(job, stage): bytes} of the shuffle files now in the work folders."""
        sizes = {}
        for work in self.work_dirs:
            for job in os.listdir(work) if os.path.isdir(work) else []:
                for stage in os.listdir(os.path.join(work, job)):
                    total = 0
                    for folder, _, files in os.walk(os.path.join(work, job, stage)):
                        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
                    sizes[(job, stage)] = sizes.get((job, stage), 0) + total
        return sizes

    def clear(self):
        for work in self.work_dirs:
            for entry in os.listdir(work) if os.path.isdir(work) else []:
                shutil.rmtree(os.path.join(work, entry), ignore_errors=True)

    def stop(self):
        rss = [peak_rss_mb(p.pid) for p in self.processes]
        for p in self.processes:
            p.kill()
            p.wait()
        shutil.rmtree(self.root, ignore_errors=True)
        return rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--executor-memory", help="each executor's --memory-limit, e.g. 8G")
    parser.add_argument("--perfcorr", default=os.path.join(ROOT, "target/release/perfcorr"))
    args = parser.parse_args()
    files = [a for q in QUERIES for a in ("-f", os.path.join(ROOT, "queries", q))]
    print(f"| data | one process | cluster (1 scheduler + {args.executors} executors × {args.concurrency}) | cluster / one | "
          "peak RSS client / scheduler / executors |")
    print("|---|---|---|---|---|")
    shuffles = []
    for data in args.data:
        cluster = Cluster(args.perfcorr, args.executors, args.concurrency, args.executor_memory)
        single_cmd = [args.perfcorr, "-q", "--format", "csv", "--data", data, *files]
        cluster_cmd = [args.perfcorr, "--cluster", cluster.url, "-q", "--format", "csv", "--data", data, *files]
        times = {"single": [], "cluster": []}
        client_rss = []
        outputs = {}
        for _ in range(args.runs):
            for label, cmd in (("single", single_cmd), ("cluster", cluster_cmd)):
                out, wall, rss = timed(cmd)
                times[label].append(wall)
                outputs[label] = out
                if label == "cluster":
                    client_rss.append(rss)
            cluster.clear()
        worst = check_same(outputs["cluster"], outputs["single"])
        for query in QUERIES:
            cluster.clear()
            timed([args.perfcorr, "--cluster", cluster.url, "-q", "--format", "csv", "--data", data,
                   "-f", os.path.join(ROOT, "queries", query)])
            stages = sorted(cluster.stage_bytes().items(), key=lambda item: int(item[0][1]))
            shuffles.append((os.path.basename(data.rstrip("/")), query, [b for _, b in stages]))
        rss = cluster.stop()
        s, c = statistics.median(times["single"]), statistics.median(times["cluster"])
        executors = " + ".join(f"{r:.0f}" for r in rss[1:])
        print(f"| {os.path.basename(data.rstrip('/'))} | {s:.2f} s | {c:.2f} s | {c / s:.1f}× | "
              f"{statistics.median(client_rss):.0f} / {rss[0]:.0f} / {executors} MB |  (r max diff {worst:.1e})", flush=True)
    print()
    print("| data | question | shuffle bytes written per stage |")
    print("|---|---|---|")
    for data, query, stages in shuffles:
        print(f"| {data} | {query} | {', '.join(f'{b / 1e6:.1f} MB' for b in stages)} |")


if __name__ == "__main__":
    main()
