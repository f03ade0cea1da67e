//! `SharePearsonState`: a logical optimizer rule that computes several
//! Pearson aggregates over the same `(x, y)` from one state.
//!
//! `SELECT pearson_r(x, y), pearson_p(x, y), pearson_n(x, y) ... GROUP BY k`
//! would otherwise keep three identical co-moment states per group and
//! update each for every row. The rule replaces such a set (same arguments,
//! same FILTER, no DISTINCT or ORDER BY) with one `pearson_summary(x, y)`
//! and a projection that takes the fields out under the original names.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Aggregate, AggregateUDF, Expr, LogicalPlan, Projection};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

use crate::functions::{PearsonAggregateImpl, PearsonOutput};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct SharePearsonState;

/// What aggregates must have in common to share a state: arguments, FILTER.
type ShareKey = (Vec<Expr>, Option<Box<Expr>>);

/// The summary field an aggregate expression can be read from, and the key
/// it shares state by.
fn shareable(expr: &Expr) -> Option<(&'static str, ShareKey)> {
    let Expr::AggregateFunction(AggregateFunction { func, params }) = expr else {
        return None;
    };
    let pearson = func.inner().downcast_ref::<PearsonAggregateImpl>()?;
    let field = pearson.output().summary_field()?;
    if params.distinct || !params.order_by.is_empty() || params.null_treatment.is_some() {
        return None;
    }
    Some((field, (params.args.clone(), params.filter.clone())))
}

impl OptimizerRule for SharePearsonState {
    fn name(&self) -> &str {
        "share_pearson_state"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Aggregate(aggregate) = plan else {
            return Ok(Transformed::no(plan));
        };
        if aggregate.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_))) {
            return Ok(Transformed::no(LogicalPlan::Aggregate(aggregate)));
        }
        let mut sharers: HashMap<ShareKey, usize> = HashMap::new();
        for (_, key) in aggregate.aggr_expr.iter().filter_map(shareable) {
            *sharers.entry(key).or_default() += 1;
        }
        sharers.retain(|_, count| *count >= 2);
        if sharers.is_empty() {
            return Ok(Transformed::no(LogicalPlan::Aggregate(aggregate)));
        }

        // Keep the other aggregates; add one summary per shared key.
        let summary_udaf = Arc::new(AggregateUDF::from(PearsonAggregateImpl::new(PearsonOutput::Summary)));
        let mut new_aggregates: Vec<Expr> = Vec::new();
        let mut summary_index: HashMap<ShareKey, usize> = HashMap::new();
        // For each original aggregate: where its value now comes from.
        let mut sources: Vec<(usize, Option<&'static str>)> = Vec::new();
        for expr in &aggregate.aggr_expr {
            match shareable(expr).filter(|(_, key)| sharers.contains_key(key)) {
                Some((field, key)) => {
                    let index = *summary_index.entry(key.clone()).or_insert_with(|| {
                        let (args, filter) = key;
                        let summary = Expr::AggregateFunction(AggregateFunction::new_udf(
                            Arc::clone(&summary_udaf),
                            args,
                            false,
                            filter,
                            vec![],
                            None,
                        ));
                        new_aggregates.push(summary);
                        new_aggregates.len() - 1
                    });
                    sources.push((index, Some(field)));
                }
                None => {
                    new_aggregates.push(expr.clone());
                    sources.push((new_aggregates.len() - 1, None));
                }
            }
        }

        let group_count = aggregate.group_expr.len();
        let original_schema = Arc::clone(&aggregate.schema);
        let shared = Aggregate::try_new(Arc::clone(&aggregate.input), aggregate.group_expr.clone(), new_aggregates)?;
        let new_schema = Arc::clone(&shared.schema);
        let column_at = |i: usize| Expr::Column(Column::from(new_schema.qualified_field(i)));
        let mut projection: Vec<Expr> = (0..group_count).map(column_at).collect();
        for (k, (index, field)) in sources.into_iter().enumerate() {
            let (qualifier, original) = original_schema.qualified_field(group_count + k);
            let value = column_at(group_count + index);
            projection.push(match field {
                Some(field) => get_field(value, field).alias_qualified(qualifier.cloned(), original.name()),
                None => value,
            });
        }
        let projection = Projection::try_new(projection, Arc::new(LogicalPlan::Aggregate(shared)))?;
        Ok(Transformed::yes(LogicalPlan::Projection(projection)))
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn shares_one_state_per_argument_pair() {
        let ctx = crate::session();
        let sql = "SELECT g, pearson_r(x, y), pearson_p(x, y), pearson_n(x, y), pearson_r(y, x), pearson_p(y, x), \
                   pearson_ci_low(x, y), pearson_r(x, y) FILTER (WHERE x > 0) \
                   FROM (VALUES ('a', 1.0, 2.0), ('a', 2.0, 3.0), ('a', 3.0, 1.0)) AS t(g, x, y) GROUP BY g";
        let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap().display_indent().to_string();
        let aggregate = plan.lines().find(|line| line.trim_start().starts_with("Aggregate:")).unwrap();
        // (x, y) and (y, x) each get one summary; the CI and the filtered r stay.
        assert_eq!(aggregate.matches("pearson_summary(").count(), 2, "{plan}");
        assert!(aggregate.contains("pearson_r(t.x, t.y) FILTER"), "{plan}");
        assert_eq!(aggregate.matches("pearson_ci_low(").count(), 1, "{plan}");
        assert!(!aggregate.contains("pearson_p("), "{plan}");
    }
}
