#!/usr/bin/env python3
"""Typed variants of the seed's question (which view moved with the app?):
perfcorr against DuckDB (+ scipy) on the same Parquet files, one variant at a
time, whole processes, alternately (perfcorr, DuckDB, perfcorr, ...), medians
of N runs, and a check that both give the same answer.

    bench/.venv/bin/python bench/variants.py DATA_DIR [--runs 5]
        [--perfcorr target/release/perfcorr] [--only NAME,...] [--show-sql]

perfcorr runs `-q --format csv --data DATA_DIR -c SQL` under /usr/bin/time -v
(compare.py's `timed`). DuckDB runs in a fresh Python process (this script with
`--duckdb-worker`) that imports duckdb and scipy.special, defines views over
DATA_DIR/{app,layers,views}.parquet and runs the *same SQL text* with two
mechanical changes: `diff(x[, k]) OVER (w)` becomes `x - lag(x, k) OVER (w)`,
and the pearson_* names are DuckDB macros over `corr` and `regr_count`, with p
(and log10 p) from r and n by a scipy UDF (scipy.stats.pearsonr's beta
distribution, 2·I_{(1-|r|)/2}(n/2-1, n/2-1)), and the Fisher-z interval in
SQL. Variants whose DuckDB SQL differs (rank_correlations) carry their own.
`--show-sql` prints each pair.

Same answer: both outputs as CSV, same columns (DuckDB's are a subset of
perfcorr's), same keys in the same order (sorted by key first for unordered
variants), n equal, r and CI bounds within 1e-9, p and log10 p within 1e-6
relative (or both p < 1e-300).
"""
import argparse
import csv
import io
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, timed  # noqa: E402

APP = "app_diff AS (SELECT ts, diff(response_ms{k}) OVER (ORDER BY ts) AS d_app FROM app{w})"
VIEW = ("view_diff AS (SELECT view, ts, diff(response_ms{k}) OVER (PARTITION BY view ORDER BY ts) AS d_ms "
        "FROM views{w})")
RPN = "pearson_r(d_ms, d_app) AS r, pearson_p(d_ms, d_app) AS p, pearson_n(d_ms, d_app) AS n"
TOP = "ORDER BY r DESC NULLS LAST, view LIMIT 20"
SLOW_MS = 800  # views with a request slower than this (231 of the 1,000 at M)
KEYS = "('apps/data', 'endpoints/sparkline', 'accounts/index', 'teams/index', 'users/show')"


def ctes(k="", app_where="", view_where=""):
    return f"WITH {APP.format(k=k, w=app_where)}, {VIEW.format(k=k, w=view_where)}"


def variants(t):
    """(name, label, perfcorr SQL, DuckDB SQL or None = translated, unordered)."""
    w = f" WHERE ts >= TIMESTAMP '{t}'"
    with open(os.path.join(ROOT, "queries", "rank_view_times.sql")) as f:
        saved = " ".join(l.strip() for l in f if not l.lstrip().startswith("--")).strip().rstrip(";")
    plain = f"{ctes()} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) GROUP BY view"
    join = "FROM view_diff s JOIN app_diff a"
    return [
        ("canonical", "saved question (rank_view_times.sql): CTEs, JOIN USING (ts)", saved, None, False),
        ("join_on", "JOIN ON s.ts = a.ts", f"{ctes()} SELECT view, {RPN} {join} ON s.ts = a.ts GROUP BY view {TOP}",
         None, False),
        ("subqueries", "subqueries in FROM instead of CTEs",
         "SELECT view, pearson_r(d_ms, d_app) AS r, pearson_p(d_ms, d_app) AS p, pearson_n(d_ms, d_app) AS n "
         "FROM (SELECT view, ts, diff(response_ms) OVER (PARTITION BY view ORDER BY ts) AS d_ms FROM views) s "
         "JOIN (SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d_app FROM app) a USING (ts) "
         f"GROUP BY view {TOP}", None, False),
        ("window_after_join", f"time window after the join (s.ts >= '{t}')",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.ts >= TIMESTAMP '{t}' GROUP BY view {TOP}",
         None, False),
        ("window_before_diff", "time window before diff (in both CTEs)",
         f"{ctes(app_where=w, view_where=w)} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) "
         f"GROUP BY view {TOP}", None, False),
        ("having_n", "HAVING pearson_n(...) > 100",
         f"{ctes()} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) GROUP BY view "
         f"HAVING pearson_n(d_ms, d_app) > 100 {TOP}", None, False),
        ("order_by_p", "ORDER BY p LIMIT 10",
         f"{ctes()} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) GROUP BY view "
         "ORDER BY p NULLS LAST, view LIMIT 10", None, False),
        ("like_key", "view LIKE 'a%' inside the series CTE",
         f"{ctes(view_where=' WHERE view LIKE ' + chr(39) + 'a%' + chr(39))} SELECT view, {RPN} "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("in_list_key", "view IN (5 names) inside the series CTE",
         f"{ctes(view_where=' WHERE view IN ' + KEYS)} SELECT view, {RPN} "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("key_after_join", "WHERE s.view IN (5 names) after the join",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.view IN {KEYS} GROUP BY view {TOP}",
         None, False),
        ("all_aggregates", "r, p, log10_p, ci_low, ci_high, n together",
         f"{ctes()} SELECT view, pearson_r(d_ms, d_app) AS r, pearson_p(d_ms, d_app) AS p, "
         "pearson_log10_p(d_ms, d_app) AS log10_p, pearson_ci_low(d_ms, d_app) AS ci_low, "
         "pearson_ci_high(d_ms, d_app) AS ci_high, pearson_n(d_ms, d_app) AS n "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("diff2", "diff(x, 2) on both sides",
         f"{ctes(k=', 2')} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}",
         None, False),
        ("two_metrics", "two pairs: view response_ms and throughput_rpm vs app response_ms",
         "WITH app_diff AS (SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d_app FROM app), "
         "view_diff AS (SELECT view, ts, diff(response_ms) OVER (PARTITION BY view ORDER BY ts) AS d_ms, "
         "diff(throughput_rpm) OVER (PARTITION BY view ORDER BY ts) AS d_rpm FROM views) "
         "SELECT view, pearson_r(d_ms, d_app) AS r_ms, pearson_p(d_ms, d_app) AS p_ms, "
         "pearson_r(d_rpm, d_app) AS r_rpm, pearson_p(d_rpm, d_app) AS p_rpm, pearson_n(d_ms, d_app) AS n "
         "FROM view_diff JOIN app_diff USING (ts) GROUP BY view ORDER BY r_ms DESC NULLS LAST, view LIMIT 20",
         None, False),
        ("app_throughput", "target app throughput_rpm (views response_ms)",
         "WITH app_diff AS (SELECT ts, diff(throughput_rpm) OVER (ORDER BY ts) AS d_app FROM app), "
         f"{VIEW.format(k='', w='')} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) "
         f"GROUP BY view {TOP}", None, False),
        ("rank_correlations", "SELECT * FROM rank_correlations(...) (DuckDB: plain question, r p n)",
         "SELECT * FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms')", plain, True),
        ("rank_correlations_narrow", "SELECT series, r, p, n, q FROM rank_correlations(...) (DuckDB: plain question)",
         "SELECT series, r, p, n, q FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms')",
         plain, True),
        ("filter_on_app_difference", "WHERE a.d_app > 0 after the join (the app's difference)",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE a.d_app > 0 GROUP BY view {TOP}", None, False),
        ("filter_on_view_difference", "WHERE s.d_ms > 0 after the join (a view's difference)",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.d_ms > 0 GROUP BY view {TOP}", None, False),
        ("filter_on_both_differences", "WHERE s.d_ms > a.d_app after the join (both differences in one condition)",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.d_ms > a.d_app GROUP BY view {TOP}", None, False),
        ("lag_spelling", "x - lag(x) OVER (...) in the CTEs instead of diff (pearson_* aggregates)",
         f"{to_duckdb(ctes())} SELECT view, {RPN} FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}",
         None, False),
        ("standard_sql", "DuckDB's own text: x - lag(x), corr, regr_count (no perfcorr function)",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, regr_count(d_ms, d_app) AS n "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("lag_columns", "prev = lag(x) kept in the CTEs, the difference x - prev written in corr's and regr_count's arguments",
         "WITH app_lag AS (SELECT ts, response_ms, lag(response_ms) OVER (ORDER BY ts) AS prev FROM app), "
         "view_lag AS (SELECT view, ts, response_ms, lag(response_ms) OVER (PARTITION BY view ORDER BY ts) AS prev FROM views) "
         "SELECT view, corr(s.response_ms - s.prev, a.response_ms - a.prev) AS r, "
         "regr_count(s.response_ms - s.prev, a.response_ms - a.prev) AS n "
         f"FROM view_lag s JOIN app_lag a USING (ts) GROUP BY view {TOP}", None, False),
        ("count_star", "corr with count(*) and count(d) beside it (the joined rows, NULL differences among them)",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, count(*) AS rows, count(d_ms) AS n_d "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("regression", "corr with regr_slope, regr_intercept, regr_r2 and covar_samp beside it",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, regr_slope(d_app, d_ms) AS slope, "
         "regr_intercept(d_app, d_ms) AS intercept, regr_r2(d_app, d_ms) AS r2, covar_samp(d_ms, d_app) AS cov "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("summaries", "corr with avg, stddev, min and max of the view's difference beside it",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, avg(d_ms) AS mean_move, stddev(d_ms) AS sd, "
         "min(d_ms) AS low, max(d_ms) AS high "
         f"FROM view_diff JOIN app_diff USING (ts) GROUP BY view {TOP}", None, False),
        ("before_during", f"FILTER (WHERE s.ts < / >= '{t}'): r and n before and during, side by side",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) FILTER (WHERE s.ts < TIMESTAMP '{t}') AS r_before, "
         f"corr(d_ms, d_app) FILTER (WHERE s.ts >= TIMESTAMP '{t}') AS r_during, "
         f"regr_count(d_ms, d_app) FILTER (WHERE s.ts >= TIMESTAMP '{t}') AS n_during "
         f"{join} USING (ts) GROUP BY view ORDER BY r_during DESC NULLS LAST, view LIMIT 20", None, False),
        ("recent_filter", "corr FILTER (WHERE s.ts >= (SELECT max(ts) FROM app) - INTERVAL '2 days') beside corr over all",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) FILTER (WHERE s.ts >= (SELECT max(ts) FROM app) - INTERVAL '2 days') "
         f"AS r_recent, corr(d_ms, d_app) AS r {join} USING (ts) GROUP BY view ORDER BY r_recent DESC NULLS LAST, view LIMIT 20",
         None, False),
        ("time_or_difference", f"WHERE s.ts < '{t}' OR s.d_ms > 0 (the time and a view's difference in one condition)",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.ts < TIMESTAMP '{t}' OR s.d_ms > 0 GROUP BY view {TOP}",
         None, False),
        ("key_subquery", "WHERE s.view IN (SELECT view FROM views WHERE response_ms > 800) after the join",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.view IN "
         f"(SELECT view FROM views WHERE response_ms > {SLOW_MS}) GROUP BY view {TOP}", None, False),
        ("window_from_subquery", "the last two days after the join: s.ts >= (SELECT max(ts) FROM app) - INTERVAL '2 days'",
         f"{ctes()} SELECT view, {RPN} {join} USING (ts) WHERE s.ts >= (SELECT max(ts) FROM app) - INTERVAL '2 days' "
         f"GROUP BY view {TOP}", None, False),
        ("left_join", "view_diff LEFT JOIN app_diff USING (ts): every view gets a row",
         f"{ctes()} SELECT view, {RPN} FROM view_diff LEFT JOIN app_diff USING (ts) GROUP BY view {TOP}",
         None, False),
        ("left_join_window", f"view_diff LEFT JOIN app_diff, time window after the join (s.ts >= '{t}')",
         f"{ctes()} SELECT view, {RPN} FROM view_diff s LEFT JOIN app_diff a USING (ts) WHERE s.ts >= TIMESTAMP '{t}' "
         f"GROUP BY view {TOP}", None, False),
        ("left_join_count", "view_diff LEFT JOIN app_diff with count(*) beside corr (count(*): every row of each view)",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, count(*) AS rows FROM view_diff LEFT JOIN app_diff USING (ts) "
         f"GROUP BY view {TOP}", None, False),
        ("left_join_count_d", "view_diff LEFT JOIN app_diff with count(d_ms) beside corr (DataFusion's general plan: a count of the view's differences without a match)",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, count(d_ms) AS n_d FROM view_diff LEFT JOIN app_diff USING (ts) "
         f"GROUP BY view {TOP}", None, False),
        ("join_then_diff", "join first, then x - lag(x) and y - lag(y) per view over the joined rows (another meaning where a view misses minutes: DataFusion's general plan)",
         "WITH j AS (SELECT v.view, v.ts, v.response_ms AS x, a.response_ms AS y FROM views v JOIN app a USING (ts)), "
         "d AS (SELECT view, x - lag(x) OVER w AS dx, y - lag(y) OVER w AS dy FROM j WINDOW w AS (PARTITION BY view ORDER BY ts)) "
         f"SELECT view, corr(dx, dy) AS r, regr_count(dx, dy) AS n FROM d GROUP BY view {TOP}", None, False),
        ("join_on_minute", "JOIN ON date_trunc('minute', s.ts) = date_trunc('minute', a.ts) (an expression of the time)",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, regr_count(d_ms, d_app) AS n {join} "
         f"ON date_trunc('minute', s.ts) = date_trunc('minute', a.ts) GROUP BY view {TOP}", None, False),
        ("cast_time_column", "t = CAST(ts AS TIMESTAMP) kept in the CTEs, JOIN USING (t)",
         "WITH app_diff AS (SELECT CAST(ts AS TIMESTAMP) AS t, response_ms - lag(response_ms) OVER (ORDER BY ts) AS d_app FROM app), "
         "view_diff AS (SELECT view, CAST(ts AS TIMESTAMP) AS t, "
         "response_ms - lag(response_ms) OVER (PARTITION BY view ORDER BY ts) AS d_ms FROM views) "
         f"SELECT view, corr(d_ms, d_app) AS r, regr_count(d_ms, d_app) AS n FROM view_diff JOIN app_diff USING (t) "
         f"GROUP BY view {TOP}", None, False),
        ("cast_window_order", "the windows ordered by CAST(ts AS TIMESTAMP), joined on that cast",
         "WITH app_diff AS (SELECT CAST(ts AS TIMESTAMP) AS t, diff(response_ms) OVER (ORDER BY CAST(ts AS TIMESTAMP)) AS d_app FROM app), "
         "view_diff AS (SELECT view, CAST(ts AS TIMESTAMP) AS t, "
         "diff(response_ms) OVER (PARTITION BY view ORDER BY CAST(ts AS TIMESTAMP)) AS d_ms FROM views) "
         f"SELECT view, {RPN} FROM view_diff JOIN app_diff USING (t) GROUP BY view {TOP}", None, False),
        ("lagged_join", "the app one minute earlier: JOIN ON s.ts = a.ts + INTERVAL '1 minute'",
         f"{to_duckdb(ctes())} SELECT view, corr(d_ms, d_app) AS r, regr_count(d_ms, d_app) AS n {join} "
         f"ON s.ts = a.ts + INTERVAL '1 minute' GROUP BY view {TOP}", None, False),
        ("lead_minus_value", "the next value minus this one: lead(x) OVER (...) - x in the CTEs",
         "WITH app_diff AS (SELECT ts, lead(response_ms) OVER (ORDER BY ts) - response_ms AS d_app FROM app), "
         "view_diff AS (SELECT view, ts, lead(response_ms) OVER (PARTITION BY view ORDER BY ts) - response_ms AS d_ms FROM views) "
         f"SELECT view, corr(d_ms, d_app) AS r, regr_count(d_ms, d_app) AS n FROM view_diff JOIN app_diff USING (ts) "
         f"GROUP BY view {TOP}", None, False),
        ("long_table", "app and views in one long table (node, ts, response_ms): one window, the app picked by a.node = 'app'",
         "WITH d AS (SELECT node, ts, diff(response_ms) OVER (PARTITION BY node ORDER BY ts) AS d FROM long) "
         "SELECT s.node AS view, pearson_r(s.d, a.d) AS r, pearson_p(s.d, a.d) AS p, pearson_n(s.d, a.d) AS n "
         "FROM d s JOIN d a ON s.ts = a.ts AND a.node = 'app' WHERE s.node <> 'app' GROUP BY s.node "
         f"{TOP}", None, False),
        ("layers", "layers question (rank_layers shape, small)",
         "WITH app_diff AS (SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d_app FROM app), "
         "layer_diff AS (SELECT layer, ts, diff(ms) OVER (PARTITION BY layer ORDER BY ts) AS d_ms FROM layers) "
         f"SELECT layer, {RPN} FROM layer_diff JOIN app_diff USING (ts) GROUP BY layer "
         "ORDER BY r DESC NULLS LAST, layer", None, False),
    ]


def to_duckdb(sql):
    """perfcorr SQL -> DuckDB SQL: diff(x[, k]) OVER -> x - lag(x, k) OVER (the pearson_* are macros)."""
    return re.sub(r"\bdiff\(\s*([\w.]+)\s*(?:,\s*(\d+)\s*)?\)\s*OVER\b",
                  lambda m: f"{m[1]} - lag({m[1]}, {m[2] or 1}) OVER", sql)


def duckdb_worker(data, sql):
    """Runs sql in DuckDB over data's Parquet files; prints CSV (floats as repr, NULL empty)."""
    import duckdb
    from scipy import special

    def p_from_r(r, n):  # scipy.stats.pearsonr: 2 * beta(n/2-1, n/2-1, loc=-1, scale=2).sf(|r|)
        if n < 2:
            return None
        ab = n / 2 - 1
        return 1.0 if n == 2 else float(2 * special.betainc(ab, ab, max(0.0, (1 - abs(r)) / 2)))

    def log10_p_from_r(r, n):
        p = p_from_r(r, n)
        return None if p is None else (math.log10(p) if p > 0 else -math.inf)

    con = duckdb.connect()
    for name, fn in (("p_from_r", p_from_r), ("log10_p_from_r", log10_p_from_r)):
        con.create_function(name, fn, ["DOUBLE", "DOUBLE"], "DOUBLE")
    z = float(special.ndtri(0.975))  # two-sided 95%, as pearsonr(...).confidence_interval()
    for stmt in [
        *(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data}/{t}.parquet')" for t in ("app", "layers", "views", "long")
          if os.path.exists(f"{data}/{t}.parquet")),
        "CREATE MACRO pearson_r(x, y) AS corr(x, y)",
        "CREATE MACRO pearson_n(x, y) AS regr_count(x, y)",
        "CREATE MACRO pearson_p(x, y) AS p_from_r(corr(x, y), regr_count(x, y))",
        "CREATE MACRO pearson_log10_p(x, y) AS log10_p_from_r(corr(x, y), regr_count(x, y))",
        *(f"CREATE MACRO pearson_ci_{side}(x, y) AS CASE WHEN regr_count(x, y) > 3 THEN "
          f"tanh(atanh(corr(x, y)) {sign} {z!r} / sqrt(regr_count(x, y) - 3)) END"
          for side, sign in (("low", "-"), ("high", "+"))),
    ]:
        con.execute(stmt)
    cur = con.execute(sql)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([d[0] for d in cur.description])
    for row in cur.fetchall():
        out.writerow(["" if v is None else repr(v) if isinstance(v, float) else str(v) for v in row])


def same_answer(ours, theirs, unordered):
    """'yes' or 'NO (reason)': DuckDB's columns must be in perfcorr's, matched by name (key = first)."""
    a, b = list(csv.reader(io.StringIO(ours))), list(csv.reader(io.StringIO(theirs)))
    head_a, head_b = a[0], b[0]
    missing = [c for c in head_b[1:] if c not in head_a]
    if missing:
        return f"NO (columns {missing} missing)"
    rows_a, rows_b = a[1:], b[1:]
    if unordered:
        rows_a, rows_b = sorted(rows_a), sorted(rows_b)
    if len(rows_a) != len(rows_b):
        return f"NO ({len(rows_a)} vs {len(rows_b)} rows)"
    worst = 0.0
    for ra, rb in zip(rows_a, rows_b):
        if ra[0] != rb[0]:
            return f"NO (key {ra[0]!r} vs {rb[0]!r})"
        for j, col in enumerate(head_b[1:], 1):
            x, y = ra[head_a.index(col)], rb[j]
            if x == "" or y == "":
                if x != y:
                    return f"NO ({col} of {ra[0]}: {x!r} vs {y!r})"
                continue
            x, y = float(x), float(y)
            if col == "n":
                ok = x == y
            elif col.startswith("p") or "log10" in col:
                ok = (x == y or abs(x - y) <= 1e-6 * max(abs(x), abs(y))
                      or (col.startswith("p") and max(x, y) < 1e-300)
                      or ("log10" in col and max(x, y) < -300))
            else:
                # r to 1e-9; slopes, covariances, intercepts relative to their size.
                worst = max(worst, abs(x - y) / max(1.0, abs(x), abs(y)))
                ok = abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
            if not ok:
                return f"NO ({col} of {ra[0]}: {x!r} vs {y!r})"
    return f"yes (max Δr {worst:.0e})" if worst else "yes"


def long_table(data):
    """Writes data/long.parquet once: the views' and the app's response_ms in one long table
    (node, ts, response_ms; the app as node 'app'), sorted by node then ts, as a metrics store
    exports it."""
    path = os.path.join(data, "long.parquet")
    if os.path.exists(path):
        return
    import duckdb
    duckdb.connect().execute(
        f"COPY (SELECT view AS node, ts, response_ms FROM read_parquet('{data}/views.parquet') "
        f"UNION ALL SELECT 'app', ts, response_ms FROM read_parquet('{data}/app.parquet') ORDER BY node, ts) "
        f"TO '{path}' (FORMAT parquet, COMPRESSION zstd)")


def window_start(perfcorr, data):
    """A timestamp ~60% into the app's time range, rounded down to the minute."""
    out = subprocess.run([perfcorr, "-q", "--format", "csv", "--data", data,
                          "-c", "SELECT min(ts) AS lo, max(ts) AS hi FROM app"],
                         capture_output=True, text=True, check=True).stdout
    lo, hi = (datetime.fromisoformat(v) for v in out.splitlines()[1].split(","))
    t = lo + (hi - lo) * 0.6
    return (t - timedelta(seconds=t.second, microseconds=t.microsecond)).strftime("%Y-%m-%d %H:%M:%S")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--duckdb-worker":
        return duckdb_worker(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--perfcorr", default=os.path.join(ROOT, "target/release/perfcorr"))
    parser.add_argument("--only", help="comma-separated variant names")
    parser.add_argument("--show-sql", action="store_true", help="print each variant's two SQL strings and exit")
    args = parser.parse_args()
    data = os.path.abspath(args.data)
    t = window_start(args.perfcorr, data)
    long_table(data)
    chosen = variants(t)
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {v[0] for v in chosen}
        if unknown:
            sys.exit(f"unknown variants {sorted(unknown)}; known: {', '.join(v[0] for v in chosen)}")
        chosen = [v for v in chosen if v[0] in names]
    if args.show_sql:
        for name, _, ours, theirs, _ in chosen:
            print(f"-- {name}\nperfcorr: {ours}\nDuckDB:   {to_duckdb(theirs or ours)}\n")
        return
    print("| variant | perfcorr | DuckDB | ratio DuckDB/perfcorr | same answer |")
    print("|---|---|---|---|---|")
    for name, label, ours, theirs, unordered in chosen:
        cmds = {"perfcorr": [args.perfcorr, "-q", "--format", "csv", "--data", data, "-c", ours],
                "duckdb": [sys.executable, os.path.abspath(__file__), "--duckdb-worker", data,
                           to_duckdb(theirs or ours)]}
        times, outputs = {"perfcorr": [], "duckdb": []}, {}
        for run in range(args.runs):
            for tool, cmd in cmds.items():
                out, wall, rss = timed(cmd)
                outputs[tool] = out
                times[tool].append(wall)
                print(f"{name} run {run + 1} {tool:8s} {wall:6.2f} s {rss:6.0f} MB", file=sys.stderr, flush=True)
        ours_s, theirs_s = statistics.median(times["perfcorr"]), statistics.median(times["duckdb"])
        ratio = f"{theirs_s / ours_s:.1f}" if ours_s > 0 else "-"
        verdict = same_answer(outputs["perfcorr"], outputs["duckdb"], unordered)
        print(f"| `{name}`: {label} | {ours_s:.2f} s | {theirs_s:.2f} s | {ratio} | {verdict} |", flush=True)
    command = shlex.join([os.path.relpath(sys.executable), os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    print(f"\nCommand: `{command}` (medians of {args.runs} runs, window start {t}, "
          f"{datetime.now():%Y-%m-%d %H:%M})")


if __name__ == "__main__":
    main()
