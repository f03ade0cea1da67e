//! Which filters between the aggregate and the two windows the fused path
//! takes, and where each goes. A filter decides which pairs count, after
//! differencing; each conjunct of it may read
//!
//! - the pairs' time and the reference's difference (`WHERE s.ts >= …`,
//!   `WHERE d_app > 0`): evaluated on the reference's rows, it travels as a
//!   third column of the reference input ([`KEEP_COLUMN`]);
//! - the series' difference, alone or with the reference's or the time
//!   (`WHERE d > 0`, `d IS NOT NULL`, `d > d_app`, `ts < … OR d > 0`):
//!   evaluated by the operator on each series' pairs once they are chained
//!   ([`SERIES_DIFFERENCE`], [`REFERENCE_DIFFERENCE`], [`PAIR_TIME`]; see
//!   [`super::run`]).
//!
//! An aggregate's own `FILTER (WHERE …)` reading those is run on the pairs
//! the same way ([`call_filter`], [`super::pair_filters::PairFilters`]). A conjunct reading a
//! key or anything else, a volatile function or a subquery (but an
//! uncorrelated scalar one on the reference's rows: a constant computed
//! first) keeps DataFusion's plan.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};

use super::origin::{read, trace_expr, DiffCall, Read};
use super::pair_filters::{PAIR_TIME, REFERENCE_DIFFERENCE, SERIES_DIFFERENCE};

#[cfg(doc)]
use super::matcher::KEEP_COLUMN;

/// The query's filters, sorted by what they read and where they stand.
pub struct Filters {
    /// On the reference's rows (its time column and difference).
    pub keep: Option<Expr>,
    /// Whether `keep` reads the reference's difference.
    pub reads_difference: bool,
    /// On the series' difference (and the reference's), as
    /// [`SERIES_DIFFERENCE`] (and [`REFERENCE_DIFFERENCE`]).
    pub series: Option<Expr>,
    /// Those on the series' side of the join (each reading the time only),
    /// over the series window's input: which series rows there are.
    pub series_rows: Option<Expr>,
    /// Whether every filter stands on one side of the join, those on the
    /// series' side reading the time only: none above the join or in it.
    pub on_sides_only: bool,
}

/// Where a filter stands: above the join or in it, or on one of its sides.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Join,
    Left,
    Right,
}

/// The filters on the way from `input` down to the windows (see the module
/// documentation); `None` when one cannot be taken. `series_on_the_left`:
/// which side of the join the series is.
pub(super) fn filters(input: &LogicalPlan, series: &DiffCall, reference: &DiffCall, series_on_the_left: bool) -> Option<Filters> {
    let mut found = Vec::new();
    collect_filters(input, &mut found, Place::Join);
    let (mut on_reference, mut on_series, mut reads_difference) = (Vec::new(), Vec::new(), false);
    let (mut series_rows, mut on_sides_only) = (Vec::new(), true);
    for (predicate, filter_input, place) in found {
        let series_side = match place {
            Place::Join => {
                on_sides_only = false;
                false
            }
            Place::Left => series_on_the_left,
            Place::Right => !series_on_the_left,
        };
        if !on_reference_rows(predicate) {
            return None;
        }
        for conjunct in split_conjunction(predicate) {
            let (rewritten, reads) = rewrite(conjunct, filter_input, series, reference)?;
            // The series filter is planned on its own (no subquery results).
            if reads.series && !runs_alone(&rewritten) {
                return None;
            }
            if series_side && reads.time && !reads.series && !reads.reference_difference {
                series_rows.push(replace_column(rewritten.clone(), &reference.ts, Expr::Column(series.ts.clone())));
            } else if series_side {
                on_sides_only = false;
            }
            if reads.series {
                on_series.push(at_pair_time(rewritten, reference));
            } else {
                reads_difference |= reads.reference_difference;
                on_reference.push(at_reference_rows(rewritten, reference));
            }
        }
    }
    Some(Filters { keep: conjunction(on_reference), reads_difference, series: conjunction(on_series), series_rows: conjunction(series_rows), on_sides_only })
}

/// What a conjunct rewritten by [`rewrite`] reads: the pairs' time (as the
/// reference's time column), the differences (as [`REFERENCE_DIFFERENCE`]
/// and [`SERIES_DIFFERENCE`]).
#[derive(Default)]
struct Reads {
    time: bool,
    reference_difference: bool,
    series: bool,
}

/// `conjunct` (over `input`'s columns) rewritten, and what it reads; `None`
/// if it reads anything else.
fn rewrite(conjunct: &Expr, input: &LogicalPlan, series: &DiffCall, reference: &DiffCall) -> Option<(Expr, Reads)> {
    let mut reads = Reads::default();
    let expr = rewrite_into(conjunct, input, series, reference, &mut reads)?;
    Some((expr, reads))
}

/// [`rewrite`]'s work, noting in `reads` what `expr` reads. A column the
/// plan computes on the way (DataFusion names a condition used twice, as
/// by `FILTER (WHERE ts < …)` beside `count(*) FILTER (WHERE ts < …)`, in a
/// projection: `__common_expr_1`) is replaced by its definition, rewritten
/// in turn.
fn rewrite_into(expr: &Expr, input: &LogicalPlan, series: &DiffCall, reference: &DiffCall, reads: &mut Reads) -> Option<Expr> {
    let read_expr = |e: &Expr| -> Option<Read> { read(trace_expr(input, e, &mut None)?, series, reference) };
    let mut failed = false;
    let rewritten = expr
        .clone()
        .transform_down(|e| {
            // A column, or `s.v - s.prev` with `prev = lag(v) OVER w` (the
            // series' difference): what the operator reads for it.
            let known = match &e {
                Expr::Column(_) | Expr::BinaryExpr(BinaryExpr { op: Operator::Minus, .. }) => read_expr(&e),
                _ => None,
            };
            let replacement = match (known, &e) {
                (Some(Read::ReferenceDifference), _) => {
                    reads.reference_difference = true;
                    Expr::Column(Column::from_name(REFERENCE_DIFFERENCE))
                }
                (Some(Read::Time), _) => {
                    reads.time = true;
                    Expr::Column(reference.ts.clone())
                }
                (Some(Read::SeriesDifference), _) => {
                    reads.series = true;
                    Expr::Column(Column::from_name(SERIES_DIFFERENCE))
                }
                (None, Expr::Column(column)) => {
                    match computed(input, column).and_then(|(definition, plan)| rewrite_into(&definition, plan, series, reference, reads)) {
                        Some(inlined) => inlined,
                        None => {
                            failed = true;
                            return Ok(Transformed::no(e));
                        }
                    }
                }
                (None, _) => return Ok(Transformed::no(e)),
            };
            // Not read again: the replacement is over the operator's columns.
            Ok(Transformed::new(replacement, true, TreeNodeRecursion::Jump))
        })
        .ok()?
        .data;
    (!failed).then_some(rewritten)
}

/// The expression a projection on the way down from `plan` computes for
/// `column`, and the plan it reads (not a plain column, a volatile
/// function or a subquery but an uncorrelated scalar one).
fn computed<'a>(plan: &'a LogicalPlan, column: &Column) -> Option<(Expr, &'a LogicalPlan)> {
    let index = plan.schema().index_of_column(column).ok()?;
    match plan {
        LogicalPlan::Projection(projection) => match projection.expr.get(index)?.clone().unalias() {
            Expr::Column(inner) => computed(&projection.input, &inner),
            // What the definition may read is checked where it goes.
            definition => on_reference_rows(&definition).then_some((definition, projection.input.as_ref())),
        },
        LogicalPlan::SubqueryAlias(alias) => computed(&alias.input, &Column::from(alias.input.schema().qualified_field(index))),
        LogicalPlan::Filter(filter) => computed(&filter.input, column),
        _ => None,
    }
}

/// Whether `expr` can be planned on its own and run on the pairs: no
/// volatile function, no subquery.
pub(crate) fn runs_alone(expr: &Expr) -> bool {
    let subquery = |e: &Expr| Ok(matches!(e, Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) | Expr::OuterReferenceColumn(..)));
    !expr.is_volatile() && !expr.exists(subquery).unwrap_or(true)
}

/// A rewritten conjunct run on the pairs: the time as [`PAIR_TIME`].
fn at_pair_time(expr: Expr, reference: &DiffCall) -> Expr {
    replace_column(expr, &reference.ts, Expr::Column(Column::from_name(PAIR_TIME)))
}

/// `expr` with every reference to `from` replaced by `to`.
fn replace_column(expr: Expr, from: &Column, to: Expr) -> Expr {
    expr.transform(|e| match &e {
        Expr::Column(column) if column == from => Ok(Transformed::yes(to.clone())),
        _ => Ok(Transformed::no(e)),
    })
    .map_or_else(|_| unreachable!("the rewrite cannot fail"), |t| t.data)
}

/// Whether `predicate` can run on the reference's rows: no volatile
/// function, no subquery but an uncorrelated scalar one (`s.ts >= (SELECT
/// max(ts) FROM app) - INTERVAL '6 hours'`), a constant DataFusion
/// computes before the plan runs, the operator's inputs included.
fn on_reference_rows(predicate: &Expr) -> bool {
    let unsupported = |e: &Expr| {
        Ok(match e {
            Expr::ScalarSubquery(subquery) => !subquery.outer_ref_columns.is_empty(),
            Expr::Exists(_) | Expr::InSubquery(_) | Expr::OuterReferenceColumn(..) => true,
            _ => false,
        })
    };
    !predicate.is_volatile() && !predicate.exists(unsupported).unwrap_or(true)
}

/// A rewritten conjunct run on the reference's rows: its difference as
/// the reference window's output column.
fn at_reference_rows(expr: Expr, reference: &DiffCall) -> Expr {
    replace_column(expr, &Column::from_name(REFERENCE_DIFFERENCE), reference.output.clone())
}

/// An aggregate's own `FILTER (WHERE …)` as the matcher classifies it.
pub(super) enum CallPredicate {
    /// Reading the series' difference: over the pair columns.
    Pairs(Expr),
    /// Reading the time and the reference's difference only: over the
    /// reference's rows (its window's output when `reads_difference`).
    Points { predicate: Expr, reads_difference: bool },
}

/// An aggregate's own `FILTER (WHERE …)` over `input` (the aggregate's):
/// each conjunct reading the pairs' time and either difference; `None` for
/// anything else (a key, a volatile function, a subquery but an
/// uncorrelated scalar one in a filter not reading the series).
pub(super) fn call_filter(predicate: &Expr, input: &LogicalPlan, series: &DiffCall, reference: &DiffCall) -> Option<CallPredicate> {
    if !on_reference_rows(predicate) {
        return None;
    }
    let rewritten: Vec<(Expr, Reads)> = split_conjunction(predicate).into_iter().map(|c| rewrite(c, input, series, reference)).collect::<Option<_>>()?;
    if rewritten.iter().any(|(_, reads)| reads.series) {
        let predicate = conjunction(rewritten.into_iter().map(|(expr, _)| at_pair_time(expr, reference)))?;
        return runs_alone(&predicate).then_some(CallPredicate::Pairs(predicate));
    }
    let reads_difference = rewritten.iter().any(|(_, reads)| reads.reference_difference);
    let predicate = conjunction(rewritten.into_iter().map(|(expr, _)| at_reference_rows(expr, reference)))?;
    Some(CallPredicate::Points { predicate, reads_difference })
}

/// The filters on the way from `plan` (at `place`) down to the windows:
/// each predicate, the plan whose columns it reads (a filter's input; the
/// join itself for the join's own filter, where the optimizer puts a
/// condition reading both sides) and where it stands.
fn collect_filters<'a>(plan: &'a LogicalPlan, filters: &mut Vec<(&'a Expr, &'a LogicalPlan, Place)>, place: Place) {
    match plan {
        LogicalPlan::Projection(projection) => collect_filters(&projection.input, filters, place),
        LogicalPlan::SubqueryAlias(alias) => collect_filters(&alias.input, filters, place),
        LogicalPlan::Filter(filter) => {
            filters.push((&filter.predicate, &filter.input, place));
            collect_filters(&filter.input, filters, place);
        }
        LogicalPlan::Join(join) => {
            if let Some(predicate) = &join.filter {
                filters.push((predicate, plan, Place::Join));
            }
            collect_filters(&join.left, filters, Place::Left);
            collect_filters(&join.right, filters, Place::Right);
        }
        _ => {}
    }
}
