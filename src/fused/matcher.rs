//! Finds the seed's query shape in an optimized logical plan and replaces it
//! with a [`DiffCorrelateNode`]:
//!
//! ```text
//! Aggregate: groupBy=[k…], aggr=[pearson_*(a, b)…, spearman_r(a, b), xcorr_lag(a, b, L ORDER BY s)…]
//!   (Projection | SubqueryAlias)*
//!     Inner Join: s = r                         (one key pair; a filter: below; or an outer join keeping s whole)
//!       (Projection | SubqueryAlias)* → Window: diff(x) PARTITION BY k… ORDER BY s   → a
//!       (Projection | SubqueryAlias)* → Window: diff(y) ORDER BY r                   → b
//!                                           (or PARTITION BY keys a filter fixes: super::fixed_keys)
//! ```
//!
//! (sides and arguments in either order). Only this exact meaning is
//! matched: the GROUP BY columns are the window's PARTITION BY columns, the
//! join keys are the windows' ORDER BY columns (ascending, NULLs last or not
//! nullable, integer/timestamp/date types of the same type on both sides) or
//! expressions of them alone (`date_trunc`, a `CAST`, `+ INTERVAL`: checked
//! on the data by [`super::time_key`]; nothing else may then read the time),
//! `diff` has a constant period (any, on either side), and every aggregate is a statistic
//! of the same two differences the operator computes ([`super::calls::statistic_call`]: the Pearson
//! family, Spearman, lead/lag and n_eff, the ordered ones ORDER BY the pairs' time,
//! DataFusion's `covar_*` and `regr_*`)
//! or a `count` of the joined rows (`*`, a constant, the time, either
//! difference) or another one-column aggregate of either difference (`avg`,
//! `stddev`…: [`super::summary`]), without DISTINCT; an aggregate's own
//! FILTER may read what the filters below may ([`super::filters::call_filter`]).
//! Filters anywhere on the way (`WHERE s.ts >= …` after the join, which
//! DataFusion pushes to both sides above the windows) may read the pairs'
//! time, the app's difference or the series' difference, not both
//! differences at once: they decide which pairs count, after differencing
//! (see [`super::filters`]).
//! Several pairs in one aggregate are split into one aggregate per pair
//! ([`super::split`]). A left (right) join with the series on the left
//! (right) keeps every series row, matched or not: fused when nothing but
//! the pairs counts (no count, no ordered statistic, no filter above the
//! join or in it, those on the series' side reading the time only), every
//! series then getting a row (every series with a row passing those).
//! Anything else keeps DataFusion's plan.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::{Aggregate, Expr, ExprSchemable, Extension, JoinType, LogicalPlan, LogicalPlanBuilder, Projection, Window};

use super::filters::{call_filter, filters, CallPredicate, Filters};
use super::pair_filters::{call_column, CallFilter, PairFilters};
use super::fixed_keys::keys_fixed;
use super::origin::{column_index, diff_call, input_column, read, trace, trace_expr, DiffCall, JoinSlot, Origin, Read};
use super::plan::{DiffCorrelateNode, SeriesRows};
use super::series::Periods;
use super::calls::{same_pair, statistic_call, Args, Call};
use super::pairs::{CountOf, PairKind, PairStatistic, Statistic};
use super::summary::Summary;
use super::time_key::{key_over_window, same_kind, ROW_TS_COLUMN};

/// Column names of the fused node's inputs besides the keys.
pub const TS_COLUMN: &str = "__perfcorr_ts";
pub const VALUE_COLUMN: &str = "__perfcorr_value";
/// The reference's third column when filters restrict the pairs' time:
/// whether a pair at this time counts.
pub const KEEP_COLUMN: &str = "__perfcorr_keep";

/// Replaces every matching aggregate in `plan` (see the module
/// documentation).
pub fn fuse_diff_correlations(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_down(|node| {
        if let LogicalPlan::Aggregate(aggregate) = &node {
            if let Some(fused) = fuse(aggregate)? {
                return Ok(Transformed::new(fused, true, TreeNodeRecursion::Jump));
            }
        }
        Ok(Transformed::no(node))
    })
    .map(|transformed| transformed.data)
}

fn fuse(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    match match_shape(aggregate) {
        Some(node) => Ok(Some(LogicalPlan::Extension(Extension { node: Arc::new(node) }))),
        None => super::split::split_pairs(aggregate),
    }
}

pub(super) fn match_shape(aggregate: &Aggregate) -> Option<DiffCorrelateNode> {
    let input = aggregate.input.as_ref();
    let calls: Vec<_> = aggregate.aggr_expr.iter().map(statistic_call).collect::<Option<_>>()?;
    let (a, b) = calls.iter().find_map(Call::pair)?;
    if calls.iter().filter_map(Call::pair).any(|pair| !same_pair(pair, (a, b))) {
        return None;
    }
    let mut slot: JoinSlot = None;
    let mut diff_of = |arg: &Expr| trace_expr(input, arg, &mut slot).and_then(diff_call);
    let (first, second) = (diff_of(a)?, diff_of(b)?);
    // The reference: the window without PARTITION BY, or with its keys
    // fixed by filters (the app in the same long table as the series).
    // When both could be (each series picked by its keys), the series is
    // the side the GROUP BY reads.
    let is_reference = |call: &DiffCall| call.keys.is_empty() || keys_fixed(&call.window.input, &call.keys);
    let grouped_by = |call: &DiffCall| {
        let first_group = aggregate.group_expr.first().and_then(|e| trace(input, column_index(input, e)?, &mut None));
        matches!(first_group, Some(Origin::Input(window, _)) if std::ptr::eq(window, call.window))
    };
    let first_is_series = !first.keys.is_empty() && is_reference(&second) && (!is_reference(&first) || !grouped_by(&second));
    let (mut series, mut reference, series_arg) = if first_is_series { (first, second, a) } else { (second, first, b) };
    if series.keys.is_empty() || !is_reference(&reference) {
        return None;
    }
    // GROUP BY = PARTITION BY, as sets.
    let groups: Vec<Column> = aggregate
        .group_expr
        .iter()
        .map(|e| input_column(trace(input, column_index(input, e)?, &mut slot)?, series.window))
        .collect::<Option<_>>()?;
    let mut sorted_groups = groups.clone();
    sorted_groups.sort();
    sorted_groups.dedup();
    let mut sorted_keys = series.keys.clone();
    sorted_keys.sort();
    if sorted_groups.len() != groups.len() || sorted_groups != sorted_keys {
        return None;
    }
    // The join: inner, or outer keeping the series whole (below); one pair
    // of keys, each the ORDER BY of its side or an expression of its time.
    let Some(join) = slot else { return None };
    // Its own filter, if any, is one of the filters below.
    if !matches!(join.join_type, JoinType::Inner | JoinType::Left | JoinType::Right) || join.null_equality != NullEquality::NullEqualsNothing {
        return None;
    }
    let [(left_key, right_key)] = join.on.as_slice() else { return None };
    // Each key: the side's time, or an expression of it alone (super::time_key).
    let side = |plan: &LogicalPlan, key: &Expr| -> Option<(*const Window, Expr)> {
        let (window, key) = key_over_window(plan, key)?;
        Some((window as *const Window, key))
    };
    let mut sides = [side(&join.left, left_key)?, side(&join.right, right_key)?];
    let series_on_the_left = !std::ptr::eq(sides[1].0, series.window);
    if !series_on_the_left {
        sides.swap(0, 1);
    }
    // An outer join keeping every series row: each series gets a row, and
    // the rows without a reference time carry a NULL reference difference.
    let every_series = match join.join_type {
        JoinType::Inner => false,
        JoinType::Left if series_on_the_left => true,
        JoinType::Right if !series_on_the_left => true,
        _ => return None,
    };
    if !std::ptr::eq(sides[0].0, series.window) || !std::ptr::eq(sides[1].0, reference.window) {
        return None;
    }
    let [(_, series_key), (_, reference_key)] = sides;
    let time_of = |call: &DiffCall| call.order.clone();
    let keyed = series_key != time_of(&series) || reference_key != time_of(&reference);
    // The keys of one type on both sides, each of the kind of its side's
    // time (the time itself when not keyed).
    let key_type = |call: &DiffCall, key: &Expr| {
        let schema = call.window.input.schema();
        let (time, key) = (call.order.get_type(schema).ok()?, key.get_type(schema).ok()?);
        same_kind(&key, &time).then_some(key)
    };
    if key_type(&series, &series_key)? != key_type(&reference, &reference_key)? {
        return None;
    }
    if keyed {
        series.time_paired = false;
        reference.time_paired = false;
    }
    // Ordered statistics: ORDER BY the pairs' time (either side's, equal
    // after the join).
    for order in calls.iter().filter_map(|call| call.order) {
        let origin = trace(input, column_index(input, order)?, &mut Some(join))?;
        if !matches!(read(origin, &series, &reference)?, Read::Time) {
            return None;
        }
    }
    // What each summary reads: rows (a count), or a difference, skipping
    // its NULLs.
    let summary_of = |summary: Summary, column: Option<&Expr>| -> Option<CountOf> {
        let Some(column) = column else { return Some(CountOf::Rows) };
        let origin = trace_expr(input, column, &mut Some(join))?;
        Some(match read(origin, &series, &reference)? {
            Read::Time => (summary == Summary::Count).then_some(CountOf::Rows)?,
            Read::SeriesDifference => CountOf::Series,
            Read::ReferenceDifference => CountOf::Reference,
        })
    };
    let statistics: Vec<Statistic> = calls
        .iter()
        .map(|call| {
            Some(match (call.statistic, call.args) {
                // `count(*)` of a series an outer join keeps whole: its rows.
                (Statistic::Pairs(PairStatistic { kind: PairKind::Summary(Summary::Count, _), .. }), Args::Column(None)) if every_series => {
                    Statistic::SeriesRows
                }
                (Statistic::Pairs(PairStatistic { kind: PairKind::Summary(summary, _), reference_first }), Args::Column(column)) => {
                    Statistic::Pairs(PairStatistic { kind: PairKind::Summary(summary, summary_of(summary, column)?), reference_first })
                }
                (Statistic::Pairs(statistic), Args::Pair(x, _)) => Statistic::Pairs(PairStatistic { reference_first: x != series_arg, ..statistic }),
                (Statistic::Regression { which, .. }, Args::Pair(x, _)) => Statistic::Regression { which, series_first: x == series_arg },
                (moments, _) => moments,
            })
        })
        .collect::<Option<_>>()?;
    let Filters { keep, mut reads_difference, series: series_filter, series_rows, on_sides_only } =
        filters(input, &series, &reference, series_on_the_left)?;
    // Each aggregate's own FILTER: on the pairs, or decided at each of the
    // reference's points (a column of its input).
    let calls_filtered = calls.iter().any(|call| call.filter.is_some());
    let mut at_points = Vec::new();
    let mut call_filters = Vec::with_capacity(calls.len());
    for call in &calls {
        call_filters.push(match call.filter.map(|f| call_filter(f, input, &series, &reference)) {
            None => None,
            Some(None) => return None,
            Some(Some(CallPredicate::Pairs(predicate))) => Some(CallFilter::Pairs(predicate)),
            Some(Some(CallPredicate::Points { predicate, reads_difference: reads })) => {
                reads_difference |= reads;
                at_points.push(predicate.alias(call_column(at_points.len())));
                Some(CallFilter::Points(at_points.len() - 1))
            }
        });
    }
    let pair_filters = PairFilters { rows: series_filter, calls: call_filters };
    // Those extra rows are no pair for the statistics; but a count of a
    // column, an ordered statistic or an aggregate's own FILTER sees them
    // (`count(*)` counts the series' rows, [`Statistic::SeriesRows`]), and a filter after the join or in it
    // (the join's own filter is among `filters`) decides which of them
    // there are: DataFusion's plan then. Filters on the time of the
    // series' rows (`WHERE s.ts >= …`, pushed to the series' side) decide
    // which series there are: those with a row passing them, found by
    // DataFusion from the series' own rows.
    if every_series && (!on_sides_only || calls_filtered || statistics.iter().any(Statistic::needs_filtered_pairs)) {
        return None;
    }
    // Rows counted as the operator reads them: no filter may drop any.
    let counts_rows = statistics.iter().any(|statistic| matches!(statistic, Statistic::SeriesRows));
    if counts_rows && (keep.is_some() || pair_filters.rows.is_some() || series_rows.is_some()) {
        return None;
    }
    let rows = match (every_series, series_rows) {
        (false, _) => SeriesRows::Joined,
        (true, None) => SeriesRows::Every,
        (true, Some(predicate)) => SeriesRows::Passing(
            LogicalPlanBuilder::from(Arc::clone(&series.window.input))
                .project(groups.iter().chain([&series.ts]).cloned().map(Expr::Column))
                .ok()?
                .filter(predicate)
                .ok()?
                .aggregate(groups.iter().cloned().map(Expr::Column), Vec::<Expr>::new())
                .ok()?
                .build()
                .ok()?,
        ),
    };
    let keep = keep.map(|predicate| predicate.alias(KEEP_COLUMN));
    let row_time = |call: &DiffCall| keyed.then(|| time_of(call).alias(ROW_TS_COLUMN));
    let (series_time, reference_time) = (row_time(&series), row_time(&reference));
    let series_plan = projection(
        Arc::clone(&series.window.input),
        groups
            .into_iter()
            .map(Expr::Column)
            .chain([series_key.alias(TS_COLUMN), series.value.alias(VALUE_COLUMN)])
            .chain(series_time),
    )?;
    // Filters on the reference's difference are evaluated on the window's
    // output (a few rows: DataFusion differences the reference itself).
    let (reference_input, reference_value, reference_periods) = if reads_difference {
        (Arc::new(LogicalPlan::Window(reference.window.clone())), reference.output.clone(), None)
    } else {
        (Arc::clone(&reference.window.input), reference.value, Some(reference.periods))
    };
    let reference_plan = projection(
        reference_input,
        [reference_key.alias(TS_COLUMN), reference_value.alias(VALUE_COLUMN)]
            .into_iter()
            .chain(keep)
            .chain(at_points)
            .chain(reference_time),
    )?;
    let periods = Periods { series: series.periods, reference: reference_periods };
    Some(DiffCorrelateNode::new(
        series_plan,
        reference_plan,
        LogicalPlan::Aggregate(aggregate.clone()),
        aggregate.group_expr.len(),
        statistics,
        periods,
        pair_filters,
        rows,
    ))
}

fn projection(input: Arc<LogicalPlan>, exprs: impl IntoIterator<Item = Expr>) -> Option<LogicalPlan> {
    Projection::try_new(exprs.into_iter().collect(), input).ok().map(LogicalPlan::Projection)
}
