//! `perfcorr cluster scheduler|executor`: argument handling for
//! [`crate::cluster`]'s two servers.

use super::args::ClusterCommand;
use crate::cluster::executor::{self, ExecutorOptions};
use crate::cluster::scheduler::{self, SchedulerOptions};

/// Runs the server `command` names until it stops (`memory_limit`: an
/// executor's memory pool); errors are one line.
pub async fn run(command: &ClusterCommand, memory_limit: Option<usize>) -> Result<(), String> {
    crate::cluster::init_logging();
    match command {
        ClusterCommand::Scheduler { .. } if memory_limit.is_some() => {
            Err("--memory-limit is for executors (the scheduler runs no tasks)".to_string())
        }
        ClusterCommand::Scheduler { bind, port, external_host } => {
            scheduler::run(&SchedulerOptions { bind_host: bind.clone(), port: *port, external_host: external_host.clone() }).await
        }
        ClusterCommand::Executor { scheduler, bind, port, grpc_port, external_host, concurrency, work_dir } => {
            let (scheduler_host, scheduler_port) = crate::cluster::parse_address(scheduler).map_err(|e| format!("--scheduler {e}"))?;
            let options = ExecutorOptions {
                bind_host: bind.clone(),
                port: *port,
                grpc_port: *grpc_port,
                external_host: external_host.clone(),
                scheduler_host,
                scheduler_port,
                concurrency: *concurrency,
                work_dir: work_dir.clone(),
                memory_limit,
            };
            executor::run(&options).await
        }
    }
}
