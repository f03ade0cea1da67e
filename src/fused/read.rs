//! Reading the operator's inputs for [`super::run`]: the reference's points
//! and the series' batches, with the checks that send a query to the next
//! pass (values NaN or infinite where that matters, a time key that is not
//! the time shifted by one constant: [`super::time_key`]).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{internal_datafusion_err, Result};
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::metrics::Count;
use datafusion::physical_plan::{execute_stream, ExecutionPlan};
use futures::{Future, StreamExt};

use super::matcher::KEEP_COLUMN;
use super::pair_filters::call_column;
use super::partition::PartitionState;
use super::series::{Fallback, Reference};
use super::time_key::TimeShift;

/// The reference series' points (NULL timestamps dropped), differenced and
/// restricted to the times the query's filters keep, with the verdicts of
/// the `call_filters` aggregate filters decided at its points,
/// charged to `memory` (a [`Fallback`] if the pool refuses); with
/// `check_values`, a value that is NaN or infinite is a [`Fallback`] (see
/// [`super::pair_filters::SeriesFilter`]).
pub(super) async fn read_reference(
    plan: &Arc<dyn ExecutionPlan>,
    periods: Option<i64>,
    check_values: bool,
    call_filters: usize,
    context: &Arc<TaskContext>,
    memory: &mut MemoryReservation,
) -> Result<Result<Reference, Fallback>> {
    let mut points = Vec::new();
    let shift = TimeShift::default();
    let mut stream = execute_stream(Arc::clone(plan), Arc::clone(context))?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if !shift.holds(&batch, 0)? {
            return Ok(Err(Fallback::TimeKey));
        }
        // The points, and the sorted copy the reference keeps.
        if memory.try_grow(2 * 2 * std::mem::size_of::<(i64, f64)>() * batch.num_rows()).is_err() {
            return Ok(Err(Fallback::Memory));
        }
        let (ts, values) = time_and_values(&batch, 0)?;
        let (ts, values) = (ts.as_primitive::<Int64Type>(), values.as_primitive::<Float64Type>());
        // The query's filters on the pairs' time, if any, and the
        // aggregates' own decided at these points (see the matcher).
        let column = |name: &str| batch.schema().index_of(name).ok().map(|i| batch.column(i).as_boolean().clone());
        let keep = column(KEEP_COLUMN);
        let calls: Vec<_> = (0..call_filters).map(|k| column(&call_column(k)).ok_or_else(|| internal_datafusion_err!("no column {}", call_column(k)))).collect::<Result<_>>()?;
        let passes = |verdicts: &BooleanArray, row: usize| verdicts.is_valid(row) && verdicts.value(row);
        for row in 0..batch.num_rows() {
            if ts.is_valid(row) {
                let value = if values.is_valid(row) { values.value(row) } else { f64::NAN };
                if check_values && values.is_valid(row) && !value.is_finite() {
                    return Ok(Err(Fallback::NonFinite));
                }
                let kept = keep.as_ref().is_none_or(|keep| passes(keep, row));
                points.push((ts.value(row), value, kept, calls.iter().map(|verdicts| passes(verdicts, row)).collect()));
            }
        }
    }
    Ok(Reference::from_marked_points(points, periods))
}

/// The timestamp column at `at` as Int64 and the value column after it as
/// Float64 (the matcher only accepts types for which this keeps the order).
fn time_and_values(batch: &RecordBatch, at: usize) -> Result<(ArrayRef, ArrayRef)> {
    Ok((cast(batch.column(at), &DataType::Int64)?, cast(batch.column(at + 1), &DataType::Float64)?))
}

/// Feeds one partition's batches (`keys…, ts, value`) into `state`; with
/// `check_values`, a value that is NaN or infinite is a [`Fallback`] (see
/// [`super::pair_filters::SeriesFilter`]), and so is a time key that is not the series' time
/// shifted by the one constant of `shift` (see [`super::time_key`]).
pub(super) fn consume<S: PartitionState>(
    mut stream: SendableRecordBatchStream,
    mut state: S,
    key_count: usize,
    check_values: bool,
    shift: Arc<TimeShift>,
    rows: Count,
) -> impl Future<Output = Result<Result<S, Fallback>>> + Send + 'static {
    async move {
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows.add(batch.num_rows());
            if !shift.holds(&batch, key_count)? {
                return Ok(Err(Fallback::TimeKey));
            }
            let (ts, values) = time_and_values(&batch, key_count)?;
            if check_values {
                let values = values.as_primitive::<Float64Type>();
                if (0..values.len()).any(|row| values.is_valid(row) && !values.value(row).is_finite()) {
                    return Ok(Err(Fallback::NonFinite));
                }
            }
            let outcome = state.push_batch(&batch.columns()[..key_count], ts.as_primitive(), values.as_primitive())?;
            if let Err(fallback) = outcome {
                return Ok(Err(fallback));
            }
        }
        Ok(Ok(state))
    }
}
