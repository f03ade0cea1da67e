//! `DiffCorrelateExec`: the physical operator of the fused path.
//!
//! Children: (0) the series rows `key…, ts, value` in scan order, any number
//! of partitions; (1) the reference rows `ts, value`; (2) the original plan
//! (windows, sort, join, aggregate), run only when neither of the operator's
//! own passes can answer (see [`super::run`]), so the result does not depend
//! on the path (up to floating-point rounding: the co-moments are summed in
//! another order). One output partition, one batch: a row per series.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, InputDistributionRequirements,
    PlanProperties, ReplaceChildrenOptions,
};
use futures::TryStreamExt;

use super::pair_filters::{PairFilters, SeriesFilter};
use super::run::{Run, RunMetrics};
use super::series::Periods;
use super::pairs::Statistic;
use super::plan::SeriesRows;

/// See the module documentation.
#[derive(Debug)]
pub struct DiffCorrelateExec {
    series: Arc<dyn ExecutionPlan>,
    reference: Arc<dyn ExecutionPlan>,
    fallback: Arc<dyn ExecutionPlan>,
    key_count: usize,
    statistics: Vec<Statistic>,
    periods: Periods,
    /// The filters run on the pairs (see [`super::filters`]).
    pair_filters: PairFilters<SeriesFilter>,
    /// Which series get a row (a fourth child: the passing series' keys).
    rows: SeriesRows<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DiffCorrelateExec {
    /// `schema` is the aggregate's: the key columns, then one column per
    /// statistic.
    pub fn new(
        series: Arc<dyn ExecutionPlan>,
        reference: Arc<dyn ExecutionPlan>,
        fallback: Arc<dyn ExecutionPlan>,
        key_count: usize,
        statistics: Vec<Statistic>,
        periods: Periods,
        pair_filters: PairFilters<SeriesFilter>,
        rows: SeriesRows<Arc<dyn ExecutionPlan>>,
    ) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(fallback.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Self {
            series,
            reference,
            fallback,
            key_count,
            statistics,
            periods,
            pair_filters,
            rows,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    fn key_fields(&self) -> Vec<FieldRef> {
        self.series.schema().fields()[..self.key_count].to_vec()
    }
}

impl DisplayAs for DiffCorrelateExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.statistics.iter().map(|s| s.name()).collect();
        write!(f, "DiffCorrelateExec: keys={}, aggr=[{}]", self.key_count, names.join(", "))?;
        if let Some(filter) = &self.pair_filters.rows {
            write!(f, ", series filter={filter}")?;
        }
        self.pair_filters.fmt_calls(names.iter().copied(), f)?;
        match self.rows {
            SeriesRows::Joined => {}
            SeriesRows::Every => write!(f, ", every series")?,
            SeriesRows::Passing(_) => write!(f, ", every series passing the series' filters")?,
        }
        let passing = if self.rows.plan().is_some() { ", passing" } else { "" };
        write!(f, ", children=[series, reference, fallback{passing}]")
    }
}

impl ExecutionPlan for DiffCorrelateExec {
    fn name(&self) -> &str {
        "DiffCorrelateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        [&self.series, &self.reference, &self.fallback].into_iter().chain(self.rows.plan()).collect()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let mut distributions =
            vec![Distribution::UnspecifiedDistribution, Distribution::UnspecifiedDistribution, Distribution::SinglePartition];
        distributions.extend(self.rows.plan().map(|_| Distribution::UnspecifiedDistribution));
        #[allow(deprecated)]
        InputDistributionRequirements::new(distributions)
    }

    /// No round-robin repartitioning: it would interleave each series' rows
    /// across partitions and force the fallback.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.children().len()]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut children = children.into_iter();
        let (Some(series), Some(reference), Some(fallback)) = (children.next(), children.next(), children.next()) else {
            return internal_err!("DiffCorrelateExec takes three children");
        };
        let Some(rows) = self.rows.over(children) else {
            return internal_err!("DiffCorrelateExec's passing series' child does not match");
        };
        let statistics = self.statistics.clone();
        Ok(Arc::new(Self::new(series, reference, fallback, self.key_count, statistics, self.periods, self.pair_filters.clone(), rows)))
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("DiffCorrelateExec has one partition, asked for {partition}");
        }
        let counter = |name: &'static str| MetricBuilder::new(&self.metrics).global_counter(name);
        let run = Run {
            series: Arc::clone(&self.series),
            reference: Arc::clone(&self.reference),
            fallback: Arc::clone(&self.fallback),
            key_fields: self.key_fields(),
            statistics: self.statistics.clone(),
            periods: self.periods,
            pair_filters: self.pair_filters.clone(),
            rows: self.rows.clone(),
            schema: self.schema(),
            metrics: RunMetrics {
                buffered: counter("buffered"),
                fallback: counter("fallback"),
                series_rows: counter("series_rows"),
            },
        };
        let stream = futures::stream::once(run.execute(context)).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
