//! Query results as chart series, shared by `\plot` (terminal) and
//! `perfcorr report` (SVG): the x axis is the first timestamp or date column
//! (else the first numeric one), a text column splits rows into one series per
//! key, and every other numeric column is a value. Missing values (NULL, NaN,
//! ±inf) are kept as NaN, so charts show them as gaps.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef, TimeUnit};
use datafusion::arrow::temporal_conversions::timestamp_us_to_datetime;

/// What the x axis holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XKind {
    /// Microseconds since the epoch (timestamps and dates).
    Time,
    Number,
}

/// One line of a chart, points in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// The values that are present (finite).
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.points.iter().map(|p| p.1).filter(|v| v.is_finite())
    }

    /// Variance of the present values (0 for fewer than two).
    pub fn variance(&self) -> f64 {
        let (n, sum) = self.values().fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
        if n < 2 {
            return 0.0;
        }
        let mean = sum / n as f64;
        self.values().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    }
}

/// The series of a result, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub x_name: String,
    pub x_kind: XKind,
    pub series: Vec<Series>,
    /// Said under the chart (series left out, ...).
    pub notes: Vec<String>,
}

fn is_text(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..))
}

fn is_time(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Timestamp(..) | DataType::Date32 | DataType::Date64)
}

impl ChartData {
    /// Reads `batches` of `schema`; keeps at most `max_series` series (those
    /// with the largest variance, with a note). Fails with a one-line reason
    /// when there is nothing to draw.
    pub fn from_batches(schema: &SchemaRef, batches: &[RecordBatch], max_series: usize) -> Result<Self, String> {
        let fields = schema.fields();
        let x = fields
            .iter()
            .position(|f| is_time(f.data_type()))
            .or_else(|| fields.iter().position(|f| f.data_type().is_numeric()))
            .ok_or_else(|| {
                let columns: Vec<String> = fields.iter().map(|f| format!("{} {}", f.name(), f.data_type())).collect();
                format!("nothing to plot: needs a time (timestamp, date or numeric) column, got {}", if columns.is_empty() { "no columns".to_string() } else { columns.join(", ") })
            })?;
        let x_kind = if is_time(fields[x].data_type()) { XKind::Time } else { XKind::Number };
        let key = fields.iter().position(|f| is_text(f.data_type()));
        let values: Vec<usize> = (0..fields.len()).filter(|&i| i != x && fields[i].data_type().is_numeric()).collect();
        if values.is_empty() {
            return Err(format!("nothing to plot: needs a numeric column besides the x axis '{}'", fields[x].name()));
        }
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for batch in batches {
            let xs = x_values(batch.column(x).as_ref(), x_kind)?;
            let keys = key.map(|k| cast(batch.column(k), &DataType::Utf8)).transpose().map_err(|e| e.to_string())?;
            let columns = values.iter().map(|&v| cast(batch.column(v), &DataType::Float64)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
            for row in (0..batch.num_rows()).filter(|&row| xs[row].is_some()) {
                let key_text = keys.as_ref().map(|k| if k.is_valid(row) { k.as_string::<i32>().value(row).to_string() } else { "NULL".to_string() });
                for (column, &v) in columns.iter().zip(&values) {
                    let name = match (&key_text, values.len()) {
                        (Some(k), 1) => k.clone(),
                        (Some(k), _) => format!("{k} {}", fields[v].name()),
                        (None, _) => fields[v].name().to_string(),
                    };
                    let column = column.as_primitive::<Float64Type>();
                    let value = if column.is_valid(row) { column.value(row) } else { f64::NAN };
                    let slot = *index.entry(name.clone()).or_insert_with(|| {
                        series.push(Series { name, points: Vec::new() });
                        series.len() - 1
                    });
                    series[slot].points.push((xs[row].unwrap_or_default(), value));
                }
            }
        }
        let mut notes = Vec::new();
        let total = series.len();
        series.retain(|s| s.values().next().is_some());
        if series.is_empty() {
            return Err(if total == 0 { "nothing to plot: the result has no rows".to_string() } else { "nothing to plot: every value is NULL".to_string() });
        }
        if series.len() < total {
            notes.push(format!("{} series with no values left out", total - series.len()));
        }
        if series.len() > max_series {
            notes.push(format!("showing the {max_series} of {} series with the largest variance (choose others with WHERE)", series.len()));
            series.sort_by(|a, b| b.variance().total_cmp(&a.variance()));
            series.truncate(max_series);
        }
        for s in &mut series {
            s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Ok(ChartData { x_name: fields[x].name().clone(), x_kind, series, notes })
    }

    /// The smallest and largest x over every series.
    pub fn x_range(&self) -> (f64, f64) {
        let xs = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)))
    }
}

/// An x column as numbers: microseconds for times, the value for numbers.
fn x_values(column: &dyn Array, kind: XKind) -> Result<Vec<Option<f64>>, String> {
    let column = datafusion::arrow::array::make_array(column.to_data());
    let numbers = match kind {
        XKind::Time => {
            let micros = cast(&column, &DataType::Timestamp(TimeUnit::Microsecond, None)).and_then(|c| cast(&c, &DataType::Int64)).map_err(|e| e.to_string())?;
            micros.as_primitive::<Int64Type>().iter().map(|v| v.map(|v| v as f64)).collect()
        }
        XKind::Number => {
            let floats = cast(&column, &DataType::Float64).map_err(|e| e.to_string())?;
            floats.as_primitive::<Float64Type>().iter().map(|v| v.filter(|v| v.is_finite())).collect()
        }
    };
    Ok(numbers)
}

/// A label for an x value: `HH:MM` within a day (`MM-DD HH:MM` across days),
/// or a number.
pub fn x_label(kind: XKind, x: f64, span: f64) -> String {
    match kind {
        XKind::Time => match timestamp_us_to_datetime(x as i64) {
            Some(t) if span <= 86_400e6 => t.format("%H:%M").to_string(),
            Some(t) => t.format("%m-%d %H:%M").to_string(),
            None => format!("{x}"),
        },
        XKind::Number => number_label(x, span),
    }
}

/// The date of the first x, for an axis title (`2026-11-19`), if x is time.
pub fn x_date(kind: XKind, x: f64) -> Option<String> {
    (kind == XKind::Time).then(|| timestamp_us_to_datetime(x as i64).map(|t| t.format("%Y-%m-%d").to_string())).flatten()
}

/// A number with as many decimals as a range of `span` needs.
pub fn number_label(v: f64, span: f64) -> String {
    let magnitude = v.abs().max(span.abs());
    if magnitude != 0.0 && !(1e-3..1e7).contains(&magnitude) {
        return format!("{v:.2e}");
    }
    let decimals = if span > 0.0 { (2.0 - span.log10().floor()).clamp(0.0, 6.0) as usize } else { 2 };
    format!("{v:.decimals$}")
}
