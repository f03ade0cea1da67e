#!/usr/bin/env bash
# Medians of 9 runs: start-up and the saved queries on the bundled sample
# (release build; run bench/run.sh M or L first for the --data run).
cd "$(dirname "$0")/.."
cargo build --release --quiet
P=target/release/perfcorr
times=$(mktemp)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { local label=$1; shift; for i in $(seq 9); do /usr/bin/time -f "%e" "$@" >/dev/null 2>>"$times" ; done; echo "$label $(tail -9 "$times" | median) s"; rm -f "$times"; }
run 'SELECT 1' $P -q -c "SELECT 1"
run 'SELECT 1 --data L' $P -q --data bench/data/L -c "SELECT 1"
for q in rank_layers rank_view_times rank_view_throughputs raw_vs_diff report; do run $q $P -q -f queries/$q.sql; done
