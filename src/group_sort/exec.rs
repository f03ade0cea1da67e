//! `GroupSortExec`: a sort by `(keys…, time)` done by grouping the rows by
//! their keys and sorting each group by its time (see the module
//! documentation of [`super`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, interleave_record_batch, lexsort_to_indices, SortColumn, SortOptions};
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{LexOrdering, PhysicalExpr};
use datafusion::physical_plan::metrics::{BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, InputDistributionRequirements, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::{StreamExt, TryStreamExt};

use crate::fused::groups::{key_converter, GroupIndex};

/// See the module documentation.
#[derive(Debug)]
pub struct GroupSortExec {
    /// The sort it does: its input, order and properties.
    sort: SortExec,
    /// The keys' and the time's expressions over the input, with their
    /// order, and the keys' fields.
    keys: Vec<(Arc<dyn PhysicalExpr>, SortOptions)>,
    key_fields: Vec<FieldRef>,
    time: (Arc<dyn PhysicalExpr>, SortOptions),
    metrics: ExecutionPlanMetricsSet,
}

impl GroupSortExec {
    /// The same sort as `sort`, if it is one this operator does.
    pub fn try_new(sort: &SortExec) -> Option<Self> {
        let key_fields = super::key_fields(sort)?;
        let (time, keys) = sort.expr().split_last()?;
        Some(Self {
            sort: sort.clone(),
            keys: keys.iter().map(|e| (Arc::clone(&e.expr), e.options)).collect(),
            key_fields,
            time: (Arc::clone(&time.expr), time.options),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for GroupSortExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let exprs: Vec<String> = self.sort.expr().iter().map(|e| e.to_string()).collect();
        write!(f, "GroupSortExec: expr=[{}], preserve_partitioning=[{}]", exprs.join(", "), self.sort.preserve_partitioning())
    }
}

impl ExecutionPlan for GroupSortExec {
    fn name(&self) -> &str {
        "GroupSortExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.sort.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.sort.input()]
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        self.sort.input_distribution_requirements()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        self.sort.benefits_from_input_partitioning()
    }

    fn apply_expressions(&self, f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        self.sort.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|_| datafusion::common::internal_datafusion_err!("GroupSortExec takes one child"))?;
        let sort = SortExec::new(self.sort.expr().clone(), input).with_preserve_partitioning(self.sort.preserve_partitioning());
        match Self::try_new(&sort) {
            Some(exec) => Ok(Arc::new(exec)),
            None => Ok(Arc::new(sort)),
        }
    }

    #[allow(deprecated)]
    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition >= self.properties().output_partitioning().partition_count() {
            return internal_err!("GroupSortExec has no partition {partition}");
        }
        let input = self.sort.input().execute(partition, Arc::clone(&context))?;
        // Spillable: capped at a fair share of a spill pool (beyond which
        // DataFusion's sort, which spills, takes the rows).
        let reservation = MemoryConsumer::new(format!("GroupSortExec[{partition}]")).with_can_spill(true).register(context.memory_pool());
        let job = Job {
            schema: self.schema(),
            order: self.sort.expr().clone(),
            keys: self.keys.clone(),
            key_fields: self.key_fields.clone(),
            time: self.time.clone(),
            batch_size: context.session_config().batch_size(),
            metrics: BaselineMetrics::new(&self.metrics, partition),
            handed_over: MetricBuilder::new(&self.metrics).global_counter("handed_over"),
        };
        let stream = futures::stream::once(job.run(input, reservation, context)).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's sort.
struct Job {
    schema: SchemaRef,
    /// The order, for DataFusion's sort of the rows the pool refused.
    order: LexOrdering,
    keys: Vec<(Arc<dyn PhysicalExpr>, SortOptions)>,
    key_fields: Vec<FieldRef>,
    time: (Arc<dyn PhysicalExpr>, SortOptions),
    batch_size: usize,
    metrics: BaselineMetrics,
    /// Partitions whose rows went to DataFusion's sort.
    handed_over: Count,
}

/// A row's place: its time as an order-keeping `u64`, its batch and row.
type Place = (u64, u32, u32);

/// The rows of one group: with a time, and with a NULL time (its order
/// key unused).
#[derive(Default)]
struct Group {
    timed: Vec<Place>,
    untimed: Vec<Place>,
}

/// Bytes a row costs besides its batch: its [`Place`].
const ROW_BYTES: usize = std::mem::size_of::<Place>();

impl Job {
    async fn run(self, mut input: SendableRecordBatchStream, reservation: MemoryReservation, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let mut batches = Vec::new();
        while let Some(batch) = input.next().await {
            let batch = batch?;
            if reservation.try_grow(batch.get_array_memory_size() + batch.num_rows() * ROW_BYTES).is_err() {
                batches.push(batch);
                reservation.free();
                return self.hand_over(batches, input, context);
            }
            batches.push(batch);
        }
        let timer = self.metrics.elapsed_compute().timer();
        let (groups, index_reservation) = match self.groups(&batches, &reservation)? {
            Some(groups) => groups,
            None => {
                reservation.free();
                return self.hand_over(batches, Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), futures::stream::empty())), context);
            }
        };
        timer.done();
        let schema = Arc::clone(&self.schema);
        let output = Output { job: self, batches, groups, next_group: 0, at: 0, _reservations: [reservation, index_reservation] };
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::iter(output))))
    }

    /// The groups in output order, each group's rows in time order, and
    /// the memory of their keys; `None` when the pool refuses the groups
    /// (`reservation` holds the rows and [`ROW_BYTES`] per row).
    fn groups(&self, batches: &[RecordBatch], reservation: &MemoryReservation) -> Result<Option<(Vec<Group>, MemoryReservation)>> {
        let mut index = GroupIndex::new(&self.key_fields, reservation.new_empty())?;
        let mut groups: Vec<Group> = Vec::new();
        let mut ids = Vec::new();
        let (time, time_order) = &self.time;
        let evaluate = |expr: &Arc<dyn PhysicalExpr>, batch: &RecordBatch| expr.evaluate(batch)?.into_array(batch.num_rows());
        for (b, batch) in batches.iter().enumerate() {
            let keys: Vec<ArrayRef> = self.keys.iter().map(|(k, _)| evaluate(k, batch)).collect::<Result<_>>()?;
            index.ids(&keys, &mut ids)?;
            if index.len() > groups.len() {
                groups.resize_with(index.len(), Group::default);
            }
            let times = cast(&evaluate(time, batch)?, &DataType::Int64)?;
            let times = times.as_primitive::<Int64Type>();
            let b = b as u32;
            for (row, &id) in ids.iter().enumerate() {
                let group = &mut groups[id as usize];
                if times.is_null(row) {
                    group.untimed.push((0, b, row as u32));
                } else {
                    let ordered = (times.value(row) as u64) ^ (1 << 63);
                    group.timed.push((if time_order.descending { !ordered } else { ordered }, b, row as u32));
                }
            }
        }
        // What the groups hold beyond the bytes charged per row (vectors'
        // spare capacity, the groups themselves), and the sort's scratch
        // (half the largest group) while it runs.
        let rows: usize = groups.iter().map(|g| g.timed.len() + g.untimed.len()).sum();
        let held = groups.iter().map(|g| (g.timed.capacity() + g.untimed.capacity()) * ROW_BYTES).sum::<usize>()
            + groups.len() * std::mem::size_of::<Group>();
        let extra = held.saturating_sub(rows * ROW_BYTES);
        let scratch = groups.iter().map(|g| g.timed.len()).max().unwrap_or(0) / 2 * ROW_BYTES;
        if !index.reserve(0) || reservation.try_grow(extra + scratch).is_err() {
            return Ok(None);
        }
        for group in &mut groups {
            // Stable: equal times keep their input order; linear when in order.
            group.timed.sort_by_key(|place| place.0);
        }
        reservation.shrink(scratch);
        let (keys, index_reservation) = index.into_parts();
        let converter = key_converter(&self.key_fields)?;
        let parser = converter.parser();
        let key_columns = converter.convert_rows(keys.iter().map(|key| parser.parse(key)))?;
        let sort_columns: Vec<SortColumn> = key_columns
            .into_iter()
            .zip(&self.keys)
            .map(|(values, (_, options))| SortColumn { values, options: Some(*options) })
            .collect();
        let order = lexsort_to_indices(&sort_columns, None)?;
        let mut groups: Vec<Option<Group>> = groups.into_iter().map(Some).collect();
        Ok(Some((order.values().iter().filter_map(|&g| groups[g as usize].take()).collect(), index_reservation)))
    }

    /// DataFusion's sort of `batches` and then the rest of `input`.
    fn hand_over(&self, batches: Vec<RecordBatch>, input: SendableRecordBatchStream, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        self.handed_over.add(1);
        let rows = futures::stream::iter(batches.into_iter().map(Ok)).chain(input);
        let replay = Replay { schema: Arc::clone(&self.schema), rows: Mutex::new(Some(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), rows)))) };
        let input = StreamingTableExec::try_new(Arc::clone(&self.schema), vec![Arc::new(replay)], None, vec![], false, None)?;
        SortExec::new(self.order.clone(), Arc::new(input)).execute(0, context)
    }
}

/// The sorted rows, a batch at a time.
struct Output {
    job: Job,
    batches: Vec<RecordBatch>,
    groups: Vec<Group>,
    next_group: usize,
    /// Rows of `groups[next_group]` already given.
    at: usize,
    /// The rows' and the groups' memory, held until the last batch.
    _reservations: [MemoryReservation; 2],
}

impl Iterator for Output {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let timer = self.job.metrics.elapsed_compute().timer();
        let nulls_first = self.job.time.1.nulls_first;
        let mut places: Vec<(usize, usize)> = Vec::with_capacity(self.job.batch_size);
        while places.len() < self.job.batch_size && self.next_group < self.groups.len() {
            let group = &self.groups[self.next_group];
            // The group's rows in order: NULL times first or last.
            let (first, second): (&[Place], &[Place]) =
                if nulls_first { (&group.untimed, &group.timed) } else { (&group.timed, &group.untimed) };
            let room = self.job.batch_size - places.len();
            let (from_first, from_second) = if self.at < first.len() {
                let end = first.len().min(self.at + room);
                (&first[self.at..end], &second[..(room - (end - self.at)).min(second.len())])
            } else {
                let start = self.at - first.len();
                (&first[..0], &second[start..second.len().min(start + room)])
            };
            places.extend(from_first.iter().chain(from_second).map(|&(_, b, r)| (b as usize, r as usize)));
            self.at += from_first.len() + from_second.len();
            if self.at == first.len() + second.len() {
                self.next_group += 1;
                self.at = 0;
            }
        }
        if places.is_empty() {
            self.job.metrics.done();
            return None;
        }
        let batches: Vec<&RecordBatch> = self.batches.iter().collect();
        let batch = interleave_record_batch(&batches, &places).map_err(Into::into);
        timer.done();
        if let Ok(batch) = &batch {
            self.job.metrics.record_output(batch.num_rows());
        }
        Some(batch)
    }
}

/// The rows already read and the rest of the input, as one partition of a
/// plan for DataFusion's sort.
struct Replay {
    schema: SchemaRef,
    rows: Mutex<Option<SendableRecordBatchStream>>,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Replay")
    }
}

impl PartitionStream for Replay {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _context: Arc<TaskContext>) -> SendableRecordBatchStream {
        let taken = self.rows.lock().ok().and_then(|mut rows| rows.take());
        taken.unwrap_or_else(|| {
            let error = datafusion::common::internal_datafusion_err!("GroupSortExec's rows were replayed twice");
            Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), futures::stream::once(async move { Err(error) })))
        })
    }
}
