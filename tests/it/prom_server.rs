//! A real Prometheus server for the tests (Debian's `prometheus` package,
//! which brings `promtool`): an incident is written as OpenMetrics,
//! backfilled with `promtool tsdb create-blocks-from openmetrics`, and served
//! from that storage on a free loopback port until dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::perfcorr;

/// A running `prometheus`, killed when dropped.
pub struct PrometheusServer {
    child: Child,
    pub url: String,
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the `prometheus` and `promtool` binaries are installed. Without
/// them a test is skipped on a developer's machine, but fails under CI
/// (`CI` set), where `.ci/run` installs them.
pub fn available(test: &str) -> bool {
    let runs = |binary: &str| Command::new(binary).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if runs("prometheus") && runs("promtool") {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{test}: prometheus/promtool not installed (apt-get install -y prometheus); CI must run this test");
    eprintln!("{test}: skipped, prometheus/promtool not installed (apt-get install -y prometheus)");
    false
}

/// A loopback port nothing listens on (just now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `perfcorr generate` of the incident into `out` in `format`.
pub fn generate(out: &Path, format: &str, views: usize, points: usize) {
    let status = perfcorr()
        .args(["generate", "--views", &views.to_string(), "--points", &points.to_string(), "--seed", "7", "--format", format, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(status.status.success(), "generate: {}", String::from_utf8_lossy(&status.stderr));
}

impl PrometheusServer {
    /// Backfills the incident (`views`, `points`) into `dir` and serves it.
    pub fn start(dir: &Path, views: usize, points: usize) -> Self {
        let om = dir.join("om");
        generate(&om, "openmetrics", views, points);
        let storage = dir.join("tsdb");
        let backfill = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(om.join("incident.om"))
            .arg(&storage)
            .output()
            .unwrap();
        assert!(backfill.status.success(), "promtool: {}", String::from_utf8_lossy(&backfill.stderr));
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--storage.tsdb.path={}", storage.display()))
            // The backfilled samples are from 2026-11 (and older than any
            // shorter retention once that date has passed).
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = PrometheusServer { child, url: format!("http://127.0.0.1:{port}") };
        server.wait_ready(dir.join("prometheus.log"));
        server
    }

    fn wait_ready(&self, log: PathBuf) {
        let started = Instant::now();
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build().into();
        while started.elapsed() < Duration::from_secs(60) {
            if agent.get(format!("{}/-/ready", self.url)).call().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("prometheus at {} not ready after 60 s: {}", self.url, std::fs::read_to_string(log).unwrap_or_default());
    }

    /// The body of `GET /api/v1/{path}` with `params` (as curl would save it).
    pub fn get(&self, path: &str, params: &[(&str, &str)]) -> String {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).build().into();
        agent.get(format!("{}/api/v1/{path}", self.url)).query_pairs(params.iter().copied()).call().unwrap().body_mut().read_to_string().unwrap()
    }
}
