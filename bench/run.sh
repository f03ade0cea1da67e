#!/usr/bin/env bash
# perfcorr vs DuckDB on the seed's three questions (see BENCHMARKS.md).
#   bash bench/run.sh M     # 1,000 views x 10,080 points (10M rows per question)
#   bash bench/run.sh L     # 10,000 views x 10,080 points (100M rows)
#   bash bench/run.sh M-shuffled / L-shuffled   # the same rows in random order
# Extra arguments go to compare.py (e.g. --runs 7, --memory-limit 4G).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:?usage: bench/run.sh M|L|M-shuffled|L-shuffled [compare.py options]}
shift
base=${size%-shuffled}
case "$base" in
  M) views=1000 ;;
  L) views=10000 ;;
  *) echo "size must be M, L, M-shuffled or L-shuffled" >&2; exit 2 ;;
esac
cargo build --release
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet duckdb scipy numpy
fi
if [ ! -f "bench/data/$base/views.parquet" ]; then
  # No sort-order hint in the files: users' files will not carry one either.
  target/release/perfcorr generate --views "$views" --points 10080 --seed 1 --no-sort-metadata --out "bench/data/$base"
fi
data=bench/data/$size
if [ ! -f "$data/views.parquet" ]; then
  bench/.venv/bin/python bench/shuffle.py "bench/data/$base" "$data"
fi
bench/.venv/bin/python bench/compare.py "$data" "$@"
