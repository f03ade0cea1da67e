#!/usr/bin/env python3
"""Writes a copy of an incident folder with the rows of every series table in
a random order (pseudo-random by hash of key and ts), to time the path for
files that are not sorted by series and time. The app table is copied as is.

    shuffle.py SRC_DIR DST_DIR
"""
import os
import shutil
import sys

import duckdb


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "app.parquet"), os.path.join(dst, "app.parquet"))
    con = duckdb.connect()
    for table, key in (("layers", "layer"), ("views", "view")):
        con.execute(f"""
            COPY (SELECT * FROM read_parquet('{src}/{table}.parquet') ORDER BY hash({key}, ts))
            TO '{dst}/{table}.parquet' (FORMAT parquet, COMPRESSION zstd)
        """)


if __name__ == "__main__":
    main(*sys.argv[1:])
