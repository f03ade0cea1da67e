//! `p_adjust` against statsmodels `multipletests` (relative 1e-12; NULL and
//! NaN p-values stay NULL, each partition adjusted on its own).

use perfcorr::datafusion::arrow::datatypes::DataType;

use crate::common::{register_golden, rows, session_with_partitions};

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
