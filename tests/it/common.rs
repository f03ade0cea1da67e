//! Helpers shared by the integration tests: golden-file loading and query
//! results as plain Rust values; the `perfcorr` binary and the saved
//! `rank_causes` query run on an incident folder.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use perfcorr::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use perfcorr::datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, UInt64Type};
use perfcorr::datafusion::prelude::{CsvReadOptions, SessionContext};

/// Path of a file under `tests/golden/`.
pub fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Registers `tests/golden/<name>.csv` as table `name` with the given columns.
pub async fn register_golden(ctx: &SessionContext, name: &str, columns: &[(&str, DataType)]) {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(column, data_type)| Field::new(*column, data_type.clone(), true))
            .collect::<Vec<_>>(),
    );
    let path = golden_path(&format!("{name}.csv"));
    ctx.register_csv(name, path.to_str().unwrap(), CsvReadOptions::new().schema(&schema))
        .await
        .unwrap();
}

/// Runs `sql` and returns all result batches.
pub async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

/// A result cell as a plain value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Cell {
    pub fn float(&self) -> Option<f64> {
        match self {
            Cell::Null => None,
            Cell::Float(v) => Some(*v),
            Cell::Int(v) => Some(*v as f64),
            Cell::Bool(b) => panic!("expected a number, got {b}"),
            Cell::Text(t) => panic!("expected a number, got text {t:?}"),
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Cell::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Runs `sql` and returns its rows as [`Cell`]s (Boolean, Float64, Int64 and UInt64, Utf8 columns).
pub async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<Cell>> {
    let mut out = Vec::new();
    for batch in query(ctx, sql).await {
        for row in 0..batch.num_rows() {
            out.push(batch.columns().iter().map(|column| cell(column.as_ref(), row)).collect());
        }
    }
    out
}

fn cell(column: &dyn Array, row: usize) -> Cell {
    if column.is_null(row) {
        return Cell::Null;
    }
    match column.data_type() {
        DataType::Boolean => Cell::Bool(column.as_boolean().value(row)),
        DataType::Float64 => Cell::Float(column.as_primitive::<Float64Type>().value(row)),
        DataType::Int64 => Cell::Int(column.as_primitive::<Int64Type>().value(row)),
        DataType::UInt64 => Cell::Int(i64::try_from(column.as_primitive::<UInt64Type>().value(row)).expect("a count within i64")),
        DataType::Utf8 => Cell::Text(column.as_string::<i32>().value(row).to_string()),
        DataType::Utf8View => Cell::Text(column.as_string_view().value(row).to_string()),
        other => panic!("unexpected column type {other}"),
    }
}

/// Asserts `|actual − expected| ≤ tolerance · |expected|` (relative error).
pub fn assert_relative(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let error = if expected == 0.0 { actual.abs() } else { ((actual - expected) / expected).abs() };
    assert!(error <= tolerance, "{what}: got {actual:e}, expected {expected:e} (relative error {error:e} > {tolerance:e})");
}

/// A fresh perfcorr session with the given number of target partitions.
pub fn session_with_partitions(target_partitions: usize) -> SessionContext {
    perfcorr::session_with_config(perfcorr::session_config().with_target_partitions(target_partitions))
}

/// Asserts two results have the same rows: text and integers equal, floats
/// within 1e-12 (absolute or relative) or equal (infinities), NULLs in the
/// same places.
pub fn assert_rows_close(a: &[Vec<Cell>], b: &[Vec<Cell>], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: row counts");
    for (row_a, row_b) in a.iter().zip(b) {
        assert_eq!(row_a.len(), row_b.len(), "{what}: column counts");
        for (k, (x, y)) in row_a.iter().zip(row_b).enumerate() {
            match (x, y) {
                (Cell::Float(x), Cell::Float(y)) => {
                    let scale = x.abs().max(y.abs());
                    let close = x == y || (x - y).abs() <= 1e-12 || (x - y).abs() <= 1e-12 * scale || (x.is_nan() && y.is_nan());
                    assert!(close, "{what}: column {k} of {:?}: {x:e} vs {y:e}", row_a[0]);
                }
                (x, y) => assert_eq!(x, y, "{what}: column {k} of {:?}", row_a[0]),
            }
        }
    }
}

/// The `perfcorr` binary, with a temporary `HOME` (no history file).
pub fn perfcorr() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_perfcorr"));
    command.env("HOME", std::env::temp_dir());
    command
}

/// The nodes `queries/rank_causes.sql` names for the incident folder `dir`,
/// best first, run exactly as measured:
/// `perfcorr -q --data DIR --format csv -f queries/rank_causes.sql`.
pub fn rank_causes_nodes(dir: &Path) -> Vec<String> {
    let query = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries/rank_causes.sql");
    let output = perfcorr().args(["-q", "--data"]).arg(dir).args(["--format", "csv", "-f"]).arg(query).output().unwrap();
    assert!(output.status.success(), "{}: {}", dir.display(), String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let column = header.iter().position(|c| *c == "node").expect("a column named node");
    lines.map(|line| line.split(',').nth(column).unwrap().to_string()).collect()
}
