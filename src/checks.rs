//! `RequireOrderedDiff`: an analyzer rule that rejects `diff(...) OVER (...)`
//! without an `ORDER BY` in its window.
//!
//! A difference is only meaningful between consecutive points in time;
//! without `ORDER BY` the rows arrive in whatever order the scan, join or
//! repartitioning produced, and the result would silently differ from run to
//! run. The aggregates that need an order (`xcorr_lag`, `pearson_p_eff`, …)
//! check theirs when they are planned.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::expr::{WindowFunction, WindowFunctionParams};
use datafusion::logical_expr::{Expr, LogicalPlan, WindowFunctionDefinition};
use datafusion::optimizer::AnalyzerRule;

use crate::functions::DiffImpl;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct RequireOrderedDiff;

impl AnalyzerRule for RequireOrderedDiff {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.apply_with_subqueries(|node| {
            for expr in node.expressions() {
                expr.apply(|e| {
                    if let Expr::WindowFunction(call) = e {
                        check(call)?;
                    }
                    Ok(TreeNodeRecursion::Continue)
                })?;
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "require_ordered_diff"
    }
}

fn check(call: &WindowFunction) -> Result<()> {
    let WindowFunction { fun: WindowFunctionDefinition::WindowUDF(udf), params: WindowFunctionParams { order_by, .. } } = call
    else {
        return Ok(());
    };
    if udf.inner().downcast_ref::<DiffImpl>().is_some() && order_by.is_empty() {
        return plan_err!(
            "diff needs an ORDER BY in its window, e.g. diff(x) OVER (PARTITION BY key ORDER BY ts): \
             without one, rows are differenced in whatever order they arrive"
        );
    }
    Ok(())
}
