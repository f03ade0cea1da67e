#!/usr/bin/env python3
"""Writes a copy of an incident folder whose views table ends with one more
row: the first view's first minute again, with another value. The rows stay
in file order up to that last one, so perfcorr's streaming pass reads the
whole file before it meets the disorder, and its sorting pass finds the
repeat only after reading everything again: the case that read the series
three times before the replay (BENCHMARKS.md, "Repeats replayed from
memory"). The other tables are copied as they are.

    late_repeat.py SRC_DIR DST_DIR
"""
import os
import shutil
import sys

import duckdb


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith(".parquet") and name != "views.parquet":
            shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"""
        COPY (
            SELECT * FROM (SELECT *, 0 AS part FROM read_parquet('{src}/views.parquet')
                           UNION ALL
                           (SELECT * REPLACE (response_ms + 1 AS response_ms), 1 AS part
                            FROM read_parquet('{src}/views.parquet') LIMIT 1))
            ORDER BY part
        ) TO '{dst}/views.tmp.parquet' (FORMAT parquet, COMPRESSION zstd)
    """)
    con.execute(f"""
        COPY (SELECT * EXCLUDE (part) FROM read_parquet('{dst}/views.tmp.parquet'))
        TO '{dst}/views.parquet' (FORMAT parquet, COMPRESSION zstd)
    """)
    os.remove(os.path.join(dst, "views.tmp.parquet"))


if __name__ == "__main__":
    main(*sys.argv[1:])
