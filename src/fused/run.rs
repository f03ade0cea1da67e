//! One execution of [`super::exec::DiffCorrelateExec`], in up to three
//! passes, each taken only if the one before cannot answer:
//!
//! 1. **streaming** — every partition of the series at once, a
//!    [`Segment`](super::series::Segment) per series and partition, chained
//!    at the end; needs each series' rows in time order within a partition;
//! 2. **buffered** — the series read again, every point kept per series
//!    (memory pool permitting) and sorted by time, stably: rows at the same
//!    time of a series stay in the scan's order (partitions in order; see
//!    [`super::series`]);
//! 3. **fallback** — DataFusion's original plan (sorts, windows, join,
//!    aggregate; spills under a memory limit).
//!
//! The reference series is read once; if it repeats a timestamp, only the
//! fallback applies. Metrics `buffered` and `fallback` (EXPLAIN ANALYZE)
//! say which pass answered.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::common::runtime::{JoinSet, SpawnedTask};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::metrics::Count;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{execute_stream, ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;

use super::filtered::{evaluate_filtered, CallCuts};
use super::pair_filters::{CallFilter, PairFilters, SeriesFilter};
use super::groups::{key_converter, merge_by_key, GroupIndex};
use super::partition::{PartitionPoints, PartitionSeries, PartitionState};
use super::pairs::{self, SeriesState, Statistic};
use super::plan::SeriesRows;
use super::series::{combine, from_points, Fallback, Periods, Reference};
use super::read::{consume, read_reference};
use super::time_key::TimeShift;
use super::time_order::TimeOrder;
use crate::stats::CoMoments;

/// The operator's children and outputs, for one execution.
pub struct Run {
    pub series: Arc<dyn ExecutionPlan>,
    pub reference: Arc<dyn ExecutionPlan>,
    pub fallback: Arc<dyn ExecutionPlan>,
    pub key_fields: Vec<FieldRef>,
    pub statistics: Vec<Statistic>,
    pub periods: Periods,
    /// The filters on the pairs: when there is one, the pairs are kept and
    /// it picks those that count, for all statistics or for its own (see
    /// [`super::filters`]).
    pub pair_filters: PairFilters<SeriesFilter>,
    /// Which series get a row: with an outer join keeping the series
    /// whole, those with no point at a reference time (or none with a
    /// time) too, every one or those the passing plan lists.
    pub rows: SeriesRows<Arc<dyn ExecutionPlan>>,
    pub schema: SchemaRef,
    pub metrics: RunMetrics,
}

/// Which pass answered, and how many series rows the operator's own passes
/// read.
pub struct RunMetrics {
    pub buffered: Count,
    pub fallback: Count,
    pub series_rows: Count,
}

/// A pass's result: the output batch, or why the next pass must run.
type Pass = Result<Result<RecordBatch, Fallback>>;

/// The row-format keys of the series the passing plan lists
/// ([`SeriesRows::Passing`]), read once before the passes.
type Passing = Option<HashSet<Box<[u8]>>>;

impl Run {
    pub async fn execute(self, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let consumer = MemoryConsumer::new("DiffCorrelateExec[reference]");
        let mut reference_memory = consumer.register(context.memory_pool());
        let check_values = self.checks_finite(true);
        let at_points = self.pair_filters.calls.iter().flatten().filter(|call| matches!(call, CallFilter::Points(_))).count();
        let reference = read_reference(&self.reference, self.periods.reference, check_values, at_points, &context, &mut reference_memory).await?;
        if let Ok(reference) = reference {
            let reference = Arc::new(reference);
            // Read once, whichever pass answers.
            let passing = match &self.rows {
                SeriesRows::Passing(plan) => Some(self.passing_keys(plan, &context).await?),
                _ => None,
            };
            // The streaming pass differences consecutive points only. When it
            // runs out of memory (the buffered pass needs more), or meets a
            // value the series filter cannot judge, sorting cannot help: the
            // data is read twice.
            let streamed = match self.periods.series {
                1 => self.stream_through(&context, &reference, &passing).await?,
                _ => Err(Fallback::Disorder),
            };
            match streamed {
                Ok(batch) => return Ok(self.answer(batch)),
                Err(Fallback::Disorder) => {
                    if let Ok(batch) = self.sort_per_series(&context, &reference, &passing).await? {
                        self.metrics.buffered.add(1);
                        return Ok(self.answer(batch));
                    }
                }
                Err(Fallback::Repeat | Fallback::Memory | Fallback::NonFinite | Fallback::TimeKey) => {}
            }
        }
        self.metrics.fallback.add(1);
        self.fallback.execute(0, context)
    }

    /// Whether a NaN or infinite value of the reference (`reference`) or of
    /// the series is a [`Fallback::NonFinite`]: the series filter asks for
    /// it or a statistic does.
    fn checks_finite(&self, reference: bool) -> bool {
        let filter_asks = |filter: &SeriesFilter| if reference { filter.check_reference } else { filter.check_values };
        self.pair_filters.all().any(filter_asks) || self.statistics.iter().any(|s| s.needs_finite_values(reference))
    }

    fn answer(&self, batch: RecordBatch) -> SendableRecordBatchStream {
        Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), futures::stream::iter([Ok(batch)])))
    }

    /// Pass 1: stream every partition through per-series segments, then
    /// chain each series' segments.
    async fn stream_through(&self, context: &Arc<TaskContext>, reference: &Arc<Reference>, passing: &Passing) -> Pass {
        let series = Arc::clone(&self.series);
        let partitions = match self
            .each_partition(series, context, |groups| PartitionSeries::new(groups, Arc::clone(reference), self.keeps_pairs()))
            .await?
        {
            Ok(partitions) => partitions,
            Err(fallback) => return Ok(Err(fallback)),
        };
        let (keys, segments, rows, _memory) = gather(partitions.into_iter().map(PartitionSeries::into_parts));
        let states = segments.into_iter().map(|segments| combine(segments, reference)).collect();
        self.output(keys, states, rows, context, reference, passing).await
    }

    /// Pass 2: keep every point per series, then sort and difference each
    /// series (the series split among as many tasks as there are
    /// partitions).
    async fn sort_per_series(&self, context: &Arc<TaskContext>, reference: &Arc<Reference>, passing: &Passing) -> Pass {
        // A second execution needs fresh scan state (e.g. the shared queue
        // of file ranges the first one drained).
        let series = reset_plan_states(Arc::clone(&self.series))?;
        let room = reference.len();
        let partitions = match self.each_partition(series, context, |groups| PartitionPoints::new(groups, room)).await? {
            Ok(partitions) => partitions,
            Err(fallback) => return Ok(Err(fallback)),
        };
        // The memory stays charged until each series is differenced.
        let (keys, points, rows, _memory) = gather(partitions.into_iter().map(PartitionPoints::into_parts));
        let series: Vec<Vec<(i64, f64)>> = points
            .into_iter()
            .map(|parts| parts.into_iter().reduce(|mut all, more| { all.extend(more); all }).unwrap_or_default())
            .collect();
        let (shared, periods, keep_pairs) = (Arc::clone(reference), self.periods.series, self.keeps_pairs());
        let mut order = TimeOrder::default();
        let states = in_tasks(series, context, move |mut points| Ok(from_points(&mut points, periods, &shared, keep_pairs, &mut order))).await?;
        self.output(keys, states, rows, context, reference, passing).await
    }

    /// The row-format keys of the series the passing plan lists.
    async fn passing_keys(&self, plan: &Arc<dyn ExecutionPlan>, context: &Arc<TaskContext>) -> Result<HashSet<Box<[u8]>>> {
        let converter = key_converter(&self.key_fields)?;
        let mut keys = HashSet::new();
        let mut stream = execute_stream(Arc::clone(plan), Arc::clone(context))?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let columns: Vec<ArrayRef> = batch
                .columns()
                .iter()
                .zip(&self.key_fields)
                .map(|(column, field)| cast(column, field.data_type()))
                .collect::<Result<_, _>>()?;
            let rows = converter.convert_columns(&columns)?;
            keys.extend(rows.iter().map(|row| Box::<[u8]>::from(row.as_ref())));
        }
        Ok(keys)
    }

    /// The key columns of row-format `keys` (dictionary keys as plain
    /// values).
    fn key_columns(&self, keys: &[Box<[u8]>]) -> Result<Vec<ArrayRef>> {
        let converter = key_converter(&self.key_fields)?;
        let parser = converter.parser();
        Ok(converter.convert_rows(keys.iter().map(|key| parser.parse(key)))?)
    }

    /// Whether every pair of a series is kept: a statistic needs them, or
    /// a filter picks among them (for all statistics or for its own).
    fn keeps_pairs(&self) -> bool {
        let filtered = self.pair_filters.rows.is_some() || self.pair_filters.calls.iter().any(Option::is_some);
        filtered || self.statistics.iter().any(Statistic::needs_pairs)
    }

    /// Feeds each partition of `series` into its own state (made by `state`
    /// from a fresh [`GroupIndex`]) in a task of its own; the states in
    /// partition order.
    async fn each_partition<S: PartitionState>(
        &self,
        series: Arc<dyn ExecutionPlan>,
        context: &Arc<TaskContext>,
        state: impl Fn(GroupIndex) -> S,
    ) -> Result<Result<Vec<S>, Fallback>> {
        let mut tasks = JoinSet::new();
        let scan_context = in_scan_order(context);
        let shift = Arc::new(TimeShift::default());
        for partition in 0..series.output_partitioning().partition_count() {
            let consumer = MemoryConsumer::new(format!("DiffCorrelateExec[{partition}]"));
            let groups = GroupIndex::new(&self.key_fields, consumer.register(context.memory_pool()))?;
            let stream = series.execute(partition, Arc::clone(&scan_context))?;
            let check_values = self.checks_finite(false);
            let consumed = consume(stream, state(groups), self.key_fields.len(), check_values, Arc::clone(&shift), self.metrics.series_rows.clone());
            tasks.spawn(async move { (partition, consumed.await) });
        }
        let mut states = Vec::with_capacity(tasks.len());
        // The first partition to give up stops the others (and frees their
        // memory) before the next pass starts.
        while let Some(joined) = tasks.join_next().await {
            let (partition, consumed) = joined.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?;
            match consumed {
                Ok(Ok(state)) => states.push((partition, state)),
                Ok(Err(fallback)) => {
                    tasks.shutdown().await;
                    return Ok(Err(fallback));
                }
                Err(error) => {
                    tasks.shutdown().await;
                    return Err(error);
                }
            }
        }
        // In partition order, the order of the scan (of the files): a series
        // repeating a timestamp takes its rows in that order.
        states.sort_unstable_by_key(|&(partition, _)| partition);
        Ok(Ok(states.into_iter().map(|(_, state)| state).collect()))
    }

    /// The output batch: one row per series that joined the reference, or
    /// per series ([`Self::rows`]; no pair for those that did not), the
    /// pair statistics computed in as many tasks as there are partitions;
    /// `rows`: each series' row count.
    async fn output(
        &self,
        keys: Vec<Box<[u8]>>,
        states: Vec<Result<Option<SeriesState>, Fallback>>,
        rows: Vec<u64>,
        context: &Arc<TaskContext>,
        reference: &Arc<Reference>,
        passing: &Passing,
    ) -> Pass {
        let unjoined_kept = |key: &[u8]| match &self.rows {
            SeriesRows::Joined => false,
            SeriesRows::Every => true,
            SeriesRows::Passing(_) => passing.as_ref().is_some_and(|keys| keys.contains(key)),
        };
        let mut joined_keys = Vec::with_capacity(keys.len());
        let mut joined = Vec::with_capacity(keys.len());
        let mut joined_rows = Vec::with_capacity(keys.len());
        for ((key, state), rows) in keys.into_iter().zip(states).zip(rows) {
            let state = match state {
                Ok(Some(state)) => state,
                Ok(None) if unjoined_kept(&key) => SeriesState::default(),
                Ok(None) => continue,
                Err(fallback) => return Ok(Err(fallback)),
            };
            joined_keys.push(key);
            joined.push(state);
            joined_rows.push(rows);
        }
        let call_cuts = Arc::new(CallCuts::new(&self.statistics, &self.pair_filters.calls, reference));
        let by_pairs = call_cuts.valued_by_pairs(&self.statistics);
        let (moments, pair_values): (Vec<CoMoments>, _) = if self.keeps_pairs() {
            let statistics: Arc<[Statistic]> = self.statistics.clone().into();
            let (reference, shared) = (Arc::clone(reference), Arc::new(pairs::Shared::default()));
            let filter = self.pair_filters.rows.clone();
            // Only the ordered statistics (lag, n_eff) see which pairs are
            // neighbours, and counts which there are, and a statistic's own
            // filter reads the pairs' differences: for the others, failing
            // pairs become missing ones.
            let in_place = !statistics.iter().any(pairs::Statistic::needs_filtered_pairs) && self.pair_filters.calls.iter().all(Option::is_none);
            let mut scratch = pairs::Scratch::default();
            let evaluated = in_tasks(joined, context, move |state| -> Result<Option<_>> {
                let pairs = match &filter {
                    None => state.pairs,
                    Some(filter) => match if in_place { state.pairs.masked(filter, &reference)? } else { state.pairs.filtered(filter, &reference)? } {
                        Some(pairs) => pairs,
                        // No pair passes: the filter leaves no row to group.
                        None => return Ok(None),
                    },
                };
                Ok(Some(evaluate_filtered(&statistics, &call_cuts, &pairs, &reference, &shared, &mut scratch)?))
            })
            .await?;
            let mut kept = Vec::with_capacity(evaluated.len());
            let mut kept_keys = Vec::with_capacity(evaluated.len());
            let mut kept_rows = Vec::with_capacity(evaluated.len());
            for ((key, rows), evaluated) in joined_keys.into_iter().zip(joined_rows).zip(evaluated) {
                if let Some(values) = evaluated? {
                    kept_keys.push(key);
                    kept_rows.push(rows);
                    kept.push(values);
                }
            }
            (joined_keys, joined_rows) = (kept_keys, kept_rows);
            kept.into_iter().unzip()
        } else {
            (joined.iter().map(|state| state.moments).collect(), Vec::new())
        };
        let keys = self.key_columns(&joined_keys)?;
        let mut columns: Vec<ArrayRef> = keys
            .iter()
            .zip(self.schema.fields())
            .map(|(column, field)| cast(column, field.data_type()))
            .collect::<Result<_, _>>()?;
        columns.extend(pairs::columns(&self.statistics, &by_pairs, &moments, &pair_values, &joined_rows));
        Ok(Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?))
    }
}

/// `f` of every item, in order: the items cut into chunks that as many tasks
/// as the session has partitions take in turn (each task with its own copy
/// of `f`, and of what it holds: buffers, say). Many chunks per task: a task
/// on a core that other work slows takes fewer of them.
async fn in_tasks<T, R>(mut items: Vec<T>, context: &Arc<TaskContext>, f: impl FnMut(T) -> R + Clone + Send + 'static) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
{
    const CHUNKS_PER_TASK: usize = 16;
    let tasks = context.session_config().target_partitions().max(1);
    let chunk = items.len().div_ceil(tasks * CHUNKS_PER_TASK).max(1);
    let mut chunks = VecDeque::new();
    while !items.is_empty() {
        let rest = items.split_off(chunk.min(items.len()));
        chunks.push_back((chunks.len(), std::mem::replace(&mut items, rest)));
    }
    let count = chunks.len();
    let queue = Arc::new(Mutex::new(chunks));
    let next = move |queue: &Mutex<VecDeque<(usize, Vec<T>)>>| queue.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
    let handles: Vec<_> = (0..tasks.min(count))
        .map(|_| {
            let (queue, mut f) = (Arc::clone(&queue), f.clone());
            SpawnedTask::spawn(async move {
                let mut done = Vec::new();
                while let Some((at, chunk)) = next(&queue) {
                    done.push((at, chunk.into_iter().map(&mut f).collect::<Vec<R>>()));
                }
                done
            })
        })
        .collect();
    let mut results: Vec<Vec<R>> = (0..count).map(|_| Vec::new()).collect();
    for handle in handles {
        for (at, done) in handle.join_unwind().await.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))? {
            results[at] = done;
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// `context` with the file scans' work stealing off, so that each partition
/// reads the file ranges the plan gave it, in order: partition by partition
/// is then the files' order (the order tied rows of a series are taken in),
/// the same on every run.
fn in_scan_order(context: &TaskContext) -> Arc<TaskContext> {
    let mut config = context.session_config().clone();
    config.options_mut().execution.enable_file_stream_work_stealing = false;
    Arc::new(TaskContext::new(
        context.task_id(),
        context.session_id(),
        config,
        context.scalar_functions().clone(),
        context.higher_order_functions().clone(),
        context.aggregate_functions().clone(),
        context.window_functions().clone(),
        context.runtime_env(),
    ))
}

/// The partitions' per-group values gathered by key with the groups' row
/// counts summed, and their memory reservations (to keep the memory charged
/// while the caller works on them).
#[allow(clippy::type_complexity)]
fn gather<T>(
    partitions: impl Iterator<Item = (Vec<Box<[u8]>>, Vec<T>, Vec<u64>, MemoryReservation)>,
) -> (Vec<Box<[u8]>>, Vec<Vec<T>>, Vec<u64>, Vec<MemoryReservation>) {
    let mut reservations = Vec::new();
    let (keys, values) = merge_by_key(partitions.map(|(keys, values, rows, reservation)| {
        reservations.push(reservation);
        (keys, values.into_iter().zip(rows).collect::<Vec<_>>())
    }));
    let (values, rows) = values.into_iter().map(|parts| -> (Vec<T>, u64) { let (values, rows): (Vec<T>, Vec<u64>) = parts.into_iter().unzip(); (values, rows.iter().sum()) }).unzip();
    (keys, values, rows, reservations)
}
