//! `DiffWindowExec`: a window of `diff` functions over rows in the window's
//! order, a batch at a time (see the module documentation of [`super`]).

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Float64Builder, RecordBatch};
use datafusion::arrow::compute::partition;
use datafusion::arrow::datatypes::{Float64Type, SchemaRef};
use datafusion::arrow::row::{OwnedRow, RowConverter};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_datafusion_err, internal_err, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::windows::BoundedWindowAggExec;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, InputDistributionRequirements, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::StreamExt;

use super::{Diff, Keys};

/// See the module documentation.
#[derive(Debug)]
pub struct DiffWindowExec {
    /// The window it computes: its input, expressions and properties.
    window: Arc<dyn ExecutionPlan>,
    keys: Keys,
    diffs: Vec<Diff>,
    metrics: ExecutionPlanMetricsSet,
}

impl DiffWindowExec {
    /// The same window as `node`, if it is one this operator computes.
    pub fn try_new(node: &Arc<dyn ExecutionPlan>) -> Option<Self> {
        let (keys, diffs) = super::diffs(node.downcast_ref::<BoundedWindowAggExec>()?)?;
        Some(Self { window: Arc::clone(node), keys, diffs, metrics: ExecutionPlanMetricsSet::new() })
    }
}

impl DisplayAs for DiffWindowExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let keys: Vec<String> = self.keys.exprs.iter().map(|k| k.to_string()).collect();
        let diffs: Vec<String> = self.diffs.iter().map(|d| format!("diff({}, {})", d.value, d.periods)).collect();
        write!(f, "DiffWindowExec: partition_by=[{}], diffs=[{}]", keys.join(", "), diffs.join(", "))
    }
}

impl ExecutionPlan for DiffWindowExec {
    fn name(&self) -> &str {
        "DiffWindowExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.window.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.window.children()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        self.window.input_distribution_requirements()
    }

    fn required_input_ordering(&self) -> Vec<Option<datafusion::physical_expr::OrderingRequirements>> {
        self.window.required_input_ordering()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        self.window.maintains_input_order()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        self.window.benefits_from_input_partitioning()
    }

    fn apply_expressions(&self, f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        self.window.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        #[allow(deprecated)]
        let window = Arc::clone(&self.window).with_new_children(children)?;
        Ok(match Self::try_new(&window) {
            Some(exec) => Arc::new(exec),
            None => window,
        })
    }

    #[allow(deprecated)]
    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition >= self.properties().output_partitioning().partition_count() {
            return internal_err!("DiffWindowExec has no partition {partition}");
        }
        let [input] = self.window.children()[..] else { return internal_err!("DiffWindowExec takes one child") };
        let input = input.execute(partition, context)?;
        let schema = self.schema();
        let mut state = Carry {
            schema: Arc::clone(&schema),
            keys: self.keys.exprs.clone(),
            diffs: self.diffs.clone(),
            converter: RowConverter::new(self.keys.fields.clone())?,
            last_key: None,
            tails: vec![VecDeque::new(); self.diffs.len()],
            started: false,
        };
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let stream = input.map(move |batch| {
            let batch = batch?;
            let timer = metrics.elapsed_compute().timer();
            let out = state.batch(&batch)?;
            timer.done();
            metrics.record_output(out.num_rows());
            Ok(out)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's state between batches: the keys of the last row, and
/// the last values (up to each difference's period) of its partition.
struct Carry {
    schema: SchemaRef,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    diffs: Vec<Diff>,
    converter: RowConverter,
    last_key: Option<OwnedRow>,
    tails: Vec<VecDeque<Option<f64>>>,
    started: bool,
}

impl Carry {
    /// `batch` with its differences appended.
    fn batch(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        if rows == 0 {
            // Nothing to carry over or to break the partition: as if unseen.
            let mut columns = batch.columns().to_vec();
            columns.extend(self.diffs.iter().map(|_| Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef));
            return Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?);
        }
        let keys: Vec<ArrayRef> = self.keys.iter().map(|k| k.evaluate(batch)?.into_array(rows)).collect::<Result<_>>()?;
        let ranges: Vec<Range<usize>> = if keys.is_empty() { vec![0..rows] } else { partition(&keys)?.ranges() };
        // Whether the batch's first rows go on with the last batch's partition.
        let continues = self.started
            && (keys.is_empty() || {
                let first = self.converter.convert_columns(&keys.iter().map(|k| k.slice(0, 1)).collect::<Vec<_>>())?;
                self.last_key.as_ref().is_some_and(|last| first.row(0) == last.row())
            });
        let mut columns = batch.columns().to_vec();
        for (diff, tail) in self.diffs.iter().zip(&mut self.tails) {
            let values = diff.value.evaluate(batch)?.into_array(rows)?;
            let values = values.as_primitive_opt::<Float64Type>().ok_or_else(|| internal_datafusion_err!("diff of a value that is not Float64"))?;
            columns.push(Arc::new(differences(values, &ranges, continues, diff.periods, tail)));
        }
        self.started = true;
        if !keys.is_empty() {
            let last = self.converter.convert_columns(&keys.iter().map(|k| k.slice(rows - 1, 1)).collect::<Vec<_>>())?;
            self.last_key = Some(last.row(0).owned());
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// `values[i] - values[i - k]` within each of `ranges` (NULL where either is
/// NULL or the row `k` back is in another partition), the first range going
/// on with the values in `tail` if `continues`; `tail` then holds the last
/// `k` values of the last range's partition.
fn differences(values: &Float64Array, ranges: &[Range<usize>], continues: bool, k: usize, tail: &mut VecDeque<Option<f64>>) -> Float64Array {
    let value = |i: usize| values.is_valid(i).then(|| values.value(i));
    let mut out = Float64Builder::with_capacity(values.len());
    if !continues {
        tail.clear();
    }
    for (r, range) in ranges.iter().enumerate() {
        if r > 0 {
            tail.clear();
        }
        for i in range.clone() {
            let back = i - range.start;
            let earlier = if back >= k {
                value(i - k)
            } else {
                tail.len().checked_sub(k - back).and_then(|at| tail[at])
            };
            out.append_option(value(i).zip(earlier).map(|(now, then)| now - then));
        }
        // The partition's last values, for the next batch.
        for i in range.start.max(range.end.saturating_sub(k))..range.end {
            tail.push_back(value(i));
        }
        while tail.len() > k {
            tail.pop_front();
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The differences of `values` cut into batches at `cuts`, partitions
    /// starting at `starts` (row numbers of the whole).
    fn across(values: &[Option<f64>], starts: &[usize], cuts: &[usize], k: usize) -> Vec<Option<f64>> {
        let mut tail = VecDeque::new();
        let mut out = Vec::new();
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts.iter().copied()).chain([values.len()]).collect();
        for pair in bounds.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            let mut edges: Vec<usize> = starts.iter().copied().filter(|&s| s > from && s < to).map(|s| s - from).collect();
            edges.insert(0, 0);
            edges.push(to - from);
            let ranges: Vec<Range<usize>> = edges.windows(2).map(|e| e[0]..e[1]).collect();
            let continues = from > 0 && !starts.contains(&from);
            let array = Float64Array::from(values[from..to].to_vec());
            out.extend(differences(&array, &ranges, continues, k, &mut tail).iter());
        }
        out
    }

    #[test]
    fn an_empty_batch_breaks_nothing() {
        use datafusion::arrow::array::StringArray;
        use datafusion::arrow::row::SortField;
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::physical_expr::expressions::col;
        let input = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false), Field::new("v", DataType::Float64, true)]));
        let output = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("v", DataType::Float64, true),
            Field::new("d", DataType::Float64, true),
        ]));
        let diffs = vec![Diff { value: col("v", &input).unwrap(), periods: 1 }];
        let mut carry = Carry {
            schema: output,
            keys: vec![col("k", &input).unwrap()],
            diffs,
            converter: RowConverter::new(vec![SortField::new(DataType::Utf8)]).unwrap(),
            last_key: None,
            tails: vec![VecDeque::new()],
            started: false,
        };
        let batch = |keys: Vec<&str>, values: Vec<f64>| {
            RecordBatch::try_new(Arc::clone(&input), vec![Arc::new(StringArray::from(keys)), Arc::new(Float64Array::from(values))]).unwrap()
        };
        let mut got = Vec::new();
        for b in [batch(vec!["a", "a"], vec![1.0, 3.0]), batch(vec![], vec![]), batch(vec!["a", "b"], vec![6.0, 1.0])] {
            got.extend(carry.batch(&b).unwrap().column(2).as_primitive::<Float64Type>().iter());
        }
        assert_eq!(got, vec![None, Some(2.0), Some(3.0), None]);
    }

    #[test]
    fn differences_carry_across_batches_within_a_partition() {
        let values: Vec<Option<f64>> = vec![Some(1.0), Some(4.0), None, Some(10.0), Some(20.0), Some(21.0), Some(f64::NAN), Some(30.0), Some(35.0)];
        // Partitions: rows 0..5 and 5..9.
        let starts = [0, 5];
        let naive = |k: usize| -> Vec<Option<f64>> {
            (0..values.len())
                .map(|i| {
                    let start = if i >= 5 { 5 } else { 0 };
                    (i >= start + k).then(|| values[i].zip(values[i - k]).map(|(a, b)| a - b)).flatten()
                })
                .collect()
        };
        for k in 1..4 {
            for cuts in [vec![], vec![1], vec![2, 3], vec![4, 5, 6], vec![1, 2, 3, 4, 5, 6, 7, 8]] {
                let got = across(&values, &starts, &cuts, k);
                let same = got.iter().zip(naive(k)).all(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
                    (a, b) => a.is_none() && b.is_none(),
                });
                assert!(same, "k = {k}, cuts {cuts:?}: {got:?} vs {:?}", naive(k));
            }
        }
    }
}
