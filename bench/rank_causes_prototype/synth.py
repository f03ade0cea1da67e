#!/usr/bin/env python3
"""Synthetic robustness checks for rank_causes.

A. hand-made graphs with generated metrics (many random seeds each)
B. perturbations of the real PetShop incidents that move the fault elsewhere
Prints the top-1 rate per check for the full method and each ablation.
"""
import glob
import math
import os
import random
import sys
from collections import defaultdict

from rank_causes import load_folder, rank_causes, median

T = 6
INC = (3, 4)           # incident steps (grid indices, inclusive)
STATS = [("latency", "Average", 1.0), ("latency", "p50", 0.7), ("latency", "p90", 1.8),
         ("latency", "p95", 2.5), ("latency", "p99", 4.0)]
GRID = [f"2024-01-01T00:{5 * i:02d}:00Z" for i in range(T)]
VARIANTS = {"full": {}, "no_graph": {"use_graph": False}, "no_direction": {"use_direction": False},
            "no_volume": {"use_volume": False}}


def gen(nodes, edges, faults, rng, target="F", avail_noise=False):
    """nodes: {name: (base_latency_s, requests_per_step)}; faults: list of
    (node, kind, size, steps) with kind in lat_mult (latency x(1+size)), err (pp drop),
    lat_better (latency x(1-size)). Latency increments propagate to all callers
    (full share), error drops propagate at half size per hop."""
    callers = defaultdict(list)
    for u, v in edges:
        callers[v].append(u)
    add_lat = defaultdict(lambda: [0.0] * T)
    drop = defaultdict(lambda: [0.0] * T)
    mult = defaultdict(lambda: [1.0] * T)
    for node, kind, size, steps in faults:
        for t in steps:
            if kind == "lat_mult":
                inc = nodes[node][0] * size
                mult[node][t] *= 1 + size
            elif kind == "lat_better":
                mult[node][t] *= 1 - size
                continue
            elif kind == "err":
                inc = 0.0
                drop[node][t] += size
            # propagate along callers (BFS, visited -> cycles terminate)
            seen = {node}
            frontier = [(node, 1.0)]
            while frontier:
                nxt = []
                for n, share in frontier:
                    for c in callers[n]:
                        if c in seen:
                            continue
                        seen.add(c)
                        add_lat[c][t] += inc * share
                        if kind == "err":
                            drop[c][t] += size * share * 0.5
                        nxt.append((c, share if kind != "err" else share * 0.5))
                frontier = nxt
    rows = []
    for n, (lat, req) in nodes.items():
        for t in range(T):
            ts = GRID[t]
            for metric, stat, k in STATS:
                v = lat * k * mult[n][t] * (1 + rng.gauss(0, 0.04 if stat == "Average" else 0.08)) \
                    + add_lat[n][t] * (k if stat != "p50" else 0.3)
                rows.append((ts, n, metric, stat, max(v, 1e-6)))
            a = 100.0 - drop[n][t]
            if avail_noise:
                a -= abs(rng.gauss(0, 0.05))
            rows.append((ts, n, "availability", "Average", max(min(a, 100.0), 0.0)))
            rows.append((ts, n, "requests", "Sum", max(0.0, round(req * (1 + rng.gauss(0, 0.03))))))
    return rows


def top(out):
    return out[0]["node"] if out else None


def scen_chain(rng):
    nodes = {"F": (0.1, 1000), "A": (0.05, 800), "B": (0.03, 600), "C": (0.01, 500)}
    edges = [("F", "A"), ("A", "B"), ("B", "C")]
    return gen(nodes, edges, [("C", "lat_mult", 3.0, INC)], rng), edges, ("F", "latency", "Average"), "C"


def scen_fanout(rng):
    nodes = {"F": (0.1, 1000), "A": (0.02, 300), "B": (0.05, 700), "C": (0.02, 200),
             "D": (0.01, 400), "E": (0.01, 400)}
    edges = [("F", "A"), ("F", "B"), ("F", "C"), ("B", "D"), ("B", "E")]
    return gen(nodes, edges, [("D", "lat_mult", 3.0, INC)], rng), edges, ("F", "latency", "Average"), "D"


def scen_mirror(rng):
    # X is a client record of S (exactly one callee); it sees S's delay plus its own
    # amplified relative change because its own base latency is smaller
    nodes = {"F": (0.1, 1000), "X": (0.002, 1000), "S": (0.02, 1000), "A": (0.02, 500)}
    edges = [("F", "X"), ("X", "S"), ("F", "A")]
    return gen(nodes, edges, [("S", "lat_mult", 1.5, INC)], rng), edges, ("F", "latency", "Average"), "S"


def scen_mirror_subthreshold(rng):
    # the callee's own change is small (sub-threshold) while the client record is loud
    nodes = {"F": (0.01, 1000), "X": (0.001, 1000), "S": (0.05, 1000), "A": (0.002, 500)}
    edges = [("F", "X"), ("X", "S"), ("F", "A")]
    return gen(nodes, edges, [("S", "lat_mult", 0.2, INC)], rng), edges, ("F", "latency", "Average"), "S"


def scen_improved(rng):
    nodes = {"F": (0.1, 1000), "A": (0.02, 500), "B": (0.03, 500)}
    edges = [("F", "A"), ("F", "B")]
    faults = [("A", "lat_mult", 2.0, INC), ("B", "lat_better", 0.8, INC)]
    return gen(nodes, edges, faults, rng), edges, ("F", "latency", "Average"), "A"


def scen_constant_ref(rng):
    # availability exactly 100 before; errors in a leaf; must give finite, untied scores
    nodes = {"F": (0.1, 1000), "A": (0.02, 800), "B": (0.03, 800), "C": (0.02, 300)}
    edges = [("F", "A"), ("F", "B"), ("B", "C")]
    return gen(nodes, edges, [("C", "err", 10.0, INC)], rng), edges, ("F", "availability", "Average"), "C"


def scen_cycle(rng):
    nodes = {"F": (0.1, 1000), "A": (0.05, 800), "B": (0.01, 600)}
    edges = [("F", "A"), ("A", "B"), ("B", "A")]
    return gen(nodes, edges, [("B", "lat_mult", 3.0, INC)], rng), edges, ("F", "latency", "Average"), "B"


def scen_no_anomaly(rng):
    nodes = {"F": (0.1, 1000), "A": (0.02, 800), "B": (0.03, 800)}
    edges = [("F", "A"), ("F", "B")]
    return gen(nodes, edges, [], rng), edges, ("F", "latency", "Average"), None


def scen_volume(rng):
    # same relative change on 3 requests/step (L) and 3000 requests/step (H)
    nodes = {"F": (0.1, 3000), "L": (0.02, 3), "H": (0.02, 3000)}
    edges = [("F", "L"), ("F", "H")]
    faults = [("L", "lat_mult", 1.0, INC), ("H", "lat_mult", 1.0, INC)]
    return gen(nodes, edges, faults, rng), edges, ("F", "latency", "Average"), "H"


def scen_lowvol_noise(rng):
    # real fault in a mid-volume service; a 4-request service with a random p99 spike
    nodes = {"F": (0.1, 1000), "A": (0.02, 200), "N": (0.02, 4)}
    edges = [("F", "A"), ("F", "N")]
    rows = gen(nodes, edges, [("A", "lat_mult", 1.0, INC)], rng)
    rows = [(ts, n, m, s, v * (8 if n == "N" and s in ("p99", "p95") and ts == GRID[INC[0]] else 1))
            for ts, n, m, s, v in rows]
    return rows, edges, ("F", "latency", "Average"), "A"


def scen_target_is_cause(rng):
    nodes = {"F": (0.1, 1000), "A": (0.02, 800), "B": (0.03, 800)}
    edges = [("F", "A"), ("F", "B")]
    return gen(nodes, edges, [("F", "lat_mult", 1.0, INC)], rng), edges, ("F", "latency", "Average"), "F"


def scen_deep_errors(rng):
    nodes = {"F": (0.1, 1000), "A": (0.05, 800), "B": (0.03, 600), "C": (0.01, 500), "D": (0.02, 300)}
    edges = [("F", "A"), ("A", "B"), ("B", "C"), ("F", "D")]
    return gen(nodes, edges, [("C", "err", 6.0, INC)], rng, avail_noise=True), edges, \
        ("F", "availability", "Average"), "C"


def scen_unreachable(rng):
    # a louder anomaly in a node the symptom does not call must not be named
    nodes = {"F": (0.1, 1000), "A": (0.02, 800), "Z": (0.02, 3000)}
    edges = [("F", "A")]
    faults = [("A", "lat_mult", 1.0, INC), ("Z", "lat_mult", 5.0, INC)]
    return gen(nodes, edges, faults, rng), edges, ("F", "latency", "Average"), "A"


SCENARIOS = [scen_chain, scen_fanout, scen_mirror, scen_mirror_subthreshold, scen_improved,
             scen_constant_ref, scen_cycle, scen_no_anomaly, scen_volume, scen_lowvol_noise,
             scen_target_is_cause, scen_deep_errors, scen_unreachable]


def run_handmade(seeds=20):
    print(f"A. hand-made graphs ({seeds} seeds each): fraction with the expected top-1 "
          "(no_anomaly: fraction with no rows)")
    print(f"{'scenario':26s}" + "".join(f"{k:>13s}" for k in VARIANTS))
    tot = defaultdict(int)
    for sc in SCENARIOS:
        hits = defaultdict(int)
        for seed in range(seeds):
            rng = random.Random(seed)
            rows, edges, target, expect = sc(rng)
            for k, kw in VARIANTS.items():
                out, info = rank_causes(rows, edges, target, **kw)
                for o in out:
                    assert math.isfinite(o["score"])
                ok = (not out) if expect is None else (top(out) == expect)
                hits[k] += ok
        for k in VARIANTS:
            tot[k] += hits[k]
        print(f"{sc.__name__[5:]:26s}" + "".join(f"{hits[k] / seeds:13.2f}" for k in VARIANTS))
    n = seeds * len(SCENARIOS)
    print(f"{'ALL':26s}" + "".join(f"{tot[k] / n:13.2f}" for k in VARIANTS))


# ---------------------------------------------------------------- perturbations of real incidents
def to_series(rows):
    grid = sorted({r[0] for r in rows})
    pos = {t: i for i, t in enumerate(grid)}
    s = defaultdict(lambda: [None] * len(grid))
    for ts, n, m, st, v in rows:
        s[(n, m, st)][pos[ts]] = v
    return grid, dict(s)


def to_rows(grid, s):
    return [(grid[i], k[0], k[1], k[2], v) for k, vals in s.items() for i, v in enumerate(vals)
            if v is not None]


def reach(edges, src):
    adj = defaultdict(list)
    for u, v in edges:
        adj[u].append(v)
    seen, st = {src}, [src]
    while st:
        u = st.pop()
        for v in adj[u]:
            if v not in seen:
                seen.add(v)
                st.append(v)
    return seen


def heal(s, node, inc, ref):
    """Replace the incident steps of every series of node with reference values."""
    for k in list(s):
        if k[0] != node:
            continue
        vals = s[k]
        rv = [vals[i] for i in ref if vals[i] is not None]
        if not rv:
            continue
        for j, i in enumerate(inc):
            if vals[i] is not None:
                vals[i] = rv[j % len(rv)]


def anomaly_pattern(s, node, inc, ref):
    """Per (metric, stat): per incident step, relative latency factor or availability drop."""
    pat = {}
    for k, vals in s.items():
        if k[0] != node or k[1] not in ("latency", "availability"):
            continue
        rv = [vals[i] for i in ref if vals[i] is not None]
        if not rv:
            continue
        c = median(rv)
        steps = {}
        for i in inc:
            if vals[i] is None:
                continue
            if k[1] == "latency":
                steps[i] = (vals[i] - c, vals[i] / c if c > 0 else 1.0)
            else:
                steps[i] = (vals[i] - c, None)
        pat[k[1], k[2]] = steps
    return pat


def inject(s, node, pat, grid_len):
    for (m, st), steps in pat.items():
        k = (node, m, st)
        if k not in s:
            continue
        for i, (delta, ratio) in steps.items():
            if s[k][i] is None:
                continue
            if m == "latency":
                s[k][i] = s[k][i] * ratio
            else:
                s[k][i] = max(0.0, s[k][i] + delta)


def propagate_ratio(s, node, edges, tnode, pat_abs, vol):
    """Realistic propagation: a caller's Average latency rises by the callee's increase
    times calls per caller request (volume ratio, capped at 1 per hop); its percentiles
    by the same amount; availability drops likewise. Includes the symptom node."""
    callers = defaultdict(list)
    for u, v in edges:
        callers[v].append(u)
    r = reach(edges, tnode)
    seen, st = {node: 1.0}, [node]
    while st:
        u = st.pop()
        for c in callers[u]:
            if c in seen or c not in r:
                continue
            share = seen[u] * min(1.0, vol.get(u, 0) / max(vol.get(c, 0), 1.0))
            seen[c] = share
            st.append(c)
            for (m, stt), steps in pat_abs.items():
                k = (c, m, stt)
                if k not in s:
                    continue
                for i, d in steps.items():
                    if s[k][i] is not None:
                        s[k][i] = max(0.0, s[k][i] + d * share)


def propagate(s, node, edges, tnode, pat_abs, share=1.0):
    """Add the injected node's absolute latency increase (and availability drop) to
    all of its transitive callers that the symptom reaches (not the symptom itself,
    which already shows the incident)."""
    callers = defaultdict(list)
    for u, v in edges:
        callers[v].append(u)
    r = reach(edges, tnode)
    seen, st = {node}, [node]
    while st:
        u = st.pop()
        for c in callers[u]:
            if c in seen:
                continue
            seen.add(c)
            st.append(c)
            if c == tnode or c not in r:
                continue
            for (m, stt), steps in pat_abs.items():
                k = (c, m, stt)
                if k not in s:
                    continue
                for i, d in steps.items():
                    if s[k][i] is not None:
                        s[k][i] = max(0.0, s[k][i] + d * share)


def run_perturbations(root=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/petshop/train"), max_moves=6):
    folders = sorted(glob.glob(os.path.join(root, "*")))
    res = defaultdict(lambda: defaultdict(list))
    for d in folders:
        rows, edges, target, _ = load_folder(d)
        ans = open(os.path.join(d, "answer.csv")).read().split()[1].strip()
        out, info = rank_causes(rows, edges, target)
        if info["window"] is None:
            continue
        grid, s = to_series(rows)
        a, b = grid.index(info["window"][0]), grid.index(info["window"][1])
        inc = list(range(a, b + 1))
        ref = [i for i in range(len(grid)) if i not in inc]
        tnode = target[0]
        # anomalous nodes of the original (except the symptom) are healed before moving
        out_all, _ = rank_causes(rows, edges, target, include_all=True, use_graph=False)
        loud = [o["node"] for o in out_all if o["harm"] >= 2.0 and o["node"] != tnode]
        pat = anomaly_pattern(s, ans, inc, ref)
        pat_abs = {k: {i: dv[0] for i, dv in v.items()} for k, v in pat.items()}
        reachable = reach(edges, tnode)
        vol = {k[0]: median([x for x in v if x is not None] or [0]) for k, v in s.items()
               if k[1] == "requests"}
        # P1: move the fault to other reachable services with real traffic
        cands = sorted(n for n in reachable if n not in (tnode, ans) and vol.get(n, 0) >= 20
                       and (n, "latency", "Average") in s)
        random.Random(d).shuffle(cands)
        for y in cands[:max_moves]:
            s2 = {k: list(v) for k, v in s.items()}
            for n in loud:
                heal(s2, n, inc, ref)
            inject(s2, y, pat, len(grid))
            propagate(s2, y, edges, tnode, pat_abs)
            rr = to_rows(grid, s2)
            for k, kw in VARIANTS.items():
                o, _ = rank_causes(rr, edges, target, window=(a, b), **kw)
                names = [x["node"] for x in o]
                res["P1 move fault (keep symptom)"][k].append(names.index(y) + 1 if y in names else None)
            # realistic variant: symptom healed too, propagation scaled by calls per request
            s2 = {k: list(v) for k, v in s.items()}
            for n in loud + [tnode]:
                heal(s2, n, inc, ref)
            inject(s2, y, pat, len(grid))
            propagate_ratio(s2, y, edges, tnode, pat_abs, vol)
            rr = to_rows(grid, s2)
            o, inf = rank_causes(rr, edges, target, window=(a, b))
            if inf["status"] != "ok":
                res["P1r skipped: symptom too weak"]["full"].append(None)
                continue
            for k, kw in VARIANTS.items():
                o, _ = rank_causes(rr, edges, target, window=(a, b), **kw)
                names = [x["node"] for x in o]
                res["P1r move fault (ratio)"][k].append(names.index(y) + 1 if y in names else None)
        # P2: push the real cause deeper: symptom -> M1 -> M2 -> cause; M1, M2 copy a
        # normal service and carry the cause's absolute increase
        normal = [n for n in cands if n not in loud]
        if normal:
            s2 = {k: list(v) for k, v in s.items()}
            base = normal[0]
            e2 = [(u, v) for u, v in edges if not (u == tnode and v == ans)]
            e2 += [(tnode, "M1"), ("M1", "M2"), ("M2", ans)]
            for m in ("M1", "M2"):
                for k in [k for k in s if k[0] == base]:
                    s2[(m, k[1], k[2])] = list(s[k])
            propagate(s2, ans, e2, tnode, pat_abs)
            rr = to_rows(grid, s2)
            for k, kw in VARIANTS.items():
                o, _ = rank_causes(rr, e2, target, window=(a, b), **kw)
                names = [x["node"] for x in o]
                res["P2 cause 2 hops deeper"][k].append(names.index(ans) + 1 if ans in names else None)
        # P3: the symptom node itself is the cause: heal every other anomalous node
        s2 = {k: list(v) for k, v in s.items()}
        for n in loud:
            heal(s2, n, inc, ref)
        rr = to_rows(grid, s2)
        for k, kw in VARIANTS.items():
            o, _ = rank_causes(rr, edges, target, window=(a, b), **kw)
            names = [x["node"] for x in o]
            res["P3 symptom is cause"][k].append(names.index(tnode) + 1 if tnode in names else None)
        # P4: mirror client: add a client node C -> cause that the symptom calls instead
        s2 = {k: list(v) for k, v in s.items()}
        e2 = [(u, v) for u, v in edges if not (u == tnode and v == ans)] + [(tnode, "C"), ("C", ans)]
        for k in [k for k in s if k[0] == ans]:
            vals = s[k]
            if k[1] == "latency":  # client sees the callee's latency plus a tiny overhead
                s2[("C", k[1], k[2])] = [None if v is None else v * 1.05 + 0.001 for v in vals]
            else:
                s2[("C", k[1], k[2])] = list(vals)
        rr = to_rows(grid, s2)
        for k, kw in VARIANTS.items():
            o, _ = rank_causes(rr, e2, target, window=(a, b), **kw)
            names = [x["node"] for x in o]
            res["P4 mirror client added"][k].append(names.index(ans) + 1 if ans in names else None)
    print("\nB. perturbations of the real incidents (top-1 / top-3 of the moved cause)")
    print(f"{'perturbation':32s}{'n':>5s}" + "".join(f"{k:>16s}" for k in VARIANTS))
    for p, byv in res.items():
        n = len(byv["full"])
        cells = []
        if p.startswith("P1r skipped"):
            print(f"{p:32s}{n:5d}")
            continue
        for k in VARIANTS:
            rs = byv[k]
            t1 = sum(r == 1 for r in rs) / n
            t3 = sum(r is not None and r <= 3 for r in rs) / n
            cells.append(f"{t1:.2f}/{t3:.2f}")
        print(f"{p:32s}{n:5d}" + "".join(f"{c:>16s}" for c in cells))
    return res


if __name__ == "__main__":
    run_handmade(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    run_perturbations()
