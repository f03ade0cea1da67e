//! Where a column under an aggregate comes from, for the matcher: traced
//! through projections, aliases, filters and one join down to the window
//! that has it, and read as a difference (`diff(x) OVER w`, or `x - lag(x)`
//! written anywhere above the window: `corr(s.v - s.prev, …)` with
//! `prev = lag(v) OVER w` in a CTE), the pairs' time, or something else.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, Window, WindowFunctionDefinition};

use crate::functions::DiffImpl;
use crate::lag_diff::as_diff;

/// Where a column of some plan's output comes from.
#[derive(Clone, Copy)]
pub(super) enum Origin<'a> {
    /// Column `index` of the window's input.
    Input(&'a Window, usize),
    /// The window's expression `index`.
    Output(&'a Window, usize),
    /// Column `.1` of the window's input minus the window's expression
    /// `.2` (a `lag`/`lead` of it, when it is a difference: [`diff_call`]);
    /// `.3`: the other way round, the expression minus the column.
    Difference(&'a Window, usize, usize, bool),
}

/// Follows column `index` of `plan` through projections of plain columns
/// (or of one column minus another, [`trace_expr`]), aliases and at most the
/// one join in `join` (set on first use) down to the
/// window that has it.
pub(super) fn trace<'a>(plan: &'a LogicalPlan, index: usize, join: &mut JoinSlot<'a>) -> Option<Origin<'a>> {
    match plan {
        LogicalPlan::Projection(projection) => trace_expr(&projection.input, projection.expr.get(index)?, join),
        LogicalPlan::SubqueryAlias(alias) => trace(&alias.input, index, join),
        // A filter keeps its input's columns; the matcher checks what it reads.
        LogicalPlan::Filter(filter) => trace(&filter.input, index, join),
        LogicalPlan::Join(node) => {
            match join {
                Some(seen) if !std::ptr::eq(*seen, node) => return None,
                _ => *join = Some(node),
            }
            let left_width = node.left.schema().fields().len();
            match index.checked_sub(left_width) {
                None => trace(&node.left, index, join),
                Some(right_index) => trace(&node.right, right_index, join),
            }
        }
        LogicalPlan::Window(window) => {
            let width = window.input.schema().fields().len();
            Some(match index.checked_sub(width) {
                None => Origin::Input(window, index),
                Some(k) => Origin::Output(window, k),
            })
        }
        _ => None,
    }
}

/// [`trace`] for an expression over `plan`'s output (aliases peeled off):
/// a column, or a column of a window's input minus one of that window's
/// expressions or the other way round ([`Origin::Difference`]), not read from two relations
/// (`s.v - s.prev`, not `s.v - a.prev` even if `s` and `a` are one CTE).
pub(super) fn trace_expr<'a>(plan: &'a LogicalPlan, expr: &Expr, join: &mut JoinSlot<'a>) -> Option<Origin<'a>> {
    match unaliased(expr) {
        Expr::Column(column) => trace(plan, plan.schema().index_of_column(column).ok()?, join),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Minus, right }) => {
            let (Expr::Column(value), Expr::Column(shifted)) = (unaliased(left), unaliased(right)) else { return None };
            // Above a join each side's columns carry its alias; below it
            // the window's output has none.
            if matches!((&value.relation, &shifted.relation), (Some(a), Some(b)) if a != b) {
                return None;
            }
            let schema = plan.schema();
            let (at, k) = (schema.index_of_column(value).ok()?, schema.index_of_column(shifted).ok()?);
            match (trace(plan, at, join)?, trace(plan, k, join)?) {
                (Origin::Input(window, at), Origin::Output(same, k)) if std::ptr::eq(window, same) => Some(Origin::Difference(window, at, k, false)),
                (Origin::Output(window, k), Origin::Input(same, at)) if std::ptr::eq(window, same) => Some(Origin::Difference(window, at, k, true)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn unaliased(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unaliased(&alias.expr),
        expr => expr,
    }
}

/// The one join a trace may pass, set when it first does.
pub(super) type JoinSlot<'a> = Option<&'a datafusion::logical_expr::Join>;

/// A `diff(value [, periods]) OVER (PARTITION BY keys ORDER BY ts)`, or its
/// standard-SQL spelling `value - lag(value [, periods]) OVER (…)`.
pub(super) struct DiffCall<'a> {
    pub(super) window: &'a Window,
    pub(super) value: Expr,
    pub(super) keys: Vec<Column>,
    /// The column the window's ORDER BY reads, and the ORDER BY itself: the
    /// column, or an expression of it alone (`CAST(ts AS TIMESTAMP)`).
    pub(super) ts: Column,
    pub(super) order: Expr,
    pub(super) periods: i64,
    /// The differences, over the window's output: its `diff` column, or the
    /// value minus the `lag` column.
    pub(super) output: Expr,
    /// The window is ordered by its time column and the join pairs the rows
    /// by it, not by an expression of it ([`super::time_key`]: then the two
    /// sides' times differ, and nothing may read them as the pairs' time).
    pub(super) time_paired: bool,
}

/// The difference `origin` is, if it is one: a `diff` call, or a Float64
/// column minus its own `lag` (`lead`) in the same window or the other way round, which is the same
/// value ([`crate::lag_diff`]).
pub(super) fn diff_call(origin: Origin<'_>) -> Option<DiffCall<'_>> {
    let (window, call) = match origin {
        Origin::Output(window, k) => (window, window.window_expr.get(k)?.clone().unalias()),
        Origin::Difference(window, at, k, reversed) => {
            let (shifted, diff) = as_diff(window.window_expr.get(k)?, window, reversed)?;
            let value = Column::from(window.input.schema().qualified_field(at));
            (shifted == Expr::Column(value)).then_some((window, diff))?
        }
        Origin::Input(..) => return None,
    };
    let Expr::WindowFunction(call) = call else { return None };
    let WindowFunction { fun, params } = *call;
    let WindowFunctionDefinition::WindowUDF(udf) = fun else { return None };
    udf.inner().downcast_ref::<DiffImpl>()?;
    if params.filter.is_some() || params.distinct || params.null_treatment.is_some() || params.order_by.len() != 1 {
        return None;
    }
    let periods = match params.args.as_slice() {
        [_] => 1,
        [_, Expr::Literal(datafusion::common::ScalarValue::Int64(Some(k)), _)] => *k,
        _ => return None,
    };
    let order = &params.order_by[0];
    let columns = order.expr.column_refs();
    let [ts] = columns.into_iter().collect::<Vec<_>>()[..] else { return None };
    let input = window.input.schema();
    let (time_type, nullable) = (order.expr.get_type(input).ok()?, order.expr.nullable(input).ok()?);
    if order.expr.is_volatile() || !order.asc || (order.nulls_first && nullable) || !orderable_as_int64(&time_type) {
        return None;
    }
    let value = params.args[0].clone();
    if value.get_type(input).ok()? != DataType::Float64 {
        return None;
    }
    let keys = params.partition_by.iter().map(|e| match e {
        Expr::Column(c) => Some(c.clone()),
        _ => None,
    });
    let output = difference(origin)?;
    let time_paired = matches!(order.expr, Expr::Column(_));
    Some(DiffCall { window, value, keys: keys.collect::<Option<_>>()?, ts: ts.clone(), order: order.expr.clone(), periods, output, time_paired })
}

/// What `origin` computes over its window's output, if it is a window's
/// expression or a difference.
fn difference(origin: Origin<'_>) -> Option<Expr> {
    match origin {
        Origin::Output(window, k) => Some(Expr::Column(output_column(window, k))),
        Origin::Difference(window, at, k, reversed) => {
            let value = Expr::Column(Column::from(window.input.schema().qualified_field(at)));
            let shifted = Expr::Column(output_column(window, k));
            Some(if reversed { shifted - value } else { value - shifted })
        }
        Origin::Input(..) => None,
    }
}

/// The column of the window's expression `k`.
pub(super) fn output_column(window: &Window, k: usize) -> Column {
    Column::from(window.schema.qualified_field(window.input.schema().fields().len() + k))
}

/// Whether `origin` is the pairs' time: the ORDER BY column of either side's
/// window (equal on both sides after the join).
pub(super) fn is_pair_time(origin: Origin<'_>, series: &DiffCall, reference: &DiffCall) -> bool {
    let Origin::Input(window, at) = origin else { return false };
    if !series.time_paired || !reference.time_paired {
        return false;
    }
    let column = Column::from(window.input.schema().qualified_field(at));
    [series, reference].iter().any(|call| std::ptr::eq(window, call.window) && column == call.ts)
}

/// Types whose cast to Int64 keeps their order.
pub(crate) fn orderable_as_int64(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(data_type, Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | Timestamp(_, _) | Date32 | Date64)
}

/// The column of the window's input that `origin` is, if it is one.
pub(super) fn input_column(origin: Origin<'_>, window: &Window) -> Option<Column> {
    let Origin::Input(w, index) = origin else { return None };
    std::ptr::eq(w, window).then(|| Column::from(window.input.schema().qualified_field(index)))
}

/// What a column of the plan under the aggregate is, as the fused
/// operator sees it.
pub(super) enum Read {
    /// The pairs' time (either side's, equal after the join).
    Time,
    ReferenceDifference,
    SeriesDifference,
}

/// What `origin` is (see [`Read`]), if one of those.
pub(super) fn read(origin: Origin<'_>, series: &DiffCall, reference: &DiffCall) -> Option<Read> {
    if let Origin::Input(..) = origin {
        return is_pair_time(origin, series, reference).then_some(Read::Time);
    }
    let (Origin::Output(window, _) | Origin::Difference(window, ..)) = origin else { return None };
    let output = difference(origin)?;
    if std::ptr::eq(window, reference.window) && output == reference.output {
        Some(Read::ReferenceDifference)
    } else if std::ptr::eq(window, series.window) && output == series.output {
        Some(Read::SeriesDifference)
    } else {
        None
    }
}

/// The index of `expr` in `plan`'s output, if it is a column of it.
pub(super) fn column_index(plan: &LogicalPlan, expr: &Expr) -> Option<usize> {
    let Expr::Column(column) = expr else { return None };
    plan.schema().index_of_column(column).ok()
}
