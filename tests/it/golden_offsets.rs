//! Pearson r of `offset + noise` at offsets 1e6, 1e9, 1e12 and 1e15 against
//! exact values (`tests/golden/make_offsets.py`: exact rational arithmetic on
//! the same Float64 data). Tolerance: 1e-13 relative, in every path that
//! computes it: ungrouped, grouped, grouped with partial states merged across
//! 4 partitions in small batches, and as a window function.

use std::collections::HashMap;

use perfcorr::datafusion::arrow::datatypes::DataType;
use perfcorr::datafusion::logical_expr::Partitioning;
use perfcorr::datafusion::prelude::SessionContext;

use crate::common::{assert_relative, register_golden, rows, Cell};

const TOLERANCE: f64 = 1e-13;

async fn session(partitions: usize, batch_size: usize) -> SessionContext {
    let config = perfcorr::session_config().with_target_partitions(partitions).with_batch_size(batch_size);
    let ctx = perfcorr::session_with_config(config);
    register_golden(&ctx, "offsets_pairs", &[("case", DataType::Utf8), ("x", DataType::Float64), ("y", DataType::Float64)]).await;
    register_golden(&ctx, "offsets_expected", &[("case", DataType::Utf8), ("r_exact", DataType::Float64)]).await;
    if partitions > 1 {
        let shuffled = ctx.table("offsets_pairs").await.unwrap().repartition(Partitioning::RoundRobinBatch(partitions)).unwrap();
        ctx.deregister_table("offsets_pairs").unwrap();
        ctx.register_table("offsets_pairs", shuffled.into_view()).unwrap();
    }
    ctx
}

fn by_case(result: Vec<Vec<Cell>>) -> HashMap<String, f64> {
    result.into_iter().map(|row| (row[0].text().to_string(), row[1].float().unwrap())).collect()
}

#[tokio::test]
async fn pearson_r_keeps_its_digits_at_large_offsets() {
    for (partitions, batch_size) in [(1, 8192), (4, 37)] {
        let ctx = session(partitions, batch_size).await;
        let expected = by_case(rows(&ctx, "SELECT \"case\", r_exact FROM offsets_expected").await);
        assert_eq!(expected.len(), 8);
        let queries = [
            "SELECT \"case\", pearson_r(x, y) FROM offsets_pairs GROUP BY \"case\"",
            "SELECT DISTINCT \"case\", pearson_r(x, y) OVER (PARTITION BY \"case\") FROM offsets_pairs",
        ];
        for sql in queries {
            let got = by_case(rows(&ctx, sql).await);
            for (case, r) in &expected {
                assert_relative(got[case], *r, TOLERANCE, &format!("{case}, {partitions} partition(s): {sql}"));
            }
        }
        for (case, r) in &expected {
            let sql = format!("SELECT '{case}', pearson_r(x, y) FROM offsets_pairs WHERE \"case\" = '{case}'");
            let got = by_case(rows(&ctx, &sql).await);
            assert_relative(got[case], *r, TOLERANCE, &format!("{case}, ungrouped"));
        }
    }
}
