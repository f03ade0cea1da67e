//! Registers metric tables: every `*.csv`, `*.parquet`, `*.json`/`*.ndjson`
//! file of the `--data` folders as a table named after the file stem, or the
//! bundled sample incident when no folder is given. A JSON file holding a
//! Prometheus query response or a Scout API metric response becomes the long
//! table of its series ([`crate::sources::exports`]).
//!
//! Parquet files are registered as listing tables (typed, read on query).
//! CSV and JSON files are parsed at start-up, so a malformed file is reported
//! then, with its line: column types are inferred from every row, `ts` (and
//! any column that looks like a timestamp) becomes `Timestamp(µs)`, and the
//! layout's metric columns (`ms`, `response_ms`, `throughput_rpm`) must be
//! numeric. Nothing is ever written to the user's files.

use std::io::{BufRead, BufReader, Cursor, Seek};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchReader};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use futures::FutureExt;

use super::exec::one_line;
use super::panics;

/// Columns of the long layout that must hold numbers.
const METRIC_COLUMNS: [&str; 3] = ["ms", "response_ms", "throughput_rpm"];
const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

/// The bundled sample incident (`sample_data/`), compiled into the binary.
const SAMPLE: [(&str, &[u8]); 3] = [
    ("app", include_bytes!("../../sample_data/app.parquet")),
    ("layers", include_bytes!("../../sample_data/layers.parquet")),
    ("views", include_bytes!("../../sample_data/views.parquet")),
];

/// What was registered, for the banner and `\d`.
#[derive(Debug, Clone)]
pub struct LoadedData {
    pub description: String,
    pub tables: Vec<String>,
    /// The `--data` folders (none for the bundled sample).
    pub folders: Vec<PathBuf>,
}

/// A one-line load error: `FILE: message` or `FILE:LINE: message`.
pub type LoadError = String;

fn file_error(path: &Path, line: Option<usize>, message: impl std::fmt::Display) -> LoadError {
    match line {
        Some(line) => format!("{}:{line}: {message}", path.display()),
        None => format!("{}: {message}", path.display()),
    }
}

/// Registers the bundled sample incident.
pub fn register_sample(ctx: &SessionContext) -> Result<LoadedData, LoadError> {
    for (name, bytes) in SAMPLE {
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from_static(bytes))
            .and_then(|builder| builder.build())
            .map_err(|e| format!("bundled sample {name}: {e}"))?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| format!("bundled sample {name}: {e}"))?;
        register_batches(ctx, name, schema, batches).map_err(|e| format!("bundled sample {name}: {e}"))?;
    }
    Ok(LoadedData {
        description: "bundled sample incident (app, layers, views)".to_string(),
        tables: SAMPLE.iter().map(|(name, _)| name.to_string()).collect(),
        folders: Vec::new(),
    })
}

fn register_batches(ctx: &SessionContext, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> datafusion::error::Result<()> {
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Csv,
    Parquet,
    Json,
}

fn file_kind(path: &Path) -> Option<FileKind> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(FileKind::Csv),
        "parquet" => Some(FileKind::Parquet),
        "json" | "ndjson" => Some(FileKind::Json),
        _ => None,
    }
}

/// The data files of `dirs`, as (table name, path), sorted by name; an error
/// for a missing folder or two files with the same stem.
fn discover(dirs: &[PathBuf]) -> Result<Vec<(String, PathBuf, FileKind)>, LoadError> {
    let mut files: Vec<(String, PathBuf, FileKind)> = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("--data {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("--data {}: {e}", dir.display()))?.path();
            let (Some(kind), Some(stem)) = (file_kind(&path), path.file_stem().and_then(|s| s.to_str())) else {
                continue;
            };
            if !path.is_file() {
                continue;
            }
            if let Some((_, other, _)) = files.iter().find(|(name, _, _)| name == stem) {
                return Err(format!("two files for table '{stem}': {} and {}", other.display(), path.display()));
            }
            files.push((stem.to_string(), path, kind));
        }
    }
    files.sort();
    Ok(files)
}

/// Registers every data file in `dirs`.
pub async fn register_directories(ctx: &SessionContext, dirs: &[PathBuf]) -> Result<LoadedData, LoadError> {
    let files = discover(dirs)?;
    for (name, path, kind) in &files {
        match kind {
            // A corrupt file can make a reader panic (seen: an integer
            // overflow in the Parquet footer decoder): that is an error
            // about the file, not the end of the session.
            FileKind::Parquet => {
                let location = path.to_str().ok_or_else(|| file_error(path, None, "path is not valid UTF-8"))?;
                AssertUnwindSafe(ctx.register_parquet(name, location, ParquetReadOptions::default()))
                    .catch_unwind()
                    .await
                    .map_err(|panic| file_error(path, None, format!("not a readable Parquet file ({})", panics::message(&*panic))))?
                    .map_err(|e| file_error(path, None, one_line(&e.to_string())))?;
            }
            FileKind::Csv | FileKind::Json => {
                let (schema, batches) = std::panic::catch_unwind(|| read_text_table(path, *kind))
                    .map_err(|panic| file_error(path, None, format!("cannot be read ({})", panics::message(&*panic))))??;
                register_batches(ctx, name, schema, batches).map_err(|e| file_error(path, None, e))?;
            }
        }
    }
    let folders: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Ok(LoadedData {
        description: format!("{} table(s) from {}", files.len(), folders.join(", ")),
        tables: files.into_iter().map(|(name, _, _)| name).collect(),
        folders: dirs.to_vec(),
    })
}

/// Reads a CSV or JSON file into batches with typed timestamp and metric columns.
fn read_text_table(path: &Path, kind: FileKind) -> Result<(SchemaRef, Vec<RecordBatch>), LoadError> {
    let text = std::fs::read(path).map_err(|e| file_error(path, None, e))?;
    if kind == FileKind::Json {
        if let Some(export) = crate::sources::exports::read(path, &text) {
            let batch = export?;
            return Ok((batch.schema(), vec![batch]));
        }
    }
    let (batches, first_data_line) = match kind {
        FileKind::Csv => (read_csv(path, &text)?, 2),
        _ => (read_json(path, &text)?, 1),
    };
    let schema = batches[0].schema();
    let mut fields = Vec::new();
    let mut columns: Vec<Vec<ArrayRef>> = vec![Vec::new(); batches.len()];
    for (index, field) in schema.fields().iter().enumerate() {
        let wants_timestamp = field.name() == "ts" || matches!(field.data_type(), DataType::Timestamp(..) | DataType::Date32 | DataType::Date64);
        let wants_number = METRIC_COLUMNS.contains(&field.name().as_str());
        let target = match field.data_type() {
            _ if wants_timestamp => TIMESTAMP,
            _ if wants_number => DataType::Float64,
            other => other.clone(),
        };
        let mut row_offset = 0;
        for (batch_index, batch) in batches.iter().enumerate() {
            let column = batch.column(index);
            let converted = convert_column(column, &target).map_err(|row| {
                let value = column.as_string_opt::<i32>().map(|s| s.value(row).to_string()).unwrap_or_default();
                let expected = if wants_timestamp { "an ISO 8601 timestamp" } else { "a number" };
                file_error(path, Some(first_data_line + row_offset + row), format!("column {}: '{}' is not {expected}", field.name(), value.escape_debug()))
            })?;
            columns[batch_index].push(converted);
            row_offset += batch.num_rows();
        }
        fields.push(Field::new(field.name(), target, field.is_nullable()));
    }
    let schema = Arc::new(Schema::new(fields));
    let batches = columns
        .into_iter()
        .map(|columns| RecordBatch::try_new(schema.clone(), columns))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, None, e))?;
    Ok((schema, batches))
}

/// Casts `column` to `target`; on a value that does not convert, the row.
fn convert_column(column: &ArrayRef, target: &DataType) -> Result<ArrayRef, usize> {
    if column.data_type() == target {
        return Ok(column.clone());
    }
    let options = CastOptions { safe: true, ..Default::default() };
    let converted = cast_with_options(column, target, &options).map_err(|_| 0usize)?;
    match (0..column.len()).find(|&row| column.is_valid(row) && converted.is_null(row)) {
        Some(row) => Err(row),
        None => Ok(converted),
    }
}

/// Reads every line of a CSV file with a header; types are inferred from all
/// rows, timestamp-like columns are read as text and converted by the caller.
fn read_csv(path: &Path, text: &[u8]) -> Result<Vec<RecordBatch>, LoadError> {
    use datafusion::arrow::csv::reader::{Format, ReaderBuilder};
    if let Some(line) = unclosed_quote(text) {
        return Err(file_error(path, Some(line), "a quoted field opens here and never closes (is the file cut off?)"));
    }
    let format = Format::default().with_header(true);
    let (inferred, _) = format
        .infer_schema(Cursor::new(text), None)
        .map_err(|e| located_error(path, &e.to_string()))?;
    if inferred.fields().is_empty() {
        return Err(file_error(path, None, "empty file: expected a header row"));
    }
    let schema = Arc::new(Schema::new(
        inferred
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => Field::new(f.name(), DataType::Utf8, true),
                DataType::Null => Field::new(f.name(), DataType::Utf8, true),
                _ => f.as_ref().clone(),
            })
            .collect::<Vec<_>>(),
    ));
    let reader = ReaderBuilder::new(schema.clone())
        .with_format(format)
        .build(Cursor::new(text))
        .map_err(|e| file_error(path, None, e))?;
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| located_error(path, &e.to_string()))?;
    Ok(if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches })
}

/// The line where a quoted field opens that the file never closes. Arrow's
/// reader takes the end of the file as the closing quote, which is how a
/// cut-off export looks. Quotes follow RFC 4180: a field that starts with
/// `"` is quoted, `""` inside it is a quote, and a `"` inside an unquoted
/// field is an ordinary character.
fn unclosed_quote(text: &[u8]) -> Option<usize> {
    let mut line = 1;
    let mut open_since = None;
    let mut field_start = true;
    let mut bytes = text.iter().peekable();
    while let Some(&byte) = bytes.next() {
        if open_since.is_some() {
            match byte {
                b'"' if bytes.peek() == Some(&&b'"') => {
                    bytes.next();
                }
                b'"' => open_since = None,
                b'\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' if field_start => open_since = Some(line),
            b'\n' => line += 1,
            _ => {}
        }
        field_start = byte == b',' || byte == b'\n';
    }
    open_since
}

/// Turns Arrow's "... line 7 ..." messages into `FILE:7: message`.
fn located_error(path: &Path, message: &str) -> LoadError {
    let message = one_line(message);
    let line = message
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<usize>().ok());
    file_error(path, line, message)
}

/// Reads newline-delimited JSON objects, or one JSON array of objects.
fn read_json(path: &Path, text: &[u8]) -> Result<Vec<RecordBatch>, LoadError> {
    use datafusion::arrow::json::reader::{infer_json_schema_from_seekable, ReaderBuilder};
    let trimmed = text.iter().position(|b| !b.is_ascii_whitespace()).map(|start| &text[start..]).unwrap_or_default();
    let lines: Vec<u8> = if trimmed.first() == Some(&b'[') {
        let rows: Vec<serde_json::Value> = serde_json::from_slice(text).map_err(|e| file_error(path, Some(e.line()), e))?;
        rows.iter().map(|row| row.to_string() + "\n").collect::<String>().into_bytes()
    } else {
        for (index, line) in BufReader::new(text).lines().enumerate() {
            let line = line.map_err(|e| file_error(path, Some(index + 1), e))?;
            if !line.trim().is_empty() {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line)
                    .map_err(|e| file_error(path, Some(index + 1), format!("not a JSON object: {e}")))?;
            }
        }
        text.to_vec()
    };
    let mut cursor = Cursor::new(lines);
    let (schema, _) = infer_json_schema_from_seekable(&mut cursor, None).map_err(|e| file_error(path, None, e))?;
    if schema.fields().is_empty() {
        return Err(file_error(path, None, "no JSON objects with fields"));
    }
    cursor.rewind().map_err(|e| file_error(path, None, e))?;
    let schema = Arc::new(schema);
    let reader = ReaderBuilder::new(schema.clone()).build(cursor).map_err(|e| file_error(path, None, e))?;
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| file_error(path, None, one_line(&e.to_string())))?;
    Ok(if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches })
}
