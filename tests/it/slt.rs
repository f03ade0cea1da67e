//! Runs every `tests/slt/*.slt` sqllogictest file against a perfcorr session.
//!
//! Values are rendered with Arrow's display formatter (shortest round-trip
//! floats), NULL as `NULL`, empty strings as `(empty)`.

use std::path::PathBuf;

use async_trait::async_trait;
use perfcorr::cli::format::display_rows;
use perfcorr::datafusion::arrow::util::display::FormatOptions;
use perfcorr::datafusion::error::DataFusionError;
use perfcorr::datafusion::prelude::SessionContext;
use sqllogictest::{DBOutput, DefaultColumnType};

struct PerfcorrDb {
    ctx: SessionContext,
}

#[async_trait]
impl sqllogictest::AsyncDB for PerfcorrDb {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let df = self.ctx.sql(sql).await?;
        // DDL (CREATE TABLE/VIEW, SET, ...) has an empty schema.
        let is_statement = df.schema().fields().is_empty();
        let types = df
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                t if t.is_integer() => DefaultColumnType::Integer,
                t if t.is_floating() => DefaultColumnType::FloatingPoint,
                _ => DefaultColumnType::Text,
            })
            .collect();
        let batches = df.collect().await?;
        if is_statement {
            return Ok(DBOutput::StatementComplete(0));
        }
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &batches {
            for row in display_rows(batch, &options)? {
                rows.push(row.into_iter().map(|v| if v.is_empty() { "(empty)".to_string() } else { v }).collect());
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "perfcorr"
    }
}

#[tokio::test]
async fn sqllogictest_files() {
    run_slt_files(|| async { perfcorr::session() }).await;
}

/// Runs every `.slt` file, each on a new session from `session`.
pub async fn run_slt_files<F, Fut>(session: F)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = SessionContext> + Send,
{
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    for file in files {
        let session = session.clone();
        let mut runner = sqllogictest::Runner::new(move || {
            let session = session.clone();
            async move { Ok(PerfcorrDb { ctx: session().await }) }
        });
        runner.run_file_async(&file).await.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}
