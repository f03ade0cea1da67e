//! `rank_correlations(...)`: the whole seed analysis in one call (table
//! function). For every series of a table against a target series: first
//! difference (per series, in `ts` order), join on `ts`, Pearson r, p, log10
//! p, n, the Benjamini–Hochberg q-value across series, the Fisher-z interval,
//! Spearman's rho and the best lead/lag — one row per series, ranked by q
//! then |r|.
//!
//! ```sql
//! -- long layout: one row per (series key, ts)
//! SELECT * FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms');
//! -- wide layout: a ts column and one numeric column per series
//! SELECT * FROM rank_correlations('wide_metrics', '*', 'app', 'response_ms');
//! -- options as trailing 'name=value' strings
//! SELECT * FROM rank_correlations('layers', 'layer', 'ms', 'app', 'response_ms', 'method=holm', 'max_lag=5');
//! ```
//!
//! The call plans nothing itself: the table provider turns the arguments
//! into SQL over perfcorr's functions and plans it when scanned; all of it is
//! the fused pass ([`crate::fused`]). Spearman's rho and the lag are left out
//! when the query reads neither: they need every pair of each series kept
//! and sorted, while r, p, n, q and the interval need running sums only.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_datafusion_err, plan_err, Result};
use datafusion::datasource::TableType;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{cast, col, Expr, LogicalPlanBuilder};
use datafusion::physical_plan::ExecutionPlan;

use super::table_args::{session_state, string_arguments};
use crate::sql_text::{quote_identifier, quote_literal};
use crate::stats::multiple_testing::Adjustment;

const USAGE: &str = "rank_correlations(table, key, value, target_table, target_value [, 'option=value' ...]) \
                     or rank_correlations(wide_table, '*', target_table, target_value [, ...]); \
                     options: 'raw', 'periods=N', 'method=bh|by|holm|bonferroni', 'max_lag=N', 'ts=COLUMN'";

/// The table function registered as `rank_correlations`.
#[derive(Debug, Default)]
pub struct RankCorrelationsFunction;

/// Where the series come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// One row per (key, ts): series named by `key`, values in `value`.
    Long { key: String, value: String },
    /// A `ts` column and one numeric column per series.
    Wide,
}

/// Everything a call asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    table: String,
    layout: Layout,
    target_table: String,
    target_value: String,
    ts: String,
    /// `None` = raw levels (no differencing).
    periods: Option<i64>,
    method: String,
    max_lag: usize,
}

impl Spec {
    fn parse(exprs: &[Expr]) -> Result<Self> {
        let strings = string_arguments(exprs, USAGE)?;
        let wide = strings.get(1).is_some_and(|s| s == "*");
        let fixed = if wide { 4 } else { 5 };
        if strings.len() < fixed {
            return plan_err!("{USAGE}: got {} arguments", strings.len());
        }
        let layout = if wide { Layout::Wide } else { Layout::Long { key: strings[1].clone(), value: strings[2].clone() } };
        let mut spec = Spec {
            table: strings[0].clone(),
            layout,
            target_table: strings[fixed - 2].clone(),
            target_value: strings[fixed - 1].clone(),
            ts: "ts".to_string(),
            periods: Some(1),
            method: "bh".to_string(),
            max_lag: 10,
        };
        for option in &strings[fixed..] {
            let (name, value) = option.split_once('=').map_or((option.as_str(), ""), |(n, v)| (n.trim(), v.trim()));
            let bad = || plan_datafusion_err!("{USAGE}: bad option '{option}'");
            match name {
                "raw" if value.is_empty() => spec.periods = None,
                "periods" => spec.periods = Some(value.parse().map_err(|_| bad())?),
                "method" if Adjustment::parse(value).is_some() => spec.method = value.to_string(),
                "max_lag" => spec.max_lag = value.parse().map_err(|_| bad())?,
                "ts" if !value.is_empty() => spec.ts = value.to_string(),
                _ => return Err(bad()),
            }
        }
        Ok(spec)
    }

    /// The SELECT producing one series' rows `(series, ts, x)` from `column`.
    fn series_select(&self, series_name: &str, column: &str, partition: Option<&str>) -> String {
        let ts = quote_identifier(&self.ts);
        let value = quote_identifier(column);
        let x = match (self.periods, partition) {
            (None, _) => format!("CAST({value} AS DOUBLE)"),
            (Some(k), Some(key)) => format!("diff({value}, {k}) OVER (PARTITION BY {key} ORDER BY {ts})"),
            (Some(k), None) => format!("diff({value}, {k}) OVER (ORDER BY {ts})"),
        };
        format!("SELECT {series_name} AS series, {ts} AS ts, {x} AS x FROM {}", quote_identifier(&self.table))
    }

    /// The analysis as SQL; `wide_columns` lists the series of a wide table,
    /// `extras` which of the costly columns are wanted. A long table's series
    /// are grouped by the key column itself (cast to text at the end), so
    /// that the whole aggregate is the fused shape ([`crate::fused`]).
    fn sql(&self, wide_columns: &[String], extras: Extras) -> String {
        let series = match &self.layout {
            Layout::Long { key, value } => {
                let key = quote_identifier(key);
                self.series_select(&key, value, Some(&key))
            }
            Layout::Wide => wide_columns
                .iter()
                .map(|column| self.series_select(&quote_literal(column), column, None))
                .collect::<Vec<_>>()
                .join("\nUNION ALL\n"),
        };
        let target = Spec { table: self.target_table.clone(), ..self.clone() }.series_select("'target'", &self.target_value, None);
        let lag = self.max_lag;
        let spearman = if extras.spearman { "spearman_r(x, y)" } else { "CAST(NULL AS DOUBLE)" };
        let (best_lag, lag_r) = if extras.lag {
            (format!("xcorr_lag(x, y, {lag} ORDER BY ts)"), format!("xcorr_r(x, y, {lag} ORDER BY ts)"))
        } else {
            ("CAST(NULL AS BIGINT)".to_string(), "CAST(NULL AS DOUBLE)".to_string())
        };
        format!(
            "WITH series AS ({series}),\n\
             target AS ({target}),\n\
             joined AS (SELECT s.series, s.ts, s.x, t.x AS y FROM series s JOIN target t ON s.ts = t.ts),\n\
             stats AS (SELECT series, pearson_r(x, y) AS r, pearson_p(x, y) AS p, pearson_log10_p(x, y) AS log10_p,\n\
                 pearson_n(x, y) AS n, pearson_ci_low(x, y) AS ci_low, pearson_ci_high(x, y) AS ci_high,\n\
                 {spearman} AS spearman_r, {best_lag} AS best_lag, {lag_r} AS lag_r FROM joined GROUP BY series)\n\
             SELECT CAST(series AS VARCHAR) AS series, r, p, log10_p, n, p_adjust(p, '{}') OVER () AS q, ci_low, ci_high,\n\
                 spearman_r, best_lag, lag_r\n\
             FROM stats ORDER BY q ASC NULLS LAST, abs(r) DESC NULLS LAST, series",
            self.method
        )
    }
}

/// Which of the columns that need every pair of a series (not a running
/// state) a scan asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extras {
    spearman: bool,
    lag: bool,
}

impl Extras {
    const ALL: Extras = Extras { spearman: true, lag: true };

    fn of(projection: Option<&Vec<usize>>) -> Self {
        let Some(columns) = projection else { return Self::ALL };
        let wants = |name: &str| columns.iter().any(|&i| SCHEMA.field(i).name() == name);
        Extras { spearman: wants("spearman_r"), lag: wants("best_lag") || wants("lag_r") }
    }
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let float = |name: &str| Field::new(name, DataType::Float64, true);
    Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, true),
        float("r"),
        float("p"),
        float("log10_p"),
        Field::new("n", DataType::Int64, false),
        float("q"),
        float("ci_low"),
        float("ci_high"),
        float("spearman_r"),
        Field::new("best_lag", DataType::Int64, true),
        float("lag_r"),
    ]))
});

impl TableFunctionImpl for RankCorrelationsFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(RankCorrelationsTable { spec: Spec::parse(args.exprs())? }))
    }
}

/// The result of one `rank_correlations(...)` call, planned when scanned.
#[derive(Debug)]
struct RankCorrelationsTable {
    spec: Spec,
}

impl RankCorrelationsTable {
    /// The numeric columns of the wide table other than `ts`.
    async fn wide_columns(&self, state: &SessionState) -> Result<Vec<String>> {
        let probe = format!("SELECT * FROM {} LIMIT 0", quote_identifier(&self.spec.table));
        let plan = state.create_logical_plan(&probe).await?;
        let columns: Vec<String> = plan
            .schema()
            .fields()
            .iter()
            .filter(|f| f.name() != &self.spec.ts && f.data_type().is_numeric())
            .map(|f| f.name().clone())
            .collect();
        if columns.is_empty() {
            return plan_err!("rank_correlations: wide table '{}' has no numeric columns besides {}", self.spec.table, self.spec.ts);
        }
        Ok(columns)
    }
}

#[async_trait]
impl TableProvider for RankCorrelationsTable {
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
        let state = session_state(state, "rank_correlations")?;
        let wide_columns = match self.spec.layout {
            Layout::Wide => self.wide_columns(state).await?,
            Layout::Long { .. } => Vec::new(),
        };
        let plan = state.create_logical_plan(&self.spec.sql(&wide_columns, Extras::of(projection))).await?;
        // Exactly the declared schema (e.g. VARCHAR plans as Utf8View), and
        // only the projected columns.
        let all: Vec<usize> = (0..SCHEMA.fields().len()).collect();
        let columns = projection.unwrap_or(&all).iter().map(|&i| {
            let field = SCHEMA.field(i);
            cast(col(field.name()), field.data_type().clone()).alias(field.name())
        });
        let plan = LogicalPlanBuilder::from(plan).project(columns)?.build()?;
        state.create_physical_plan(&plan).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::lit;

    #[test]
    fn parses_long_wide_and_options() {
        let args = |values: &[&str]| values.iter().map(|v| lit(*v)).collect::<Vec<_>>();
        let long = Spec::parse(&args(&["views", "view", "response_ms", "app", "response_ms", "method=holm", "max_lag=3"])).unwrap();
        assert_eq!(long.layout, Layout::Long { key: "view".into(), value: "response_ms".into() });
        assert_eq!((long.method.as_str(), long.max_lag, long.periods), ("holm", 3, Some(1)));
        let wide = Spec::parse(&args(&["wide", "*", "app", "response_ms", "raw"])).unwrap();
        assert_eq!((wide.layout, wide.target_table.as_str(), wide.periods), (Layout::Wide, "app", None));
        assert!(Spec::parse(&args(&["views", "view", "response_ms", "app"])).is_err());
        assert!(Spec::parse(&args(&["views", "view", "response_ms", "app", "response_ms", "method=sidak"])).unwrap_err().to_string().contains("bad option"));
    }
}
