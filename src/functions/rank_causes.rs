//! `rank_causes(...)`: ranks the candidate root causes of a symptom series
//! (table function) with the method in [`crate::rca`]: the harmful change of
//! each service's metrics during the incident in reference spreads, weighted
//! by its traffic and by how little its callees explain it, among the
//! services the symptom's service reaches in the call graph.
//!
//! ```sql
//! -- metrics(ts, node, metric, stat, value), graph(caller, callee), target(node, metric, stat)
//! SELECT node, rank, score, harm, metric, stat, ref_median, inc_median, path
//! FROM rank_causes('metrics', 'graph', 'target');
//! -- other column names, an explicit window, and the ablations
//! SELECT * FROM rank_causes('m', 'calls', 'symptom', 'node=service', 'series=name', 'value=v', 'ts=t',
//!     'caller=src', 'callee=dst', 'window=2024-01-01 10:00..2024-01-01 10:30', 'worse=cpu:up', 'no_graph');
//! ```
//!
//! The call reads nothing itself: the table provider reads the three tables
//! when scanned, ranks in memory and returns one batch.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_datafusion_err, plan_err, Result};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::TableType;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::table_args::{session_state, string_arguments};
use crate::rca::config::Direction;
use crate::rca::tables::{to_batch, Source, SCHEMA};
use crate::rca::{rank, Options, Outcome, Reference};

const USAGE: &str = "rank_causes(metrics, graph, target [, 'option=value' ...]); options: 'node=COLUMN', \
                     'series=METRIC_COLUMN[,STAT_COLUMN]', 'value=COLUMN', 'ts=COLUMN', 'caller=COLUMN', 'callee=COLUMN', \
                     'window=FIRST_TS..LAST_TS', 'reference=outside|before', 'baseline=TABLE', \
                     'worse=METRIC:up|down|none[,...]', 'percent=METRIC[,...]', 'volume=METRIC[:STAT]', 'mean=STAT', \
                     'no_graph', 'no_direction', 'no_volume'";

/// The table function registered as `rank_causes`.
#[derive(Debug, Default)]
pub struct RankCausesFunction;

/// The tables, columns and method options of one call.
fn parse(exprs: &[Expr]) -> Result<(Source, Options)> {
    let strings = string_arguments(exprs, USAGE)?;
    if strings.len() < 3 {
        return plan_err!("{USAGE}: got {} arguments", strings.len());
    }
    let mut source = Source {
        metrics: strings[0].clone(),
        graph: strings[1].clone(),
        target: strings[2].clone(),
        baseline: None,
        node: "node".into(),
        series: vec!["metric".into(), "stat".into()],
        value: "value".into(),
        ts: "ts".into(),
        caller: "caller".into(),
        callee: "callee".into(),
        window: None,
    };
    let mut options = Options::default();
    let mut volume: Option<String> = None;
    for option in &strings[3..] {
        let (name, value) = option.split_once('=').map_or((option.as_str(), ""), |(n, v)| (n.trim(), v.trim()));
        let bad = || plan_datafusion_err!("{USAGE}: bad option '{option}'");
        let list = || value.split(',').map(str::trim).filter(|s| !s.is_empty());
        let column = |slot: &mut String| if value.is_empty() { Err(bad()) } else { Ok(*slot = value.to_string()) };
        match name {
            "node" => column(&mut source.node)?,
            "value" => column(&mut source.value)?,
            "ts" => column(&mut source.ts)?,
            "caller" => column(&mut source.caller)?,
            "callee" => column(&mut source.callee)?,
            "series" => {
                source.series = list().map(str::to_string).collect();
                if !(1..=2).contains(&source.series.len()) {
                    return Err(bad());
                }
            }
            "window" => {
                let (a, b) = value.split_once("..").ok_or_else(bad)?;
                source.window = Some((a.trim().to_string(), b.trim().to_string()));
            }
            "reference" if value == "outside" => options.reference = Reference::Outside,
            "reference" if value == "before" => options.reference = Reference::Before,
            "baseline" if !value.is_empty() => source.baseline = Some(value.to_string()),
            "worse" => {
                for entry in list() {
                    let (metric, way) = entry.split_once(':').ok_or_else(bad)?;
                    options.metrics.set_direction(metric.trim(), Direction::parse(way.trim()).ok_or_else(bad)?);
                }
            }
            "percent" => list().for_each(|metric| options.metrics.set_percent(metric)),
            "volume" if !value.is_empty() => volume = Some(value.to_string()),
            "mean" if !value.is_empty() => options.mean_stat = value.to_string(),
            "no_graph" if value.is_empty() => options.use_graph = false,
            "no_direction" if value.is_empty() => options.use_direction = false,
            "no_volume" if value.is_empty() => options.use_volume = false,
            _ => return Err(bad()),
        }
    }
    if source.series.len() == 1 {
        // No statistic column: every series is its metric's per-request mean.
        options.mean_stat = String::new();
        options.volume.1 = String::new();
    }
    if let Some(volume) = volume {
        let (metric, stat) = volume.split_once(':').unwrap_or((&volume, &options.volume.1));
        options.volume = (metric.trim().to_string(), stat.trim().to_string());
    }
    Ok((source, options))
}

impl TableFunctionImpl for RankCausesFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (source, options) = parse(args.exprs())?;
        Ok(Arc::new(RankCausesTable { source, options }))
    }
}

/// The result of one `rank_causes(...)` call, computed when scanned.
#[derive(Debug)]
struct RankCausesTable {
    source: Source,
    options: Options,
}

#[async_trait]
impl TableProvider for RankCausesTable {
    fn schema(&self) -> SchemaRef {
        SCHEMA.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = session_state(state, "rank_causes")?;
        // One partition: rows are read in table order, which breaks exact ties.
        let mut state = state.clone();
        state.config_mut().options_mut().execution.target_partitions = 1;
        let (outcome, labels) = match self.source.load(&state).await? {
            None => (Outcome::default(), Vec::new()),
            Some(loaded) => {
                let options = Options { window: loaded.window, ..self.options.clone() };
                (rank(&loaded.incident, &loaded.target, &options), loaded.labels)
            }
        };
        let batch = to_batch(&outcome, &labels)?;
        Ok(MemorySourceConfig::try_new_exec(&[vec![batch]], SCHEMA.clone(), projection.cloned())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::lit;

    fn call(values: &[&str]) -> Result<(Source, Options)> {
        parse(&values.iter().map(|v| lit(*v)).collect::<Vec<_>>())
    }

    #[test]
    fn parses_columns_and_options() {
        let (source, options) = call(&["m", "g", "t"]).unwrap();
        assert_eq!((source.node.as_str(), source.series.len(), options.use_graph), ("node", 2, true));
        let (source, options) = call(&["m", "g", "t", "series=name", "window=1..3", "worse=cpu:up", "volume=calls", "no_volume"]).unwrap();
        assert_eq!(source.window, Some(("1".into(), "3".into())));
        assert_eq!(options.volume, ("calls".into(), String::new()));
        assert_eq!((options.metrics.get("cpu").direction, options.use_volume), (Direction::Up, false));
        assert!(call(&["m", "g"]).unwrap_err().to_string().contains("got 2 arguments"));
        for bad in ["colour=red", "worse=cpu", "worse=cpu:sideways", "series=a,b,c", "window=3", "reference=after", "no_graph=1"] {
            assert!(call(&["m", "g", "t", bad]).unwrap_err().to_string().contains(&format!("bad option '{bad}'")), "{bad}");
        }
    }
}
