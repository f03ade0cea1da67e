//! Real sources of metrics: a running Prometheus server (its HTTP API) and
//! JSON exports of one (query responses saved with curl) or of Scout APM
//! (API metric responses), each read into one long table
//! `ts, <one column per label>, value`.

pub mod exports;
pub mod prom_json;
pub mod prometheus;
pub mod scout;
pub mod time;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::error::ArrowError;

/// One time series: its labels and its points `(µs since the epoch, value)`
/// in time order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(i64, f64)>,
}

/// The column a label is read into: its name, unless that is `ts` or
/// `value` (the table's own columns), which become `label_ts`/`label_value`.
pub fn label_column(label: &str) -> String {
    match label {
        "ts" | "value" => format!("label_{label}"),
        other => other.to_string(),
    }
}

/// The long table of `series`: `ts` (Timestamp µs), one Utf8 column per
/// label found in any series or named in `always` (sorted by name, NULL
/// where a series lacks the label), and `value` (Float64; NaN and ±inf kept,
/// perfcorr's statistics skip them as missing). Rows come series by series,
/// in time order.
pub fn long_table(series: &[Series], always: &[String]) -> Result<RecordBatch, ArrowError> {
    let labels: BTreeSet<&str> = series.iter().flat_map(|s| s.labels.keys().map(String::as_str)).chain(always.iter().map(String::as_str)).collect();
    let rows: usize = series.iter().map(|s| s.points.len()).sum();
    let mut fields = vec![Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), false)];
    let ts = TimestampMicrosecondArray::from_iter_values(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let mut columns: Vec<ArrayRef> = vec![Arc::new(ts)];
    for label in labels {
        fields.push(Field::new(label_column(label), DataType::Utf8, true));
        let values = series.iter().flat_map(|s| std::iter::repeat_n(s.labels.get(label).map(String::as_str), s.points.len()));
        columns.push(Arc::new(values.collect::<StringArray>()));
    }
    fields.push(Field::new("value", DataType::Float64, true));
    columns.push(Arc::new(Float64Array::from_iter_values(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))));
    debug_assert!(columns.iter().all(|c| c.len() == rows));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// A value as Prometheus writes it: a decimal, `NaN`, `+Inf` or `-Inf`.
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};

    fn series(labels: &[(&str, &str)], points: &[(i64, f64)]) -> Series {
        Series { labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), points: points.to_vec() }
    }

    #[test]
    fn one_column_per_label_null_where_missing() {
        let a = series(&[("view", "a"), ("method", "GET")], &[(1, 1.0), (2, 2.0)]);
        let b = series(&[("view", "b"), ("value", "x")], &[(1, 3.0)]);
        let batch = long_table(&[a, b], &["layer".to_string()]).unwrap();
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["ts", "layer", "method", "label_value", "view", "value"]);
        assert_eq!(batch.num_rows(), 3);
        let method = batch.column(2).as_string::<i32>();
        assert_eq!((method.value(0), method.is_null(2)), ("GET", true));
        assert!(batch.column(1).is_null(0));
    }

    #[test]
    fn prometheus_values() {
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("1.5e3"), Some(1500.0));
        assert_eq!(parse_value("inf"), None);
        assert_eq!(parse_value("x"), None);
    }
}
