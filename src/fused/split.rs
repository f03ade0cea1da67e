//! Several Pearson pairs in one `GROUP BY` — two metrics of each series
//! against the app (`pearson_r(d_time, d_app), pearson_r(d_traffic,
//! d_app)`), or one series against two targets — are split into one
//! aggregate per pair, joined back on the group keys (NULL keys equal), when
//! every part is the fused shape on its own ([`super::matcher`]): each part
//! is then one fused pass over the data instead of DataFusion's sort,
//! window, join and aggregate for all of them.

use std::sync::Arc;

use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::{Aggregate, Expr, Extension, JoinType, LogicalPlan, LogicalPlanBuilder};

use super::calls::{same_pair, statistic_call, Args, Call};
use super::matcher::match_shape;

/// The split plan, or `None` when the aggregate has fewer than two pairs or a
/// part would not be fused.
pub fn split_pairs(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    let Some(calls) = aggregate.aggr_expr.iter().map(statistic_call).collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    // Pairs as unordered argument pairs, in order of first use.
    let mut pairs: Vec<(&Expr, &Expr)> = Vec::new();
    for pair in calls.iter().filter_map(Call::pair) {
        if !pairs.iter().any(|&known| same_pair(pair, known)) {
            pairs.push(pair);
        }
    }
    // A summary (a count, `avg`…) goes with the first pair that reads its
    // column (any pair sees the same rows).
    let pair_of: Vec<usize> = calls
        .iter()
        .map(|call| match call.args {
            Args::Pair(x, y) => pairs.iter().position(|&known| same_pair((x, y), known)).unwrap_or_default(),
            Args::Column(column) => column.and_then(|c| pairs.iter().position(|&(x, y)| x == c || y == c)).unwrap_or_default(),
        })
        .collect();
    if pairs.len() < 2 {
        return Ok(None);
    }
    let keys = aggregate.group_expr.len();
    let mut parts = Vec::with_capacity(pairs.len());
    for p in 0..pairs.len() {
        let exprs = aggregate.aggr_expr.iter().zip(&pair_of).filter(|(_, &q)| q == p).map(|(e, _)| e.clone()).collect();
        let part = Aggregate::try_new(Arc::clone(&aggregate.input), aggregate.group_expr.clone(), exprs)?;
        let Some(node) = match_shape(&part) else { return Ok(None) };
        let alias = format!("__perfcorr_pair_{p}");
        let plan = LogicalPlanBuilder::from(LogicalPlan::Extension(Extension { node: Arc::new(node) })).alias(alias.as_str())?;
        parts.push((alias, plan));
    }
    let key_columns = |alias: &str| -> Vec<Column> {
        aggregate.schema.fields().iter().take(keys).map(|f| Column::new(Some(alias), f.name())).collect()
    };
    let mut joined = parts[0].1.clone();
    for (alias, part) in &parts[1..] {
        let on = (key_columns(&parts[0].0), key_columns(alias));
        joined = joined.join_detailed(part.clone().build()?, JoinType::Inner, on, None, NullEquality::NullEqualsNull)?;
    }
    // The aggregate's own columns, under their own (qualified) names.
    let mut position_in_part = vec![keys; pairs.len()];
    let columns = (0..aggregate.schema.fields().len()).map(|i| {
        let (qualifier, field) = aggregate.schema.qualified_field(i);
        let (alias, name) = if i < keys {
            (&parts[0].0, field.name().clone())
        } else {
            let p = pair_of[i - keys];
            let (part_qualifier, part_field) = parts[p].1.schema().qualified_field(position_in_part[p]);
            debug_assert_eq!(part_qualifier.map(|q| q.table()), Some(parts[p].0.as_str()));
            position_in_part[p] += 1;
            (&parts[p].0, part_field.name().clone())
        };
        Expr::Column(Column::new(Some(alias.as_str()), name)).alias_qualified(qualifier.cloned(), field.name())
    });
    let columns: Vec<Expr> = columns.collect();
    Ok(Some(joined.project(columns)?.build()?))
}
