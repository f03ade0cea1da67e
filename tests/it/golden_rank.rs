//! `rank_correlations` on a small incident in the long and the wide layout
//! against pandas/scipy/statsmodels (`tests/golden/rank_*.csv`): r and
//! Spearman's rho |Δ| ≤ 1e-12, p and q relative ≤ 1e-9, CI ends |Δ| ≤ 1e-11,
//! n and the best lag exact; rows ranked by q, then |r|.

use perfcorr::datafusion::arrow::datatypes::{DataType, TimeUnit};
use perfcorr::datafusion::prelude::SessionContext;

use crate::common::{assert_relative, register_golden, rows, session_with_partitions, Cell};

const TS: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

async fn register_inputs(ctx: &SessionContext) {
    let wide: Vec<(&str, DataType)> =
        std::iter::once(("ts", TS)).chain(["s1", "s2", "s3", "s4", "s5"].map(|s| (s, DataType::Float64))).collect();
    register_golden(ctx, "rank_wide", &wide).await;
    register_golden(ctx, "rank_long", &[("ts", TS), ("name", DataType::Utf8), ("value", DataType::Float64)]).await;
    register_golden(ctx, "rank_target", &[("ts", TS), ("response_ms", DataType::Float64)]).await;
    let mut expected = vec![("series", DataType::Utf8)];
    expected.extend(["r", "p"].map(|c| (c, DataType::Float64)));
    expected.push(("n", DataType::Int64));
    expected.extend(["q", "spearman_r", "ci_low", "ci_high"].map(|c| (c, DataType::Float64)));
    expected.push(("best_lag", DataType::Int64));
    expected.push(("lag_r", DataType::Float64));
    register_golden(ctx, "rank_expected", &expected).await;
}

fn close(actual: &Cell, expected: &Cell, tolerance: f64, what: &str) {
    let (a, e) = (actual.float().unwrap(), expected.float().unwrap());
    assert!((a - e).abs() <= tolerance, "{what}: {a} vs {e}");
}

async fn check(ctx: &SessionContext, call: &str) {
    let columns = "series, r, p, n, q, spearman_r, ci_low, ci_high, best_lag, lag_r";
    let actual = rows(ctx, &format!("SELECT {columns} FROM {call}")).await;
    let expected = rows(ctx, &format!("SELECT {columns} FROM rank_expected ORDER BY q, abs(r) DESC")).await;
    assert_eq!(actual.len(), 5, "{call}");
    for (a, e) in actual.iter().zip(&expected) {
        let what = format!("{call}: {}", e[0].text());
        assert_eq!(a[0], e[0], "{call}: ranking");
        close(&a[1], &e[1], 1e-12, &format!("{what} r"));
        assert_relative(a[2].float().unwrap(), e[2].float().unwrap(), 1e-9, &format!("{what} p"));
        assert_eq!(a[3], e[3], "{what} n");
        assert_relative(a[4].float().unwrap(), e[4].float().unwrap(), 1e-9, &format!("{what} q"));
        close(&a[5], &e[5], 1e-12, &format!("{what} spearman"));
        close(&a[6], &e[6], 1e-11, &format!("{what} ci_low"));
        close(&a[7], &e[7], 1e-11, &format!("{what} ci_high"));
        assert_eq!(a[8], e[8], "{what} best lag");
        close(&a[9], &e[9], 1e-12, &format!("{what} lag r"));
    }
}

#[tokio::test]
async fn long_and_wide_layouts_match_golden() {
    let ctx = session_with_partitions(4);
    register_inputs(&ctx).await;
    check(&ctx, "rank_correlations('rank_long', 'name', 'value', 'rank_target', 'response_ms', 'max_lag=3')").await;
    check(&ctx, "rank_correlations('rank_wide', '*', 'rank_target', 'response_ms', 'max_lag=3')").await;
}

#[tokio::test]
async fn options_and_errors() {
    let ctx = session_with_partitions(2);
    register_inputs(&ctx).await;
    // Raw levels: every row is used, so n is the full length minus NULLs.
    let raw = rows(&ctx, "SELECT series, n FROM rank_correlations('rank_wide', '*', 'rank_target', 'response_ms', 'raw') ORDER BY series").await;
    let n: Vec<Cell> = raw.iter().map(|row| row[1].clone()).collect();
    assert_eq!(n, [240, 240, 237, 240, 239].map(Cell::Int).to_vec());
    // Holm's q is never below BH's.
    let sql = "SELECT h.series FROM rank_correlations('rank_long', 'name', 'value', 'rank_target', 'response_ms', 'method=holm') h \
               JOIN rank_correlations('rank_long', 'name', 'value', 'rank_target', 'response_ms') b ON h.series = b.series WHERE h.q < b.q";
    assert!(rows(&ctx, sql).await.is_empty());
    for (call, message) in [
        ("rank_correlations('rank_long', 'name')", "got 2 arguments"),
        ("rank_correlations('rank_long', 'name', 'value', 'rank_target', 'response_ms', 'colour=red')", "bad option 'colour=red'"),
        ("rank_correlations('rank_long', 'name', 'value', 'rank_target', 'response_ms', 1)", "argument 6 must be a string literal"),
        ("rank_correlations('nope', 'name', 'value', 'rank_target', 'response_ms')", "nope"),
    ] {
        let error = match ctx.sql(&format!("SELECT * FROM {call}")).await {
            Ok(df) => df.collect().await.unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(error.contains(message), "{call}: {error}");
    }
}
