//! The previous value kept as a column (`prev = lag(v) OVER w` in the CTEs)
//! and the difference written above the join, where it is used:
//! `corr(s.v - s.prev, a.v - a.prev)`, in a WHERE, a FILTER or a summary.
//! Fused, with the answer of DataFusion's own `lag` and `corr` and of
//! perfcorr's session without its rules (to 1e-12), rows in series order and
//! shuffled; the subtraction the other way round (`s.next - s.v`) too.
//! Subtractions that are not a value minus its own shifted value keep
//! DataFusion's plan.

use crate::fused::{check, incident, sessions, Order, Path, TimeType};
use crate::fused_spellings::{datafusion_itself, non_finite_incidents};

const CTES: &str = "WITH a AS (SELECT ts, v, lag(v) OVER (ORDER BY ts) AS prev, lag(v, 2) OVER (ORDER BY ts) AS prev2,
                                      lead(v) OVER (ORDER BY ts) AS next FROM app),
                          s AS (SELECT view, ts, v, v AS same, lag(v) OVER (PARTITION BY view ORDER BY ts) AS prev,
                                      lag(v, 2) OVER (PARTITION BY view ORDER BY ts) AS prev2,
                                      lead(v) OVER (PARTITION BY view ORDER BY ts) AS next,
                                      lag(v, 1, 0.0) OVER (PARTITION BY view ORDER BY ts) AS prev_or_zero FROM views)";

const FUSED: &[(&str, &str)] = &[
    ("in the arguments", "SELECT view, corr(s.v - s.prev, a.v - a.prev) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
    (
        "beside regr_count and pearson_p (one named expression for each side)",
        "SELECT view, corr(s.v - s.prev, a.v - a.prev) AS r, regr_count(s.v - s.prev, a.v - a.prev) AS n,
                pearson_p(a.v - a.prev, s.v - s.prev) AS p FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "a WHERE on each difference and the time",
        "SELECT s.view, corr(s.v - s.prev, a.v - a.prev) AS r, pearson_n(s.v - s.prev, a.v - a.prev) AS n FROM s JOIN a ON s.ts = a.ts
         WHERE s.v - s.prev > -5 AND a.v - a.prev < 10 AND s.ts >= TIMESTAMP '1970-01-01 00:30:00' GROUP BY s.view ORDER BY s.view",
    ),
    (
        "a FILTER on the series' difference and summaries of both",
        "SELECT view, corr(s.v - s.prev, a.v - a.prev) FILTER (WHERE s.v - s.prev > 0) AS r_up, avg(s.v - s.prev) AS mean,
                max(a.v - a.prev) AS high, count(*) AS rows FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "two periods and lead",
        "SELECT view, corr(s.v - s.prev2, a.v - a.prev2) AS r2, corr(s.v - s.next, a.v - a.next) AS r_next
         FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "the subtraction the other way round: the next value minus this one, the previous minus this",
        "SELECT view, corr(s.next - s.v, a.next - a.v) AS r_next, corr(s.prev - s.v, a.v - a.prev) AS r_flipped,
                avg(s.next - s.v) FILTER (WHERE a.next - a.v > 0) AS up FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
];

const NOT_FUSED: &[(&str, &str)] = &[
    ("a sum, not a difference", "SELECT view, corr(s.prev + s.v, a.v - a.prev) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
    ("a lag with a default", "SELECT view, corr(s.v - s.prev_or_zero, a.v - a.prev) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
    ("another column minus the lag", "SELECT view, corr(s.same + 1 - s.prev, a.v - a.prev) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
    ("a summary of the value", "SELECT view, corr(s.v - s.prev, a.v - a.prev) AS r, avg(s.v) AS m FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
    ("one side's value minus the other's lag", "SELECT view, corr(s.v - a.prev, a.v - a.prev) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
];

#[tokio::test]
async fn differences_of_lag_columns_above_the_join_are_fused() {
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let reference = datafusion_itself(dir.path()).await;
        for (what, sql) in FUSED {
            let sql = format!("{CTES} {sql}");
            let path = check(&fused, &plain, &sql, what).await;
            assert!(matches!(path, Path::Streamed | Path::Buffered), "{what} ({order:?}): {path:?}");
            check(&fused, &reference, &sql, what).await;
        }
        for (what, sql) in NOT_FUSED {
            let sql = format!("{CTES} {sql}");
            assert_eq!(check(&fused, &plain, &sql, what).await, Path::NotFused, "{what} ({order:?})");
        }
    }
}

/// A NaN or an infinite value among the series' or the app's values gives
/// DataFusion's answer whichever path runs.
#[tokio::test]
async fn lag_columns_with_nan_and_infinite_values_give_datafusions_answer() {
    for (data, what) in non_finite_incidents() {
        let (fused, plain, _dir) = sessions(&data, TimeType::Timestamp).await;
        for (case, sql) in FUSED {
            check(&fused, &plain, &format!("{CTES} {sql}"), &format!("{what}: {case}")).await;
        }
    }
}
