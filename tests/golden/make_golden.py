#!/usr/bin/env python3
"""Generate perfcorr's golden test data (committed; `cargo test` needs no Python).

    pip install numpy scipy pandas mpmath && python3 tests/golden/make_golden.py

Writes, next to this script:
  pearson_pairs.csv     case,x,y               input pairs; empty = NULL, NaN = NaN
  pearson_expected.csv  case,kind,n,r_exact,p_exact,r_scipy,p_scipy,log10_p_exact,
                        ci95_low,ci95_high,ci80_low,ci80_high,spearman_r,spearman_p
        r_exact: r of the pairwise-complete rows computed exactly (rational
                 arithmetic, then 50 significant digits), rounded to Float64;
        p_exact: mpmath (50 digits) I_{1-r^2}((n-2)/2, 1/2) at r_exact;
        r_scipy, p_scipy: scipy.stats.pearsonr on the same rows, for reference
                 (scipy centres with a rounded mean, so at offsets like 1e12 its
                 r differs from r_exact in the 8th-10th digit).
        log10_p_exact: log10 of p_exact (finite where p_exact underflows);
        ci*: scipy's Fisher-z confidence interval (pearsonr(...).confidence_interval)
                 evaluated at r_exact; NULL for n <= 3.
        spearman_r, spearman_p: scipy.stats.spearmanr on the same rows
                 (NaN there is NULL here).
        Empty fields are NULL (n < 2 or a constant series).
  p_from_r.csv          r,n,p_scipy,p_exact,log10_p_exact
  shift_cases.csv       grp,value,in_window      inputs of shift_p (empty = NULL)
  shift_expected.csv    grp,p                  scipy.stats.mannwhitneyu(in, out, method='asymptotic')
  ordered_cases.csv     grp,t,x,y              shuffled rows, NULLs in x and y
  ordered_expected.csv  grp,lag,r,n_eff,p_eff  max_lag = 5: lag/r of max |pandas x.shift(k).corr(y)|
                        (k = 0, 1, -1, 2, ...; first wins ties); n_eff from statsmodels acf
                        lag-1 of the complete rows; p_eff = scipy's pearsonr p at n_eff
  rank_wide.csv         ts,s1..s5              five series in the wide layout (NULLs included)
  rank_long.csv         ts,name,value          the same series in the long layout (shuffled)
  rank_target.csv       ts,response_ms         the target series
  rank_expected.csv     series,r,p,n,q,spearman_r,ci_low,ci_high,best_lag,lag_r
                        pandas diff + corr, scipy p / spearmanr, statsmodels BH q,
                        Fisher CI, best lag by pandas shift-corr with max_lag = 3
  padjust.csv           grp,id,p,bonferroni,holm,bh,by   statsmodels multipletests per grp
                        (NULL p stays NULL; ties; one-row and all-NULL groups)
  diff_input.csv        grp,ts,v               shuffled rows, NULLs in v
  diff_expected.csv     grp,ts,d1,d2,dm1       pandas groupby(grp).v.diff(1/2/-1) in ts order
"""
import csv
import math
import os
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pandas as pd
from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
mpmath.mp.dps = 50
rng = np.random.default_rng(20261126)


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)


def correlated(n, rho):
    x = rng.standard_normal(n)
    y = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
    return list(x), list(y)


def exact_r(xs, ys):
    """r of float data with exact rational sums; None when undefined."""
    n = len(xs)
    if n < 2:
        return None
    fx = [Fraction(v) for v in xs]
    fy = [Fraction(v) for v in ys]
    mx, my = sum(fx) / n, sum(fy) / n
    sxx = sum((a - mx) ** 2 for a in fx)
    syy = sum((b - my) ** 2 for b in fy)
    sxy = sum((a - mx) * (b - my) for a, b in zip(fx, fy))
    if sxx == 0 or syy == 0:
        return None
    mp = lambda f: mpmath.mpf(f.numerator) / mpmath.mpf(f.denominator)
    r = mp(sxy) / mpmath.sqrt(mp(sxx) * mp(syy))
    return max(-1.0, min(1.0, float(r)))


def mp_beta_reg(a, b, x):
    """I_x(a, b) at 50 digits: the beta continued fraction (modified Lentz) in
    mpmath, on the side of the symmetry where it converges. (mpmath.betainc
    fails to converge for a ~ 10^4 and tiny results; where it works the two
    agree, which main() checks.)"""
    if x == 0:
        return mpmath.mpf(0)
    if x == 1:
        return mpmath.mpf(1)
    if x > (a + 1) / (a + b + 2):
        return 1 - mp_beta_reg(b, a, 1 - x)
    tiny, eps = mpmath.mpf(10) ** -300, mpmath.mpf(10) ** -45
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = mpmath.mpf(1), 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1_000_000):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            delta = d * c
            h *= delta
        if abs(delta - 1) < eps:
            break
    ln_front = a * mpmath.log(x) + b * mpmath.log(1 - x) - mpmath.log(mpmath.beta(a, b)) - mpmath.log(a)
    return mpmath.exp(ln_front) * h


def exact_p(r, n):
    """Two-sided p at Float64 r, 50 digits."""
    if r is None or n < 2:
        return None
    if n == 2:
        return mpmath.mpf(1)
    r = mpmath.mpf(r)
    return mp_beta_reg((n - 2) / mpmath.mpf(2), mpmath.mpf(1) / 2, (1 - abs(r)) * (1 + abs(r)))


def fisher_ci(r, n, level):
    """scipy.stats.pearsonr(...).confidence_interval(level) at a given r."""
    if r is None or n <= 3:
        return None, None
    z, half = np.arctanh(r), special.ndtri((1 + level) / 2) / math.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def scipy_p(r, n):
    """scipy.stats.pearsonr's own p-value formula for a given r."""
    if n == 2:
        return 1.0
    ab = n / 2 - 1
    return float(2 * stats.beta(ab, ab, loc=-1, scale=2).sf(abs(r)))


def pearson_cases():
    cases = []  # (case, kind, xs, ys) where xs/ys may hold None and nan
    for n in [2, 3, 4, 5, 10, 30, 100, 1000]:
        for rho in [0.0, 0.5, -0.5, 0.9, -0.9, 0.99, -0.99]:
            cases.append((f"n{n}_rho{rho}", "normal", *correlated(n, rho)))
    # Long series with tiny p-values (down to ~1e-250) and one below Float64.
    for n, rho in [(12000, 0.3), (20000, 0.25), (20000, 0.02), (8000, -0.1), (1500, 0.9)]:
        cases.append((f"long_n{n}_rho{rho}", "normal", *correlated(n, rho)))
    # Large offsets with unit noise.
    for offset in [1e6, 1e9, 1e12]:
        x, y = correlated(1000, 0.7)
        cases.append((f"offset_{offset:g}", "offset", [v + offset for v in x], [v + offset for v in y]))
    x, y = correlated(1000, -0.3)
    cases.append(("offset_x_only_1e12", "offset", [v + 1e12 for v in x], y))
    # Integers.
    xi = rng.integers(0, 100, 500)
    yi = xi // 2 + rng.integers(0, 50, 500)
    cases.append(("integers", "integers", [float(v) for v in xi], [float(v) for v in yi]))
    # NULLs and NaNs scattered through both sides.
    x, y = correlated(1000, 0.6)
    for i in rng.choice(1000, 100, replace=False):
        x[i] = None
    for i in rng.choice(1000, 50, replace=False):
        y[i] = float("nan")
    for i in rng.choice(1000, 50, replace=False):
        y[i] = None
    for i in rng.choice(1000, 20, replace=False):
        x[i] = float("nan")
    cases.append(("nulls_and_nans", "missing", x, y))
    # Constant series.
    cases.append(("constant_x", "constant", [5.0] * 50, correlated(50, 0)[1]))
    cases.append(("constant_y", "constant", correlated(50, 0)[0], [1e12] * 50))
    cases.append(("constant_both", "constant", [2.0] * 10, [3.0] * 10))
    # n = 0, 1, 2 with the group still present through incomplete rows.
    cases.append(("n0", "short", [None, 1.0, float("nan")], [2.0, None, 3.0]))
    cases.append(("n1", "short", [None, 1.0, 4.0], [2.0, None, 3.0]))
    cases.append(("n2", "short", [1.0, 4.0, None], [2.0, 3.0, 9.0]))
    # Exact lines: r = +-1.
    xs = [float(v) for v in range(-20, 30)]
    cases.append(("exact_plus_one", "exact", xs, [3 * v + 2 for v in xs]))
    cases.append(("exact_minus_one", "exact", xs, [-0.5 * v + 7 for v in xs]))
    return cases


def complete(xs, ys):
    ok = lambda v: v is not None and not math.isnan(v)
    pairs = [(a, b) for a, b in zip(xs, ys) if ok(a) and ok(b)]
    return [a for a, _ in pairs], [b for _, b in pairs]


def write_pearson():
    cases = pearson_cases()
    with open(os.path.join(HERE, "pearson_pairs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "x", "y"])
        for case, _, xs, ys in cases:
            for a, b in zip(xs, ys):
                w.writerow([case, fmt(a), fmt(b)])
    with open(os.path.join(HERE, "pearson_expected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "kind", "n", "r_exact", "p_exact", "r_scipy", "p_scipy", "log10_p_exact",
                    "ci95_low", "ci95_high", "ci80_low", "ci80_high", "spearman_r", "spearman_p"])
        for case, kind, xs, ys in cases:
            cx, cy = complete(xs, ys)
            n = len(cx)
            r = exact_r(cx, cy)
            p = exact_p(r, n)
            r_sp = p_sp = None
            if r is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = stats.pearsonr(cx, cy)
                r_sp, p_sp = float(res.statistic), float(res.pvalue)
                if n > 3 and abs(r_sp - r) < 1e-15:  # our CI formula is scipy's own
                    res_ci = res.confidence_interval(0.95)
                    assert abs(res_ci.low - fisher_ci(r, n, 0.95)[0]) < 1e-12, case
            log10_p = None if p is None or p == 0 else float(mpmath.log10(p))
            ci95, ci80 = fisher_ci(r, n, 0.95), fisher_ci(r, n, 0.80)
            sr = sp = None
            if n >= 2:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res_s = stats.spearmanr(cx, cy)
                sr, sp = (None if math.isnan(v) else float(v) for v in (res_s.statistic, res_s.pvalue))
            w.writerow([case, kind, n, fmt(r), fmt(None if p is None else float(p)), fmt(r_sp), fmt(p_sp),
                        fmt(log10_p), *map(fmt, ci95), *map(fmt, ci80), fmt(sr), fmt(sp)])


def write_p_from_r():
    with open(os.path.join(HERE, "p_from_r.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["r", "n", "p_scipy", "p_exact", "log10_p_exact"])
        worst = {False: 0.0, True: 0.0}
        for n in [3, 4, 5, 7, 10, 30, 100, 200, 1000, 5000, 20000, 100000]:
            for r in [0.0, 1e-4, 0.001, 0.01, 0.05, 0.1, 0.3, 0.5, -0.5, 0.7, 0.9, -0.9,
                      0.95, 0.99, 0.999, 0.999999, 1.0, -1.0]:
                p = exact_p(r, n)
                sp = scipy_p(r, n)
                if sp > 1e-300:
                    worst[abs(r) > 0.999] = max(worst[abs(r) > 0.999], abs(sp / float(p) - 1))
                log10_p = "" if p == 0 else fmt(float(mpmath.log10(p)))
                w.writerow([fmt(r), n, fmt(sp), fmt(float(p)), log10_p])
    # scipy maps r to Beta((1+r)/2) and loses digits in 1 - (1+r)/2 near |r| = 1.
    print(f"scipy vs 50-digit p, max relative deviation: |r| <= 0.999: {worst[False]:.2e}; "
          f"|r| > 0.999: {worst[True]:.2e}")


def write_padjust():
    from statsmodels.stats.multitest import multipletests
    local = np.random.default_rng(7)  # its own stream: the other files stay as they were
    groups = {
        "uniform": list(local.uniform(0, 1, 40)),
        "signals": list(local.uniform(0, 0.001, 5)) + list(local.uniform(0, 1, 150)),
        "ties": [0.01, 0.01, 0.02, 0.02, 0.02, 0.5, 1.0, 0.0],
        "with_nulls": [0.003, None, 0.04, float("nan"), 0.2, None, 0.001],
        "single": [0.03],
        "all_null": [None, None],
    }
    methods = ["bonferroni", "holm", "fdr_bh", "fdr_by"]
    with open(os.path.join(HERE, "padjust.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["grp", "id", "p", "bonferroni", "holm", "bh", "by"])
        for grp, ps in groups.items():
            present = [i for i, v in enumerate(ps) if v is not None and not math.isnan(v)]
            adjusted = {m: [None] * len(ps) for m in methods}
            if present:
                for m in methods:
                    q = multipletests([ps[i] for i in present], method=m)[1]
                    for i, v in zip(present, q):
                        adjusted[m][i] = float(v)
                bh = stats.false_discovery_control([ps[i] for i in present], method="bh")
                assert np.allclose(bh, [adjusted["fdr_bh"][i] for i in present], rtol=1e-14, atol=0)
            for i, v in enumerate(ps):
                w.writerow([grp, i, fmt(v), *(fmt(adjusted[m][i]) for m in methods)])


def write_shift():
    local = np.random.default_rng(11)
    groups = {
        "shifted": (list(local.normal(1.0, 1, 140)), list(local.normal(0, 1, 1300))),
        "no_shift": (list(local.normal(0, 1, 140)), list(local.normal(0, 1, 1300))),
        "tiny_p": (list(local.normal(0.6, 1, 2000)), list(local.normal(0, 1, 20000))),
        "integer_ties": ([float(v) for v in local.integers(0, 5, 60)], [float(v) for v in local.integers(1, 6, 90)]),
        "all_tied": ([2.0] * 5, [2.0] * 7),
        "small": ([1.0, 2.0, 3.0, 4.0, 5.0, 9.0], [3.0, 6.0, 7.0, 8.0, 8.0, 10.0, 11.0]),
        "one_each": ([1.0], [2.0]),
        "no_window": ([], [1.0, 2.0, 3.0]),
    }
    with open(os.path.join(HERE, "shift_cases.csv"), "w", newline="") as f, \
         open(os.path.join(HERE, "shift_expected.csv"), "w", newline="") as g:
        cases, expected = csv.writer(f), csv.writer(g)
        cases.writerow(["grp", "value", "in_window"])
        expected.writerow(["grp", "p"])
        for grp, (inside, outside) in groups.items():
            for v in inside:
                cases.writerow([grp, fmt(v), "true"])
            for v in outside:
                cases.writerow([grp, fmt(v), "false"])
            # Incomplete rows that shift_p must ignore.
            cases.writerow([grp, "", "true"])
            cases.writerow([grp, "7.5", ""])
            p = None
            if inside and outside:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p = float(stats.mannwhitneyu(inside, outside, method="asymptotic").pvalue)
                p = None if math.isnan(p) else p
            expected.writerow([grp, fmt(p)])


def write_ordered():
    from statsmodels.tsa.stattools import acf
    local = np.random.default_rng(13)

    def ar1(n, phi, innovations):
        out = np.zeros(n)
        for t in range(1, n):
            out[t] = phi * out[t - 1] + innovations[t]
        return out

    groups = {}
    base = local.standard_normal(305)
    groups["x_leads_by_2"] = (base[3:303], 0.8 * base[1:301] + 0.3 * local.standard_normal(300))
    groups["y_leads_by_3"] = (0.7 * base[:300] + 0.4 * local.standard_normal(300), base[3:303])
    shared = local.standard_normal(500)
    groups["autocorrelated"] = (ar1(500, 0.8, shared + local.standard_normal(500)),
                                ar1(500, 0.8, shared + local.standard_normal(500)))
    noise = local.standard_normal((2, 801))
    groups["differenced_noise"] = (np.diff(noise[0]) + 0.2 * np.diff(noise[1]), np.diff(noise[1]))
    x, y = local.standard_normal(200), local.standard_normal(200)
    y = 0.5 * x + y
    x[[5, 17, 90]] = np.nan
    y[[17, 40]] = np.nan
    groups["with_nulls"] = (x, y)
    groups["short"] = (np.array([1.0, 3.0, 2.0]), np.array([2.0, 1.0, 4.0]))
    groups["constant_x"] = (np.full(50, 4.0), local.standard_normal(50))
    rows = []
    with open(os.path.join(HERE, "ordered_expected.csv"), "w", newline="") as g:
        expected = csv.writer(g)
        expected.writerow(["grp", "lag", "r", "n_eff", "p_eff"])
        for grp, (xs, ys) in groups.items():
            for t, (a, b) in enumerate(zip(xs, ys)):
                rows.append((grp, t * 60, None if math.isnan(a) else float(a), None if math.isnan(b) else float(b)))
            sx, sy = pd.Series(xs), pd.Series(ys)
            best = None
            for magnitude in range(0, 6):
                for k in ([0] if magnitude == 0 else [magnitude, -magnitude]):
                    if magnitude >= len(xs):
                        continue
                    r = sx.shift(k).corr(sy)
                    if not math.isnan(r) and (best is None or abs(r) > abs(best[1])):
                        best = (k, float(r))
            ok = ~(np.isnan(xs) | np.isnan(ys))
            cx, cy = xs[ok], ys[ok]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = float(stats.pearsonr(cx, cy).statistic)
                rho_x, rho_y = acf(cx, nlags=1)[1], acf(cy, nlags=1)[1]
            n_eff = len(cx) * (1 - rho_x * rho_y) / (1 + rho_x * rho_y)
            n_eff = None if math.isnan(n_eff) else float(n_eff)
            p_eff = None
            if n_eff is not None and n_eff > 2:
                ab = n_eff / 2 - 1
                p_eff = float(2 * stats.beta(ab, ab, loc=-1, scale=2).sf(abs(r)))
            expected.writerow([grp, *(("", "") if best is None else (best[0], fmt(best[1]))), fmt(n_eff), fmt(p_eff)])
    order = local.permutation(len(rows))
    with open(os.path.join(HERE, "ordered_cases.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["grp", "t", "x", "y"])
        for i in order:
            grp, t, a, b = rows[i]
            w.writerow([grp, t, fmt(a), fmt(b)])


def write_rank():
    from statsmodels.stats.multitest import multipletests
    local = np.random.default_rng(17)
    n = 240
    ts = pd.date_range("2026-11-19", periods=n, freq="min")
    noise = local.standard_normal((7, n)).cumsum(axis=1)  # random walks: raw levels correlate spuriously
    driver = local.standard_normal(n)
    target = noise[0] + np.cumsum(driver)
    wide = pd.DataFrame({
        "ts": ts,
        "s1": noise[1] + np.cumsum(0.8 * driver),                # moves with the target
        "s2": noise[2] + np.cumsum(np.roll(driver, -2) * 0.9),   # leads the target by 2 minutes
        "s3": noise[3],
        "s4": noise[4] - np.cumsum(0.3 * driver),                # weakly, negatively
        "s5": noise[5],
    })
    wide.loc[[10, 11, 50], "s3"] = np.nan
    wide.loc[[100], "s5"] = np.nan
    wide.to_csv(os.path.join(HERE, "rank_wide.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%SZ", na_rep="")
    target_df = pd.DataFrame({"ts": ts, "response_ms": target})
    target_df.to_csv(os.path.join(HERE, "rank_target.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    long = wide.melt(id_vars="ts", var_name="name", value_name="value").sample(frac=1, random_state=3)
    long.to_csv(os.path.join(HERE, "rank_long.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%SZ", na_rep="")
    d_target = target_df.set_index("ts").response_ms.diff()
    rows = []
    for name in ["s1", "s2", "s3", "s4", "s5"]:
        d = wide.set_index("ts")[name].diff()
        ok = d.notna() & d_target.notna()
        x, y = d[ok].values, d_target[ok].values
        res = stats.pearsonr(x, y)
        ci = res.confidence_interval(0.95)
        best = None
        for magnitude in range(0, 4):
            for k in ([0] if magnitude == 0 else [magnitude, -magnitude]):
                r = d.shift(k).corr(d_target)
                if best is None or abs(r) > abs(best[1]):
                    best = (k, float(r))
        rows.append([name, float(res.statistic), float(res.pvalue), int(ok.sum()),
                     float(stats.spearmanr(x, y).statistic), float(ci.low), float(ci.high), *best])
    q = multipletests([r[2] for r in rows], method="fdr_bh")[1]
    with open(os.path.join(HERE, "rank_expected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series", "r", "p", "n", "q", "spearman_r", "ci_low", "ci_high", "best_lag", "lag_r"])
        for row, qv in zip(rows, q):
            name, r, p, n_, sr, lo, hi, lag, lag_r = row
            w.writerow([name, fmt(r), fmt(p), n_, fmt(float(qv)), fmt(sr), fmt(lo), fmt(hi), lag, fmt(lag_r)])


def write_diff():
    rows = []
    for grp, length in [("a", 7), ("b", 12), ("c", 1), ("d", 3)]:
        for ts in range(length):
            v = float(rng.integers(-50, 50)) + rng.integers(0, 4) / 4
            rows.append((grp, ts * 60, v))
    df = pd.DataFrame(rows, columns=["grp", "ts", "v"])
    df.loc[[3, 9, 15], "v"] = None
    shuffled = df.sample(frac=1, random_state=7)
    shuffled.to_csv(os.path.join(HERE, "diff_input.csv"), index=False, na_rep="")
    ordered = df.sort_values(["grp", "ts"])
    by = ordered.groupby("grp")["v"]
    out = ordered.assign(d1=by.diff(1), d2=by.diff(2), dm1=by.diff(-1))
    out.to_csv(os.path.join(HERE, "diff_expected.csv"), index=False, na_rep="")


def self_check():
    for a, b, x in [(0.5, 0.5, 0.3), (4, 0.5, 0.19), (99, 0.5, 0.19), (7.5, 0.5, 0.99)]:
        a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
        ours, ref = mp_beta_reg(a, b, x), mpmath.betainc(a, b, 0, x, regularized=True)
        assert abs(ours - ref) <= abs(ref) * mpmath.mpf(10) ** -40, (a, b, x, ours, ref)


if __name__ == "__main__":
    self_check()
    write_pearson()
    write_p_from_r()
    write_padjust()
    write_shift()
    write_ordered()
    write_rank()
    write_diff()
    print("golden data written to", HERE)
