//! Writes an [`Incident`] as the long-layout tables `app`, `layers` and
//! `views`, in CSV or Parquet, streaming: one view is built, written and
//! dropped before the next, so 10,000 views × 10,080 points need no more
//! memory than one view's arrays plus the Parquet writer's open row group.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::metadata::SortingColumn;

use super::model::{Incident, IncidentSpec, LAYERS};

/// File format of the generated tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Csv,
    Parquet,
    /// One OpenMetrics text file with django-prometheus' metric names, for
    /// `promtool tsdb create-blocks-from openmetrics` (see `openmetrics.rs`).
    Openmetrics,
}

impl FileFormat {
    fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
            FileFormat::Openmetrics => "om",
        }
    }
}

/// How the tables are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub format: FileFormat,
    /// Record the sort order (key, ts) in Parquet metadata; DataFusion then
    /// knows the files are sorted. Off for benchmarks of the unsorted path.
    pub sort_metadata: bool,
}

/// Rows per Parquet row group: whole series, about a million rows.
const TARGET_ROW_GROUP_ROWS: usize = 1 << 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One output table being written.
enum TableWriter {
    Csv(datafusion::arrow::csv::Writer<File>),
    Parquet(ArrowWriter<File>),
}

impl TableWriter {
    /// `sorted_by`: the columns the rows are sorted by, recorded in the
    /// Parquet metadata when `sort_metadata` is set.
    fn create(path: &Path, schema: SchemaRef, output: Output, points: usize, sorted_by: &[i32]) -> Result<Self, BoxError> {
        let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(match output.format {
            FileFormat::Openmetrics => return Err("OpenMetrics is written by openmetrics.rs, not as tables".into()),
            FileFormat::Csv => TableWriter::Csv(
                CsvWriterBuilder::new().with_timestamp_format("%Y-%m-%dT%H:%M:%SZ".to_string()).build(file),
            ),
            FileFormat::Parquet => {
                let series_per_group = (TARGET_ROW_GROUP_ROWS / points.max(1)).max(1);
                let sorting = output.sort_metadata.then(|| {
                    sorted_by.iter().map(|&column_idx| SortingColumn { column_idx, descending: false, nulls_first: false }).collect()
                });
                let properties = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
                    .set_max_row_group_row_count(Some(series_per_group * points.max(1)))
                    .set_sorting_columns(sorting)
                    .build();
                TableWriter::Parquet(ArrowWriter::try_new(file, schema, Some(properties))?)
            }
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), BoxError> {
        match self {
            TableWriter::Csv(writer) => writer.write(batch)?,
            TableWriter::Parquet(writer) => writer.write(batch)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<(), BoxError> {
        if let TableWriter::Parquet(writer) = self {
            writer.close()?;
        }
        Ok(())
    }
}

fn ts_field() -> Field {
    Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), false)
}

fn float_field(name: &str) -> Field {
    Field::new(name, DataType::Float64, false)
}

fn timestamps(points: usize) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values((0..points).map(Incident::timestamp)))
}

fn floats(values: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn keys(key: &str, points: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(key, points)))
}

/// Writes `app`, `layers` and `views` for `spec` into `out`, which is created
/// if missing. Returns the files written.
pub fn write_incident(spec: IncidentSpec, out: &Path, output: Output) -> Result<Vec<PathBuf>, BoxError> {
    if spec.views < 2 || spec.points < 2 {
        return Err("generate needs --views >= 2 and --points >= 2".into());
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    if output.format == FileFormat::Openmetrics {
        return Ok(vec![super::write_openmetrics(spec, out)?]);
    }
    let incident = Incident::new(spec);
    let points = spec.points;
    let path = |name: &str| out.join(format!("{name}.{}", output.format.extension()));

    let app_schema = Arc::new(Schema::new(vec![ts_field(), float_field("response_ms"), float_field("throughput_rpm")]));
    let mut app = TableWriter::create(&path("app"), app_schema.clone(), output, points, &[0])?;
    app.write(&RecordBatch::try_new(
        app_schema,
        vec![timestamps(points), floats(&incident.app_response_ms), floats(&incident.app_throughput_rpm)],
    )?)?;
    app.finish()?;

    let layer_schema = Arc::new(Schema::new(vec![Field::new("layer", DataType::Utf8, false), ts_field(), float_field("ms")]));
    let mut layers = TableWriter::create(&path("layers"), layer_schema.clone(), output, points, &[0, 1])?;
    for ((name, _), ms) in LAYERS.iter().zip(&incident.layers_ms) {
        layers.write(&RecordBatch::try_new(layer_schema.clone(), vec![keys(name, points), timestamps(points), floats(ms)])?)?;
    }
    layers.finish()?;

    let view_schema = Arc::new(Schema::new(vec![
        Field::new("view", DataType::Utf8, false),
        ts_field(),
        float_field("response_ms"),
        float_field("throughput_rpm"),
    ]));
    let mut views = TableWriter::create(&path("views"), view_schema.clone(), output, points, &[0, 1])?;
    let ts = timestamps(points);
    for index in 0..spec.views {
        let view = incident.view(index);
        views.write(&RecordBatch::try_new(
            view_schema.clone(),
            vec![keys(&view.name, points), ts.clone(), floats(&view.response_ms), floats(&view.throughput_rpm)],
        )?)?;
    }
    views.finish()?;
    Ok(["app", "layers", "views"].iter().map(|name| path(name)).collect())
}
