//! The sort under a window done by grouping (`GroupSortExec`): the same rows
//! in the same order as DataFusion's sort, whatever the keys' types, NULL
//! keys and times, the time's direction and NULL placement, the number of
//! partitions; rows with equal keys and times in input order; and
//! DataFusion's sort taking over when the memory pool refuses the rows.

use std::sync::Arc;

use perfcorr::datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use perfcorr::datafusion::arrow::datatypes::{DataType, Field, Schema};
use perfcorr::datafusion::datasource::MemTable;
use perfcorr::datafusion::prelude::SessionContext;

use crate::common::{assert_rows_close, rows};

/// `parts` partitions of rows `(k, j, t, v, id)`: keys `k` (text, NULL in
/// some groups, unique otherwise) and `j`, each group's times a shuffled range with one NULL in
/// some groups (so `(k, j, t)` is unique), values NULL now and then.
fn table(groups: usize, per_group: usize, parts: usize, seed: u64) -> MemTable {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut rows: Vec<(Option<String>, i64, Option<i64>, Option<f64>)> = Vec::new();
    for g in 0..groups {
        let k = (g != 3 && g != 10).then(|| format!("view/{:03}", (g * 37) % 1000));
        let mut times: Vec<i64> = (0..per_group as i64).map(|i| 1_000 + 60 * i).collect();
        // Mostly in order, some swaps, as exported data is.
        for _ in 0..per_group / 4 {
            let (a, b) = (next() as usize % per_group, next() as usize % per_group);
            times.swap(a, b);
        }
        for (i, t) in times.into_iter().enumerate() {
            let t = (g % 3 != 0 || i != per_group / 2).then_some(t);
            let v = (next() % 11 != 0).then(|| (next() % 1000) as f64 / 10.0);
            rows.push((k.clone(), (g % 4) as i64, t, v));
        }
    }
    // Interleave the groups' rows a little, as several exporters do.
    for i in (1..rows.len()).step_by(3) {
        let j = next() as usize % rows.len();
        rows.swap(i, j);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("j", DataType::Int64, false),
        Field::new("t", DataType::Int64, true),
        Field::new("v", DataType::Float64, true),
        Field::new("id", DataType::Int64, false),
    ]));
    let chunk = rows.len().div_ceil(parts);
    let batches = rows
        .chunks(chunk)
        .enumerate()
        .map(|(c, part)| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(part.iter().map(|r| r.0.clone()).collect::<StringArray>()),
                Arc::new(part.iter().map(|r| r.1).collect::<Int64Array>()),
                Arc::new(part.iter().map(|r| r.2).collect::<Int64Array>()),
                Arc::new(part.iter().map(|r| r.3).collect::<Float64Array>()),
                Arc::new(Int64Array::from_iter_values((0..part.len()).map(|i| (c * chunk + i) as i64))),
            ];
            vec![RecordBatch::try_new(Arc::clone(&schema), columns).unwrap()]
        })
        .collect();
    MemTable::try_new(schema, batches).unwrap()
}

async fn with_table(ctx: SessionContext, table: MemTable) -> SessionContext {
    ctx.register_table("tbl", Arc::new(table)).unwrap();
    ctx
}

/// Windows that see the rows' order: row numbers, lag, diff.
fn queries() -> Vec<String> {
    let windows = |keys: &str, partition: &str, order: &str| {
        format!(
            "SELECT CAST(k AS VARCHAR) AS k, j, t, v, row_number() OVER w AS rn, lag(v) OVER w AS prev, diff(v) OVER w AS d, first_value(id) OVER w AS first_id
             FROM (SELECT {keys}, t, v, id FROM tbl) WINDOW w AS (PARTITION BY {partition} ORDER BY {order}) ORDER BY k, j, t, rn"
        )
    };
    // One text key (the string-view path), unique per group.
    let one_key = "arrow_cast(coalesce(k, 'none/' || j), 'Utf8View') AS k, j";
    vec![
        windows("k, j", "k, j", "t"),
        windows("k, j", "k, j", "t DESC NULLS FIRST"),
        windows("k, j", "k, j", "t ASC NULLS FIRST"),
        windows("k, j", "k, j", "t DESC NULLS LAST"),
        windows("k, j", "j, k", "t"),
        windows(one_key, "k", "t"),
        windows(one_key, "k", "t DESC"),
        windows("arrow_cast(k, 'Dictionary(Int32, Utf8)') AS k, j", "k, j", "t"),
        windows("k, j", "k, j", "CAST(t AS INT)"),
        windows("k, j", "k, j", "to_timestamp_seconds(t)"),
        windows("k, j", "k, j", "CAST(to_timestamp_seconds(t * 86400) AS DATE)"),
        // One window with computed keys and time: sorted by the expressions.
        "SELECT k, j, t, v, diff(v) OVER (PARTITION BY lower(k), j ORDER BY CAST(t AS INT) DESC) AS d FROM tbl ORDER BY k, j, t".to_string(),
        "SELECT k, j, t, v, row_number() OVER (PARTITION BY coalesce(k, 'none') || '/' || j ORDER BY to_timestamp_seconds(t) NULLS FIRST) AS rn FROM tbl ORDER BY k, j, t"
            .to_string(),
        // The seed's question, windows and a join, left join with count(*).
        "WITH a AS (SELECT t, diff(v) OVER (ORDER BY t) AS d_app FROM tbl WHERE k = 'view/000' AND j = 0),
              s AS (SELECT k, j, t, diff(v) OVER (PARTITION BY k, j ORDER BY t) AS d FROM tbl)
         SELECT k, j, corr(d, d_app) AS r, count(*) AS n FROM s LEFT JOIN a USING (t) GROUP BY k, j ORDER BY k, j"
            .to_string(),
    ]
}

#[tokio::test]
async fn sorts_under_windows_give_datafusions_order() {
    // Many small groups; a few groups each spanning many output batches.
    for (groups, per_group, parts, partitions) in [(30, 40, 1, 1), (30, 40, 3, 2), (30, 40, 4, 4), (4, 1_000, 2, 2)] {
        let config = || perfcorr::session_config().with_target_partitions(partitions).with_batch_size(100);
        let ours = with_table(perfcorr::session_with_config(config()), table(groups, per_group, parts, 7)).await;
        let theirs = with_table(perfcorr::session_without_fusion(config()), table(groups, per_group, parts, 7)).await;
        for sql in queries() {
            let what = format!("{groups} groups of {per_group}, {parts} parts, {partitions} partitions: {sql}");
            let plan = rows(&ours, &format!("EXPLAIN {sql}")).await;
            let plan: String = plan.iter().map(|row| row[1].text().to_string()).collect();
            assert!(plan.contains("GroupSortExec"), "{what}: {plan}");
            assert_rows_close(&rows(&ours, &sql).await, &rows(&theirs, &sql).await, &what);
        }
    }
}

/// Windows of `diff` only: computed a batch at a time over the sorted rows
/// (`DiffWindowExec`), with DataFusion's answers: periods 1 to 3, groups
/// spanning many batches, NULL keys, times and values, descending times,
/// computed keys, no PARTITION BY.
#[tokio::test]
async fn diff_windows_over_sorted_rows_give_datafusions_answers() {
    let windows = |keys: &str, partition: &str, order: &str| {
        format!(
            "SELECT CAST(k AS VARCHAR) AS k, j, t, v, diff(v) OVER w AS d, diff(v, 3) OVER w AS d3, v - lag(v, 2) OVER w AS d2, diff(-v) OVER w AS minus
             FROM (SELECT {keys}, t, v, id FROM tbl) WINDOW w AS (PARTITION BY {partition} ORDER BY {order}) ORDER BY k, j, t"
        )
    };
    let one_key = "arrow_cast(coalesce(k, 'none/' || j), 'Utf8View') AS k, j";
    let queries = [
        windows("k, j", "k, j", "t"),
        windows("k, j", "j, k", "t DESC NULLS FIRST"),
        windows(one_key, "k", "t"),
        windows("arrow_cast(k, 'Dictionary(Int32, Utf8)') AS k, j", "k, j", "CAST(t AS INT)"),
        "SELECT k, j, t, v, diff(v) OVER (PARTITION BY lower(k), j ORDER BY CAST(t AS INT) DESC) AS d FROM tbl ORDER BY k, j, t".to_string(),
        "SELECT k, j, t, v, diff(v, 2) OVER (ORDER BY t, k, j) AS d FROM tbl ORDER BY k, j, t".to_string(),
    ];
    for (groups, per_group, parts, partitions) in [(30, 40, 1, 1), (30, 40, 3, 2), (4, 1_000, 2, 2)] {
        let config = || perfcorr::session_config().with_target_partitions(partitions).with_batch_size(100);
        let ours = with_table(perfcorr::session_with_config(config()), table(groups, per_group, parts, 11)).await;
        let theirs = with_table(perfcorr::session_without_fusion(config()), table(groups, per_group, parts, 11)).await;
        for sql in &queries {
            let what = format!("{groups} groups of {per_group}, {parts} parts, {partitions} partitions: {sql}");
            let plan: String = rows(&ours, &format!("EXPLAIN {sql}")).await.iter().map(|row| row[1].text().to_string()).collect();
            assert!(plan.contains("DiffWindowExec"), "{what}: {plan}");
            assert_rows_close(&rows(&ours, sql).await, &rows(&theirs, sql).await, &what);
        }
    }
    // A window with another function keeps DataFusion's.
    let ctx = with_table(perfcorr::session_with_config(perfcorr::session_config()), table(4, 10, 1, 11)).await;
    let plan: String = rows(&ctx, "EXPLAIN SELECT diff(v) OVER w, row_number() OVER w FROM tbl WINDOW w AS (PARTITION BY k ORDER BY t)")
        .await
        .iter()
        .map(|row| row[1].text().to_string())
        .collect();
    assert!(!plan.contains("DiffWindowExec") && plan.contains("BoundedWindowAggExec"), "{plan}");
}

/// Rows with the same keys and time keep their input order (one partition).
#[tokio::test]
async fn equal_times_keep_the_input_order() {
    let config = perfcorr::session_config().with_target_partitions(1).with_batch_size(64);
    let ctx = with_table(perfcorr::session_with_config(config), table(12, 50, 1, 3)).await;
    let sql = "SELECT k, j, bucket, id, row_number() OVER (PARTITION BY k, j ORDER BY bucket) AS rn
               FROM (SELECT k, j, t / 300 AS bucket, id FROM tbl WHERE t IS NOT NULL) ORDER BY k, j, rn";
    let plan: String = rows(&ctx, &format!("EXPLAIN {sql}")).await.iter().map(|row| row[1].text().to_string()).collect();
    assert!(plan.contains("GroupSortExec"), "{plan}");
    let got = rows(&ctx, sql).await;
    let mut ties = 0;
    for pair in got.windows(2) {
        let key = |row: &Vec<crate::common::Cell>| format!("{:?}", &row[..3]);
        if key(&pair[0]) == key(&pair[1]) {
            ties += 1;
            let id = |row: &Vec<crate::common::Cell>| row[3].float().unwrap();
            assert!(id(&pair[0]) < id(&pair[1]), "{pair:?}");
        }
    }
    assert!(ties > 100, "{ties} ties");
}

/// Under a memory limit too small for the rows, DataFusion's sort (which
/// spills) takes them over: same answer.
#[tokio::test]
async fn a_refusing_memory_pool_hands_the_rows_to_datafusions_sort() {
    let (groups, per_group) = (200, 2_000);
    let theirs = with_table(perfcorr::session_without_fusion(perfcorr::session_config()), table(groups, per_group, 2, 11)).await;
    let ours = with_table(perfcorr::session_with_memory_limit(16 << 20).unwrap(), table(groups, per_group, 2, 11)).await;
    // DataFusion's sort keeps 10 MB per partition for its merge by default.
    ours.sql("SET datafusion.execution.sort_spill_reservation_bytes = 1048576").await.unwrap();
    let sql = "SELECT k, j, count(*) AS n, sum(d) AS total, max(rn) AS rows FROM
               (SELECT k, j, diff(v) OVER w AS d, row_number() OVER w AS rn FROM tbl WINDOW w AS (PARTITION BY k, j ORDER BY t))
               GROUP BY k, j ORDER BY k, j";
    assert_rows_close(&rows(&ours, sql).await, &rows(&theirs, sql).await, "memory limit");
    let analyzed = rows(&ours, &format!("EXPLAIN ANALYZE {sql}")).await;
    let analyzed: String = analyzed.iter().map(|row| row[1].text().to_string()).collect();
    assert!(analyzed.contains("GroupSortExec") && !analyzed.contains("handed_over=0"), "{analyzed}");
}
