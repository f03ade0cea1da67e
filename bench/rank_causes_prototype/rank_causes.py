#!/usr/bin/env python3
"""rank_causes prototype: rank root-cause candidates for one incident folder.

Folder layout: metrics.csv (ts,node,metric,stat,value), graph.csv (caller,callee),
target.csv (node,metric,stat); optional baseline.csv (same columns as metrics.csv).

Pure arithmetic / sorting / BFS so it ports 1:1 to a DataFusion table function.
See SPEC.md for the exact algorithm and the reasons behind every constant.
"""
import csv
import math
import sys
from collections import defaultdict, deque

# ---------------------------------------------------------------- constants
# per metric: direction (+1 up is worse, -1 down is worse, 0 none) and spread floors
DEFAULT_METRICS = {
    "latency":      {"dir": +1, "kind": "level", "rel_floor": 0.05, "abs_floor": 1e-6},
    "availability": {"dir": -1, "kind": "percent", "rel_floor": 0.0, "abs_floor": 0.1},
    "errors":       {"dir": +1, "kind": "level", "rel_floor": 0.05, "abs_floor": 1e-9},
    "requests":     {"dir": 0, "kind": "count", "rel_floor": 0.05, "abs_floor": 1.0},
}
FALLBACK_METRIC = {"dir": 0, "kind": "level", "rel_floor": 0.05, "abs_floor": 1e-9}
VOLUME_METRIC, VOLUME_STAT = "requests", "Sum"
Z_ANOM = 3.0          # |harm| in reference spreads that counts as anomalous
Z_WIN = 2.0           # target steps at least this abnormal form the incident window
Z_CAP = 100.0         # cap on harm so a floor-limited spread cannot dominate
VOL_OFFSET = 10.0     # w = log10(VOL_OFFSET + N): N=0 -> 1, 3 -> 1.11, 3000 -> 3.48
G_MIN = 0.05          # graph factor of a fully explained node (kept, ranked low)
MIRROR_R = 0.8        # Pearson r above which a single-callee node mirrors its callee
MIRROR_MIN_HARM = 1.0  # ... provided the callee moved the same way by >= 1 spread
MAD_K = 1.4826


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return float("nan")
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def pearson(a, b):
    pts = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if len(pts) < 3:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    syy = sum((p[1] - my) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    if sxx <= 0 or syy <= 0:
        return None
    return sxy / math.sqrt(sxx * syy)


# ---------------------------------------------------------------- loading
def load_rows(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                v = float(r["value"])
            except (TypeError, ValueError):
                continue
            if math.isnan(v):
                continue
            rows.append((r["ts"], r["node"], r["metric"], r["stat"], v))
    return rows


def load_folder(folder):
    import os
    rows = load_rows(os.path.join(folder, "metrics.csv"))
    edges = []
    gp = os.path.join(folder, "graph.csv")
    if os.path.exists(gp):
        with open(gp, newline="") as f:
            for r in csv.DictReader(f):
                if r.get("caller") and r.get("callee") and r["caller"] != "caller":
                    edges.append((r["caller"], r["callee"]))
    with open(os.path.join(folder, "target.csv"), newline="") as f:
        t = next(csv.DictReader(f))
    target = (t["node"], t["metric"], t["stat"])
    base = None
    bp = os.path.join(folder, "baseline.csv")
    if os.path.exists(bp):
        base = load_rows(bp)
    return rows, edges, target, base


# ---------------------------------------------------------------- window
def detect_window(values, mcfg, volume=None, stat="Average"):
    """Incident steps of the target series.

    normal level c0 = median of the ceil(n/2) least-harmful steps, spread s0 from
    series_spread() on those steps; a step is abnormal when its harm z >= Z_ANOM;
    the window is the hull [first, last] of abnormal steps. Returns
    ((a, b), z_per_step) with grid indices, or (None, z) when nothing is abnormal.
    """
    idx = [i for i, v in enumerate(values) if v is not None]
    if len(idx) < 2:
        return None, {}
    d = mcfg["dir"] if mcfg["dir"] != 0 else 1
    order = sorted(idx, key=lambda i: (d * values[i], i))
    ref = [values[i] for i in order[: (len(idx) + 1) // 2]]
    c0 = median(ref)
    z = {}
    for i in idx:
        sp = series_spread(ref, c0, values[i], mcfg, volume, stat)
        z[i] = (values[i] - c0) / sp * (d if mcfg["dir"] != 0 else 1)
        if mcfg["dir"] == 0:
            z[i] = abs(z[i])
    # contiguous run of abnormal steps around the most abnormal step
    peak = max(idx, key=lambda i: (z[i], -i))
    if z[peak] < Z_WIN:
        return None, z
    a = b = idx.index(peak)
    while a > 0 and z[idx[a - 1]] >= Z_WIN:
        a -= 1
    while b < len(idx) - 1 and z[idx[b + 1]] >= Z_WIN:
        b += 1
    return (idx[a], idx[b]), z


# ---------------------------------------------------------------- scoring
def stat_share(stat):
    """Fraction of requests that inform a statistic: 1 for Average/Sum, 1-q for pQ
    (a tail percentile is set by the few requests beyond it)."""
    s = stat.lower()
    if s.startswith("p"):
        try:
            q = float(s[1:]) / 100.0
            if 0.0 < q < 1.0:
                return max(1.0 - q, 0.5 / 100) if q > 0.5 else 0.5
        except ValueError:
            pass
    return 1.0


def series_spread(ref, c, im, mcfg, volume=None, stat="Average"):
    """Reference spread with floors (never 0): MAD, relative/absolute floor, and the
    sampling noise of an aggregate of `volume` requests (None = volume off)."""
    mad = MAD_K * median([abs(x - c) for x in ref])
    sp = max(mad, mcfg["rel_floor"] * abs(c), mcfg["abs_floor"])
    if volume is not None:
        n = max(volume, 1.0)
        kind = mcfg.get("kind", "level")
        if kind == "percent":      # binomial s.e. of a success/failure percentage
            q = max(1 - c / 100.0, 1 - im / 100.0, 0.5 / (n + 1))
            q = min(q, 0.5)
            sp = max(sp, 100.0 * math.sqrt(q * (1 - q) / n))
        elif kind == "level":      # per-request CV ~ 1 -> s.e. of an aggregate ~ level/sqrt(n)
            ne = max(n * stat_share(stat), 1.0)
            sp = max(sp, max(abs(c), abs(im)) / math.sqrt(ne))
    return sp


def series_change(ref, inc, mcfg, volume=None, stat="Average"):
    """Return (center, spread, inc_median, z) for one series or None."""
    if not ref or not inc:
        return None
    c = median(ref)
    im = median(inc)
    sp = series_spread(ref, c, im, mcfg, volume, stat)
    return c, sp, im, (im - c) / sp


def rank_causes(rows, edges, target, baseline=None, window=None, reference="outside",
                use_graph=True, use_direction=True, use_volume=True, metrics_cfg=None,
                include_all=False):
    cfg = dict(DEFAULT_METRICS)
    if metrics_cfg:
        cfg.update(metrics_cfg)
    mcfg = lambda m: cfg.get(m, FALLBACK_METRIC)
    grid = sorted({r[0] for r in rows})
    pos = {t: i for i, t in enumerate(grid)}
    T = len(grid)
    series = defaultdict(lambda: [None] * T)
    for ts, node, metric, stat, v in rows:
        series[(node, metric, stat)][pos[ts]] = v
    series = dict(series)
    nodes_in_metrics = {k[0] for k in series}
    tnode, tmetric, tstat = target
    tcfg = mcfg(tmetric)
    info = {"grid": grid, "window": None, "status": "ok"}

    def vol_over(node, idxs):
        s = series.get((node, VOLUME_METRIC, VOLUME_STAT))
        if s is None:
            return None
        v = [s[i] for i in idxs if s[i] is not None]
        return median(v) if v else None

    tkey = (tnode, tmetric, tstat)
    if tkey not in series:
        info["status"] = "target missing from metrics"
        return [], info
    # ---- window
    if window is None:
        tv = vol_over(tnode, range(T)) if use_volume else None
        w, zt = detect_window(series[tkey], tcfg, tv, tstat)
        info["target_step_z"] = zt
        if w is None:
            info["status"] = "no anomaly in target"
            return [], info
        a, b = w
    else:
        a, b = window  # grid indices inclusive
    if not (0 <= a <= b < T):
        info["status"] = "empty window"
        return [], info
    info["window"] = (grid[a], grid[b])
    inc_idx = list(range(a, b + 1))
    if reference == "before":
        ref_idx = list(range(0, a))
    else:
        ref_idx = [i for i in range(T) if i < a or i > b]

    base_series = None
    if baseline:
        base_series = defaultdict(list)
        for ts, node, metric, stat, v in baseline:
            base_series[(node, metric, stat)].append(v)

    def ref_inc(key):
        s = series.get(key)
        inc = [s[i] for i in inc_idx if s[i] is not None]
        if base_series is not None and key in base_series:
            ref = list(base_series[key])
        else:
            ref = [s[i] for i in ref_idx if s[i] is not None]
        return ref, inc

    # data-derived relative floor per (metric, stat): median over nodes of MAD/|center|
    # in the reference rows (a table-wide noise level; 0 when references are constant)
    pooled = defaultdict(list)
    for key in series:
        r, _ = ref_inc(key)
        if len(r) >= 2:
            c = median(r)
            if c != 0:
                pooled[(key[1], key[2])].append(MAD_K * median([abs(x - c) for x in r]) / abs(c))
    pooled_rel = {k: median(v) for k, v in pooled.items()}
    info["pooled_rel"] = pooled_rel

    def cfg_for(metric, stat):
        mc = dict(mcfg(metric))
        mc["rel_floor"] = max(mc["rel_floor"], pooled_rel.get((metric, stat), 0.0))
        return mc

    # volume per node: typical requests per step (max of reference and incident medians)
    vol = {}
    for node in nodes_in_metrics:
        vr, vi = vol_over(node, ref_idx), vol_over(node, inc_idx)
        vs = [x for x in (vr, vi) if x is not None]
        vol[node] = max(vs) if vs else None

    # ---- target must itself be abnormal in the window, otherwise no rows
    tr, ti = ref_inc(tkey)
    tch = series_change(tr, ti, cfg_for(tmetric, tstat), vol.get(tnode) if use_volume else None, tstat)
    if tch is None:
        info["status"] = "empty window or reference"
        return [], info
    tz = tch[3] * (tcfg["dir"] if tcfg["dir"] != 0 else (1 if tch[3] >= 0 else -1))
    info["target_z"] = tz
    if tz < Z_WIN:
        info["status"] = "no anomaly in target"
        return [], info

    # ---- per node evidence: max harm over its directed series
    ev = {}
    for key in series:
        node, metric, stat = key
        mc = cfg_for(metric, stat)
        d = mc["dir"]
        if d == 0:
            continue
        r, i = ref_inc(key)
        nv = vol.get(node) if use_volume else None
        if use_volume and nv is None:
            nv = None  # no requests rows: no sampling floor, weight 1
        ch = series_change(r, i, mc, nv, stat)
        if ch is None:
            continue
        c, spread, im, z = ch
        harm = d * z if use_direction else abs(z)
        harm = min(harm, Z_CAP)
        cur = ev.get(node)
        if cur is None or harm > cur["harm"]:
            ev[node] = {"harm": harm, "metric": metric, "stat": stat, "ref": c,
                        "inc": im, "spread": spread, "z": z, "key": key}

    # ---- graph
    callees = defaultdict(list)
    for u, v in edges:
        if v != u and v not in callees[u]:
            callees[u].append(v)
    if use_graph and not callees.get(tnode):
        info["status"] = "ok (target has no callees in the graph: graph component off)"
        use_graph = False
    parent = {tnode: None}
    depth = {tnode: 0}
    q = deque([tnode])
    while q:  # BFS; visited set makes cycles terminate
        u = q.popleft()
        for v in sorted(callees.get(u, [])):
            if v not in depth:
                depth[v] = depth[u] + 1
                parent[v] = u
                q.append(v)

    def path(n):
        p = []
        while n is not None:
            p.append(n)
            n = parent[n]
        return list(reversed(p))

    # nodes on a common cycle (same strongly connected component) cannot explain each
    # other by graph position: an edge inside an SCC is not used as "callee explains caller"
    scc = strongly_connected(callees)

    def excess(n, metric):
        """requests x harmful change of (n, metric, Average): extra latency-seconds or
        extra failed-request percent-units per step. None when not computable."""
        key = (n, metric, "Average")
        if key not in series:
            return None
        r, i = ref_inc(key)
        if not r or not i:
            return None
        d = mcfg(metric)["dir"] or 1
        nv = (vol.get(n) or 0.0) if use_volume else 1.0
        return nv * d * (median(i) - median(r))

    def explained(n, metric):
        xn = excess(n, metric)
        if xn is None or xn <= 0:
            return None
        tot = 0.0
        for c in callees.get(n, []):
            if scc.get(c) == scc.get(n):
                continue
            xc = excess(c, metric)
            if xc is not None and xc > 0:
                tot += xc
        return min(1.0, tot / xn)

    desc_cache = {}

    def descendants(n):
        """All nodes reachable from n through callee edges (DFS, visited set)."""
        if n not in desc_cache:
            seen, st = {n}, [n]
            while st:
                u = st.pop()
                for v in callees.get(u, []):
                    if v not in seen:
                        seen.add(v)
                        st.append(v)
            seen.discard(n)
            desc_cache[n] = seen
        return desc_cache[n]

    def anomalous(n):
        e = ev.get(n)
        return e is not None and e["harm"] >= Z_ANOM

    out = []
    for n, e in ev.items():
        if use_graph and n not in depth:
            continue
        if e["harm"] < Z_ANOM and not include_all:
            continue
        v = vol.get(n)
        wv = math.log10(VOL_OFFSET + (v or 0.0)) if use_volume else 1.0
        anom_callees = [c for c in callees.get(n, []) if anomalous(c) and scc.get(c) != scc.get(n)]
        anom_desc = [c for c in descendants(n) if anomalous(c) and scc.get(c) != scc.get(n)]
        g = 1.0
        mirror_of = None
        if use_graph:
            # share of the node's excess (requests x change of the additive Average stat)
            # that its direct callees do not account for
            expl = explained(n, e["metric"])
            if expl is None:  # no additive evidence: harm-based share of anomalous descendants
                g = e["harm"] / (e["harm"] + sum(ev[c]["harm"] for c in anom_desc))
            else:
                g = max(1.0 - expl, G_MIN)
            cl = callees.get(n, [])
            if len(cl) == 1 and cl[0] in ev and scc.get(cl[0]) != scc.get(n):
                c = cl[0]
                r = pearson(series[e["key"]], series.get((c, e["metric"], e["stat"]), [None] * T))
                if anomalous(c) or (ev[c]["harm"] >= MIRROR_MIN_HARM and r is not None
                                    and r >= MIRROR_R):
                    mirror_of = c
        out.append({
            "node": n, "score": e["harm"] * wv * g, "harm": e["harm"], "metric": e["metric"],
            "stat": e["stat"], "ref": e["ref"], "inc": e["inc"], "spread": e["spread"],
            "direction": "worse" if e["harm"] > 0 else "better_or_same",
            "volume": v, "volume_w": wv, "graph_w": g,
            "depth": depth.get(n), "path": path(n) if n in depth else None,
            "n_callees": len(callees.get(n, [])), "n_anom_callees": len(anom_callees),
            "n_anom_descendants": len(anom_desc),
            "mirror_of": mirror_of,
        })
    # a mirror may not outrank its callee: a sub-threshold callee of a mirror is added
    # as a candidate (it inherits the mirror's score), then the mirror is capped below it
    sc = {o["node"]: o for o in out}
    for o in list(out):
        m = o["mirror_of"]
        if m and m not in sc:
            e = ev[m]
            v = vol.get(m)
            add = {
                "node": m, "score": o["score"], "harm": e["harm"], "metric": e["metric"],
                "stat": e["stat"], "ref": e["ref"], "inc": e["inc"], "spread": e["spread"],
                "direction": "worse" if e["harm"] > 0 else "better_or_same",
                "volume": v, "volume_w": math.log10(VOL_OFFSET + (v or 0.0)) if use_volume else 1.0,
                "graph_w": o["graph_w"], "depth": depth.get(m),
                "path": path(m) if m in depth else None,
                "n_callees": len(callees.get(m, [])),
                "n_anom_callees": sum(1 for c in callees.get(m, []) if anomalous(c)),
                "mirror_of": None, "via_mirror": o["node"],
            }
            out.append(add)
            sc[m] = add
    for _ in range(len(out) + 1):
        changed = False
        for o in out:
            m = o["mirror_of"]
            if m in sc and o["score"] >= sc[m]["score"]:
                o["score"] = sc[m]["score"] * (1 - 1e-6)
                changed = True
        if not changed:
            break
    out.sort(key=lambda o: (-o["score"], -(o["depth"] or 0), -(o["volume"] or 0), o["node"]))
    for i, o in enumerate(out):
        o["rank"] = i + 1
    if not out:
        info["status"] = "no anomalous candidate"
    return out, info


def strongly_connected(adj):
    """Tarjan's SCC (iterative). Returns {node: component id}."""
    nodes = set(adj)
    for vs in adj.values():
        nodes.update(vs)
    index, low, comp, onstack, stack = {}, {}, {}, set(), []
    counter = [0]
    cid = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, pi = work.pop()
            if pi == 0:
                index[v] = low[v] = counter[0]
                counter[0] += 1
                stack.append(v)
                onstack.add(v)
            nb = adj.get(v, [])
            recurse = False
            for j in range(pi, len(nb)):
                w = nb[j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                elif w in onstack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp[w] = cid
                    if w == v:
                        break
                cid += 1
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return comp


def seed_baseline(rows, target):
    """Seed: first differences, Pearson r vs target, best |r| per node."""
    grid = sorted({r[0] for r in rows})
    pos = {t: i for i, t in enumerate(grid)}
    series = defaultdict(lambda: [None] * len(grid))
    for ts, node, metric, stat, v in rows:
        series[(node, metric, stat)][pos[ts]] = v

    def diff(s):
        return [None if (s[i] is None or s[i - 1] is None) else s[i] - s[i - 1]
                for i in range(1, len(s))]
    if target not in series:
        return []
    td = diff(series[target])
    best = {}
    for key, s in series.items():
        if key[0] == target[0]:
            continue
        r = pearson(diff(s), td)
        if r is None:
            continue
        best[key[0]] = max(best.get(key[0], 0.0), abs(r))
    return sorted(best, key=lambda n: (-best[n], n))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--window", help="explicit window start,end as ts strings or grid indices")
    ap.add_argument("--reference", default="outside", choices=["outside", "before"])
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--no-direction", action="store_true")
    ap.add_argument("--no-volume", action="store_true")
    ap.add_argument("-n", type=int, default=10)
    a = ap.parse_args(argv)
    rows, edges, target, base = load_folder(a.folder)
    win = None
    if a.window:
        grid = sorted({r[0] for r in rows})
        s, e = a.window.split(",")
        win = tuple(int(x) if x.isdigit() else grid.index(x) for x in (s, e))
    out, info = rank_causes(rows, edges, target, baseline=base, window=win,
                            reference=a.reference, use_graph=not a.no_graph,
                            use_direction=not a.no_direction, use_volume=not a.no_volume)
    print(f"# target={target} window={info['window']} status={info['status']} "
          f"target_z={info.get('target_z', float('nan')):.1f}")
    print("rank\tscore\tharm\tmetric/stat\tref->inc\tvolume\tvol_w\tgraph_w\tdepth\tanom_callees\tmirror_of\tnode\tpath")
    for o in out[:a.n]:
        print(f"{o['rank']}\t{o['score']:.2f}\t{o['harm']:.1f}\t{o['metric']}/{o['stat']}\t"
              f"{o['ref']:.4g}->{o['inc']:.4g}\t{o['volume']}\t{o['volume_w']:.2f}\t{o['graph_w']}\t"
              f"{o['depth']}\t{o['n_anom_callees']}\t{o['mirror_of']}\t{o['node']}\t"
              f"{' > '.join(o['path']) if o['path'] else '-'}")


if __name__ == "__main__":
    main(sys.argv[1:])
