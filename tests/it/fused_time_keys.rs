//! Joins on an expression of the time (`date_trunc`, `date_bin`, a `CAST`
//! kept as a column in the CTEs, a shift by an interval), windows ordered by
//! one (`ORDER BY CAST(ts AS TIMESTAMP)`): fused while, on
//! each side, the key is the time shifted by one constant; DataFusion's plan
//! (the operator's fallback) when the data breaks that (times at any
//! second of the minute, an hour's truncation joining many rows to many).
//! Answers as DataFusion's plan gives them, to 1e-12.

use crate::fused::{check, incident, sessions, Incident, Order, Path, TimeType};

const SECOND: i64 = 1_000_000;

fn question(join: &str, select: &str) -> String {
    format!(
        "WITH a AS (SELECT ts, CAST(ts AS TIMESTAMP(9)) AS t, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
              s AS (SELECT view, ts, CAST(ts AS TIMESTAMP(9)) AS t, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
         SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n{select} FROM s JOIN a {join} GROUP BY view ORDER BY view"
    )
}

/// Joins whose keys are the time, shifted or not, on data on the minute.
const SHIFTS: &[(&str, &str, &str)] = &[
    ("truncated to the minute", "ON date_trunc('minute', s.ts) = date_trunc('minute', a.ts)", ", count(*) AS rows"),
    ("a CAST kept as a column", "USING (t)", ", avg(d) AS mean"),
    ("binned", "ON date_bin(INTERVAL '1 minute', s.ts) = date_bin(INTERVAL '1 minute', a.ts)", ""),
    ("the app two minutes earlier", "ON s.ts = a.ts + INTERVAL '2 minutes'", ", count(*) AS rows, max(d_app) AS high"),
    ("the series one minute later, truncated", "ON date_trunc('minute', s.ts - INTERVAL '1 minute') = a.ts", ""),
];

#[tokio::test]
async fn joins_on_a_shifted_time_are_fused() {
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        for (what, join, select) in SHIFTS {
            let path = check(&fused, &plain, &question(join, select), what).await;
            assert!(matches!(path, Path::Streamed | Path::Buffered), "{what} ({order:?}): {path:?}");
        }
    }
    // Integer times shifted by a constant.
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Int64).await;
    let sql = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                    s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
               SELECT view, corr(d, d_app) AS r FROM s JOIN a ON s.ts + 60000000 = a.ts GROUP BY view ORDER BY view";
    assert_eq!(check(&fused, &plain, sql, "integer times, shifted").await, Path::Streamed);
}

/// Windows ordered by an expression of the time, joined on the time or on
/// the same expression: fused (the key is the window's order shifted by 0).
#[tokio::test]
async fn windows_ordered_by_an_expression_of_the_time_are_fused() {
    let ordered = |series_order: &str, app_order: &str, join: &str| {
        format!(
            "WITH a AS (SELECT ts, CAST(ts AS TIMESTAMP(9)) AS t, diff(v) OVER (ORDER BY {app_order}) AS d_app FROM app),
                  s AS (SELECT view, ts, CAST(ts AS TIMESTAMP(9)) AS t, diff(v) OVER (PARTITION BY view ORDER BY {series_order}) AS d FROM views)
             SELECT view, corr(d, d_app) AS r, count(*) AS rows FROM s JOIN a {join} GROUP BY view ORDER BY view"
        )
    };
    let cast = "CAST(ts AS TIMESTAMP(9))";
    let cases = [
        ("both windows by a CAST, joined on the time", ordered(cast, cast, "USING (ts)")),
        ("both windows by a CAST, joined on it", ordered(cast, cast, "USING (t)")),
        ("the series' window by a CAST", ordered(cast, "ts", "USING (ts)")),
        ("by the time shifted", ordered("ts + INTERVAL '1 hour'", "ts", "ON s.ts = a.ts")),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        for (what, sql) in &cases {
            let path = check(&fused, &plain, sql, what).await;
            assert!(matches!(path, Path::Streamed | Path::Buffered), "{what} ({order:?}): {path:?}");
        }
        let filtered = ordered(cast, cast, "USING (ts) WHERE s.ts >= TIMESTAMP '1970-01-01 01:00:00'");
        assert_eq!(check(&fused, &plain, &filtered, "a filter on the time").await, Path::NotFused);
    }
}

/// The views' times moved within their minute by `offset(view, minute)`.
fn moved(offset: impl Fn(usize, i64) -> i64) -> Incident {
    let mut data = incident(Order::SeriesThenTime);
    for (row, (view, _, ts, _)) in data.views.iter_mut().enumerate() {
        let number = view.bytes().map(usize::from).sum::<usize>() + row % 3;
        *ts += offset(number, *ts / (60 * SECOND));
    }
    data
}

#[tokio::test]
async fn keys_that_are_not_a_constant_shift_give_datafusions_answer() {
    let truncated = question("ON date_trunc('minute', s.ts) = date_trunc('minute', a.ts)", ", count(*) AS rows");
    // Every view 7 s past the minute: a constant shift, fused.
    let (fused, plain, _dir) = sessions(&moved(|_, _| 7 * SECOND), TimeType::Timestamp).await;
    assert_eq!(check(&fused, &plain, &truncated, "7 s past the minute").await, Path::Streamed);
    // At any second of the minute: DataFusion's plan.
    let (fused, plain, _dir) = sessions(&moved(|view, minute| ((view as i64 * 7 + minute) % 60) * SECOND), TimeType::Timestamp).await;
    assert_eq!(check(&fused, &plain, &truncated, "any second").await, Path::Fallback);
    // An hour's truncation joins every minute of an hour with every other.
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let hourly = question("ON date_trunc('hour', s.ts) = date_trunc('hour', a.ts)", ", count(*) AS rows");
    assert_eq!(check(&fused, &plain, &hourly, "truncated to the hour").await, Path::Fallback);
}

/// What the operator cannot tell from a shifted key keeps DataFusion's plan:
/// filters and ordered statistics reading the time (it is not the same on
/// both sides), a key of another kind than the time, a key reading more
/// than the time.
#[tokio::test]
async fn reading_the_time_beside_a_shifted_key_keeps_datafusions_plan() {
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let shifted = "ON s.ts = a.ts + INTERVAL '2 minutes'";
    let cases = [
        ("a filter on the time", question(&format!("{shifted} WHERE s.ts >= TIMESTAMP '1970-01-01 01:00:00'"), "")),
        ("an ordered statistic", question(shifted, ", xcorr_lag(d, d_app, 2 ORDER BY s.ts) AS lag")),
        ("an integer key for a timestamp", question("ON CAST(s.ts AS BIGINT) = CAST(a.ts AS BIGINT)", "")),
        ("a key reading the value", question("ON CASE WHEN s.d > 0 THEN s.t ELSE s.t + INTERVAL '1 minute' END = a.t", "")),
    ];
    for (what, sql) in cases {
        assert_eq!(check(&fused, &plain, &sql, what).await, Path::NotFused, "{what}");
    }
}
