//! DataFusion's plan over the points the buffered pass holds, so that a
//! series repeating a timestamp while pairs are kept costs no third read.
//!
//! The buffered pass ([`super::run`]) keeps every point `(key…, ts, value)`
//! of the series after the query's filters: exactly the rows the series'
//! window reads. When it finds a repeat it cannot take (pairs kept), the original
//! aggregate runs with that window's input swapped for a scan of those
//! points ([`Replay::execute`]): the same sorts, window, join and aggregate,
//! without the series' files. The reference is small and read again.
//!
//! Each column of the window's input must come back from the points as it
//! was: the keys and the timestamp (exact), and the value when `diff` reads
//! a column of a type that survives the trip through Float64 (the fused
//! operator reads it as Float64 too). Another column there, or `diff` of an
//! expression, and [`Replay::new`] gives `None`: the files are read again.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{can_cast_types, cast, cast_with_options, take, CastOptions};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, Result};
use datafusion::datasource::provider_as_source;
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan, LogicalPlanBuilder, Projection, Window};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::execute_stream;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use super::partition::is_null_value;

/// Where a column of the series window's input comes back from: a key
/// (`K`: its position among the operator's keys in [`Replay`], the key of
/// each series as a column once replayed), the timestamp or the value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source<K> {
    Key(K),
    Time,
    Value,
}

/// The original aggregate and how to rebuild its series window's input
/// from the buffered points.
#[derive(Debug)]
pub struct Replay {
    aggregate: LogicalPlan,
    window: Window,
    sources: Vec<Source<usize>>,
}

/// The buffered pass's points: per series its key (one row of each of
/// `keys`, in the operator's key order) and its points (NULL values as
/// [`super::partition::NULL_VALUE`]), with the memory they are charged to.
pub struct Points {
    pub keys: Vec<ArrayRef>,
    pub points: Vec<Vec<(i64, f64)>>,
    pub memory: Vec<MemoryReservation>,
}

impl Replay {
    /// For the series `window` of `aggregate`, whose GROUP BY columns are
    /// `keys`, ordered by `ts`, differencing `value`; `None` if a column of
    /// the window's input cannot be rebuilt (see the module documentation).
    pub fn new(aggregate: &Aggregate, window: &Window, keys: &[Column], ts: &Column, value: &Expr) -> Option<Self> {
        let value_column = match value {
            Expr::Column(column) => column,
            Expr::Cast(cast) if *cast.field.data_type() == DataType::Float64 => match cast.expr.as_ref() {
                Expr::Column(column) => column,
                _ => return None,
            },
            _ => return None,
        };
        let sources = window
            .input
            .schema()
            .iter()
            .map(|(qualifier, field)| {
                let column = Column::from((qualifier, field));
                if let Some(at) = keys.iter().position(|key| *key == column) {
                    Some(Source::Key(at))
                } else if column == *ts {
                    can_cast_types(&DataType::Int64, field.data_type()).then_some(Source::Time)
                } else {
                    (column == *value_column && exact_through_f64(field.data_type())).then_some(Source::Value)
                }
            })
            .collect::<Option<Vec<_>>>()?;
        if !sources.contains(&Source::Value) {
            return None;
        }
        Some(Self { aggregate: LogicalPlan::Aggregate(aggregate.clone()), window: window.clone(), sources })
    }

    /// The aggregate's answer over `points`, or `None` if a value does not
    /// fit its column's type again or the plan cannot be made (the files
    /// must be read).
    pub async fn execute(&self, points: Points, context: &Arc<TaskContext>) -> Result<Option<SendableRecordBatchStream>> {
        let fields: Vec<Field> = self.window.input.schema().fields().iter().enumerate().map(|(i, f)| f.as_ref().clone().with_name(format!("c{i}"))).collect();
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let value_type = self.sources.iter().zip(schema.fields()).find(|(s, _)| **s == Source::Value).map(|(_, f)| f.data_type().clone());
        if value_type.is_some_and(|t| !points.points.iter().flatten().all(|&(_, v)| fits(v, &t))) {
            return Ok(None);
        }
        let columns = self
            .sources
            .iter()
            .zip(schema.fields())
            .map(|(source, field)| {
                Ok(match *source {
                    Source::Key(at) => Source::Key(cast(&points.keys[at], field.data_type())?),
                    Source::Time => Source::Time,
                    Source::Value => Source::Value,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let table = StreamingTable::try_new(Arc::clone(&schema), partitions(&schema, &columns, points, context))?;
        let scan = LogicalPlanBuilder::scan("perfcorr_replay", provider_as_source(Arc::new(table)), None)?.build()?;
        let state = SessionStateBuilder::new()
            .with_config(context.session_config().clone())
            .with_runtime_env(context.runtime_env())
            .with_default_features()
            .build();
        // A plan DataFusion's planner alone cannot plan (say, with an
        // extension node) is not replayed: the files are read instead.
        let Ok(physical) = DefaultPhysicalPlanner::default().create_physical_plan(&self.over(scan)?, &state).await else {
            return Ok(None);
        };
        Ok(Some(execute_stream(physical, Arc::clone(context))?))
    }

    /// The aggregate with its series window reading `scan` (columns `c0…`)
    /// instead of its input.
    fn over(&self, scan: LogicalPlan) -> Result<LogicalPlan> {
        let input = self.window.input.schema();
        let renamed = input
            .iter()
            .enumerate()
            .map(|(i, (qualifier, field))| Expr::Column(Column::from_name(format!("c{i}"))).alias_qualified(qualifier.cloned(), field.name()))
            .collect();
        let new_input = Arc::new(LogicalPlan::Projection(Projection::try_new_with_schema(renamed, Arc::new(scan), Arc::clone(input))?));
        let window = &self.window;
        let swapped = self.aggregate.clone().transform_down(|node| match &node {
            LogicalPlan::Window(w) if w == window => {
                let swapped = Window::try_new_with_schema(w.window_expr.clone(), Arc::clone(&new_input), Arc::clone(&w.schema))?;
                Ok(Transformed::new(LogicalPlan::Window(swapped), true, TreeNodeRecursion::Jump))
            }
            _ => Ok(Transformed::no(node)),
        })?;
        Ok(swapped.data)
    }
}

/// The points in as many partitions as the session runs, of about as many
/// points each (whole series), the memory charged until the last ends.
fn partitions(schema: &SchemaRef, columns: &[Source<ArrayRef>], points: Points, context: &TaskContext) -> Vec<Arc<dyn PartitionStream>> {
    let count = context.session_config().target_partitions().max(1);
    let total: usize = points.points.iter().map(Vec::len).sum();
    let (mut streams, memory) = (Vec::<Arc<dyn PartitionStream>>::new(), Arc::new(points.memory));
    let (mut series, mut first, mut taken) = (points.points.into_iter().peekable(), 0usize, 0);
    while series.peek().is_some() {
        let target = total * (streams.len() + 1) / count;
        let mut part = Vec::new();
        while let Some(rows) = series.next_if(|rows| part.is_empty() || taken + rows.len() <= target) {
            taken += rows.len();
            part.push(rows);
        }
        let batches = Batches {
            schema: Arc::clone(schema),
            columns: columns.to_vec(),
            id: first.wrapping_sub(1),
            current: Vec::new().into_iter(),
            batch_size: context.session_config().batch_size().max(1),
            _memory: Arc::clone(&memory),
            series: part.into_iter(),
        };
        first += batches.series.len();
        streams.push(Arc::new(PointStream { schema: Arc::clone(schema), batches: Mutex::new(Some(batches)) }));
    }
    streams
}

/// Types whose values come back unchanged from their Float64 cast (for
/// 64-bit integers, as long as [`fits`] holds).
fn exact_through_f64(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(data_type, Float64 | Float32 | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64)
}

/// Whether `value` (read as Float64 from a column of `data_type`) casts
/// back to that type: a 64-bit integer's Float64 may round to 2^63 or 2^64.
fn fits(value: f64, data_type: &DataType) -> bool {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match data_type {
        DataType::Int64 => is_null_value(value) || (-TWO_63..TWO_63).contains(&value),
        DataType::UInt64 => is_null_value(value) || (0.0..2.0 * TWO_63).contains(&value),
        _ => true,
    }
}

/// One partition of the points: batches of the window input's columns
/// (renamed `c0…`), series after series; each series' points are freed once
/// sent.
struct PointStream {
    schema: SchemaRef,
    batches: Mutex<Option<Batches>>,
}

impl fmt::Debug for PointStream {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("PointStream").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl PartitionStream for PointStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _context: Arc<TaskContext>) -> SendableRecordBatchStream {
        // The points are replayed once; a second execution sees none.
        let batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner).take();
        Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), futures::stream::iter(batches.into_iter().flatten())))
    }
}

/// The iterator behind [`PointStream`].
struct Batches {
    schema: SchemaRef,
    /// The window input's columns, each key a row per series cast to the
    /// column's type.
    columns: Vec<Source<ArrayRef>>,
    series: std::vec::IntoIter<Vec<(i64, f64)>>,
    /// The series whose points `current` holds (its place among all series,
    /// as in the key columns).
    id: usize,
    current: std::vec::IntoIter<(i64, f64)>,
    batch_size: usize,
    _memory: Arc<Vec<MemoryReservation>>,
}

impl Iterator for Batches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let (mut ids, mut ts, mut values) = (Vec::new(), Vec::new(), Vec::new());
        while ids.len() < self.batch_size {
            match self.current.next() {
                Some((t, v)) => {
                    ids.push(self.id as u32);
                    ts.push(t);
                    values.push((!is_null_value(v)).then_some(v));
                }
                None => match self.series.next() {
                    Some(points) => (self.id, self.current) = (self.id.wrapping_add(1), points.into_iter()),
                    None => break,
                },
            }
        }
        (!ids.is_empty()).then(|| self.batch(ids, ts, values))
    }
}

impl Batches {
    /// One batch of the window input's columns for rows of series `ids`.
    fn batch(&self, ids: Vec<u32>, ts: Vec<i64>, values: Vec<Option<f64>>) -> Result<RecordBatch> {
        let ids = UInt32Array::from(ids);
        let strict = CastOptions { safe: false, ..Default::default() };
        let (ts, values): (ArrayRef, ArrayRef) = (Arc::new(Int64Array::from(ts)), Arc::new(Float64Array::from(values)));
        let columns = self
            .columns
            .iter()
            .zip(self.schema.fields())
            .map(|(column, field)| -> Result<ArrayRef> {
                Ok(match column {
                    Source::Key(keys) => take(keys.as_ref(), &ids, None)?,
                    Source::Time => cast_with_options(&ts, field.data_type(), &strict)?,
                    Source::Value => cast_with_options(&values, field.data_type(), &strict)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}
