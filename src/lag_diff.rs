//! `LagAsDiff`: an analyzer rule that reads the standard-SQL spelling of a
//! difference, `x - lag(x [, k]) OVER (w)`, as `diff(x [, k]) OVER (w)` (and
//! `x - lead(x [, k]) OVER (w)` as `diff(x, -k)`), so a query written with
//! `lag` plans, and is fused, exactly like one written with `diff`. The
//! subtraction the other way round, `lead(x [, k]) OVER (w) - x` (the next
//! value minus this one) or `lag(…) - x`, is the difference of `-x`:
//! `diff(-x, -k)` or `diff(-x, k)`.
//!
//! For a Float64 `x` the two are the same value: the same subtraction of the
//! same two rows of the same window order, NULL where either is NULL or the
//! row `k` away does not exist (and `(-a) - (-b)` is `b - a` exactly in IEEE
//! arithmetic). Only that form is read so: a `lag` with a
//! default value or IGNORE NULLS, an offset that is not a positive integer
//! constant, a window without ORDER BY, a value of another type, or another
//! expression around the `lag` (`x - 2 * lag(x)`) keep their
//! meaning as written. The `lag` itself stays in its window; the optimizer
//! drops it when nothing else reads it.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result, ScalarValue};
use datafusion::logical_expr::expr::{NullTreatment, WindowFunction, WindowFunctionParams};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, Projection, Window, WindowFunctionDefinition, WindowUDF,
};
use datafusion::optimizer::AnalyzerRule;

use crate::functions::DiffImpl;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct LagAsDiff;

impl AnalyzerRule for LagAsDiff {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Projection(projection) if matches!(projection.input.as_ref(), LogicalPlan::Window(_)) => {
                Ok(match rewrite(&projection) {
                    Some(rewritten) => Transformed::yes(rewritten),
                    None => Transformed::no(LogicalPlan::Projection(projection)),
                })
            }
            other => Ok(Transformed::no(other)),
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "lag_as_diff"
    }
}

/// A `lag`/`lead` output of one of the windows under a projection, read as a
/// difference: the window's depth below the projection (0: its input), the
/// shifted value and the `diff` calls that take the place of `value - shift`
/// and of `shift - value`.
struct Shift {
    depth: usize,
    value: Expr,
    diff: Expr,
    reversed: Expr,
}

/// The projection with each `x - lag(x …)` replaced by a `diff` column of
/// the same window (names kept), or `None` when there is none or the
/// windows cannot take the new calls.
fn rewrite(projection: &Projection) -> Option<LogicalPlan> {
    let mut shifts = HashMap::new();
    let mut plan = projection.input.as_ref();
    let mut depth = 0;
    while let LogicalPlan::Window(window) = plan {
        let width = window.input.schema().fields().len();
        for (k, expr) in window.window_expr.iter().enumerate() {
            if let (Some((value, diff)), Some((_, reversed))) = (as_diff(expr, window, false), as_diff(expr, window, true)) {
                let column = Column::from(window.schema.qualified_field(width + k));
                shifts.insert(column, Shift { depth, value, diff, reversed });
            }
        }
        plan = window.input.as_ref();
        depth += 1;
    }
    if shifts.is_empty() {
        return None;
    }
    let mut added: Vec<(usize, Expr)> = Vec::new();
    let preserver = NamePreserver::new_for_projection();
    let mut exprs = Vec::with_capacity(projection.expr.len());
    for expr in &projection.expr {
        let saved = preserver.save(expr);
        let rewritten = expr
            .clone()
            .transform_up(|e| {
                let Expr::BinaryExpr(BinaryExpr { left, op: Operator::Minus, right }) = &e else {
                    return Ok(Transformed::no(e));
                };
                // `value - shift`, or `shift - value`.
                let shifted = |shift: &Expr, value: &Expr| match shift {
                    Expr::Column(column) => shifts.get(column).filter(|s| *value == s.value),
                    _ => None,
                };
                let diff = match (shifted(right, left), shifted(left, right)) {
                    (Some(shift), _) => Some((shift.depth, &shift.diff)),
                    (None, Some(shift)) => Some((shift.depth, &shift.reversed)),
                    (None, None) => None,
                };
                match diff {
                    Some((depth, diff)) => {
                        added.push((depth, diff.clone()));
                        Ok(Transformed::yes(Expr::Column(Column::new_unqualified(diff.schema_name().to_string()))))
                    }
                    None => Ok(Transformed::no(e)),
                }
            })
            .ok()?;
        exprs.push(if rewritten.transformed { saved.restore(rewritten.data) } else { rewritten.data });
    }
    if added.is_empty() {
        return None;
    }
    let input = with_calls(&projection.input, 0, &added)?;
    Projection::try_new(exprs, Arc::new(input)).ok().map(LogicalPlan::Projection)
}

/// The chain of windows from `plan` down with each window's `added` calls
/// appended (once; a call the window already has is reused by name).
fn with_calls(plan: &LogicalPlan, depth: usize, added: &[(usize, Expr)]) -> Option<LogicalPlan> {
    let LogicalPlan::Window(window) = plan else { return None };
    let input = if added.iter().any(|(d, _)| *d > depth) {
        Arc::new(with_calls(&window.input, depth + 1, added)?)
    } else {
        Arc::clone(&window.input)
    };
    let mut window_expr = window.window_expr.clone();
    for (_, call) in added.iter().filter(|(d, _)| *d == depth) {
        let name = call.schema_name().to_string();
        if !window_expr.iter().any(|e| e.schema_name().to_string() == name) {
            window_expr.push(call.clone());
        }
    }
    Window::try_new(window_expr, input).ok().map(LogicalPlan::Window)
}

/// The shifted value and the `diff` call equal to `x - expr` (`reversed`:
/// to `expr - x`, the `diff` of `-x`), if `expr` is `lag(x [, k [, NULL]])`
/// or `lead(…)` over an ordered window with a Float64 `x` and a positive
/// constant `k`.
pub(crate) fn as_diff(expr: &Expr, window: &Window, reversed: bool) -> Option<(Expr, Expr)> {
    let Expr::WindowFunction(call) = expr else { return None };
    let WindowFunction { fun: WindowFunctionDefinition::WindowUDF(udf), params } = call.as_ref() else { return None };
    let sign = match udf.name() {
        "lag" => 1,
        "lead" => -1,
        _ => return None,
    };
    let WindowFunctionParams { args, partition_by, order_by, window_frame, filter, null_treatment, distinct } = params;
    if order_by.is_empty() || filter.is_some() || *distinct || matches!(null_treatment, Some(NullTreatment::IgnoreNulls)) {
        return None;
    }
    let (value, offset, default) = (args.first()?, args.get(1), args.get(2));
    if args.len() > 3 || value.get_type(window.input.schema()).ok()? != DataType::Float64 {
        return None;
    }
    let offset = match offset {
        None => 1,
        Some(Expr::Literal(scalar, _)) if scalar.data_type().is_integer() => match scalar.cast_to(&DataType::Int64).ok()? {
            ScalarValue::Int64(Some(k)) if k >= 1 => k,
            _ => return None,
        },
        Some(_) => return None,
    };
    if !matches!(default, None | Some(Expr::Literal(ScalarValue::Null | ScalarValue::Float64(None), _))) {
        return None;
    }
    let periods = sign * offset;
    let mut diff_args = vec![if reversed { Expr::Negative(Box::new(value.clone())) } else { value.clone() }];
    if periods != 1 {
        diff_args.push(Expr::Literal(ScalarValue::Int64(Some(periods)), None));
    }
    let diff = WindowFunction {
        fun: WindowFunctionDefinition::WindowUDF(Arc::new(WindowUDF::from(DiffImpl::new()))),
        params: WindowFunctionParams {
            args: diff_args,
            partition_by: partition_by.clone(),
            order_by: order_by.clone(),
            window_frame: window_frame.clone(),
            filter: None,
            null_treatment: None,
            distinct: false,
        },
    };
    Some((value.clone(), Expr::WindowFunction(Box::new(diff))))
}
