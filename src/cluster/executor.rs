//! `perfcorr cluster executor`: a Ballista executor that knows perfcorr's
//! functions (the plans it is sent name them) and codec.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};

use super::codec::PerfcorrLogicalCodec;
use super::MAX_MESSAGE_BYTES;

/// Where an executor listens, which scheduler it serves, how much it runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub bind_host: String,
    /// Arrow Flight port (shuffle data is fetched from it).
    pub port: u16,
    /// gRPC port (tasks, in push mode).
    pub grpc_port: u16,
    /// The host other processes reach this executor at (default: `bind_host`).
    pub external_host: Option<String>,
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Tasks run at once (0 = one per core).
    pub concurrency: usize,
    /// Shuffle files and spills go here (default: a new temporary folder).
    pub work_dir: Option<PathBuf>,
    /// Memory for the tasks' sorts, joins and aggregations, beyond which they
    /// spill (default: Ballista's, 70% of the machine's memory).
    pub memory_limit: Option<usize>,
}

/// The executor's configuration: perfcorr's functions, codec, message sizes.
pub fn config(options: &ExecutorOptions, work_dir: &str) -> Result<ExecutorProcessConfig, String> {
    let state = super::server_state(super::cluster_config()).map_err(|e| format!("executor: {e}"))?;
    let mut config = ExecutorProcessConfig::default();
    config.bind_host = options.bind_host.clone();
    config.port = options.port;
    config.grpc_port = options.grpc_port;
    config.external_host = Some(options.external_host.clone().unwrap_or_else(|| options.bind_host.clone()));
    config.scheduler_host = options.scheduler_host.clone();
    config.scheduler_port = options.scheduler_port;
    config.scheduler_connect_timeout_seconds = 30;
    config.vcores = options.concurrency;
    config.work_dir = Some(work_dir.to_string());
    config.print_thread_info = false;
    if let Some(bytes) = options.memory_limit {
        config.memory_pool_size = Some(bytes as u64);
    }
    config.override_execution_engine = Some(Arc::new(super::engine::NoOperatorMetrics::default()));
    config.override_function_registry = Some(Arc::new(BallistaFunctionRegistry::from(&state)));
    config.override_config_producer = Some(Arc::new(super::cluster_config));
    config.override_logical_codec = Some(Arc::new(PerfcorrLogicalCodec::default()));
    config.grpc_max_decoding_message_size = MAX_MESSAGE_BYTES as u32;
    config.grpc_max_encoding_message_size = MAX_MESSAGE_BYTES as u32;
    Ok(config)
}

/// Runs an executor until it is told to stop (SIGTERM, Ctrl-C or the
/// scheduler); errors are one line.
pub async fn run(options: &ExecutorOptions) -> Result<(), String> {
    // Kept until the executor stops: Ballista only records the path.
    let temporary;
    let work_dir = match &options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("--work-dir {}: {e}", dir.display()))?;
            dir.display().to_string()
        }
        None => {
            temporary = tempfile::Builder::new().prefix("perfcorr-executor-").tempdir().map_err(|e| format!("executor work folder: {e}"))?;
            temporary.path().display().to_string()
        }
    };
    let config = config(options, &work_dir)?;
    eprintln!(
        "perfcorr executor on {}:{} serving df://{}:{} (work folder {work_dir})",
        options.bind_host, options.port, options.scheduler_host, options.scheduler_port
    );
    start_executor_process(Arc::new(config)).await.map_err(|e| format!("executor: {e}"))
}
