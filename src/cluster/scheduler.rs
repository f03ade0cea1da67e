//! `perfcorr cluster scheduler`: a Ballista scheduler that plans jobs in
//! perfcorr's session ([`super::server_state`]) and decodes plans with
//! perfcorr's codec.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use super::codec::PerfcorrLogicalCodec;
use super::MAX_MESSAGE_BYTES;

/// Where a scheduler listens.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub bind_host: String,
    pub port: u16,
    /// The host executors and clients reach this scheduler at (default: `bind_host`).
    pub external_host: Option<String>,
}

/// The scheduler's configuration: perfcorr's session, codec and message sizes.
pub fn config(options: &SchedulerOptions) -> SchedulerConfig {
    let mut config = SchedulerConfig::default();
    config.bind_host = options.bind_host.clone();
    config.bind_port = options.port;
    config.external_host = options.external_host.clone().unwrap_or_else(|| options.bind_host.clone());
    config.override_session_builder = Some(Arc::new(super::server_state));
    config.override_config_producer = Some(Arc::new(super::cluster_config));
    config.override_logical_codec = Some(Arc::new(PerfcorrLogicalCodec::default()));
    config.grpc_server_max_decoding_message_size = MAX_MESSAGE_BYTES as u32;
    config.grpc_server_max_encoding_message_size = MAX_MESSAGE_BYTES as u32;
    config.grpc_client_max_message_size = MAX_MESSAGE_BYTES as u32;
    config
}

/// Runs a scheduler until the process ends; errors are one line.
pub async fn run(options: &SchedulerOptions) -> Result<(), String> {
    let address: SocketAddr = format!("{}:{}", options.bind_host, options.port)
        .parse()
        .map_err(|e| format!("scheduler address {}:{}: {e}", options.bind_host, options.port))?;
    let config = config(options);
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(|e| format!("scheduler: {e}"))?;
    eprintln!("perfcorr scheduler listening on df://{address}");
    start_server(cluster, address, Arc::new(config)).await.map_err(|e| format!("scheduler on {address}: {e}"))
}
