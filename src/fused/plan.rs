//! The fused path's place in planning: the logical node, its physical
//! planner, and the session's query planner that puts it in.
//!
//! The rewrite runs when the optimized logical plan is turned into a
//! physical one (not as an optimizer rule), so DataFusion's rules never see
//! the node and the fallback keeps the plan they produced.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DFSchemaRef, Result};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore};
use datafusion::common::JoinType;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{replace_children_if_necessary, ExecutionPlan};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use super::exec::DiffCorrelateExec;
use super::pair_filters::{PairFilters, SeriesFilter};
use super::matcher::{fuse_diff_correlations, TS_COLUMN};
use super::series::Periods;
use super::pairs::Statistic;

/// Logical node of the fused path; inputs: series, reference, fallback (the
/// original aggregate, whose schema this node has).
#[derive(Debug, Clone)]
pub struct DiffCorrelateNode {
    series: LogicalPlan,
    reference: LogicalPlan,
    fallback: LogicalPlan,
    key_count: usize,
    statistics: Vec<Statistic>,
    periods: Periods,
    /// The filters run on the pairs (see [`super::filters`]).
    pair_filters: PairFilters<Expr>,
    /// Which series get an output row.
    rows: SeriesRows<LogicalPlan>,
}

/// Which series get an output row: those the inner join keeps (a point at
/// a time of the reference's), or, for an outer join keeping the series
/// whole, every series, or those among the keys a plan (`P`) gives (the
/// series with a row passing the filters on the series' side).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeriesRows<P> {
    Joined,
    Every,
    Passing(P),
}

impl<P> SeriesRows<P> {
    /// The plan of [`Self::Passing`], as an input.
    pub fn plan(&self) -> Option<&P> {
        match self {
            Self::Passing(plan) => Some(plan),
            _ => None,
        }
    }

    /// The same variant over `rest`, the inputs after the first three: the
    /// passing series' plan for [`Self::Passing`], none for the others;
    /// `None` if they do not match.
    pub fn over<Q>(&self, rest: impl IntoIterator<Item = Q>) -> Option<SeriesRows<Q>> {
        let mut rest = rest.into_iter();
        let rows = match (self, rest.next()) {
            (Self::Joined, None) => SeriesRows::Joined,
            (Self::Every, None) => SeriesRows::Every,
            (Self::Passing(_), Some(plan)) => SeriesRows::Passing(plan),
            _ => return None,
        };
        rest.next().is_none().then_some(rows)
    }

}

impl DiffCorrelateNode {
    pub fn new(
        series: LogicalPlan,
        reference: LogicalPlan,
        fallback: LogicalPlan,
        key_count: usize,
        statistics: Vec<Statistic>,
        periods: Periods,
        pair_filters: PairFilters<Expr>,
        rows: SeriesRows<LogicalPlan>,
    ) -> Self {
        Self { series, reference, fallback, key_count, statistics, periods, pair_filters, rows }
    }
}

// The node exists only between rewrite and physical planning; identity is
// its inputs and key count (the statistics are those of the fallback
// aggregate, one of the inputs). It has no order.
impl PartialEq for DiffCorrelateNode {
    fn eq(&self, other: &Self) -> bool {
        (&self.series, &self.reference, &self.fallback, self.key_count, self.periods, &self.pair_filters, &self.rows)
            == (&other.series, &other.reference, &other.fallback, other.key_count, other.periods, &other.pair_filters, &other.rows)
    }
}

impl Eq for DiffCorrelateNode {}

impl Hash for DiffCorrelateNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&self.series, &self.reference, &self.fallback, self.key_count, self.periods, &self.pair_filters, &self.rows).hash(state);
    }
}

impl PartialOrd for DiffCorrelateNode {
    fn partial_cmp(&self, _other: &Self) -> Option<Ordering> {
        None
    }
}

impl UserDefinedLogicalNodeCore for DiffCorrelateNode {
    fn name(&self) -> &str {
        "DiffCorrelate"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        [&self.series, &self.reference, &self.fallback].into_iter().chain(self.rows.plan()).collect()
    }

    fn schema(&self) -> &DFSchemaRef {
        self.fallback.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let reference = self.periods.reference.map_or("differenced".to_string(), |k| k.to_string());
        write!(f, "DiffCorrelate: keys={}, periods={}/{reference}", self.key_count, self.periods.series)?;
        match self.rows {
            SeriesRows::Joined => {}
            SeriesRows::Every => write!(f, ", every series")?,
            SeriesRows::Passing(_) => write!(f, ", every series passing the series' filters")?,
        }
        if let Some(filter) = &self.pair_filters.rows {
            write!(f, ", series filter={filter}")?;
        }
        self.pair_filters.fmt_calls(self.statistics.iter().map(Statistic::name), f)
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let mut inputs = inputs.into_iter();
        let (Some(series), Some(reference), Some(fallback)) = (inputs.next(), inputs.next(), inputs.next()) else {
            return datafusion::common::internal_err!("DiffCorrelate takes three inputs, and the passing series'");
        };
        let Some(rows) = self.rows.over(inputs) else {
            return datafusion::common::internal_err!("DiffCorrelate's passing series' input does not match");
        };
        Ok(Self { series, reference, fallback, rows, ..self.clone() })
    }
}

/// Plans [`DiffCorrelateNode`] as [`DiffCorrelateExec`].
#[derive(Debug)]
struct DiffCorrelatePlanner;

#[async_trait]
impl ExtensionPlanner for DiffCorrelatePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<DiffCorrelateNode>() else { return Ok(None) };
        let [series, reference, fallback, passing @ ..] = physical_inputs else {
            return datafusion::common::internal_err!("DiffCorrelate takes three inputs");
        };
        let Some(rows) = node.rows.over(passing.iter().map(Arc::clone)) else {
            return datafusion::common::internal_err!("DiffCorrelate's passing series' input does not match");
        };
        let time_type = node.reference.schema().field_with_unqualified_name(TS_COLUMN)?.data_type().clone();
        let pair_filters = node.pair_filters.try_map(|filter| SeriesFilter::new(filter, &time_type, session))?;
        let config = session.config_options();
        let series = split_file_scan(Arc::clone(series), config.execution.target_partitions, config)?;
        Ok(Some(Arc::new(DiffCorrelateExec::new(
            series,
            Arc::clone(reference),
            Arc::clone(fallback),
            node.key_count,
            node.statistics.clone(),
            node.periods,
            pair_filters,
            rows,
        ))))
    }
}

/// Splits a file scan under order-preserving unary operators (and under the
/// probe side of a key subquery's join) into
/// `partitions` contiguous byte ranges (what DataFusion does for operators
/// that benefit from parallel input) and marks it order-preserving, which
/// keeps each partition on its own ranges (no work stealing between
/// partitions), so each partition reads its rows in file order. Other sources
/// are left alone: an in-memory table would be split by batch size, not
/// contiguously.
fn split_file_scan(plan: Arc<dyn ExecutionPlan>, partitions: usize, config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>() {
        if !(scan.data_source().as_ref() as &dyn std::any::Any).is::<FileScanConfig>() {
            return Ok(plan);
        }
        let split = plan.repartitioned(partitions, config)?.unwrap_or(plan);
        return Ok(split.with_preserve_order(true).unwrap_or(split));
    }
    // A key subquery moved to the series' rows (`crate::semi_join`): the
    // subquery's distinct keys are built once for every partition and each
    // partition's rows probe them in their own order.
    if let Some(join) = plan.downcast_ref::<HashJoinExec>() {
        if matches!(join.join_type(), JoinType::RightSemi | JoinType::RightAnti) && join.filter().is_none() {
            let probe = split_file_scan(Arc::clone(join.right()), partitions, config)?;
            return join
                .builder()
                .with_partition_mode(PartitionMode::CollectLeft)
                .with_new_children(vec![Arc::clone(join.left()), probe])?
                .recompute_properties()
                .build_exec();
        }
    }
    let order_preserving = plan.is::<ProjectionExec>() || plan.is::<FilterExec>();
    match plan.children().as_slice() {
        [child] if order_preserving => {
            let child = split_file_scan(Arc::clone(child), partitions, config)?;
            replace_children_if_necessary(plan, vec![child])
        }
        _ => Ok(plan),
    }
}

/// The session's query planner: DataFusion's, after
/// [`fuse_diff_correlations`].
#[derive(Debug)]
pub struct FusingQueryPlanner;

#[async_trait]
impl QueryPlanner for FusingQueryPlanner {
    async fn create_physical_plan(&self, logical_plan: &LogicalPlan, session: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        let fused = fuse_diff_correlations(logical_plan.clone())?;
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(DiffCorrelatePlanner)])
            .create_physical_plan(&fused, session)
            .await
    }
}
