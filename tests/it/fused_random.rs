//! Random spellings of the seed's question, as users combine them: CTEs or
//! subqueries, `diff` or `x - lag(x)`, periods 1 or 2 on either side, inner,
//! comma, left and right joins in both orders, filters before `diff`, after
//! the join (time, a scalar subquery's bound, key, key subqueries, either
//! difference or both) and HAVING, one to four aggregates of the question's
//! pair (the Pearson family, `corr`, `covar_*`, `regr_*`, Spearman, the lag
//! search, n_eff, `count`, `avg`, `stddev`…) in either argument order, some with
//! their own FILTER, in either argument order, one key or two, LIMIT.
//! Each gives the answer of
//! DataFusion without perfcorr's rules (to 1e-12), fused or not, on rows
//! sorted by series and on shuffled rows. Seeded: a failure names its SQL and
//! repeats.

use crate::fused::{check_rows, incident, sessions, Order, Path, TimeType};
use crate::fused_spellings::datafusion_itself;
use crate::fuzz::Rng;

/// Cases per row order (each runs the query three times in a debug build).
const CASES: usize = 70;

const T1: &str = "TIMESTAMP '1970-01-01 01:40:00'";
const T2: &str = "TIMESTAMP '1970-01-01 04:10:00'";

/// Picks `n` distinct items of `items`, in the order drawn.
fn distinct<'a>(rng: &mut Rng, items: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut chosen = Vec::new();
    while chosen.len() < n.min(items.len()) {
        let item = *rng.pick(items);
        if !chosen.contains(&item) {
            chosen.push(item);
        }
    }
    chosen
}

/// `x - lag(x[, k]) OVER (w)` or `diff(x[, k]) OVER (w)`.
fn difference(rng: &mut Rng, window: &str, periods: i64) -> String {
    let k = match (periods, rng.below(2)) {
        (1, 0) => String::new(),
        (k, _) => format!(", {k}"),
    };
    match rng.below(3) {
        0 => format!("v - lag(v{k}) OVER ({window})"),
        _ => format!("diff(v{k}) OVER ({window})"),
    }
}

/// One random spelling, ordered by its keys (so both plans list the same
/// rows in the same order).
fn spelling(rng: &mut Rng) -> String {
    let two_keys = rng.below(4) == 0;
    let keys = if two_keys { "s.view, s.region" } else { "s.view" };
    let partition = if two_keys || rng.below(8) == 0 { "view, region" } else { "view" };
    let (series_periods, app_periods) = (*rng.pick(&[1, 1, 1, 2]), *rng.pick(&[1, 1, 1, 2]));
    let series_where = *rng.pick(&["", "", "", " WHERE ts >= T1", " WHERE view LIKE '%1' OR view = 'views/late'", " WHERE region <> 'region-2'"]);
    let app_where = *rng.pick(&["", "", "", " WHERE ts < T2", " WHERE ts >= T1"]);
    let series = format!(
        "SELECT view, region, ts, {} AS d FROM views{series_where}",
        difference(rng, &format!("PARTITION BY {partition} ORDER BY ts"), series_periods)
    );
    let app = format!("SELECT ts, {} AS d_app FROM app{app_where}", difference(rng, "ORDER BY ts", app_periods));
    let subqueries = rng.below(3) == 0;
    let (with, s, a) = if subqueries {
        (String::new(), format!("({series}) s"), format!("({app}) a"))
    } else {
        (format!("WITH s AS ({series}), a AS ({app}) "), "s".to_string(), "a".to_string())
    };
    let mut conditions: Vec<String> = Vec::new();
    let from = match rng.below(12) {
        0..=2 => format!("{s} JOIN {a} USING (ts)"),
        3 => format!("{s} JOIN {a} ON s.ts = a.ts"),
        4 => format!("{a} INNER JOIN {s} ON a.ts = s.ts"),
        5 => {
            conditions.push("s.ts = a.ts".to_string());
            format!("{s}, {a}")
        }
        6 | 7 => format!("{s} LEFT JOIN {a} USING (ts)"),
        8 => format!("{s} LEFT OUTER JOIN {a} ON s.ts = a.ts"),
        9 => format!("{a} RIGHT JOIN {s} ON a.ts = s.ts"),
        10 => format!("{a} LEFT JOIN {s} USING (ts)"),
        _ => format!("{s} FULL JOIN {a} USING (ts)"),
    };
    let filters = [
        "s.ts >= T1",
        "a.ts < T2",
        "s.ts BETWEEN T1 AND T2",
        "a.ts >= (SELECT max(ts) FROM app) - INTERVAL '3 hours'",
        "a.d_app > 0",
        "s.d > 0",
        "s.d IS NOT NULL",
        "s.d > a.d_app",
        "abs(s.d - a.d_app) < 5",
        "s.view LIKE '%3%'",
        "(s.ts < T1 OR s.d > 0)",
        "s.view IN ('views/01', 'views/05', 'views/late')",
        "s.view IN (SELECT view FROM views WHERE v > 104)",
        "NOT EXISTS (SELECT 1 FROM views w WHERE w.view = s.view AND w.region = 'region-1')",
    ];
    let how_many = *rng.pick(&[0, 0, 1, 1, 2]);
    conditions.extend(distinct(rng, &filters, how_many).into_iter().map(str::to_string));
    let statistics = [
        "pearson_r(@x, @y)",
        "pearson_p(@x, @y)",
        "pearson_n(@x, @y)",
        "pearson_log10_p(@x, @y)",
        "pearson_ci_low(@x, @y, 0.9)",
        "pearson_ci_high(@x, @y)",
        "corr(@x, @y)",
        "covar_samp(@x, @y)",
        "covar_pop(@x, @y)",
        "regr_slope(@x, @y)",
        "regr_intercept(@x, @y)",
        "regr_r2(@x, @y)",
        "regr_count(@x, @y)",
        "spearman_r(@x, @y)",
        "spearman_p(@x, @y)",
        "xcorr_lag(@x, @y, 3 ORDER BY s.ts)",
        "xcorr_r(@x, @y, 2 ORDER BY s.ts)",
        "pearson_n_eff(@x, @y ORDER BY s.ts)",
        "count(*)",
        "count(s.d)",
        "count(a.d_app)",
        "avg(s.d)",
        "stddev(a.d_app)",
        "sum(a.d_app)",
        "max(s.d)",
        "median(s.d)",
        "var_pop(a.d_app)",
    ];
    let how_many = 1 + rng.below(4);
    let aggregates: Vec<String> = distinct(rng, &statistics, how_many)
        .into_iter()
        .enumerate()
        .map(|(i, statistic)| {
            let (x, y) = if rng.below(2) == 0 { ("s.d", "a.d_app") } else { ("a.d_app", "s.d") };
            let own_filter = *rng.pick(&["", "", "", " FILTER (WHERE s.ts >= T1)", " FILTER (WHERE a.d_app > 0)", " FILTER (WHERE s.ts < T2 AND s.d > a.d_app)"]);
            format!("{}{own_filter} AS c{i}", statistic.replace("@x", x).replace("@y", y))
        })
        .collect();
    let mut sql = format!("{with}SELECT {keys}, {} FROM {from}", aggregates.join(", "));
    if !conditions.is_empty() {
        sql += &format!(" WHERE {}", conditions.join(" AND "));
    }
    sql += &format!(" GROUP BY {keys}");
    sql += *rng.pick(&["", "", "", " HAVING pearson_n(s.d, a.d_app) > 50", " HAVING count(*) > 10"]);
    sql += &format!(" ORDER BY {} NULLS FIRST", keys.replace(',', " NULLS FIRST,"));
    sql += *rng.pick(&["", "", "", " LIMIT 7"]);
    sql.replace("T1", T1).replace("T2", T2)
}

#[tokio::test]
async fn random_spellings_give_datafusions_answer() {
    for (order, seed) in [(Order::SeriesThenTime, 0x5e11_a11e_u64), (Order::Shuffled, 0x5e11_0bad)] {
        let (fused, _, dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let reference = datafusion_itself(dir.path()).await;
        let mut rng = Rng(seed);
        let mut taken = 0;
        for case in 0..CASES {
            let sql = spelling(&mut rng);

            // Filters may leave no row: the empty answer is compared too.
            if check_rows(&fused, &reference, &sql, &format!("case {case}: {sql}"), true).await != Path::NotFused {
                taken += 1;
            }
        }
        // The generator reaches the fused path, not only DataFusion's plan.
        assert!(taken >= CASES / 4, "only {taken} of {CASES} random spellings fused");
    }
}
