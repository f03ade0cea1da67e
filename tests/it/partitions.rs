//! The grouped Pearson aggregates give the same answer however DataFusion
//! splits the rows: 1 vs 4 target partitions, and a round-robin repartitioned
//! input in small batches (so partial states are merged), to 1e-12 relative.

use perfcorr::datafusion::logical_expr::Partitioning;
use perfcorr::datafusion::prelude::SessionContext;

use crate::common::{assert_rows_close, rows, session_with_partitions, Cell};
use crate::golden_pearson::register_pairs;

const SQL: &str = "SELECT \"case\", pearson_n(x, y), pearson_r(x, y), pearson_p(x, y) \
                   FROM pearson_pairs GROUP BY \"case\" ORDER BY \"case\"";

async fn results(ctx: &SessionContext, repartition: bool) -> Vec<Vec<Cell>> {
    register_pairs(ctx).await;
    if repartition {
        let shuffled = ctx
            .table("pearson_pairs")
            .await
            .unwrap()
            .repartition(Partitioning::RoundRobinBatch(4))
            .unwrap();
        ctx.deregister_table("pearson_pairs").unwrap();
        ctx.register_table("pearson_pairs", shuffled.into_view()).unwrap();
    }
    rows(ctx, SQL).await
}

#[tokio::test]
async fn results_do_not_depend_on_partitioning() {
    let single = results(&session_with_partitions(1), false).await;
    let four = results(&session_with_partitions(4), false).await;
    assert_rows_close(&single, &four, "1 vs 4 partitions");
    let small_batches = perfcorr::session_with_config(
        perfcorr::session_config().with_target_partitions(4).with_batch_size(333),
    );
    let repartitioned = results(&small_batches, true).await;
    assert_rows_close(&single, &repartitioned, "1 partition vs round-robin repartitioned");
}
