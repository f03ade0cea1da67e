//! A client for a Prometheus server's HTTP API: range queries (split into
//! requests of at most [`MAX_POINTS`] steps, as Grafana does, and joined
//! without repeated timestamps) and instant queries. Every failure is one
//! line naming the server: not reachable, no answer in time, an answer that
//! is not Prometheus', or Prometheus' own error (a PromQL mistake).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::time::format_seconds;
use super::{prom_json, Series};

/// Prometheus refuses a range query of more than 11,000 points per series.
pub const MAX_POINTS: u64 = 11_000;
/// Largest answer read (a day of 1-minute points for 10,000 series is ~1 GB).
const MAX_BODY_BYTES: u64 = 4 << 30;

/// Where and how long to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Base URL, e.g. `http://localhost:9090` (a path prefix is kept).
    pub url: String,
    pub timeout: Duration,
}

/// A range query: `[start, end]` every `step` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

impl Range {
    /// The requests covering the range, each of at most `max_points` steps,
    /// on the same grid (so no timestamp is asked for twice).
    pub fn chunks(&self, max_points: u64) -> Vec<Range> {
        let steps = ((self.end - self.start) / self.step).floor().max(0.0) as u64 + 1;
        (0..steps.div_ceil(max_points))
            .map(|k| {
                let first = k * max_points;
                let last = (first + max_points - 1).min(steps - 1);
                Range { start: self.start + first as f64 * self.step, end: self.start + last as f64 * self.step, step: self.step }
            })
            .collect()
    }
}

impl Server {
    /// `promql` over `range`, each series' points in time order.
    pub fn query_range(&self, promql: &str, range: Range) -> Result<Vec<Series>, String> {
        if range.end < range.start {
            return Err(format!("prometheus {}: end is before start", self.url));
        }
        let mut merged: BTreeMap<BTreeMap<String, String>, Vec<(i64, f64)>> = BTreeMap::new();
        for chunk in range.chunks(MAX_POINTS) {
            let params = [
                ("query", promql.to_string()),
                ("start", format_seconds(chunk.start)),
                ("end", format_seconds(chunk.end)),
                ("step", format_seconds(chunk.step)),
            ];
            for series in self.get("/api/v1/query_range", &params)? {
                let points = merged.entry(series.labels).or_default();
                let last = points.last().map(|p| p.0);
                points.extend(series.points.into_iter().filter(|p| last.is_none_or(|last| p.0 > last)));
            }
        }
        Ok(merged.into_iter().map(|(labels, points)| Series { labels, points }).collect())
    }

    /// `promql` at one time (`None`: the server's now).
    pub fn query(&self, promql: &str, time: Option<f64>) -> Result<Vec<Series>, String> {
        let mut params = vec![("query", promql.to_string())];
        params.extend(time.map(|t| ("time", format_seconds(t))));
        self.get("/api/v1/query", &params)
    }

    fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<Series>, String> {
        let fail = |message: String| format!("prometheus {}: {message}", self.url);
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(self.timeout)).http_status_as_error(false).build().into();
        let endpoint = format!("{}{path}", self.url.trim_end_matches('/'));
        let mut response = agent
            .get(&endpoint)
            .query_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .call()
            .map_err(|e| fail(self.describe(e)))?;
        let status = response.status();
        let body = response.body_mut().with_config().limit(MAX_BODY_BYTES).read_to_string().map_err(|e| fail(self.describe(e)))?;
        let json: Value = match serde_json::from_str(&body) {
            Ok(json) if prom_json::looks_like(&json) => json,
            _ => {
                let first_line = body.lines().next().unwrap_or("").chars().take(120).collect::<String>();
                return Err(fail(format!("HTTP {status} and not a Prometheus API answer ({first_line:?}); is this the server's base URL?")));
            }
        };
        prom_json::series(&json).map_err(fail)
    }

    fn describe(&self, error: ureq::Error) -> String {
        let timeout = humanize(self.timeout);
        match error {
            ureq::Error::Timeout(_) => format!("no answer within {timeout} (raise it with 'timeout=60s')"),
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => "connection refused: is Prometheus running there?".to_string(),
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => format!("no answer within {timeout} (raise it with 'timeout=60s')"),
            ureq::Error::HostNotFound => "host not found".to_string(),
            ureq::Error::ConnectionFailed if self.url.starts_with("https:") => "https needs TLS, which this build leaves out: use http:// (e.g. through a local proxy)".to_string(),
            ureq::Error::ConnectionFailed => "cannot connect".to_string(),
            ureq::Error::BadUri(uri) => format!("not a URL: {uri}"),
            ureq::Error::BodyExceedsLimit(limit) => format!("answer larger than {limit} bytes: ask for fewer series or a coarser step"),
            other => crate::cli::exec::one_line(&other.to_string()),
        }
    }
}

fn humanize(duration: Duration) -> String {
    format!("{}s", format_seconds(duration.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_grid_once() {
        let range = Range { start: 0.0, end: 250.0, step: 10.0 };
        let chunks = range.chunks(10);
        assert_eq!(chunks.len(), 3);
        assert_eq!((chunks[0].start, chunks[0].end), (0.0, 90.0));
        assert_eq!((chunks[1].start, chunks[1].end), (100.0, 190.0));
        assert_eq!((chunks[2].start, chunks[2].end), (200.0, 250.0));
        assert_eq!(Range { start: 5.0, end: 5.0, step: 60.0 }.chunks(MAX_POINTS).len(), 1);
        let day = Range { start: 0.0, end: 86_400.0, step: 1.0 }.chunks(MAX_POINTS);
        assert_eq!(day.len(), 8);
        assert_eq!(day.iter().map(|c| ((c.end - c.start) / c.step) as u64 + 1).sum::<u64>(), 86_401);
    }
}
