//! The sort under a window `PARTITION BY keys ORDER BY ts` done by grouping:
//! a physical rule puts a [`GroupSortExec`] in place of DataFusion's
//! `SortExec` on `(keys…, ts)` below a window, wherever the fused operator
//! does not run (a left join with `count(*)`, a join on an expression of the
//! time, any other use of `diff` or `lag`).
//!
//! DataFusion sorts all the rows by the whole key (each batch compared in
//! Arrow's row format, then merged): at 10 million rows of 1,000 views that
//! sort is most of the plan's time. A window's rows come in few groups with
//! many rows each, usually already in time order within a group: rows are
//! assigned to their group by hashing the keys (runs of one key cost one
//! comparison), each group's times are sorted (linear when already in order),
//! the few groups are sorted by their keys, and the rows are gathered in that
//! order. Same rows, same order (rows with equal keys and times keep their
//! input order, a valid order of DataFusion's sort too), same plan
//! properties. If the memory pool refuses the rows, DataFusion's sort takes
//! them over (it can spill).
//!
//! Only full sorts (no `LIMIT`) are replaced, by keys of types Arrow's row
//! format takes and a last one (the time) of an integer, date or timestamp
//! type; columns or expressions (`ORDER BY CAST(ts AS TIMESTAMP)`).

mod exec;

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result;
use datafusion::arrow::datatypes::FieldRef;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::ExecutionPlan;

pub use exec::GroupSortExec;

use crate::fused::origin::orderable_as_int64;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct GroupSortUnderWindows;

impl PhysicalOptimizerRule for GroupSortUnderWindows {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _options: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.downcast_ref::<BoundedWindowAggExec>().is_none() && node.downcast_ref::<WindowAggExec>().is_none() {
                return Ok(Transformed::no(node));
            }
            let Some(sort) = node.children().first().and_then(|child| child.downcast_ref::<SortExec>()) else {
                return Ok(Transformed::no(node));
            };
            let Some(group_sort) = GroupSortExec::try_new(sort) else { return Ok(Transformed::no(node)) };
            let children = vec![Arc::new(group_sort) as Arc<dyn ExecutionPlan>];
            #[allow(deprecated)]
            Ok(Transformed::yes(Arc::clone(&node).with_new_children(children)?))
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "group_sort_under_windows"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The result fields of the sort's keys (all its expressions but the last,
/// the time), if [`GroupSortExec`] can do the sort: no fetch, one partition or partitions kept,
/// at least one key, the time of an integer, date or timestamp type, the
/// keys of types Arrow's row format takes. The expressions are columns or
/// computed ones (`ORDER BY CAST(ts AS TIMESTAMP)`), evaluated per batch as
/// DataFusion's sort does.
fn key_fields(sort: &SortExec) -> Option<Vec<FieldRef>> {
    let input = sort.input();
    if sort.fetch().is_some() || !(sort.preserve_partitioning() || input.properties().output_partitioning().partition_count() == 1) {
        return None;
    }
    let schema = input.schema();
    let fields: Vec<FieldRef> = sort.expr().iter().map(|e| e.expr.return_field(&schema).ok()).collect::<Option<_>>()?;
    let (time, keys) = fields.split_last()?;
    if keys.is_empty() || !orderable_as_int64(time.data_type()) {
        return None;
    }
    let sort_fields: Vec<SortField> = keys.iter().map(|k| SortField::new(k.data_type().clone())).collect();
    RowConverter::supports_fields(&sort_fields).then(|| keys.to_vec())
}
