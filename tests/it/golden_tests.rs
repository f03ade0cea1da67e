//! Tests beyond Pearson against scipy/statsmodels golden values:
//! `p_adjust` (statsmodels `multipletests`, relative 1e-12; NULL and NaN
//! p-values stay NULL, each partition adjusted on its own), `spearman_r`
//! (|Δ| ≤ 1e-12) and `spearman_p` (relative 1e-9) against
//! `scipy.stats.spearmanr`, `shift_p` (relative 1e-9) against
//! `scipy.stats.mannwhitneyu(method='asymptotic')`, `xcorr_lag`/`xcorr_r` against
//! pandas `x.shift(k).corr(y)` (r |Δ| ≤ 1e-12), `pearson_n_eff` (relative 1e-12) and
//! `pearson_p_eff` (relative 1e-9) against statsmodels `acf` and scipy.

use perfcorr::datafusion::arrow::datatypes::DataType;

use crate::common::{assert_relative, register_golden, rows, session_with_partitions, Cell};
use crate::golden_pearson::{register_expected, register_pairs};

/// Compares an optional result with an optional expectation.
fn check(what: &str, actual: &Cell, expected: &Cell, close: impl Fn(f64, f64)) {
    match (actual.float(), expected.float()) {
        (None, None) => {}
        (Some(a), Some(e)) => close(a, e),
        (a, e) => panic!("{what}: got {a:?}, expected {e:?}"),
    }
}

#[tokio::test]
async fn p_adjust_matches_statsmodels() {
    let ctx = session_with_partitions(3);
    let mut columns = vec![("grp", DataType::Utf8), ("id", DataType::Int64)];
    columns.extend(["p", "bonferroni", "holm", "bh", "by"].map(|c| (c, DataType::Float64)));
    register_golden(&ctx, "padjust", &columns).await;
    let sql = "SELECT grp, id, bonferroni, p_adjust(p, 'bonferroni') OVER w, holm, p_adjust(p, 'holm') OVER w, \
               bh, p_adjust(p, 'bh') OVER w, by, p_adjust(p, 'BY') OVER w \
               FROM padjust WINDOW w AS (PARTITION BY grp) ORDER BY grp, id";
    let results = rows(&ctx, sql).await;
    assert_eq!(results.len(), 213);
    for row in results {
        for k in [2, 4, 6, 8] {
            match (row[k].float(), row[k + 1].float()) {
                (None, None) => {}
                (Some(e), Some(a)) => assert!((a - e).abs() <= 1e-12 * e, "{row:?} column {k}"),
                (e, a) => panic!("{row:?}: expected {e:?}, got {a:?}"),
            }
        }
    }
}

#[tokio::test]
async fn spearman_matches_scipy() {
    let ctx = session_with_partitions(4);
    register_pairs(&ctx).await;
    register_expected(&ctx).await;
    let sql = "SELECT e.\"case\", s.rho, e.spearman_r, s.p, e.spearman_p FROM pearson_expected e JOIN \
               (SELECT \"case\", spearman_r(x, y) AS rho, spearman_p(x, y) AS p FROM pearson_pairs GROUP BY \"case\") s \
               ON s.\"case\" = e.\"case\"";
    let results = rows(&ctx, sql).await;
    assert!(results.len() > 60);
    for row in results {
        let case = row[0].text().to_string();
        check(&case, &row[1], &row[2], |a, e| assert!((a - e).abs() <= 1e-12, "{case}: rho {a} vs {e}"));
        let perfect = row[2].float().is_some_and(|rho| rho.abs() > 1.0 - 1e-12);
        check(&case, &row[3], &row[4], |a, e| {
            if perfect {
                // rho = ±1 up to scipy's rounding: p is ill-conditioned (scipy
                // gets 1e-24 from rho = 1 - 2e-16; exactly ±1 gives 0).
                assert!(a < 1e-10, "{case}: spearman p {a} for a perfect ranking");
            } else if e >= 1e-300 {
                assert_relative(a, e, 1e-9, &format!("{case}: spearman p"))
            }
        });
    }
}

#[tokio::test]
async fn shift_p_matches_scipy() {
    let ctx = session_with_partitions(3);
    let cases = [("grp", DataType::Utf8), ("value", DataType::Float64), ("in_window", DataType::Boolean)];
    register_golden(&ctx, "shift_cases", &cases).await;
    register_golden(&ctx, "shift_expected", &[("grp", DataType::Utf8), ("p", DataType::Float64)]).await;
    let sql = "SELECT e.grp, s.p, e.p FROM shift_expected e LEFT JOIN \
               (SELECT grp, shift_p(value, in_window) AS p FROM shift_cases GROUP BY grp) s ON s.grp = e.grp";
    let results = rows(&ctx, sql).await;
    assert_eq!(results.len(), 8);
    for row in results {
        let grp = row[0].text().to_string();
        check(&grp, &row[1], &row[2], |a, e| assert_relative(a, e, 1e-9, &format!("{grp}: shift_p")));
    }
}

#[tokio::test]
async fn lead_lag_and_effective_n_match_pandas_and_statsmodels() {
    let ctx = session_with_partitions(4);
    let cases = [("grp", DataType::Utf8), ("t", DataType::Int64), ("x", DataType::Float64), ("y", DataType::Float64)];
    register_golden(&ctx, "ordered_cases", &cases).await;
    let expected = [
        ("grp", DataType::Utf8),
        ("lag", DataType::Int64),
        ("r", DataType::Float64),
        ("n_eff", DataType::Float64),
        ("p_eff", DataType::Float64),
    ];
    register_golden(&ctx, "ordered_expected", &expected).await;
    let sql = "SELECT e.grp, s.lag, e.lag, s.r, e.r, s.n_eff, e.n_eff, s.p_eff, e.p_eff FROM ordered_expected e JOIN \
               (SELECT grp, xcorr_lag(x, y, 5 ORDER BY t) AS lag, xcorr_r(x, y, 5 ORDER BY t) AS r, \
                       pearson_n_eff(x, y ORDER BY t) AS n_eff, pearson_p_eff(x, y ORDER BY t) AS p_eff \
                FROM ordered_cases GROUP BY grp) s ON s.grp = e.grp";
    let results = rows(&ctx, sql).await;
    assert_eq!(results.len(), 7);
    for row in results {
        let grp = row[0].text().to_string();
        assert_eq!(row[1], row[2], "{grp}: lag");
        check(&grp, &row[3], &row[4], |a, e| assert!((a - e).abs() <= 1e-12, "{grp}: r {a} vs {e}"));
        check(&grp, &row[5], &row[6], |a, e| assert_relative(a, e, 1e-12, &format!("{grp}: n_eff")));
        check(&grp, &row[7], &row[8], |a, e| assert_relative(a, e, 1e-9, &format!("{grp}: p_eff")));
    }
}
