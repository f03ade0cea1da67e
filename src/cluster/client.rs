//! The session `perfcorr --cluster df://HOST:PORT` runs on: every statement
//! is planned here (perfcorr's functions, checks and rules), sent to the
//! scheduler as a logical plan and run by the executors.

use std::sync::Arc;

use ballista::prelude::SessionContextExt;
use ballista_core::extension::SessionConfigExt;
use ballista_core::planner::BallistaQueryPlanner;
use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_proto::protobuf::LogicalPlanNode;

use super::materialize::MaterializingPlanner;

/// A session whose queries run on the scheduler at `url` (`df://HOST:PORT`).
/// Nothing is contacted until the first query.
pub async fn connect(url: &str) -> Result<SessionContext> {
    let (host, port) = super::parse_address(url).map_err(datafusion::error::DataFusionError::Configuration)?;
    let scheduler = format!("http://{host}:{port}");
    let config = super::cluster_config();
    let ballista = BallistaQueryPlanner::<LogicalPlanNode>::with_extension(
        scheduler,
        config.ballista_config(),
        config.ballista_logical_extension_codec(),
    );
    let config = config.with_ballista_query_planner(Arc::new(MaterializingPlanner::new(Arc::new(ballista))));
    let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
    let ctx = SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?;
    // Ballista's upgrade replaces the function lists: perfcorr's go in after.
    crate::functions::register_all(&ctx);
    crate::add_plan_rules(&ctx);
    Ok(ctx)
}
