//! Running perfcorr's SQL on an Apache DataFusion Ballista cluster: our own
//! scheduler and executor processes (perfcorr's functions, rules and codecs
//! compiled in) and the `--cluster` client session.
//!
//! - [`scheduler`] and [`executor`]: `perfcorr cluster scheduler|executor`;
//! - [`client`]: the session `perfcorr --cluster df://HOST:PORT` runs on;
//! - [`materialize`]: the client's query planner, which first runs what only
//!   the client can read (table functions, `information_schema` next to data)
//!   and hands Ballista a plan of files and in-memory tables;
//! - [`codec`]: in-memory tables (CSV/JSON loaded at start-up, the bundled
//!   sample, `CREATE TABLE … AS`, materialized table functions) travel inside
//!   the plan as Arrow IPC;
//! - [`engine`]: the executors' engine (Ballista's, without the per-task
//!   operator metrics that can stall a job);
//! - [`local`]: a scheduler and executors in this process, on free loopback
//!   ports, for tests.
//!
//! The scheduler plans with DataFusion's general operators (sort, window,
//! hash join, aggregate), which Ballista splits into stages; the fused
//! operator ([`crate::fused`]) is single-process only.

pub mod client;
pub mod codec;
pub mod engine;
pub mod executor;
pub mod local;
pub mod materialize;
pub mod scheduler;

use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionConfig;

/// Largest gRPC message any cluster process sends or accepts: plans carry
/// in-memory tables (see [`codec`]), so the 16 MiB default is too small.
pub const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// The configuration every perfcorr cluster process starts from:
/// [`crate::session_config`] plus Ballista's settings, perfcorr's logical
/// codec and the message size above.
pub fn cluster_config() -> SessionConfig {
    crate::session_config()
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(Arc::new(codec::PerfcorrLogicalCodec::default()))
        .with_ballista_grpc_client_max_message_size(MAX_MESSAGE_BYTES)
        // Ballista 55's adaptive planner re-plans a stage above a finished
        // shuffle, whose reader advertises no sort order, and DataFusion's
        // sanity check then rejects an order-preserving merge above it (a
        // UNION ALL of one-row branches under ORDER BY): the job never ends.
        .with_ballista_adaptive_query_planner(false)
}

/// The session the scheduler plans a job in (and whose functions the
/// executors look names up in): perfcorr's functions and rules on `config`,
/// DataFusion's general plans, and Ballista's optimizer rules.
pub fn server_state(config: SessionConfig) -> Result<SessionState> {
    let state = crate::session_without_fusion(config).state();
    let rules = ballista_core::optimizer::with_ballista_optimizer_rules(state.optimizers());
    Ok(SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).build())
}

/// Ballista's log lines on stderr at the level `PERFCORR_LOG` names
/// (`error`, `warn`, `info`, `debug`, `trace`); silent when it is unset.
pub fn init_logging() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, metadata: &log::Metadata) -> bool {
            metadata.level() <= log::max_level()
        }
        fn log(&self, record: &log::Record) {
            if self.enabled(record.metadata()) {
                eprintln!("{} {}: {}", record.level(), record.target(), record.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    let Some(level) = std::env::var("PERFCORR_LOG").ok().and_then(|v| v.parse::<log::LevelFilter>().ok()) else {
        return;
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// `df://HOST:PORT` (or `HOST:PORT`, `http://HOST:PORT`) as (host, port);
/// the port defaults to Ballista's 50050.
pub fn parse_address(url: &str) -> std::result::Result<(String, u16), String> {
    let rest = url.split_once("://").map_or(url, |(scheme, rest)| match scheme {
        "df" | "http" => rest,
        _ => "",
    });
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("'{url}': give the scheduler as df://HOST:PORT"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| format!("'{url}': bad port '{port}'"))?),
        None => (rest, 50050),
    };
    if host.is_empty() {
        return Err(format!("'{url}': no host"));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses() {
        assert_eq!(parse_address("df://localhost:50050"), Ok(("localhost".into(), 50050)));
        assert_eq!(parse_address("df://127.0.0.1:9/"), Ok(("127.0.0.1".into(), 9)));
        assert_eq!(parse_address("localhost"), Ok(("localhost".into(), 50050)));
        assert!(parse_address("df://host:port").is_err());
        assert!(parse_address("s3://bucket/x").is_err());
        assert!(parse_address("df://:80").is_err());
    }
}
