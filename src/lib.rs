//! perfcorr: a SQL engine for "my app got slow — what moved with it?".
//!
//! [`session`] returns an Apache DataFusion [`SessionContext`] with perfcorr's
//! statistics functions registered (`diff`, `pearson_r`, `pearson_p`,
//! `pearson_n`, `pearson_p_from_r`); [`stats`] holds the numerics behind them.

pub mod cli;
pub mod functions;
pub mod incident;
pub mod optimizer;
pub mod sql_text;
pub mod stats;

use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

pub use datafusion;

/// The session configuration perfcorr uses: `information_schema` on (so
/// `SHOW TABLES`/`SHOW FUNCTIONS` work), DataFusion's defaults otherwise.
pub fn session_config() -> SessionConfig {
    SessionConfig::new().with_information_schema(true)
}

/// A session with perfcorr's functions registered and no tables.
pub fn session() -> SessionContext {
    session_with_config(session_config())
}

/// Like [`session`], with a caller-supplied configuration (e.g. a different
/// `target_partitions`).
pub fn session_with_config(config: SessionConfig) -> SessionContext {
    register(SessionContext::new_with_config(config))
}

/// Like [`session`], with at most `bytes` of memory for operators that
/// track it (sorts, joins, aggregations), which spill to temporary files
/// beyond that. The pool is DataFusion's fair spill pool: with a greedy pool
/// the first sort of a partition can take most of the memory and leave the
/// other partition's merge unable to allocate (seen at 100M rows in 4 GB).
pub fn session_with_memory_limit(bytes: usize) -> datafusion::error::Result<SessionContext> {
    let pool = std::sync::Arc::new(FairSpillPool::new(bytes));
    let runtime = RuntimeEnvBuilder::new().with_memory_pool(pool).build_arc()?;
    Ok(register(SessionContext::new_with_config_rt(session_config(), runtime)))
}

fn register(ctx: SessionContext) -> SessionContext {
    functions::register_all(&ctx);
    ctx.add_optimizer_rule(std::sync::Arc::new(optimizer::SharePearsonState));
    ctx
}
