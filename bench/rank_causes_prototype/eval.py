#!/usr/bin/env python3
"""Evaluate rank_causes on incident folders: top-1/top-3, ablations, seed baseline."""
import glob, os, sys
from rank_causes import load_folder, rank_causes, seed_baseline

def answer(folder):
    with open(os.path.join(folder, "answer.csv")) as f:
        return f.read().strip().splitlines()[1].strip()

def rank_of(names, ans):
    return names.index(ans) + 1 if ans in names else None

VARIANTS = {
    "full": {},
    "no_graph": {"use_graph": False},
    "no_direction": {"use_direction": False},
    "no_volume": {"use_volume": False},
    "ref_before": {"reference": "before"},
}

def evaluate(folders, verbose=False):
    res = {k: [] for k in list(VARIANTS) + ["seed"]}
    for d in folders:
        rows, edges, target, base = load_folder(d)
        ans = answer(d)
        for k, kw in VARIANTS.items():
            out, info = rank_causes(rows, edges, target, baseline=base, **kw)
            r = rank_of([o["node"] for o in out], ans)
            res[k].append(r)
            if verbose and k == "full":
                top = [o["node"][:40] for o in out[:3]]
                print(f"{os.path.basename(d):28s} rank={r} window={info['window']} top3={top}")
        res["seed"].append(rank_of(seed_baseline(rows, target), ans))
    return res

def summary(res):
    n = len(next(iter(res.values())))
    lines = []
    for k, rs in res.items():
        t1 = sum(1 for r in rs if r == 1) / n
        t3 = sum(1 for r in rs if r is not None and r <= 3) / n
        lines.append(f"{k:14s} top1={t1:.2f} top3={t3:.2f}  ranks={rs}")
    return "\n".join(lines)

if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/petshop/train")
    folders = sorted(glob.glob(os.path.join(root, "*")))
    res = evaluate(folders, verbose=True)
    print(summary(res))
