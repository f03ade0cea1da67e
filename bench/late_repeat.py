#!/usr/bin/env python3
"""Writes a copy of an incident folder whose views table ends with one more
row: the first view's first minute again, with another value. The rows stay
in file order up to that last one, so perfcorr's streaming pass reads the
whole file before it meets the disorder, and its sorting pass reads it again
(BENCHMARKS.md, "Repeats replayed from memory", "Repeated timestamps taken in
the files' order"). With `--every K`, every K-th row of the views table is
also followed by a copy of itself with another value (a minute sampled twice,
in time order); `--no-late` leaves the late row out. The other tables are
copied as they are.

    late_repeat.py SRC_DIR DST_DIR [--every K] [--no-late]
"""
import argparse
import os
import shutil

import duckdb


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--every", type=int, default=0, help="copy every K-th row next to itself (0: none)")
    parser.add_argument("--no-late", action="store_true", help="without the late row")
    args = parser.parse_args()
    src, dst = args.src, args.dst
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith(".parquet") and name != "views.parquet":
            shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"CREATE TABLE v AS SELECT *, row_number() OVER () AS rn FROM read_parquet('{src}/views.parquet')")
    every = f"""UNION ALL (SELECT * REPLACE (response_ms + 1 AS response_ms), 0 AS part, rn + 0.5 AS place
                           FROM v WHERE rn % {args.every} = 0)""" if args.every > 0 else ""
    late = "" if args.no_late else """UNION ALL (SELECT * REPLACE (response_ms + 1 AS response_ms), 1 AS part, 0.0 AS place
                                              FROM v WHERE rn = 1)"""
    con.execute(f"""
        COPY (
            SELECT * EXCLUDE (rn, part, place) FROM (
                SELECT *, 0 AS part, rn::DOUBLE AS place FROM v
                {every}
                {late})
            ORDER BY part, place
        ) TO '{dst}/views.parquet' (FORMAT parquet, COMPRESSION zstd)
    """)


if __name__ == "__main__":
    main()
