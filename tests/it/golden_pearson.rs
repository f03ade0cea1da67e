//! `pearson_r`, `pearson_p`, `pearson_n` and `pearson_p_from_r` against the
//! golden values of `tests/golden/make_golden.py`.
//!
//! Tolerances: |Δr| ≤ 1e-12 against r computed exactly from the same Float64
//! data; p relative ≤ 1e-9 against the 50-digit p at that r, and against
//! scipy's own p-value where scipy is itself accurate (|r| ≤ 0.999; nearer to
//! ±1 scipy's p is off by up to 5e-9, see make_golden.py). p below 1e-300 only
//! has to stay below 1e-299 (it may be subnormal or 0).

use std::collections::HashMap;

use perfcorr::datafusion::arrow::datatypes::DataType;
use perfcorr::datafusion::prelude::SessionContext;

use crate::common::{assert_relative, register_golden, rows, session_with_partitions, Cell};

const R_TOLERANCE: f64 = 1e-12;
const P_RELATIVE_TOLERANCE: f64 = 1e-9;

const CI_TOLERANCE: f64 = 1e-11;

/// One row of `pearson_expected.csv`.
struct Expected {
    kind: String,
    n: i64,
    r: Option<f64>,
    p: Option<f64>,
    log10_p: Option<f64>,
    /// 95% then 80% interval ends.
    ci: [Option<f64>; 4],
}

/// The columns every checked query returns after the case name.
const STATISTICS: &str = "pearson_n(x, y), pearson_r(x, y), pearson_p(x, y), pearson_log10_p(x, y), \
    pearson_ci_low(x, y), pearson_ci_high(x, y), pearson_ci_low(x, y, 0.8), pearson_ci_high(x, y, 0.8)";

pub async fn register_pairs(ctx: &SessionContext) {
    let columns = [("case", DataType::Utf8), ("x", DataType::Float64), ("y", DataType::Float64)];
    register_golden(ctx, "pearson_pairs", &columns).await;
}

/// Registers `pearson_expected.csv` as table `pearson_expected`.
pub async fn register_expected(ctx: &SessionContext) {
    let mut columns = vec![("case", DataType::Utf8), ("kind", DataType::Utf8), ("n", DataType::Int64)];
    let floats = [
        "r_exact", "p_exact", "r_scipy", "p_scipy", "log10_p_exact", "ci95_low", "ci95_high", "ci80_low", "ci80_high",
        "spearman_r", "spearman_p",
    ];
    columns.extend(floats.map(|name| (name, DataType::Float64)));
    register_golden(ctx, "pearson_expected", &columns).await;
}

async fn expected(ctx: &SessionContext) -> HashMap<String, Expected> {
    register_expected(ctx).await;
    let sql = "SELECT \"case\", kind, n, r_exact, p_exact, log10_p_exact, ci95_low, ci95_high, ci80_low, ci80_high \
               FROM pearson_expected";
    rows(ctx, sql)
        .await
        .into_iter()
        .map(|row| {
            let expected = Expected {
                kind: row[1].text().to_string(),
                n: row[2].float().unwrap() as i64,
                r: row[3].float(),
                p: row[4].float(),
                log10_p: row[5].float(),
                ci: [row[6].float(), row[7].float(), row[8].float(), row[9].float()],
            };
            (row[0].text().to_string(), expected)
        })
        .collect()
}

fn check_p(case: &str, kind: &str, actual: Option<f64>, expected: Option<f64>) {
    match (actual, expected) {
        (None, None) => {}
        (Some(p), Some(_)) if kind == "exact" => {
            // |r| = 1 up to an ulp: p is ill-conditioned, only "tiny" is meaningful.
            assert!(p < 1e-30, "{case}: p = {p:e} for an exact line");
        }
        (Some(p), Some(e)) if e < 1e-300 => assert!(p < 1e-299, "{case}: p = {p:e}, expected {e:e}"),
        (Some(p), Some(e)) => assert_relative(p, e, P_RELATIVE_TOLERANCE, &format!("{case}: p")),
        (a, e) => panic!("{case}: p = {a:?}, expected {e:?}"),
    }
}

fn check_log10_p(case: &str, kind: &str, actual: Option<f64>, expected: Option<f64>) {
    match (actual, expected) {
        (None, None) => {}
        (Some(l), _) if kind == "exact" => assert!(l < -30.0, "{case}: log10 p = {l} for an exact line"),
        (Some(l), Some(e)) => assert!((l - e).abs() <= 1e-9 * e.abs() + 1e-12, "{case}: log10 p = {l}, expected {e}"),
        (a, e) => panic!("{case}: log10 p = {a:?}, expected {e:?}"),
    }
}

/// Checks `[n, r, p, log10 p, ci95 low, ci95 high, ci80 low, ci80 high]`.
fn check_case(case: &str, expected: &Expected, actual: &[Cell]) {
    assert_eq!(actual[0], Cell::Int(expected.n), "{case}: n");
    match (actual[1].float(), expected.r) {
        (None, None) => {}
        (Some(r), Some(e)) => assert!((r - e).abs() <= R_TOLERANCE, "{case}: r = {r}, expected {e}"),
        (a, e) => panic!("{case}: r = {a:?}, expected {e:?}"),
    }
    check_p(case, &expected.kind, actual[2].float(), expected.p);
    check_log10_p(case, &expected.kind, actual[3].float(), expected.log10_p);
    for (k, expected_end) in expected.ci.iter().enumerate() {
        match (actual[4 + k].float(), expected_end) {
            (None, None) => {}
            (Some(a), Some(e)) => assert!((a - e).abs() <= CI_TOLERANCE, "{case}: CI column {k}: {a} vs {e}"),
            (a, e) => panic!("{case}: CI column {k}: {a:?} vs {e:?}"),
        }
    }
}

async fn check_query(ctx: &SessionContext, sql: &str) {
    let expected = expected(ctx).await;
    let results = rows(ctx, sql).await;
    assert_eq!(results.len(), expected.len(), "one row per golden case");
    for row in &results {
        let case = row[0].text();
        check_case(case, &expected[case], &row[1..]);
    }
}

#[tokio::test]
async fn grouped_aggregates_match_golden() {
    let ctx = session_with_partitions(4);
    register_pairs(&ctx).await;
    let sql = format!("SELECT \"case\", {STATISTICS} FROM pearson_pairs GROUP BY \"case\"");
    check_query(&ctx, &sql).await;
}

#[tokio::test]
async fn window_aggregates_match_golden() {
    // OVER (PARTITION BY ...) uses the row accumulator, not the grouped one.
    let ctx = session_with_partitions(2);
    register_pairs(&ctx).await;
    let over_w = STATISTICS.replace("), ", ") OVER w, ") + " OVER w";
    let sql = format!("SELECT DISTINCT \"case\", {over_w} FROM pearson_pairs WINDOW w AS (PARTITION BY \"case\")");
    check_query(&ctx, &sql).await;
}

#[tokio::test]
async fn ungrouped_aggregates_match_golden() {
    let ctx = session_with_partitions(4);
    register_pairs(&ctx).await;
    let expected = expected(&ctx).await;
    for case in ["offset_1e+12", "offset_x_only_1e12", "nulls_and_nans", "n1", "n0", "constant_y", "long_n12000_rho0.3"] {
        let sql = format!("SELECT '{case}', {STATISTICS} FROM pearson_pairs WHERE \"case\" = '{case}'");
        let row = &rows(&ctx, &sql).await[0];
        check_case(case, &expected[case], &row[1..]);
    }
}

#[tokio::test]
async fn p_from_r_matches_golden() {
    let ctx = session_with_partitions(2);
    let columns = [
        ("r", DataType::Float64),
        ("n", DataType::Int64),
        ("p_scipy", DataType::Float64),
        ("p_exact", DataType::Float64),
        ("log10_p_exact", DataType::Float64),
    ];
    register_golden(&ctx, "p_from_r", &columns).await;
    let sql = "SELECT r, n, p_scipy, p_exact, pearson_p_from_r(r, n), log10_p_exact, log10_p_from_r(r, n) FROM p_from_r";
    let results = rows(&ctx, sql).await;
    assert!(results.len() > 200);
    for row in results {
        let (r, n) = (row[0].float().unwrap(), row[1].float().unwrap());
        let (p_scipy, p_exact, p) = (row[2].float().unwrap(), row[3].float(), row[4].float());
        let case = format!("r = {r}, n = {n}");
        check_p(&case, "normal", p, p_exact);
        match (row[6].float(), row[5].float()) {
            (Some(l), None) => assert_eq!(l, f64::NEG_INFINITY, "{case}: log10 p of |r| = 1"),
            (actual, expected) => check_log10_p(&case, "normal", actual, expected),
        }
        if r.abs() <= 0.999 && p_scipy >= 1e-300 {
            assert_relative(p.unwrap(), p_scipy, P_RELATIVE_TOLERANCE, &format!("{case} vs scipy"));
        }
    }
}

#[tokio::test]
async fn p_from_r_null_and_domain() {
    let ctx = session_with_partitions(1);
    let row = &rows(&ctx, "SELECT pearson_p_from_r(NULL, 10), pearson_p_from_r(0.5, NULL), \
                           pearson_p_from_r(0.5, 1), pearson_p_from_r(0.5, 2), \
                           pearson_p_from_r('NaN'::double, 10)").await[0];
    assert_eq!(row, &vec![Cell::Null, Cell::Null, Cell::Null, Cell::Float(1.0), Cell::Null]);
    let err = perfcorr::session().sql("SELECT pearson_p_from_r(1.5, 10)").await.unwrap().collect().await;
    let message = err.unwrap_err().to_string();
    assert!(message.contains("pearson_p_from_r") && message.contains("[-1, 1]"), "{message}");
}
