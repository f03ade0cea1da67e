//! Spellings of the seed's question beyond the saved one give DataFusion's
//! answer (to 1e-12) on the fused path: arguments and join sides swapped,
//! several keys, the standard-SQL `x - lag(x)` and `corr`, DuckDB's text with
//! `regr_count`, `count`, `covar_*` and `regr_*` beside the statistics.

use perfcorr::datafusion::prelude::SessionContext;

use crate::common::{rows, Cell};
use crate::fused::{analyzed_plan, app_batch, check, config, incident, register, sessions, views_batch, write_parquet, Incident, Order, Path, TimeType};

#[tokio::test]
async fn other_spellings_of_the_question_are_fused() {
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Int64).await;
    let swapped = "
        WITH a AS (SELECT ts AS t, diff(v) OVER (ORDER BY ts) AS d_app FROM app)
        SELECT s.view, pearson_r(a.d_app, s.d) AS r, pearson_log10_p(s.d, a.d_app) AS lp,
               pearson_ci_low(s.d, a.d_app, 0.9) AS lo, pearson_ci_high(a.d_app, s.d) AS hi
        FROM a JOIN (SELECT \"view\", ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views) s ON a.t = s.ts
        GROUP BY s.view ORDER BY s.view";
    assert_eq!(check(&fused, &plain, swapped, "join and arguments swapped, Int64 time").await, Path::Streamed);
    let two_keys = "
        WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
             s AS (SELECT region, \"view\", ts, diff(v) OVER (PARTITION BY view, region ORDER BY ts) AS d FROM views)
        SELECT region, \"view\", pearson_n(d, d_app) AS n, pearson_r(d, d_app) AS r
        FROM s JOIN a USING (ts) GROUP BY region, \"view\" ORDER BY region, \"view\"";
    assert_eq!(check(&fused, &plain, two_keys, "two keys (row-format path)").await, Path::Streamed);
    let dictionary_key = "
        WITH t AS (SELECT arrow_cast(\"view\", 'Dictionary(Int32, Utf8)') AS \"view\", ts, v FROM views),
             s AS (SELECT \"view\", ts, diff(v) OVER (PARTITION BY \"view\" ORDER BY ts) AS d FROM t),
             a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app)
        SELECT arrow_cast(\"view\", 'Utf8') AS \"view\", pearson_r(d, d_app) AS r
        FROM s JOIN a USING (ts) GROUP BY \"view\" ORDER BY 1";
    assert_eq!(check(&fused, &plain, dictionary_key, "dictionary-typed key").await, Path::Streamed);
}

/// The incident with a NaN in a view, and with an infinite value in the app.
pub(crate) fn non_finite_incidents() -> [(Incident, &'static str); 2] {
    let mut series_nan = incident(Order::SeriesThenTime);
    series_nan.views[50].3 = Some(f64::NAN);
    let mut app_infinite = incident(Order::SeriesThenTime);
    app_infinite.app[30].1 = Some(f64::INFINITY);
    [(series_nan, "a NaN in a view"), (app_infinite, "an infinite value in the app")]
}

/// DataFusion with perfcorr's functions but its own `lag` and `corr` and
/// none of perfcorr's rules: the reference for the standard-SQL spelling.
pub(crate) async fn datafusion_itself(dir: &std::path::Path) -> SessionContext {
    let ctx = SessionContext::new_with_config(config());
    perfcorr::functions::register_all(&ctx);
    ctx.register_udaf(perfcorr::datafusion::functions_aggregate::correlation::corr_udaf().as_ref().clone());
    register(&ctx, dir).await;
    ctx
}

/// The question written with `x - lag(x)` (or `lead`) and `corr`, as a SQL
/// user (or DuckDB's peer script) writes it: fused, with DataFusion's answer
/// for its own `lag` and `corr`; other meanings of `lag` keep their plan.
#[tokio::test]
async fn lag_spellings_are_fused() {
    let question = |series: &str, app: &str| {
        let series = series.replace("OVER w", "OVER (PARTITION BY view ORDER BY ts)");
        let app = app.replace("OVER w", "OVER (ORDER BY ts)");
        format!(
            "WITH a AS (SELECT ts, {app} AS d_app FROM app),
                  s AS (SELECT view, ts, {series} AS d FROM views)
             SELECT view, pearson_n(d, d_app) AS n, corr(d, d_app) AS r, pearson_p(d_app, d) AS p
             FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
        )
    };
    let fused_cases = [
        ("v - lag(v) OVER w", "v - lag(v) OVER w"),
        ("v - lag(v, 1) OVER w", "diff(v) OVER w"),
        ("v - lag(v, 2) OVER w", "v - lag(v, 2, NULL) OVER w"),
        ("v - lead(v) OVER w", "v - lead(v, 1) OVER w"),
        ("diff(v) OVER w", "v - lag(v) RESPECT NULLS OVER w"),
        ("lead(v) OVER w - v", "lead(v) OVER w - v"),
        ("lag(v) OVER w - v", "v - lag(v) OVER w"),
        ("lag(v, 2) OVER w - v", "lead(v, 3) OVER w - v"),
    ];
    let other_cases = [
        ("v - lag(v, 1, 0.0) OVER w", "v - lag(v) OVER w"),
        ("v - lag(v) IGNORE NULLS OVER w", "v - lag(v) OVER w"),
        ("-(lag(v) OVER w - v)", "v - lag(v) OVER w"),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, _, dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let reference = datafusion_itself(dir.path()).await;
        for (series, app) in fused_cases.iter().chain(&other_cases) {
            let sql = question(series, app);
            let what = format!("series {series}, app {app}");
            let expected = if other_cases.contains(&(*series, *app)) {
                Path::NotFused
            } else if order == Order::SeriesThenTime && !series.contains(", 2") && !series.contains("lead") {
                Path::Streamed
            } else {
                Path::Buffered
            };
            assert_eq!(check(&fused, &reference, &sql, &what).await, expected, "{what}");
        }
    }
    // DuckDB's spelling: `regr_count` counts NaN differences too, which the
    // operator's n does not: fused while every value is finite, DataFusion's
    // plan otherwise.
    let peer = "WITH a AS (SELECT ts, v - lag(v) OVER (ORDER BY ts) AS d_app FROM app),
                     s AS (SELECT view, ts, v - lag(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
                SELECT view, corr(d, d_app) AS r, regr_count(d, d_app) AS n FROM s JOIN a USING (ts)
                GROUP BY view ORDER BY r DESC NULLS LAST, view LIMIT 30";
    let (fused, plain, dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    assert_eq!(check(&fused, &datafusion_itself(dir.path()).await, peer, "lag, corr, regr_count").await, Path::Streamed);
    assert_eq!(check(&fused, &plain, peer, "lag, corr, regr_count (perfcorr's plan)").await, Path::Streamed);
    for (data, what) in non_finite_incidents() {
        let (fused, plain, _dir) = sessions(&data, TimeType::Timestamp).await;
        assert_eq!(check(&fused, &plain, peer, what).await, Path::Fallback, "{what}");
    }
    // The window's own name stays the column's name.
    let (fused, _, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Int64).await;
    let df = fused.sql("SELECT v - lag(v) OVER (ORDER BY ts) FROM app").await.unwrap();
    assert!(df.schema().field(0).name().starts_with("app.v - lag(app.v)"), "{}", df.schema().field(0).name());
}

/// `count(*)`, `count(1)`, `count(ts)` and `count`, `avg`, `sum`, `min`,
/// `max`, `median`, `var_*` and `stddev_*` of either difference beside the
/// statistics are computed by the operator from the pairs it keeps: the
/// joined rows after the filters, NULL differences among them (the first
/// point of each series, a NULL value). A NaN or infinite value makes
/// `count(d)` or `avg(d)` differ from the operator's view of a missing
/// difference: DataFusion's plan then; `count(*)` does not care.
#[tokio::test]
async fn summaries_beside_the_statistics_are_fused() {
    let ctes = "WITH a AS (SELECT ts, v - lag(v) OVER (ORDER BY ts) AS d_app FROM app),
                     s AS (SELECT view, ts, v - lag(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)";
    let every_count = "SELECT view, corr(d, d_app) AS r, count(*) AS rows, count(1) AS ones, count(d) AS n_d,
                              count(a.d_app) AS n_app, count(s.ts) AS times, pearson_n(d, d_app) AS n,
                              avg(d) AS avg_d, sum(a.d_app) AS sum_app, min(d) AS min_d, max(d_app) AS max_app,
                              median(d) AS med_d, median(d_app) AS med_app, stddev(d) AS sd_d, stddev_pop(d_app) AS sdp_app,
                              var_pop(d) AS vp_d, var(d_app) AS var_app, mean(d_app) AS mean_app
                       FROM s JOIN a USING (ts)";
    let cases = [
        ("count(*) beside corr", "SELECT view, corr(d, d_app) AS r, count(*) AS n FROM s JOIN a USING (ts) GROUP BY view ORDER BY r DESC, view".to_string()),
        ("every count", format!("{every_count} GROUP BY view ORDER BY view")),
        ("every count, a time window", format!("{every_count} WHERE s.ts >= TIMESTAMP '1970-01-01 01:40:00' GROUP BY view ORDER BY view")),
        ("every count, a filter on the app's difference", format!("{every_count} WHERE d_app > 0 GROUP BY view ORDER BY view")),
        ("every count, a filter on the series' difference", format!("{every_count} WHERE d IS NULL OR d > 0 GROUP BY view ORDER BY view")),
        (
            "HAVING on the count, ORDER BY and LIMIT",
            "SELECT view, corr(d, d_app) AS r, count(*) AS n FROM s JOIN a USING (ts)
             GROUP BY view HAVING count(*) > 271 ORDER BY r DESC, view LIMIT 7"
                .to_string(),
        ),
        (
            "with Spearman and the lag, count(d) first",
            "SELECT view, count(d) AS n_d, spearman_r(d, d_app) AS rho, xcorr_lag(d, d_app, 2 ORDER BY ts) AS lag, count(*) AS rows
             FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
                .to_string(),
        ),
        (
            "summaries with HAVING and ORDER BY on them",
            "SELECT view, avg(d) AS move, stddev(d) AS sd, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts)
             GROUP BY view HAVING stddev(d) > 1 ORDER BY avg(d) DESC, view LIMIT 9"
                .to_string(),
        ),
        (
            "with Spearman and a filter on the series' difference",
            "SELECT view, count(*) AS rows, spearman_r(d, d_app) AS rho FROM s JOIN a USING (ts) WHERE d > -3 GROUP BY view ORDER BY view"
                .to_string(),
        ),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let expected = if order == Order::Shuffled { Path::Buffered } else { Path::Streamed };
        for (what, sql) in &cases {
            let sql = format!("{ctes} {sql}");
            assert_eq!(check(&fused, &plain, &sql, what).await, expected, "{what}");
        }
    }
    // Two pairs split into two passes: each count goes with one of them.
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let two_pairs = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                          s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d,
                                       diff(v * v) OVER (PARTITION BY view ORDER BY ts) AS d2 FROM views)
                     SELECT view, count(*) AS rows, pearson_r(d, d_app) AS r, count(d2) AS n2, pearson_r(d2, d_app) AS r2
                     FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";
    assert_eq!(check(&fused, &plain, two_pairs, "two pairs").await, Path::Streamed);
    assert_eq!(analyzed_plan(&fused, two_pairs).await.matches("DiffCorrelateExec").count(), 2, "two pairs: one operator each");
    // NaN and infinite values: count(*) stays fused; a count or summary of
    // a difference falls back where the value is on its side.
    let mut series_nan = incident(Order::SeriesThenTime);
    series_nan.views[50].3 = Some(f64::NAN);
    series_nan.views[900].3 = Some(f64::INFINITY);
    let mut app_infinite = incident(Order::SeriesThenTime);
    app_infinite.app[30].1 = Some(f64::NEG_INFINITY);
    let summary_of = |call: &str| format!("{ctes} SELECT view, corr(d, d_app) AS r, {call} AS n FROM s JOIN a USING (ts) GROUP BY view ORDER BY view");
    for (data, side) in [(series_nan, "d"), (app_infinite, "d_app")] {
        let (fused, plain, _dir) = sessions(&data, TimeType::Timestamp).await;
        for (call, column) in [("count(*)", "*"), ("count(d)", "d"), ("count(d_app)", "d_app"), ("max(d)", "d"), ("avg(d_app)", "d_app"), ("stddev(d)", "d")] {
            let what = format!("{call}, a non-finite value in {side}'s series");
            let expected = if column == side { Path::Fallback } else { Path::Streamed };
            assert_eq!(check(&fused, &plain, &summary_of(call), &what).await, expected, "{what}");
        }
    }
    // Other counts keep DataFusion's plan.
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let others = [
        ("a count of the key", "count(view)"),
        ("DISTINCT", "count(DISTINCT d)"),
        ("FILTER on a key", "count(*) FILTER (WHERE view > 'views/2')"),
        ("of a level", "count(v)"),
        ("avg of a level", "avg(v)"),
        ("min of the time", "CAST(min(ts) AS BIGINT)"),
        ("avg DISTINCT", "avg(DISTINCT d)"),
        ("of an expression", "avg(d * 2)"),
    ];
    for (what, count) in others {
        let sql = format!(
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, v, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT view, pearson_r(d, d_app) AS r, {count} AS n FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
        );
        assert_eq!(check(&fused, &plain, &sql, what).await, Path::NotFused, "{what}");
    }
}

/// DataFusion's `covar_samp` (`covar`), `covar_pop` and every `regr_*`
/// beside `corr` are computed by the operator from its co-moments, with
/// DataFusion's answers (its NULLs included: one pair, a constant
/// regressor), in either argument order, with filters of every kind, HAVING
/// and ORDER BY on them; a NaN or infinite value on either side, which
/// DataFusion counts as a value, runs DataFusion's plan.
#[tokio::test]
async fn regression_aggregates_beside_corr_are_fused() {
    let ctes = "WITH a AS (SELECT ts, v - lag(v) OVER (ORDER BY ts) AS d_app FROM app),
                     s AS (SELECT view, ts, v - lag(v) OVER (PARTITION BY view ORDER BY ts) AS d,
                                  diff(v * 0.0) OVER (PARTITION BY view ORDER BY ts) AS flat FROM views)";
    let every = "SELECT view, corr(d, d_app) AS r, covar_samp(d, d_app) AS cs, covar(d_app, d) AS c, covar_pop(d, d_app) AS cp,
                        regr_slope(d_app, d) AS slope, regr_slope(d, d_app) AS slope_back, regr_intercept(d_app, d) AS b,
                        regr_intercept(d, d_app) AS b_back, regr_r2(d_app, d) AS r2, regr_count(d, d_app) AS n,
                        regr_avgx(d_app, d) AS ax, regr_avgy(d_app, d) AS ay, regr_avgx(d, d_app) AS ax_back,
                        regr_sxx(d, d_app) AS sxx, regr_syy(d, d_app) AS syy, regr_sxy(d_app, d) AS sxy
                 FROM s JOIN a USING (ts)";
    let cases = [
        ("every regression aggregate", format!("{every} GROUP BY view ORDER BY view")),
        ("a time window after the join", format!("{every} WHERE s.ts >= TIMESTAMP '1970-01-01 01:40:00' GROUP BY view ORDER BY view")),
        ("a filter on the app's difference", format!("{every} WHERE d_app > 0 GROUP BY view ORDER BY view")),
        ("a filter on the series' difference", format!("{every} WHERE d > -3 GROUP BY view ORDER BY view")),
        (
            "HAVING regr_r2, ORDER BY the slope, LIMIT",
            "SELECT view, regr_slope(d_app, d) AS slope, corr(d, d_app) AS r FROM s JOIN a USING (ts)
             GROUP BY view HAVING regr_r2(d_app, d) > 0.001 ORDER BY slope DESC, view LIMIT 9"
                .to_string(),
        ),
        (
            "a constant series: no slope on it, r² NULL, covariance 0",
            "SELECT view, regr_slope(d_app, flat) AS none, regr_slope(flat, d_app) AS zero, regr_r2(flat, d_app) AS r2,
                    covar_samp(flat, d_app) AS c, regr_sxx(d_app, flat) AS sxx
             FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
                .to_string(),
        ),
        (
            "with Spearman and count(*)",
            "SELECT view, regr_slope(d_app, d) AS slope, spearman_r(d, d_app) AS rho, count(*) AS rows
             FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
                .to_string(),
        ),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let expected = if order == Order::Shuffled { Path::Buffered } else { Path::Streamed };
        for (what, sql) in &cases {
            let sql = format!("{ctes} {sql}");
            assert_eq!(check(&fused, &plain, &sql, what).await, expected, "{what}");
        }
    }
    let mut series_nan = incident(Order::SeriesThenTime);
    series_nan.views[50].3 = Some(f64::NAN);
    let mut app_infinite = incident(Order::SeriesThenTime);
    app_infinite.app[30].1 = Some(f64::INFINITY);
    let sql = format!("{ctes} {} GROUP BY view ORDER BY view", every);
    for (data, what) in [(series_nan, "a NaN in a view"), (app_infinite, "an infinite value in the app")] {
        let (fused, plain, _dir) = sessions(&data, TimeType::Timestamp).await;
        assert_eq!(check(&fused, &plain, &sql, what).await, Path::Fallback, "{what}");
    }
}

/// A filter on the series' key written as a subquery after the join (`IN`,
/// `EXISTS`, `NOT IN`, `NOT EXISTS`: semi and anti joins) is moved to the
/// rows it filters (src/semi_join.rs) and the question stays fused, with the
/// answer of DataFusion without perfcorr's rules; one on the time is not
/// moved below `diff` (it would change the differences).
#[tokio::test]
async fn key_subqueries_after_the_join_are_fused() {
    let ctes = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                     s AS (SELECT view, region, ts, diff(v) OVER (PARTITION BY view, region ORDER BY ts) AS d FROM views)";
    let question = |filter: &str| {
        format!(
            "{ctes} SELECT s.view, s.region, pearson_r(d, d_app) AS r, pearson_p(d, d_app) AS p, pearson_n(d, d_app) AS n
             FROM s JOIN a USING (ts) WHERE {filter} GROUP BY s.view, s.region ORDER BY s.view, s.region"
        )
    };
    let fused_cases = [
        ("IN", "s.view IN (SELECT view FROM views WHERE view LIKE '%1' OR view LIKE '%4')"),
        ("IN, another column", "s.view IN (SELECT view FROM views WHERE region = 'region-1')"),
        ("EXISTS", "EXISTS (SELECT 1 FROM views w WHERE w.view = s.view AND w.region = 'region-2' AND w.v > 0)"),
        ("NOT IN", "s.view NOT IN (SELECT view FROM views WHERE view > 'views/05')"),
        ("NOT EXISTS and a time window", "NOT EXISTS (SELECT 1 FROM views w WHERE w.view = s.view AND w.view LIKE '%3') AND s.ts >= TIMESTAMP '1970-01-01 01:40:00'"),
        ("EXISTS on two keys", "EXISTS (SELECT 1 FROM views w WHERE w.view = s.view AND w.region = s.region AND w.view < 'views/08')"),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, _, dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let reference = datafusion_itself(dir.path()).await;
        for (what, filter) in fused_cases {
            let path = check(&fused, &reference, &question(filter), what).await;
            assert!(matches!(path, Path::Streamed | Path::Buffered), "{what}: {path:?}");
        }
        // Through an outer join to the side it keeps whole, not to the
        // side it pads with NULLs.
        let kept_whole = question("s.view IN (SELECT view FROM views WHERE region = 'region-1')").replace("s JOIN a", "s LEFT JOIN a");
        let path = check(&fused, &reference, &kept_whole, "IN, the series kept whole by a left join").await;
        assert!(matches!(path, Path::Streamed | Path::Buffered), "left join: {path:?}");
        let padded = question("s.view NOT IN (SELECT view FROM views WHERE region = 'region-1')").replace("s JOIN a", "a LEFT JOIN s");
        assert_eq!(check(&fused, &reference, &padded, "NOT IN, the series padded by a left join").await, Path::NotFused);
        let plan = analyzed_plan(&fused, &padded).await;
        let (anti, left) = (plan.find("LeftAnti"), plan.find("join_type=Left,").or_else(|| plan.find("join_type=Left ")));
        assert!(anti.is_some() && anti < left, "NOT IN stays above the left join keeping the app whole:\n{plan}");
        // The time is not the window's key: the filter stays after diff.
        let on_time = question("s.ts IN (SELECT ts FROM app WHERE v > 203)");
        check(&fused, &reference, &on_time, "a subquery on the time").await;
        let plan = analyzed_plan(&fused, &on_time).await;
        let (semi, window) = (plan.find("LeftSemi").or_else(|| plan.find("RightSemi")), plan.find("BoundedWindowAggExec").or_else(|| plan.find("DiffWindowExec")));
        assert!(semi.is_some() && window.is_some() && semi < window, "a subquery on the time stays above diff:\n{plan}");
    }
}

/// The series kept whole by an outer join (`s LEFT JOIN a`, `a RIGHT JOIN
/// s`): every series gets a row, one without a minute in common with the
/// app (`views/late`) or with only NULL times among them, with n = 0 and
/// NULL statistics (with a time window on the series' rows, every series
/// with a row in it); fused when no count of a column, ordered statistic or
/// filter above the join reads the rows the inner join would drop
/// (`count(*)` is each series' row count, with no filter), with the
/// answer of DataFusion without perfcorr's rules either way.
#[tokio::test]
async fn outer_joins_keeping_every_series_are_fused() {
    let ctes = |app_where: &str, series_from: &str| {
        format!(
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app {app_where}),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM {series_from})"
        )
    };
    let plain = ctes("", "views");
    let aggregates = "pearson_r(d, d_app) AS r, pearson_p(d_app, d) AS p, pearson_n(d, d_app) AS n, spearman_r(d, d_app) AS rho, \
                      regr_slope(d_app, d) AS slope, covar_samp(d, d_app) AS cov, regr_count(d, d_app) AS pairs, corr(d, d_app) AS c";
    let null_times = "(SELECT view, CASE WHEN view = 'views/03' THEN NULL ELSE ts END AS ts, v FROM views) t";
    let fused_cases = [
        ("LEFT JOIN USING", format!("{plain} SELECT view, {aggregates} FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view")),
        ("RIGHT JOIN, sides swapped", format!("{plain} SELECT s.view, {aggregates} FROM a RIGHT JOIN s ON a.ts = s.ts GROUP BY s.view ORDER BY s.view")),
        (
            "LEFT OUTER JOIN, the app's window before diff",
            format!(
                "{} SELECT view, {aggregates} FROM s LEFT OUTER JOIN a ON s.ts = a.ts GROUP BY view ORDER BY view",
                ctes("WHERE ts >= TIMESTAMP '1970-01-01 01:40:00'", "views")
            ),
        ),
        (
            "LEFT JOIN, a key filter before diff, HAVING, ORDER BY LIMIT",
            format!(
                "{} SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM s LEFT JOIN a USING (ts) GROUP BY view \
                 HAVING pearson_n(d, d_app) < 100000 ORDER BY r DESC NULLS LAST, view LIMIT 5",
                ctes("", "views WHERE view LIKE '%1' OR view = 'views/late'")
            ),
        ),
        (
            "LEFT JOIN, two pairs",
            format!(
                "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                      s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d,
                                   diff(v, 2) OVER (PARTITION BY view ORDER BY ts) AS d2 FROM views)
                 SELECT view, pearson_r(d, d_app) AS r, pearson_r(d2, d_app) AS r2, pearson_n(d2, d_app) AS n2
                 FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view"
            ),
        ),
        ("LEFT JOIN, a series with only NULL times", format!("{} SELECT view, {aggregates} FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view", ctes("", null_times))),
        // A condition in ON on the app's side only filters the app's rows.
        ("LEFT JOIN, the app's difference in ON", format!("{plain} SELECT view, {aggregates} FROM s LEFT JOIN a ON s.ts = a.ts AND a.d_app > 0 GROUP BY view ORDER BY view")),
        // The series with a row in the window, views/late among them.
        ("LEFT JOIN, a time window after the join", format!("{plain} SELECT s.view, {aggregates} FROM s LEFT JOIN a USING (ts) WHERE s.ts >= TIMESTAMP '1970-01-01 01:40:00' GROUP BY s.view ORDER BY s.view")),
        (
            "LEFT JOIN, a window past the app's end, a key filter",
            format!("{plain} SELECT s.view, {aggregates} FROM s LEFT JOIN a ON s.ts = a.ts WHERE s.ts BETWEEN TIMESTAMP '1970-01-01 04:50:00' AND TIMESTAMP '1970-01-01 05:30:00' AND s.view <> 'views/02' GROUP BY s.view ORDER BY s.view"),
        ),
        (
            "LEFT JOIN, a window from a scalar subquery, NULL times",
            format!("{} SELECT s.view, {aggregates} FROM s LEFT JOIN a USING (ts) WHERE s.ts > (SELECT max(ts) FROM app) - INTERVAL '1 hour' GROUP BY s.view ORDER BY s.view", ctes("", null_times)),
        ),
        // count(*) counts every row of the series, those without a match
        // and those without a time among them.
        ("LEFT JOIN, count(*) counts the rows without a match", format!("{plain} SELECT view, corr(d, d_app) AS r, count(*) AS rows FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view")),
        (
            "LEFT JOIN, count(1) beside Spearman, NULL times",
            format!("{} SELECT view, count(1) AS rows, spearman_r(d, d_app) AS rho, count(*) AS again FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view", ctes("", null_times)),
        ),
        ("RIGHT JOIN, count(*), the app's window before diff", format!("{} SELECT s.view, count(*) AS rows, pearson_r(d, d_app) AS r FROM a RIGHT JOIN s ON a.ts = s.ts GROUP BY s.view ORDER BY s.view", ctes("WHERE ts >= TIMESTAMP '1970-01-01 01:40:00'", "views"))),
        (
            "RIGHT JOIN, a window on the app's rows and on the series'",
            format!(
                "{} SELECT s.view, {aggregates} FROM a RIGHT JOIN s ON a.ts = s.ts WHERE s.ts < TIMESTAMP '1970-01-01 04:00:00' GROUP BY s.view ORDER BY s.view",
                ctes("WHERE ts >= TIMESTAMP '1970-01-01 01:40:00'", "views")
            ),
        ),
    ];
    let other_cases = [
        ("count(d) too", format!("{plain} SELECT view, corr(d, d_app) AS r, count(d) AS n_d FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view")),
        ("the lag search sees those rows", format!("{plain} SELECT view, xcorr_lag(d, d_app, 3 ORDER BY ts) AS lag FROM s LEFT JOIN a USING (ts) GROUP BY view ORDER BY view")),
        ("a filter on the series' difference", format!("{plain} SELECT s.view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM s LEFT JOIN a USING (ts) WHERE s.d > 0 GROUP BY s.view ORDER BY s.view")),
        ("a filter above the join on the app's time", format!("{plain} SELECT s.view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM s LEFT JOIN a USING (ts) WHERE a.ts IS NULL OR a.ts > TIMESTAMP '1970-01-01 01:40:00' GROUP BY s.view ORDER BY s.view")),
        ("a time window and count(*)", format!("{plain} SELECT s.view, corr(d, d_app) AS r, count(*) AS rows FROM s LEFT JOIN a USING (ts) WHERE s.ts >= TIMESTAMP '1970-01-01 01:40:00' GROUP BY s.view ORDER BY s.view")),
        ("the join's own filter, on both sides", format!("{plain} SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM s LEFT JOIN a ON s.ts = a.ts AND s.d > a.d_app GROUP BY view ORDER BY view")),
        ("the app kept whole (a NULL key)", format!("{plain} SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM a LEFT JOIN s USING (ts) GROUP BY view ORDER BY view NULLS FIRST")),
        ("FULL JOIN", format!("{plain} SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n FROM s FULL JOIN a USING (ts) GROUP BY view ORDER BY view NULLS FIRST")),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, _, dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let reference = datafusion_itself(dir.path()).await;
        for (what, sql) in &fused_cases {
            let path = check(&fused, &reference, sql, what).await;
            // diff(v, 2) is differenced in the sorting pass.
            let sorted = order == Order::SeriesThenTime && !what.contains("two pairs");
            assert_eq!(path, if sorted { Path::Streamed } else { Path::Buffered }, "{what}");
        }
        for (what, sql) in &other_cases {
            assert_eq!(check(&fused, &reference, sql, what).await, Path::NotFused, "{what}");
        }
        // The series the inner join drops is there, with no pair.
        let answer = rows(&fused, &fused_cases[0].1).await;
        let late = answer.iter().find(|row| row[0] == Cell::Text("views/late".into())).expect("views/late kept");
        assert_eq!((&late[1], &late[2], late[3].float()), (&Cell::Null, &Cell::Null, Some(0.0)), "views/late: no pair");
    }
}

/// A time window bounded by an uncorrelated scalar subquery (`the last two
/// hours`: `s.ts >= (SELECT max(ts) FROM app) - INTERVAL '2 hours'`) is a
/// constant DataFusion computes before the plan runs: fused, after the join
/// or before `diff`, on the time or on the app's difference; one on the
/// series' difference or a correlated one keeps DataFusion's plan. All with
/// the answer of DataFusion without perfcorr's rules.
#[tokio::test]
async fn scalar_subqueries_bounding_the_window_are_fused() {
    let question = |series_where: &str, filter: &str| {
        format!(
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views {series_where})
             SELECT s.view, pearson_r(d, d_app) AS r, pearson_p(d, d_app) AS p, pearson_n(d, d_app) AS n, count(*) AS rows
             FROM s JOIN a USING (ts) WHERE {filter} GROUP BY s.view ORDER BY s.view"
        )
    };
    let fused_cases = [
        ("after the join", question("", "s.ts >= (SELECT max(ts) FROM app) - INTERVAL '2 hours'")),
        (
            "two subqueries on the app's time",
            question("", "a.ts BETWEEN (SELECT min(ts) FROM app) + INTERVAL '10 minutes' AND (SELECT max(ts) FROM app) - INTERVAL '1 hour'"),
        ),
        ("before diff", question("WHERE ts >= (SELECT max(ts) FROM app) - INTERVAL '2 hours'", "true")),
        ("on the app's difference", question("", "a.d_app > (SELECT avg(v) FROM app) / 100 - 2")),
    ];
    let other_cases = [
        ("on the series' difference", question("", "s.d > (SELECT min(v) FROM app) / 1000")),
        ("correlated", question("", "s.ts >= (SELECT min(w.ts) FROM views w WHERE w.view = s.view) + INTERVAL '1 hour'")),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, _, dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let reference = datafusion_itself(dir.path()).await;
        for (what, sql) in &fused_cases {
            let path = check(&fused, &reference, sql, what).await;
            assert_eq!(path, if order == Order::Shuffled { Path::Buffered } else { Path::Streamed }, "{what}");
        }
        for (what, sql) in &other_cases {
            assert_eq!(check(&fused, &reference, sql, what).await, Path::NotFused, "{what}");
        }
    }
}

/// A left join with a time window, on two files holding each view's even
/// and odd minutes (each sorted by view, then time): the streaming pass
/// finds a view's pieces overlapping in time and the sorting pass answers,
/// the series passing the window listed once for both passes.
#[tokio::test]
async fn left_join_windows_survive_the_second_pass() {
    let base = incident(Order::SeriesThenTime);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("views")).unwrap();
    for (k, parity) in [0, 1].into_iter().enumerate() {
        let views = base.views.iter().filter(|row| (row.2 / 60_000_000) % 2 == parity).cloned().collect();
        let part = Incident { views, app: Vec::new() };
        write_parquet(&dir.path().join("views"), &format!("part-{k}"), &views_batch(&part, TimeType::Timestamp));
    }
    write_parquet(dir.path(), "app", &app_batch(&base.app, TimeType::Timestamp));
    let fused = perfcorr::session_with_config(config());
    register(&fused, dir.path()).await;
    let reference = datafusion_itself(dir.path()).await;
    let sql = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                    s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
               SELECT s.view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n, spearman_r(d, d_app) AS rho
               FROM s LEFT JOIN a USING (ts) WHERE s.ts >= TIMESTAMP '1970-01-01 04:00:00' GROUP BY s.view ORDER BY s.view";
    assert_eq!(check(&fused, &reference, sql, "two files, a left join and a window").await, Path::Buffered);
}

