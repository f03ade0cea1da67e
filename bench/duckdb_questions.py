#!/usr/bin/env python3
"""The peer for perfcorr's three saved ranking queries: DuckDB SQL (lag + corr)
for r and n, scipy for p from r (DuckDB has no p-value), same columns, ranking
and LIMITs as queries/rank_*.sql. Prints CSV to stdout.

    duckdb_questions.py DATA_DIR
"""
import sys

import duckdb
import numpy as np
from scipy import stats

QUESTIONS = [
    # (series table, key, value, limit)
    ("layers", "layer", "ms", None),
    ("views", "view", "response_ms", 20),
    ("views", "view", "throughput_rpm", 20),
]


def p_from_r(r, n):
    r, n = np.asarray(r, dtype=float), np.asarray(n, dtype=float)
    ab = n / 2 - 1
    return 2 * stats.beta(ab, ab, loc=-1, scale=2).sf(np.abs(r))


def main(data):
    con = duckdb.connect()
    out = sys.stdout
    for table, key, value, limit in QUESTIONS:
        sql = f"""
            WITH app_diff AS (
                SELECT ts, response_ms - lag(response_ms) OVER (ORDER BY ts) AS d_app
                FROM read_parquet('{data}/app.parquet')
            ),
            series_diff AS (
                SELECT {key} AS k, ts, {value} - lag({value}) OVER (PARTITION BY {key} ORDER BY ts) AS d
                FROM read_parquet('{data}/{table}.parquet')
            )
            SELECT k, corr(d, d_app) AS r, regr_count(d, d_app) AS n
            FROM series_diff JOIN app_diff USING (ts)
            GROUP BY k
            ORDER BY r DESC NULLS LAST, k
            {f"LIMIT {limit}" if limit else ""}
        """
        rows = con.execute(sql).fetchall()
        p = p_from_r([r for _, r, _ in rows], [n for _, _, n in rows])
        out.write(f"{key},r,p,n\n")
        for (k, r, n), pv in zip(rows, p):
            out.write(f"{k},{r!r},{float(pv)!r},{n}\n")


if __name__ == "__main__":
    main(sys.argv[1])
