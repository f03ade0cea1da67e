//! Grouped `pearson_r` + `pearson_p` against DataFusion's built-in `corr` on
//! the same in-memory data: 10M rows, 1,000 groups.
//!
//! Run: `cargo bench --bench pearson` (release profile). Results are in
//! BENCHMARKS.md.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use perfcorr::datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use perfcorr::datafusion::arrow::datatypes::{DataType, Field, Schema};
use perfcorr::datafusion::datasource::MemTable;
use perfcorr::datafusion::prelude::SessionContext;

const ROWS: usize = 10_000_000;
const GROUPS: i64 = 1_000;
const BATCH: usize = 8_192;

/// Deterministic pseudo-random data (xorshift), y correlated with x.
fn table() -> MemTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]));
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let partitions = 2;
    let mut batches: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    for (k, start) in (0..ROWS).step_by(BATCH).enumerate() {
        let len = BATCH.min(ROWS - start);
        let g: Int64Array = (start..start + len).map(|i| i as i64 % GROUPS).collect();
        let x: Vec<f64> = (0..len).map(|_| uniform()).collect();
        let y: Float64Array = x.iter().map(|x| 0.3 * x + uniform()).collect();
        let columns = vec![Arc::new(g) as _, Arc::new(Float64Array::from(x)) as _, Arc::new(y) as _];
        batches[k % partitions].push(RecordBatch::try_new(schema.clone(), columns).unwrap());
    }
    MemTable::try_new(schema, batches).unwrap()
}

fn run(runtime: &tokio::runtime::Runtime, ctx: &SessionContext, sql: &str) {
    runtime.block_on(async {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), GROUPS as usize);
    })
}

fn grouped(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ctx: SessionContext = perfcorr::session();
    ctx.register_table("t", Arc::new(table())).unwrap();
    let mut group = c.benchmark_group("grouped_10M_rows_1000_groups");
    group.sample_size(10);
    let queries = [
        ("pearson_r+pearson_p", "SELECT g, pearson_r(x, y), pearson_p(x, y) FROM t GROUP BY g"),
        ("pearson_r+pearson_p+pearson_n", "SELECT g, pearson_r(x, y), pearson_p(x, y), pearson_n(x, y) FROM t GROUP BY g"),
        ("builtin_corr", "SELECT g, corr(x, y) FROM t GROUP BY g"),
    ];
    for (name, sql) in queries {
        group.bench_function(name, |b| b.iter(|| run(&runtime, &ctx, sql)));
    }
    group.finish();
}

criterion_group!(benches, grouped);
criterion_main!(benches);
