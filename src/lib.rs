//! perfcorr: a SQL engine for "my app got slow — what moved with it?".
//!
//! [`session`] returns an Apache DataFusion [`SessionContext`] with perfcorr's
//! statistics functions registered (`diff`, `pearson_r`, `pearson_p`,
//! `pearson_n`, `pearson_p_from_r`); [`stats`] holds the numerics behind them.

pub mod chart_data;
pub mod checks;
pub mod cli;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod diff_window;
pub mod functions;
pub mod fused;
pub mod group_sort;
pub mod incident;
pub mod lag_diff;
pub mod not_equals;
pub mod optimizer;
pub mod parquet_nan;
pub mod rca;
pub mod semi_join;
pub mod report;
pub mod sources;
pub mod sql_text;
pub mod stats;

use std::sync::Arc;

use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::prelude::{SessionConfig, SessionContext};

pub use datafusion;

/// The session configuration perfcorr uses: `information_schema` on (so
/// `SHOW TABLES`/`SHOW FUNCTIONS` work) and the PostgreSQL dialect;
/// DataFusion's defaults otherwise (file statistics are collected: float
/// columns' min/max are dropped from them by [`parquet_nan`]'s rule).
pub fn session_config() -> SessionConfig {
    let mut config = SessionConfig::new().with_information_schema(true);
    // `view` is a column of the product's own tables; DataFusion's default
    // (generic) dialect rejects it unquoted after a comma, PostgreSQL's parses
    // it in every position.
    config.options_mut().sql_parser.dialect = datafusion::common::config::Dialect::PostgreSQL;
    config
}

/// A session with perfcorr's functions registered and no tables.
pub fn session() -> SessionContext {
    session_with_config(session_config())
}

/// Like [`session`], with a caller-supplied configuration (e.g. a different
/// `target_partitions`).
pub fn session_with_config(config: SessionConfig) -> SessionContext {
    build(config, Arc::new(RuntimeEnv::default()), true)
}

/// Like [`session_with_config`] but without the fused path
/// ([`fused`]): DataFusion's own plans only. For cross-checks and
/// benchmarks of the fused operator.
pub fn session_without_fusion(config: SessionConfig) -> SessionContext {
    build(config, Arc::new(RuntimeEnv::default()), false)
}

/// Like [`session`], with at most `bytes` of memory for operators that
/// track it (sorts, joins, aggregations), which spill to temporary files
/// beyond that. The pool is DataFusion's fair spill pool: with a greedy pool
/// the first sort of a partition can take most of the memory and leave the
/// other partition's merge unable to allocate (seen at 100M rows in 4 GB).
pub fn session_with_memory_limit(bytes: usize) -> datafusion::error::Result<SessionContext> {
    let pool = Arc::new(FairSpillPool::new(bytes));
    let runtime = RuntimeEnvBuilder::new().with_memory_pool(pool).build_arc()?;
    Ok(build(session_config(), runtime, true))
}

/// A session with perfcorr's functions and optimizer rule, and (if `fused`)
/// the query planner that puts in the fused path.
fn build(config: SessionConfig, runtime: Arc<RuntimeEnv>, fused: bool) -> SessionContext {
    // Float statistics go before any rule reads them (min/max answered from
    // metadata, join selection); NaN-safe pruning after filters reach the scans.
    let mut physical_rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> = vec![Arc::new(parquet_nan::ForgetFloatStatistics)];
    physical_rules.extend(PhysicalOptimizer::new().rules);
    physical_rules.push(Arc::new(parquet_nan::KeepNanRows));
    if fused {
        // The sort under a window by grouping, where the fused operator
        // does not run (its fallback included).
        physical_rules.push(Arc::new(group_sort::GroupSortUnderWindows));
        // `diff` windows a batch at a time over the sorted rows.
        physical_rules.push(Arc::new(diff_window::DiffWindowsOverSortedRows));
    }
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_physical_optimizer_rules(physical_rules);
    if fused {
        state = state.with_query_planner(Arc::new(fused::FusingQueryPlanner));
    }
    let ctx = SessionContext::new_with_state(state.build());
    functions::register_all(&ctx);
    add_plan_rules(&ctx);
    ctx
}

/// perfcorr's logical rules, after DataFusion's own: `x - lag(x)` read as
/// `diff(x)` ([`lag_diff`]), `diff` required to be ordered ([`checks`]),
/// a semi join on a series' key moved to the rows it filters
/// ([`semi_join`]), Pearson aggregates sharing one state ([`optimizer`]),
/// long exclusion lists read as `NOT IN` ([`not_equals`]).
pub fn add_plan_rules(ctx: &SessionContext) {
    ctx.add_analyzer_rule(Arc::new(lag_diff::LagAsDiff));
    ctx.add_analyzer_rule(Arc::new(checks::RequireOrderedDiff));
    ctx.add_optimizer_rule(Arc::new(semi_join::KeySemiJoinDown));
    ctx.add_optimizer_rule(Arc::new(optimizer::SharePearsonState));
    ctx.add_optimizer_rule(Arc::new(not_equals::NotEqualsAsNotIn));
}
