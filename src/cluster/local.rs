//! A scheduler and executors inside this process on free loopback ports,
//! configured exactly as `perfcorr cluster scheduler|executor` are: for
//! tests of the cluster path without starting processes.

use std::net::TcpListener;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::executor::{self, ExecutorOptions};
use super::scheduler::{self, SchedulerOptions};

/// A running in-process cluster; its servers stop when it is dropped.
pub struct LocalCluster {
    /// `df://127.0.0.1:PORT`, for [`super::client::connect`].
    pub url: String,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// A port no one listens on now (the OS's choice; free until someone binds it).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LocalCluster {
    /// Starts a scheduler and `executors` executors (`concurrency` tasks
    /// each) and waits until the scheduler accepts connections.
    pub async fn start(executors: usize, concurrency: usize) -> Result<Self, String> {
        let port = free_port().map_err(|e| e.to_string())?;
        let options = SchedulerOptions { bind_host: "127.0.0.1".into(), port, external_host: None };
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(e) = scheduler::run(&options).await {
                eprintln!("error: {e}");
            }
        })];
        wait_for_port(port).await?;
        for _ in 0..executors {
            let options = ExecutorOptions {
                bind_host: "127.0.0.1".into(),
                port: free_port().map_err(|e| e.to_string())?,
                grpc_port: free_port().map_err(|e| e.to_string())?,
                external_host: None,
                scheduler_host: "127.0.0.1".into(),
                scheduler_port: port,
                concurrency,
                work_dir: None,
                memory_limit: None,
            };
            tasks.push(tokio::spawn(async move {
                if let Err(e) = executor::run(&options).await {
                    eprintln!("error: {e}");
                }
            }));
        }
        Ok(Self { url: format!("df://127.0.0.1:{port}"), tasks })
    }
}

/// Waits (at most 30 s) until something accepts connections on `port`.
pub async fn wait_for_port(port: u16) -> Result<(), String> {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("nothing listens on 127.0.0.1:{port} after 30 s"))
}
