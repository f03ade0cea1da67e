//! `diff` against pandas `groupby(...).diff(periods)` for periods 1, 2, −1,
//! on shuffled input rows with NULLs and several partitions (exact equality:
//! the differences of these values are exact in Float64).

use perfcorr::datafusion::arrow::datatypes::DataType;

use crate::common::{register_golden, rows, session_with_partitions};

#[tokio::test]
async fn diff_matches_pandas() {
    for target_partitions in [1, 3] {
        let ctx = session_with_partitions(target_partitions);
        let input = [("grp", DataType::Utf8), ("ts", DataType::Int64), ("v", DataType::Float64)];
        register_golden(&ctx, "diff_input", &input).await;
        let expected = [
            ("grp", DataType::Utf8),
            ("ts", DataType::Int64),
            ("v", DataType::Float64),
            ("d1", DataType::Float64),
            ("d2", DataType::Float64),
            ("dm1", DataType::Float64),
        ];
        register_golden(&ctx, "diff_expected", &expected).await;
        let actual = rows(
            &ctx,
            "SELECT grp, ts, v, diff(v) OVER w, diff(v, 2) OVER w, diff(v, -1) OVER w \
             FROM diff_input WINDOW w AS (PARTITION BY grp ORDER BY ts) ORDER BY grp, ts",
        )
        .await;
        let expected = rows(&ctx, "SELECT * FROM diff_expected ORDER BY grp, ts").await;
        assert_eq!(actual.len(), 23);
        assert_eq!(actual, expected, "target_partitions = {target_partitions}");
    }
}

#[tokio::test]
async fn diff_accepts_integers_and_descending_order() {
    let ctx = session_with_partitions(2);
    let result = rows(
        &ctx,
        "SELECT ts, diff(v) OVER (ORDER BY ts DESC) FROM \
         (VALUES (1, CAST(10 AS INT)), (2, 13), (3, 11)) AS t(ts, v) ORDER BY ts",
    )
    .await;
    let d: Vec<Option<f64>> = result.iter().map(|row| row[1].float()).collect();
    // Walking backwards in time: 10 - 13, 13 - 11, first row (ts = 3) NULL.
    assert_eq!(d, vec![Some(-3.0), Some(2.0), None]);
}
