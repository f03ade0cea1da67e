//! The app's series in the same long table as the others (`long(node,
//! metric, ts, v)`, as exported by a metrics store): one window `PARTITION
//! BY node[, metric]` differences everything, the app's rows picked by
//! equalities on the keys (in ON or WHERE). Fused, with the answer of
//! perfcorr's session without its rules (to 1e-12), rows in series order
//! and in time order; picks that are not one value per key keep
//! DataFusion's plan.

use crate::fused::{check, incident, sessions, Order, Path, TimeType};

const DIFFERENCED: &str = "WITH d AS (SELECT node, metric, ts, diff(v) OVER (PARTITION BY node, metric ORDER BY ts) AS d FROM long),
                                e AS (SELECT node, ts, v - lag(v) OVER (PARTITION BY node ORDER BY ts) AS d FROM long)";

const FUSED: &[(&str, &str)] = &[
    (
        "the app picked in ON",
        "SELECT s.node, s.metric, corr(s.d, a.d) AS r, pearson_n(s.d, a.d) AS n FROM d s JOIN d a ON s.ts = a.ts AND a.node = 'app' AND a.metric = 'ms'
         WHERE s.node <> 'app' GROUP BY s.node, s.metric ORDER BY s.node",
    ),
    (
        "the app picked in WHERE, the app's difference first",
        "SELECT s.node, s.metric, pearson_r(a.d, s.d) AS r, pearson_p(a.d, s.d) AS p FROM d s, d a
         WHERE s.ts = a.ts AND 'app' = a.node AND a.metric = 'ms' GROUP BY s.node, s.metric ORDER BY s.node",
    ),
    (
        "lag, one key, a time window, Spearman and a FILTER",
        "SELECT s.node, corr(s.d, a.d) AS r, spearman_r(s.d, a.d) AS rho, corr(s.d, a.d) FILTER (WHERE s.ts >= TIMESTAMP '1970-01-01 02:00:00') AS r_late
         FROM e s JOIN e a USING (ts) WHERE a.node = 'app' AND s.ts >= TIMESTAMP '1970-01-01 00:30:00' GROUP BY s.node ORDER BY s.node",
    ),
    (
        "one view against the app, the app's difference first (both sides picked by their keys)",
        "SELECT s.node, corr(a.d, s.d) AS r, pearson_n(a.d, s.d) AS n FROM e s JOIN e a USING (ts)
         WHERE a.node = 'app' AND s.node = 'views/03' GROUP BY s.node ORDER BY s.node",
    ),
];

const NOT_FUSED: &[(&str, &str)] = &[
    (
        "two nodes for the app",
        "SELECT s.node, corr(s.d, a.d) AS r FROM e s JOIN e a USING (ts) WHERE a.node IN ('app', 'views/01') GROUP BY s.node ORDER BY s.node",
    ),
    (
        "one key of two fixed",
        "SELECT s.node, s.metric, corr(s.d, a.d) AS r FROM d s JOIN d a ON s.ts = a.ts AND a.node = 'app' GROUP BY s.node, s.metric ORDER BY s.node",
    ),
    ("a pattern", "SELECT s.node, corr(s.d, a.d) AS r FROM e s JOIN e a USING (ts) WHERE a.node LIKE 'ap%' GROUP BY s.node ORDER BY s.node"),
];

#[tokio::test]
async fn the_app_from_the_same_long_table_is_fused() {
    for order_by in ["", " ORDER BY ts, node"] {
        let (fused, plain, dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
        let long = dir.path().join("long.parquet");
        let copy = format!(
            "COPY (SELECT view AS node, 'ms' AS metric, ts, v FROM views UNION ALL SELECT 'app', 'ms', ts, v FROM app{order_by}) TO '{}'",
            long.display()
        );
        plain.sql(&copy).await.unwrap().collect().await.unwrap();
        for ctx in [&fused, &plain] {
            ctx.register_parquet("long", long.to_str().unwrap(), Default::default()).await.unwrap();
        }
        for (what, sql) in FUSED {
            let sql = format!("{DIFFERENCED} {sql}");
            let path = check(&fused, &plain, &sql, what).await;
            assert!(matches!(path, Path::Streamed | Path::Buffered), "{what}{order_by}: {path:?}");
        }
        for (what, sql) in NOT_FUSED {
            let sql = format!("{DIFFERENCED} {sql}");
            assert_eq!(check(&fused, &plain, &sql, what).await, Path::NotFused, "{what}{order_by}");
        }
    }
}
