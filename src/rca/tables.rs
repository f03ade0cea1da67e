//! `rank_causes`' bridge to SQL tables: reads the metrics, graph, target
//! and optional baseline tables into an [`Incident`] (checking columns and
//! values, with one-line errors naming the table and column), and writes an
//! [`Outcome`] as a record batch.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    make_comparator, Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::{cast, concat_batches, filter, filter_record_batch, SortOptions};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{plan_err, Result};
use datafusion::execution::SessionState;
use datafusion::physical_plan::collect;

use super::{Incident, Outcome, SeriesKey};
use crate::sql_text::{quote_identifier, quote_literal};

/// Series × time steps rank_causes holds in memory (8–16 bytes each): 50M,
/// about 0.8 GB. Incidents on a shared grid are far below (PetShop: 168
/// series × 5 steps).
const MAX_CELLS: usize = 50_000_000;

/// Where the incident's tables and columns are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub metrics: String,
    pub graph: String,
    pub target: String,
    pub baseline: Option<String>,
    pub node: String,
    /// The metric column and, optionally, the statistic column.
    pub series: Vec<String>,
    pub value: String,
    pub ts: String,
    pub caller: String,
    pub callee: String,
    /// Explicit window: first and last `ts`, as SQL literals compared with `ts`.
    pub window: Option<(String, String)>,
}

/// An incident read from the tables.
#[derive(Debug)]
pub struct Loaded {
    pub incident: Incident,
    pub target: SeriesKey,
    /// Each step's `ts` as text.
    pub labels: Vec<String>,
    /// The explicit window as a step range.
    pub window: Option<(usize, usize)>,
}

/// Runs `sql` and returns its rows as one batch.
async fn query(state: &SessionState, sql: &str) -> Result<RecordBatch> {
    let plan = state.create_logical_plan(sql).await?;
    let physical = state.create_physical_plan(&plan).await?;
    let schema = physical.schema();
    let batches = collect(physical, state.task_ctx()).await?;
    Ok(concat_batches(&schema, &batches)?)
}

impl Source {
    /// Reads the incident; `None` when the metrics table has no rows with a value.
    pub async fn load(&self, state: &SessionState) -> Result<Option<Loaded>> {
        let keys: Vec<&String> = std::iter::once(&self.node).chain(&self.series).collect();
        let mut metric_columns: Vec<&String> = keys.clone();
        metric_columns.extend([&self.value, &self.ts]);
        let window = self.window.as_ref().map(|(a, b)| {
            let ts = quote_identifier(&self.ts);
            format!(", ({ts} >= {} AND {ts} <= {}) AS in_window", quote_literal(a), quote_literal(b))
        });
        let metrics = self.select(state, &self.metrics, &metric_columns, window.as_deref().unwrap_or("")).await?;
        let values = self.numbers(&self.metrics, metrics.column(keys.len()))?;
        let present = BooleanArray::from_iter((0..values.len()).map(|i| Some(values.is_valid(i) && values.value(i).is_finite())));
        // NULL keys are reported with their row in the table as read, before
        // the rows without a value are left out.
        let all_names = texts(&self.metrics, &keys, &metrics)?;
        let known_nodes: HashSet<&str> = all_names[0].iter().flatten().collect();
        let metrics = filter_record_batch(&metrics, &present)?;
        if metrics.num_rows() == 0 {
            return Ok(None);
        }
        let values = self.numbers(&self.metrics, metrics.column(keys.len()))?;
        let ts = metrics.column(keys.len() + 1);
        let (steps, labels) = grid(&self.metrics, &self.ts, ts)?;
        let names: Vec<StringArray> = all_names
            .iter()
            .map(|column| Ok(filter(column, &present)?.as_string::<i32>().clone()))
            .collect::<Result<_>>()?;
        // Each series keeps one slot per time step of the table: timestamps
        // that are not on a shared grid would make that series × rows.
        let series = (0..metrics.num_rows()).map(|row| self.key(&names, row)).collect::<std::collections::HashSet<_>>().len();
        if series.saturating_mul(labels.len()) > MAX_CELLS {
            return plan_err!(
                "rank_causes: table '{}' has {series} series over {} distinct {} values, more than rank_causes holds ({MAX_CELLS} cells): \
                 put the series on a shared time grid first (e.g. date_bin)",
                self.metrics,
                labels.len(),
                self.ts
            );
        }
        let mut incident = Incident::new(labels.len());
        for row in 0..metrics.num_rows() {
            incident.push(self.key(&names, row), steps[row], values.value(row));
        }
        let window = match window {
            None => None,
            Some(_) => Some(self.window_steps(metrics.column(keys.len() + 2), &steps)?),
        };
        if let Some(baseline) = &self.baseline {
            let mut columns = keys.clone();
            columns.push(&self.value);
            let rows = self.select(state, baseline, &columns, "").await?;
            let values = self.numbers(baseline, rows.column(keys.len()))?;
            let names = texts(baseline, &keys, &rows)?;
            for row in (0..rows.num_rows()).filter(|&r| values.is_valid(r) && values.value(r).is_finite()) {
                incident.push_baseline(&self.key(&names, row), values.value(row));
            }
        }
        let target = self.target(state, &keys, &incident).await?;
        let graph = self.select(state, &self.graph, &[&self.caller, &self.callee], "").await?;
        let ends = texts(&self.graph, &[&self.caller, &self.callee], &graph)?;
        // An edge to a node the metrics never name is a graph that does not
        // belong to these metrics (other names, another export).
        for (end, column) in ends.iter().zip([&self.caller, &self.callee]) {
            if let Some(row) = (0..end.len()).find(|&r| !known_nodes.contains(end.value(r))) {
                return plan_err!(
                    "rank_causes: column '{column}' of table '{}' names '{}' (row {}), which is not a {} of table '{}'",
                    self.graph,
                    end.value(row).escape_debug(),
                    row + 1,
                    self.node,
                    self.metrics
                );
            }
        }
        incident.edges = (0..graph.num_rows()).map(|r| (ends[0].value(r).to_string(), ends[1].value(r).to_string())).collect();
        Ok(Some(Loaded { incident, target, labels, window }))
    }

    /// `SELECT` of `columns` (keys as text) from `table`, after checking they exist.
    async fn select(&self, state: &SessionState, table: &str, columns: &[&String], extra: &str) -> Result<RecordBatch> {
        let probe = query(state, &format!("SELECT * FROM {} LIMIT 0", quote_identifier(table))).await;
        let schema = probe.map_err(|e| datafusion::error::DataFusionError::Plan(format!("rank_causes: table '{table}': {e}")))?.schema();
        if let Some(missing) = columns.iter().find(|c| schema.field_with_name(c).is_err()) {
            let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return plan_err!("rank_causes: table '{table}' has no column '{missing}' (it has {})", have.join(", "));
        }
        let list: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
        query(state, &format!("SELECT {}{extra} FROM {}", list.join(", "), quote_identifier(table))).await
    }

    /// The value column as Float64; text is an error naming the first value
    /// that is not a number and its row (a
    /// column without any value, e.g. of a header-only CSV file, is no data).
    fn numbers(&self, table: &str, column: &ArrayRef) -> Result<Float64Array> {
        if !column.data_type().is_numeric() && column.logical_null_count() < column.len() {
            let text = cast(column, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            // The first value that is not a number (row 1 is the first data row).
            let not_a_number = |i: &usize| text.is_valid(*i) && text.value(*i).trim().parse::<f64>().is_err();
            let example = (0..text.len())
                .find(not_a_number)
                .or_else(|| (0..text.len()).find(|&i| text.is_valid(i)))
                .map_or(String::new(), |i| format!(" (row {}: '{}')", i + 1, text.value(i).escape_debug()));
            let kind = match column.data_type() {
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "text".to_string(),
                other => other.to_string(),
            };
            return plan_err!("rank_causes: column '{}' of table '{table}' must be numeric, but it holds {kind}{example}", self.value);
        }
        Ok(cast(column, &DataType::Float64)?.as_primitive().clone())
    }

    fn key(&self, names: &[StringArray], row: usize) -> SeriesKey {
        SeriesKey {
            node: names[0].value(row).to_string(),
            metric: names[1].value(row).to_string(),
            stat: names.get(2).map_or(String::new(), |s| s.value(row).to_string()),
        }
    }

    /// The step range of the rows inside the explicit window.
    fn window_steps(&self, inside: &ArrayRef, steps: &[usize]) -> Result<(usize, usize)> {
        let inside = inside.as_boolean();
        let chosen: Vec<usize> = (0..steps.len()).filter(|&r| inside.is_valid(r) && inside.value(r)).map(|r| steps[r]).collect();
        match (chosen.iter().min(), chosen.iter().max(), &self.window) {
            (Some(&a), Some(&b), _) => Ok((a, b)),
            (_, _, Some((a, b))) => plan_err!("rank_causes: window={a}..{b} is empty: no row of table '{}' has {} in it", self.metrics, self.ts),
            _ => unreachable!("window_steps is only called with a window"),
        }
    }

    /// The symptom: the target table's one row, which must name a series of the metrics.
    async fn target(&self, state: &SessionState, keys: &[&String], incident: &Incident) -> Result<SeriesKey> {
        let rows = self.select(state, &self.target, keys, "").await?;
        if rows.num_rows() != 1 {
            return plan_err!("rank_causes: table '{}' must hold exactly one row (the symptom), it has {}", self.target, rows.num_rows());
        }
        let key = self.key(&texts(&self.target, keys, &rows)?, 0);
        if incident.get(&key).is_none() {
            let names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            let values: Vec<&str> = [&key.node, &key.metric, &key.stat][..keys.len()].iter().map(|s| s.as_str()).collect();
            return plan_err!(
                "rank_causes: target ({}) = ({}) of table '{}' has no values in table '{}'",
                names.join(", "),
                values.join(", "),
                self.target,
                self.metrics
            );
        }
        Ok(key)
    }
}

/// The first `columns.len()` columns of `batch` as text; NULL is an error naming the column.
fn texts(table: &str, columns: &[&String], batch: &RecordBatch) -> Result<Vec<StringArray>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let text = cast(batch.column(i), &DataType::Utf8)?.as_string::<i32>().clone();
            if let Some(row) = (0..text.len()).find(|&r| text.is_null(r)) {
                return plan_err!("rank_causes: column '{name}' of table '{table}' is NULL in row {}", row + 1);
            }
            Ok(text)
        })
        .collect()
}

/// The step of every row (dense rank of its `ts`) and each step's `ts` as text.
fn grid(table: &str, name: &str, ts: &ArrayRef) -> Result<(Vec<usize>, Vec<String>)> {
    if ts.null_count() > 0 {
        return plan_err!("rank_causes: column '{name}' of table '{table}' has NULLs");
    }
    let compare = make_comparator(ts.as_ref(), ts.as_ref(), SortOptions::default())?;
    let mut order: Vec<usize> = (0..ts.len()).collect();
    order.sort_by(|&a, &b| compare(a, b));
    let formatter = ArrayFormatter::try_new(ts.as_ref(), &FormatOptions::default())?;
    let (mut steps, mut labels) = (vec![0; ts.len()], Vec::new());
    for (i, &row) in order.iter().enumerate() {
        if i == 0 || compare(order[i - 1], row).is_ne() {
            labels.push(formatter.value(row).to_string());
        }
        steps[row] = labels.len() - 1;
    }
    Ok((steps, labels))
}

/// The output columns of `rank_causes`.
pub static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let float = |name: &str| Field::new(name, DataType::Float64, true);
    let int = |name: &str| Field::new(name, DataType::Int64, true);
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        text("node"),
        int("rank"),
        float("score"),
        float("harm"),
        text("metric"),
        text("stat"),
        float("ref_median"),
        float("inc_median"),
        float("change"),
        float("spread"),
        text("direction"),
        float("shift_p"),
        float("volume"),
        float("volume_w"),
        float("graph_w"),
        int("depth"),
        text("path"),
        int("n_callees"),
        int("n_anom_callees"),
        int("n_anom_descendants"),
        text("mirror_of"),
        text("via_mirror"),
        text("window_start"),
        text("window_end"),
        float("target_z"),
    ]))
});

/// The outcome as a batch of [`SCHEMA`]; `labels` name the steps.
pub fn to_batch(outcome: &Outcome, labels: &[String]) -> Result<RecordBatch> {
    let c = &outcome.candidates;
    let floats = |f: &dyn Fn(&super::Candidate) -> Option<f64>| Arc::new(c.iter().map(f).collect::<Float64Array>()) as ArrayRef;
    let ints = |f: &dyn Fn(&super::Candidate) -> Option<usize>| Arc::new(c.iter().map(|x| f(x).map(|v| v as i64)).collect::<Int64Array>()) as ArrayRef;
    let strings = |f: &dyn Fn(&super::Candidate) -> Option<String>| Arc::new(c.iter().map(f).collect::<StringArray>()) as ArrayRef;
    let label = |i: usize| outcome.window.map(|w| labels[if i == 0 { w.0 } else { w.1 }].clone());
    let columns = vec![
        strings(&|x| Some(x.node.clone())),
        ints(&|x| Some(x.rank)),
        floats(&|x| Some(x.score)),
        floats(&|x| Some(x.harm)),
        strings(&|x| Some(x.metric.clone())),
        strings(&|x| Some(x.stat.clone())),
        floats(&|x| Some(x.change.reference)),
        floats(&|x| Some(x.change.incident)),
        floats(&|x| Some(x.change.incident - x.change.reference)),
        floats(&|x| Some(x.change.spread)),
        strings(&|x| Some(if x.worse { "worse" } else { "better_or_same" }.to_string())),
        floats(&|x| x.shift_p),
        floats(&|x| x.volume),
        floats(&|x| Some(x.volume_w)),
        floats(&|x| Some(x.graph_w)),
        ints(&|x| x.depth),
        strings(&|x| x.path.as_ref().map(|p| p.join(" > "))),
        ints(&|x| Some(x.n_callees)),
        ints(&|x| Some(x.n_anom_callees)),
        ints(&|x| Some(x.n_anom_descendants)),
        strings(&|x| x.mirror_of.clone()),
        strings(&|x| x.via_mirror.clone()),
        strings(&|_| label(0)),
        strings(&|_| label(1)),
        floats(&|_| outcome.target_z),
    ];
    Ok(RecordBatch::try_new(SCHEMA.clone(), columns)?)
}
