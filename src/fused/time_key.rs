//! Joins on an expression of the time (`ON date_trunc('minute', s.ts) =
//! date_trunc('minute', a.ts)`, `USING (t)` with `t = CAST(ts AS
//! TIMESTAMP)` in the CTEs, `ON s.ts = a.ts + INTERVAL '1 minute'`): the
//! matcher's side ([`key_over_window`]) and the operator's check
//! ([`TimeShift`]).
//!
//! The operator pairs each side's points by the join key instead of the
//! window's time. That is the join's meaning as long as, on each side, the
//! key is the time shifted by one constant (`key = ts + c`, in a common
//! unit; NULL exactly where the time is): then the key orders the points as
//! the time does, ties included, and two points pair when their keys are
//! equal, as in the join. Whether it holds depends on the data (a
//! `date_trunc` of times on the minute is the time itself; of times a few
//! seconds past it, a constant shift; of times at any second, no shift at
//! all), so the operator checks every row it reads and hands the query to
//! DataFusion's plan ([`super::series::Fallback::TimeKey`]) at the first
//! that breaks it.

use std::sync::OnceLock;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, Window};

use super::origin::orderable_as_int64;

/// The column of the operator's inputs holding each row's own time when
/// the pairs' time is a key computed from it.
pub const ROW_TS_COLUMN: &str = "__perfcorr_row_ts";

/// The window under `plan` whose input column `key` (over `plan`'s output)
/// is computed from, and `key` over that window's input: projections are
/// substituted, aliases and filters passed, until the window; the
/// expression must read one column only, and nothing volatile.
pub(super) fn key_over_window<'a>(plan: &'a LogicalPlan, key: &Expr) -> Option<(&'a Window, Expr)> {
    let (mut plan, mut key) = (plan, key.clone());
    loop {
        if key.is_volatile() {
            return None;
        }
        let columns = key.column_refs();
        let [column] = columns.into_iter().collect::<Vec<_>>()[..] else { return None };
        let index = plan.schema().index_of_column(column).ok()?;
        let replacement = match plan {
            LogicalPlan::Projection(projection) => projection.expr.get(index)?.clone().unalias(),
            LogicalPlan::SubqueryAlias(alias) => Expr::Column(Column::from(alias.input.schema().qualified_field(index))),
            LogicalPlan::Filter(_) => Expr::Column(column.clone()),
            LogicalPlan::Window(window) => {
                let width = window.input.schema().fields().len();
                return (index < width).then_some((window, key));
            }
            _ => return None,
        };
        let column = column.clone();
        key = key
            .transform(|e| match e {
                Expr::Column(c) if c == column => Ok(Transformed::yes(replacement.clone())),
                e => Ok(Transformed::no(e)),
            })
            .ok()?
            .data;
        plan = plan.inputs().first()?;
    }
}

/// Whether a key of type `key` can stand for a time of type `time`: both
/// integers or both dates and timestamps, ordered as Int64.
pub(super) fn same_kind(key: &DataType, time: &DataType) -> bool {
    orderable_as_int64(key) && orderable_as_int64(time) && scale(key).is_some() == scale(time).is_some()
}

/// Nanoseconds per unit of a date or timestamp type (`None` for integers).
fn scale(data_type: &DataType) -> Option<i128> {
    Some(match data_type {
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1,
        DataType::Date32 => 86_400_000_000_000,
        _ => return None,
    })
}

/// One side's shift from its rows' time to the key, the same for every row
/// of every partition (see the module documentation).
#[derive(Default)]
pub struct TimeShift(OnceLock<i128>);

impl TimeShift {
    /// Whether every row of `batch` has its key (column `key_at`) the time
    /// ([`ROW_TS_COLUMN`]) shifted by the side's one constant; true when
    /// the batch has no such column (the key is the time).
    pub fn holds(&self, batch: &RecordBatch, key_at: usize) -> Result<bool> {
        let Ok(at) = batch.schema().index_of(ROW_TS_COLUMN) else { return Ok(true) };
        let (key, time) = (batch.column(key_at), batch.column(at));
        let (key_scale, time_scale) = (scale(key.data_type()).unwrap_or(1), scale(time.data_type()).unwrap_or(1));
        let (key, time) = (as_int64(key)?, as_int64(time)?);
        let (key, time) = (key.as_primitive::<Int64Type>(), time.as_primitive::<Int64Type>());
        for row in 0..batch.num_rows() {
            match (key.is_valid(row), time.is_valid(row)) {
                (false, false) => {}
                (true, true) => {
                    let shift = i128::from(key.value(row)) * key_scale - i128::from(time.value(row)) * time_scale;
                    if *self.0.get_or_init(|| shift) != shift {
                        return Ok(false);
                    }
                }
                _ => return Ok(false),
            }
        }
        Ok(true)
    }
}

/// A date, timestamp or integer column as Int64 (dates in days or
/// milliseconds, timestamps in their unit).
fn as_int64(array: &dyn Array) -> Result<std::sync::Arc<dyn Array>> {
    Ok(match array.data_type() {
        DataType::Date32 => cast(&cast(array, &DataType::Int32)?, &DataType::Int64)?,
        _ => cast(array, &DataType::Int64)?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Date32Array, TimestampMillisecondArray, TimestampSecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(key: Arc<dyn Array>, time: Arc<dyn Array>) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("k", key.data_type().clone(), true), Field::new(ROW_TS_COLUMN, time.data_type().clone(), true)]);
        RecordBatch::try_new(Arc::new(schema), vec![key, time]).unwrap()
    }

    #[test]
    fn a_constant_shift_in_any_unit_holds_and_nothing_else() {
        let millis = |v: Vec<Option<i64>>| Arc::new(TimestampMillisecondArray::from(v)) as Arc<dyn Array>;
        let seconds = |v: Vec<Option<i64>>| Arc::new(TimestampSecondArray::from(v)) as Arc<dyn Array>;
        // The key in seconds, the time in milliseconds, 7 s past the key.
        let times = millis(vec![Some(67_000), None, Some(127_000)]);
        let shift = TimeShift::default();
        assert!(shift.holds(&batch(seconds(vec![Some(60), None, Some(120)]), Arc::clone(&times)), 0).unwrap());
        // The same shift in the next batch holds; another does not.
        assert!(shift.holds(&batch(seconds(vec![Some(180)]), millis(vec![Some(187_000)])), 0).unwrap());
        assert!(!shift.holds(&batch(seconds(vec![Some(240)]), millis(vec![Some(241_000)])), 0).unwrap());
        // A NULL key for a time, or a key for a NULL time.
        assert!(!TimeShift::default().holds(&batch(seconds(vec![None]), millis(vec![Some(1)])), 0).unwrap());
        assert!(!TimeShift::default().holds(&batch(seconds(vec![Some(1)]), millis(vec![None])), 0).unwrap());
        // Days against timestamps: midnight is a shift of 0.
        let days = Arc::new(Date32Array::from(vec![Some(1), Some(2)])) as Arc<dyn Array>;
        assert!(TimeShift::default().holds(&batch(days, seconds(vec![Some(86_400), Some(172_800)])), 0).unwrap());
        // No row time: the key is the time.
        let alone = RecordBatch::try_new(Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)])), vec![Arc::new(datafusion::arrow::array::Int64Array::from(vec![1, 5]))]).unwrap();
        assert!(TimeShift::default().holds(&alone, 0).unwrap());
        assert!(same_kind(&DataType::Date32, &DataType::Timestamp(TimeUnit::Nanosecond, None)));
        assert!(!same_kind(&DataType::Int64, &DataType::Timestamp(TimeUnit::Nanosecond, None)));
        assert!(!same_kind(&DataType::Float64, &DataType::Float64));
    }
}
