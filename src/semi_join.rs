//! `KeySemiJoinDown`: a logical optimizer rule that moves a semi or anti
//! join on a series' key (`WHERE s.view IN (SELECT view FROM …)`, `EXISTS`,
//! `NOT IN`, `NOT EXISTS` on the key) below the join with the app and below
//! the `diff` window partitioned by that key, to the rows it filters.
//!
//! DataFusion keeps such a join where the query wrote it: above the
//! inner join, so every series is sorted, differenced and joined before most
//! are thrown away, and the fused operator, which expects the windows right
//! under the join, does not see the question. Keeping or dropping a whole
//! partition of a window partitioned by the key leaves the other partitions'
//! values as they are, and a filter on one side's rows commutes with an
//! inner join, so the join can run first on the table's rows, exactly as a
//! key filter written inside the CTE (which DataFusion pushes down itself).
//! The rule moves it only through projections of plain columns, aliases,
//! filters, inner joins (to the side the key comes from), outer joins (to
//! the side they keep whole, when the key comes from it: a filter on that
//! side's rows commutes with them too) and windows whose every expression
//! is partitioned by the key; anywhere else it stops.

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct KeySemiJoinDown;

impl OptimizerRule for KeySemiJoinDown {
    fn name(&self) -> &str {
        "key_semi_join_down"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Join(join) = &plan else { return Ok(Transformed::no(plan)) };
        if !matches!(join.join_type, JoinType::LeftSemi | JoinType::LeftAnti) || join.filter.is_some() {
            return Ok(Transformed::no(plan));
        }
        // The left side's columns the join reads, as positions.
        let Some(keys) = join.on.iter().map(|(left, _)| column_index(&join.left, left)).collect::<Option<Vec<_>>>() else {
            return Ok(Transformed::no(plan));
        };
        match push(&join.left, &keys, join)? {
            Some(moved) => Ok(Transformed::yes(moved)),
            None => Ok(Transformed::no(plan)),
        }
    }
}

fn column_index(plan: &LogicalPlan, expr: &Expr) -> Option<usize> {
    let Expr::Column(column) = expr else { return None };
    plan.schema().index_of_column(column).ok()
}

/// `plan` with `join` (whose left keys are `plan`'s columns `keys`) applied
/// as deep inside it as it can go; `None` if it cannot go below `plan`.
fn push(plan: &LogicalPlan, keys: &[usize], join: &Join) -> Result<Option<LogicalPlan>> {
    let Some((child, child_keys)) = below(plan, keys) else { return Ok(None) };
    let inputs = plan.inputs();
    let input = inputs[child];
    let new_input = match push(input, &child_keys, join)? {
        Some(moved) => moved,
        None => semi_join(input, &child_keys, join)?,
    };
    let mut new_inputs: Vec<LogicalPlan> = inputs.into_iter().cloned().collect();
    new_inputs[child] = new_input;
    // A semi or anti join keeps its left side's schema: every node on the
    // way keeps its own.
    plan.with_new_exprs(plan.expressions(), new_inputs).map(Some)
}

/// Which input of `plan` its columns `keys` come from, unchanged in meaning
/// for a filter on their values, and their positions there.
fn below(plan: &LogicalPlan, keys: &[usize]) -> Option<(usize, Vec<usize>)> {
    match plan {
        LogicalPlan::Projection(projection) => {
            let input = projection.input.schema();
            let position = |&k: &usize| match projection.expr.get(k)?.clone().unalias() {
                Expr::Column(column) => input.index_of_column(&column).ok(),
                _ => None,
            };
            Some((0, keys.iter().map(position).collect::<Option<_>>()?))
        }
        LogicalPlan::SubqueryAlias(_) | LogicalPlan::Filter(_) => Some((0, keys.to_vec())),
        // Into either side of an inner join, into the side an outer join
        // keeps whole (the rows of the other side it pads with NULLs are not
        // the key's).
        LogicalPlan::Join(join) => {
            let (into_left, into_right) = match join.join_type {
                JoinType::Inner => (true, true),
                JoinType::Left => (true, false),
                JoinType::Right => (false, true),
                _ => return None,
            };
            let width = join.left.schema().fields().len();
            if into_left && keys.iter().all(|&k| k < width) {
                Some((0, keys.to_vec()))
            } else if into_right && keys.iter().all(|&k| k >= width) {
                Some((1, keys.iter().map(|&k| k - width).collect()))
            } else {
                None
            }
        }
        LogicalPlan::Window(window) => {
            let input = window.input.schema();
            let partitioned_by_keys = keys.iter().all(|&k| {
                k < input.fields().len() && {
                    let key = Column::from(input.qualified_field(k));
                    window.window_expr.iter().all(|expr| partitioned_by(expr, &key))
                }
            });
            partitioned_by_keys.then(|| (0, keys.to_vec()))
        }
        _ => None,
    }
}

/// Whether the window expression is partitioned by `key` (among others).
fn partitioned_by(expr: &Expr, key: &Column) -> bool {
    match expr {
        Expr::Alias(alias) => partitioned_by(&alias.expr, key),
        Expr::WindowFunction(call) => call.params.partition_by.iter().any(|e| matches!(e, Expr::Column(c) if c == key)),
        _ => false,
    }
}

/// `join` applied to `input` (whose columns `keys` are its left keys),
/// against the distinct values of its right keys: the same rows out. The
/// keys' side is the join's left (DataFusion's hash join builds on it) and
/// `input` its right, streamed through in its own order (`RightSemi`,
/// `RightAnti`), so the rows reach the fused operator as the files hold
/// them; a `NOT IN` (null-aware, which DataFusion runs as `LeftAnti` only)
/// keeps `input` on the left. Without the distinct keys DataFusion's
/// planner builds on the table's rows and probes once per row of the
/// subquery: a fan-out of 10,000 rows per probe at M, 57 s.
fn semi_join(input: &LogicalPlan, keys: &[usize], join: &Join) -> Result<LogicalPlan> {
    let schema = input.schema();
    let right_keys: Vec<Expr> = join.on.iter().map(|(_, right)| right.clone()).collect();
    let distinct = Arc::new(LogicalPlanBuilder::from(Arc::clone(&join.right)).aggregate(right_keys, Vec::<Expr>::new())?.build()?);
    let distinct_schema = Arc::clone(distinct.schema());
    let pairs = keys.iter().enumerate().map(|(i, &k)| {
        (Expr::Column(Column::from(schema.qualified_field(k))), Expr::Column(Column::from(distinct_schema.qualified_field(i))))
    });
    let input = Arc::new(input.clone());
    let (left, right, on, join_type) = match (join.join_type, join.null_aware) {
        (JoinType::LeftSemi, _) => (distinct, input, pairs.map(|(a, b)| (b, a)).collect(), JoinType::RightSemi),
        (JoinType::LeftAnti, false) => (distinct, input, pairs.map(|(a, b)| (b, a)).collect(), JoinType::RightAnti),
        (join_type, _) => (input, distinct, pairs.collect(), join_type),
    };
    let moved = Join::try_new(left, right, on, None, join_type, join.join_constraint, join.null_equality, join.null_aware)?;
    Ok(LogicalPlan::Join(moved))
}
