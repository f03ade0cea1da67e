//! `DiffCorrelateExec`: the physical operator of the fused path.
//!
//! Children: (0) the series rows `key…, ts, value` in scan order, any number
//! of partitions; (1) the reference rows `ts, value`; (2) the original plan
//! (windows, sort, join, aggregate), run only when the data is not in an
//! order the streaming path can use — then the first pass is abandoned and the
//! answer is the original plan's, so the result never depends on the path.
//! The `fallback` metric (EXPLAIN ANALYZE) says which path ran.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, DataFusionError, Result};
use datafusion::common::runtime::SpawnedTask;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    collect, ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    ExecutionPlanProperties, InputDistributionRequirements, PlanProperties, ReplaceChildrenOptions,
};
use futures::{StreamExt, TryStreamExt};

use super::groups::{key_converter, PartitionSeries};
use super::series::{combine, Fallback, Reference};
use crate::functions::PearsonStatistic;
use crate::stats::CoMoments;

/// See the module documentation.
#[derive(Debug)]
pub struct DiffCorrelateExec {
    series: Arc<dyn ExecutionPlan>,
    reference: Arc<dyn ExecutionPlan>,
    fallback: Arc<dyn ExecutionPlan>,
    key_count: usize,
    statistics: Vec<PearsonStatistic>,
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
        statistics: Vec<PearsonStatistic>,
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
        write!(
            f,
            "DiffCorrelateExec: keys={}, aggr=[{}], children=[series, reference, fallback]",
            self.key_count,
            names.join(", ")
        )
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
        vec![&self.series, &self.reference, &self.fallback]
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        #[allow(deprecated)]
        InputDistributionRequirements::new(vec![
            Distribution::UnspecifiedDistribution,
            Distribution::UnspecifiedDistribution,
            Distribution::SinglePartition,
        ])
    }

    /// No round-robin repartitioning: it would interleave each series' rows
    /// across partitions and force the fallback.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false, false, false]
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
        let Ok([series, reference, fallback]) = <[_; 3]>::try_from(children) else {
            return internal_err!("DiffCorrelateExec takes three children");
        };
        Ok(Arc::new(Self::new(series, reference, fallback, self.key_count, self.statistics.clone())))
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
        let run = Run {
            series: Arc::clone(&self.series),
            reference: Arc::clone(&self.reference),
            fallback: Arc::clone(&self.fallback),
            key_fields: self.key_fields(),
            statistics: self.statistics.clone(),
            schema: self.schema(),
            fallbacks: MetricBuilder::new(&self.metrics).global_counter("fallback"),
            rows: MetricBuilder::new(&self.metrics).global_counter("series_rows"),
        };
        let stream = futures::stream::once(run.execute(context)).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One execution of the operator.
struct Run {
    series: Arc<dyn ExecutionPlan>,
    reference: Arc<dyn ExecutionPlan>,
    fallback: Arc<dyn ExecutionPlan>,
    key_fields: Vec<FieldRef>,
    statistics: Vec<PearsonStatistic>,
    schema: SchemaRef,
    fallbacks: Count,
    rows: Count,
}

impl Run {
    async fn execute(self, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        match self.stream_through(&context).await? {
            Ok(batch) => {
                let stream = futures::stream::iter([Ok(batch)]);
                Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema, stream)))
            }
            Err(Fallback) => {
                self.fallbacks.add(1);
                self.fallback.execute(0, context)
            }
        }
    }

    /// The streaming path: every partition of the series at once, then the
    /// segments chained per group.
    async fn stream_through(&self, context: &Arc<TaskContext>) -> Result<Result<RecordBatch, Fallback>> {
        let reference = match read_reference(&self.reference, context).await? {
            Ok(reference) => Arc::new(reference),
            Err(fallback) => return Ok(Err(fallback)),
        };
        let tasks: Vec<_> = (0..self.series.output_partitioning().partition_count())
            .map(|partition| {
                let stream = self.series.execute(partition, Arc::clone(context))?;
                let (key_fields, reference, rows) = (self.key_fields.clone(), Arc::clone(&reference), self.rows.clone());
                let task = consume_partition(partition, Arc::clone(context), stream, key_fields, reference, rows);
                Ok(SpawnedTask::spawn(task))
            })
            .collect::<Result<_>>()?;
        let mut partitions = Vec::with_capacity(tasks.len());
        for task in tasks {
            match task.join_unwind().await.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?? {
                Ok(partition) => partitions.push(partition),
                Err(fallback) => return Ok(Err(fallback)),
            }
        }
        self.finish(partitions, &reference)
    }

    /// Chains each group's segments and builds the output batch.
    fn finish(&self, partitions: Vec<PartitionSeries>, reference: &Reference) -> Result<Result<RecordBatch, Fallback>> {
        let mut index: std::collections::HashMap<Box<[u8]>, usize, ahash::RandomState> = Default::default();
        let mut keys: Vec<Box<[u8]>> = Vec::new();
        let mut segments: Vec<Vec<_>> = Vec::new();
        for partition in partitions {
            let (partition_keys, partition_segments) = partition.into_parts();
            for (key, segment) in partition_keys.into_iter().zip(partition_segments) {
                let id = *index.entry(key.clone()).or_insert_with(|| {
                    keys.push(key);
                    segments.push(Vec::new());
                    keys.len() - 1
                });
                segments[id].push(segment);
            }
        }
        let mut joined_keys = Vec::with_capacity(keys.len());
        let mut moments: Vec<CoMoments> = Vec::with_capacity(keys.len());
        for (key, segments) in keys.into_iter().zip(segments) {
            match combine(segments, reference) {
                Ok(Some(state)) => {
                    joined_keys.push(key);
                    moments.push(state);
                }
                Ok(None) => {}
                Err(fallback) => return Ok(Err(fallback)),
            }
        }
        let converter = key_converter(&self.key_fields)?;
        let parser = converter.parser();
        let mut columns: Vec<ArrayRef> = converter.convert_rows(joined_keys.iter().map(|key| parser.parse(key)))?;
        columns.extend(self.statistics.iter().map(|statistic| statistic.array(&moments)));
        Ok(Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?))
    }
}

/// The reference series' points (NULL timestamps dropped), differenced.
async fn read_reference(plan: &Arc<dyn ExecutionPlan>, context: &Arc<TaskContext>) -> Result<Result<Reference, Fallback>> {
    let mut points = Vec::new();
    for batch in collect(Arc::clone(plan), Arc::clone(context)).await? {
        let (ts, values) = time_and_values(&batch, 0)?;
        let (ts, values) = (ts.as_primitive::<datafusion::arrow::datatypes::Int64Type>(), values.as_primitive::<datafusion::arrow::datatypes::Float64Type>());
        for row in 0..batch.num_rows() {
            if ts.is_valid(row) {
                points.push((ts.value(row), if values.is_valid(row) { values.value(row) } else { f64::NAN }));
            }
        }
    }
    Ok(Reference::from_points(points))
}

/// The timestamp column at `at` as Int64 and the value column after it as
/// Float64 (the matcher only accepts types for which this preserves order).
fn time_and_values(batch: &RecordBatch, at: usize) -> Result<(ArrayRef, ArrayRef)> {
    Ok((cast(batch.column(at), &DataType::Int64)?, cast(batch.column(at + 1), &DataType::Float64)?))
}

async fn consume_partition(
    partition: usize,
    context: Arc<TaskContext>,
    mut stream: SendableRecordBatchStream,
    key_fields: Vec<FieldRef>,
    reference: Arc<Reference>,
    rows: Count,
) -> Result<Result<PartitionSeries, Fallback>> {
    let reservation = MemoryConsumer::new(format!("DiffCorrelateExec[{partition}]")).register(context.memory_pool());
    let mut series = PartitionSeries::new(&key_fields, reservation)?;
    let key_count = key_fields.len();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows.add(batch.num_rows());
        let (ts, values) = time_and_values(&batch, key_count)?;
        let outcome = series.push_batch(
            &batch.columns()[..key_count],
            ts.as_primitive(),
            values.as_primitive(),
            &reference,
        )?;
        if let Err(fallback) = outcome {
            return Ok(Err(fallback));
        }
    }
    Ok(Ok(series))
}
