//! An aggregate's own `FILTER (WHERE …)` — before and during an incident
//! side by side — and filters reading a series' difference with the time:
//! fused, with the answer of perfcorr's session without its rules (to
//! 1e-12), on Timestamp and Int64 times, rows sorted and shuffled.

use crate::fused::{check, incident, sessions, Order, Path, TimeType};

const CTES: &str = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                         s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)";

/// The spellings, `@T` standing for a time in the middle of the incident and
/// `@LATE` for one after its end.
const FUSED: &[(&str, &str)] = &[
    (
        "before and during",
        "SELECT view, corr(d, d_app) FILTER (WHERE s.ts < @T) AS r_before, corr(d, d_app) FILTER (WHERE s.ts >= @T) AS r_during,
                pearson_p(d, d_app) FILTER (WHERE s.ts < @T) AS p_before, pearson_p(d, d_app) FILTER (WHERE s.ts >= @T) AS p_during,
                pearson_n(d, d_app) FILTER (WHERE a.ts >= @T) AS n_during, count(*) FILTER (WHERE s.ts < @T) AS rows_before,
                corr(d, d_app) AS r
         FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "on either difference, and with the time",
        "SELECT view, corr(d, d_app) FILTER (WHERE d_app > 0) AS r_up, avg(d) FILTER (WHERE d > 0) AS rise,
                count(d) FILTER (WHERE d < 0 OR d IS NULL) AS falls, regr_slope(d_app, d) FILTER (WHERE a.ts >= @T AND d > d_app) AS slope,
                covar_pop(d, d_app) FILTER (WHERE d_app IS NOT NULL) AS cov
         FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "pair statistics with a filter",
        "SELECT view, spearman_r(d, d_app) FILTER (WHERE s.ts >= @T) AS rho, xcorr_lag(d, d_app, 2 ORDER BY s.ts) FILTER (WHERE s.ts < @T) AS lag,
                pearson_n_eff(d, d_app ORDER BY s.ts) FILTER (WHERE s.ts >= @T) AS n_eff, median(d_app) FILTER (WHERE s.ts >= @T) AS med
         FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "a filter nothing passes: the aggregates of no rows",
        "SELECT view, corr(d, d_app) FILTER (WHERE s.ts > @LATE) AS r, count(*) FILTER (WHERE s.ts > @LATE) AS rows,
                pearson_n(d, d_app) FILTER (WHERE s.ts > @LATE) AS n, spearman_r(d, d_app) FILTER (WHERE s.ts > @LATE) AS rho,
                xcorr_r(d, d_app, 1 ORDER BY s.ts) FILTER (WHERE s.ts > @LATE) AS lag_r, sum(d) FILTER (WHERE s.ts > @LATE) AS total,
                corr(d, d_app) AS r_all
         FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "with WHERE on the series' difference, HAVING and ORDER BY on a filtered one",
        "SELECT view, corr(d, d_app) FILTER (WHERE s.ts >= @T) AS r_during, count(*) AS rows
         FROM s JOIN a USING (ts) WHERE d > -8 GROUP BY view HAVING count(*) FILTER (WHERE s.ts >= @T) > 20
         ORDER BY r_during DESC NULLS LAST, view LIMIT 11",
    ),
    (
        "the last two hours, bounded by a scalar subquery, and the app's difference against one",
        "SELECT view, corr(d, d_app) FILTER (WHERE s.ts >= @RECENT) AS r_recent, pearson_n(d, d_app) FILTER (WHERE s.ts >= @RECENT) AS n_recent,
                count(*) FILTER (WHERE d_app > (SELECT avg(v) FROM app) - 100.5) AS rows_up, corr(d, d_app) AS r
         FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    (
        "WHERE reading the series' difference and the time in one condition",
        "SELECT view, corr(d, d_app) AS r, count(*) AS rows FROM s JOIN a USING (ts) WHERE s.ts < @T OR d > 0 GROUP BY view ORDER BY view",
    ),
    (
        "WHERE: a window and the series' difference against the app's",
        "SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM s JOIN a USING (ts)
         WHERE s.ts >= @T AND (d > d_app OR a.ts > @T + 1) GROUP BY view ORDER BY view",
    ),
    (
        "two pairs, each with its filters",
        "SELECT view, corr(d, d_app) FILTER (WHERE s.ts < @T) AS r_before, corr(d2, d_app) FILTER (WHERE s.ts >= @T) AS r2_during,
                count(d2) FILTER (WHERE d2 > 0) AS n2
         FROM s2 s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
];

/// Spellings that keep DataFusion's plan (same answer).
const NOT_FUSED: &[(&str, &str)] = &[
    ("a filter on the key", "SELECT view, corr(d, d_app) FILTER (WHERE view LIKE '%1') AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"),
    (
        "a filter on the series' difference with a subquery",
        "SELECT view, corr(d, d_app) FILTER (WHERE d < (SELECT avg(v) FROM app) - 100) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ),
    ("a left join", "SELECT view, corr(d, d_app) FILTER (WHERE s.ts >= @T) AS r FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view"),
];

fn times(time: TimeType) -> (&'static str, &'static str) {
    match time {
        TimeType::Timestamp => ("TIMESTAMP '1970-01-01 01:40:00'", "TIMESTAMP '1970-01-02 00:00:00'"),
        TimeType::Int64 => ("6000000000", "86400000000"),
    }
}

fn sql(spelling: &str, time: TimeType) -> String {
    let (t, late) = times(time);
    let (one, recent) = match time {
        TimeType::Timestamp => ("INTERVAL '1 minute'", "(SELECT max(ts) FROM app) - INTERVAL '2 hours'"),
        TimeType::Int64 => ("60000000", "(SELECT max(ts) FROM app) - 7200000000"),
    };
    let ctes = CTES.replace(
        "FROM views)",
        "FROM views), s2 AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d,
                                    diff(v * v) OVER (PARTITION BY view ORDER BY ts) AS d2 FROM views)",
    );
    format!("{ctes} {}", spelling.replace("@T + 1", &format!("@T + {one}")).replace("@LATE", late).replace("@RECENT", recent).replace("@T", t))
}

#[tokio::test]
async fn aggregates_with_their_own_filter_are_fused() {
    for (order, time) in [(Order::SeriesThenTime, TimeType::Timestamp), (Order::Shuffled, TimeType::Int64)] {
        let (fused, reference, _dir) = sessions(&incident(order), time).await;
        for (what, spelling) in FUSED {
            let path = check(&fused, &reference, &sql(spelling, time), what).await;
            let expected = if order == Order::Shuffled { Path::Buffered } else { Path::Streamed };
            assert_eq!(path, expected, "{what}");
        }
        for (what, spelling) in NOT_FUSED {
            assert_eq!(check(&fused, &reference, &sql(spelling, time), what).await, Path::NotFused, "{what}");
        }
    }
}

/// A NaN or infinite value where a filter reads a difference: DataFusion's
/// plan answers (a NaN difference is no NULL one there).
#[tokio::test]
async fn filters_reading_a_non_finite_difference_fall_back() {
    let mut data = incident(Order::SeriesThenTime);
    data.views[50].3 = Some(f64::NAN);
    data.views[900].3 = Some(f64::INFINITY);
    data.views[250].3 = Some(f64::NAN); // after @T
    let (fused, reference, _dir) = sessions(&data, TimeType::Timestamp).await;
    let on_difference = "SELECT view, corr(d, d_app) FILTER (WHERE d > 0) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";
    assert_eq!(check(&fused, &reference, &sql(on_difference, TimeType::Timestamp), "on d").await, Path::Fallback);
    // Where the time is read too, the verdicts on a NULL and a NaN
    // difference may differ at some time only: checked as well.
    let time_or_difference = [
        "SELECT view, corr(d, d_app) AS r, count(*) AS rows, avg(d_app) AS move FROM s JOIN a USING (ts) WHERE s.ts >= @T OR d > 0 GROUP BY view ORDER BY view",
        "SELECT view, corr(d, d_app) AS r, count(*) FILTER (WHERE s.ts < @T OR d > 0) AS rows FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
    ];
    for spelling in time_or_difference {
        assert_eq!(check(&fused, &reference, &sql(spelling, TimeType::Timestamp), spelling).await, Path::Fallback, "{spelling}");
    }
    // One on the app's difference is decided by DataFusion at the app's
    // times, NaN differences as they are: no check.
    let mut app_nan = incident(Order::SeriesThenTime);
    app_nan.app[40].1 = Some(f64::NAN);
    app_nan.app[41].1 = Some(f64::INFINITY);
    let (fused_nan, plain_nan, _dir_nan) = sessions(&app_nan, TimeType::Timestamp).await;
    let on_app = "SELECT view, corr(d, d_app) AS r, count(*) FILTER (WHERE d_app > 0 OR d_app IS NULL) AS rows FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";
    assert_eq!(check(&fused_nan, &plain_nan, &sql(on_app, TimeType::Timestamp), "on the app's difference").await, Path::Streamed);
    let on_time = "SELECT view, corr(d, d_app) FILTER (WHERE s.ts >= @T) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";
    assert_eq!(check(&fused, &reference, &sql(on_time, TimeType::Timestamp), "on the time").await, Path::Streamed);
}

