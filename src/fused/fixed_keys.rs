//! The app's series in the same long table as the others (`metrics(node,
//! ts, value)`): differenced by one window `PARTITION BY node`, the app's
//! rows picked by `a.node = 'app'` (in ON or WHERE), which DataFusion pushes
//! below the window. Every key of that window fixed to one value by such an
//! equality makes its rows a single partition: the reference, as if
//! differenced without PARTITION BY.

use datafusion::logical_expr::utils::split_conjunction;
use datafusion::common::Column;
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};

/// Whether each of `keys` (columns of `input`, a window's input) is fixed to
/// one non-NULL value by an equality with a constant on the way down from
/// `input` (filters, aliases, projections of plain columns, a scan's
/// filters).
pub fn keys_fixed(input: &LogicalPlan, keys: &[Column]) -> bool {
    keys.iter().all(|key| fixed_below(input, key))
}

fn fixed_below(plan: &LogicalPlan, key: &Column) -> bool {
    let Ok(index) = plan.schema().index_of_column(key) else { return false };
    match plan {
        LogicalPlan::Filter(filter) => fixed_by(&filter.predicate, key) || fixed_below(&filter.input, key),
        LogicalPlan::SubqueryAlias(alias) => fixed_below(&alias.input, &Column::from(alias.input.schema().qualified_field(index))),
        LogicalPlan::Projection(projection) => match projection.expr.get(index).map(|e| e.clone().unalias()) {
            Some(Expr::Column(column)) => fixed_below(&projection.input, &column),
            _ => false,
        },
        LogicalPlan::TableScan(scan) => scan.filters.iter().any(|filter| fixed_by(filter, key)),
        _ => false,
    }
}

/// Whether a conjunct of `predicate` is `key = constant` (either way round).
fn fixed_by(predicate: &Expr, key: &Column) -> bool {
    let is_key = |e: &Expr| matches!(e, Expr::Column(c) if c == key || (c.relation.is_none() && c.name == key.name));
    let is_constant = |e: &Expr| matches!(e, Expr::Literal(value, _) if !value.is_null());
    split_conjunction(predicate).into_iter().any(|conjunct| match conjunct {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => {
            (is_key(left) && is_constant(right)) || (is_constant(left) && is_key(right))
        }
        _ => false,
    })
}
