//! Writes an [`Incident`] as OpenMetrics text with django-prometheus' metric
//! names, for `promtool tsdb create-blocks-from openmetrics FILE DIR`: what
//! a Prometheus server scraping the incident's Django app once a minute
//! would hold, so that `queries/from_prometheus.sql` maps it back onto the
//! incident's `app`, `layers` and `views`.
//!
//! Every counter (and histogram `_count`/`_sum`) starts at 0 one minute
//! before the first point and grows at each point by that minute's amount:
//! requests = the throughput (rpm), seconds = requests × response time.
//! `rate(x[1m])` at a point is then exactly that minute's amount per second
//! (two samples, one at each end of the window: nothing extrapolated), and
//! the mapping's ratios give back the incident's values to rounding.
//!
//! | series of the incident | metric |
//! |---|---|
//! | `app.response_ms`, `throughput_rpm` | histogram `django_http_requests_latency_including_middlewares_seconds`, counter `django_http_requests_before_middlewares_total` |
//! | `views.response_ms`, `throughput_rpm` | histogram `django_http_requests_latency_seconds_by_view_method{view, method}`, counter `django_http_requests_total_by_view_transport_method_total{view, transport, method}` |
//! | layer `SQL` | histogram `django_db_query_duration_seconds{alias, vendor}` (3 queries a request) |
//! | the other layers | histogram `app_layer_duration_seconds{layer}`: not django-prometheus', the name an app instrumenting its own layers would use in the mapping |

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::model::{Incident, IncidentSpec, LAYERS, MINUTE_MICROS, START_MICROS};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The file written into the output folder.
pub const FILE_NAME: &str = "incident.om";
/// Database queries per request in the SQL layer's histogram count.
const QUERIES_PER_REQUEST: f64 = 3.0;

/// One series of a family: its labels (`view="a",method="GET"`) and, per
/// point, the amount its counter grows by (for a histogram also the seconds).
struct Growth {
    labels: String,
    requests: Vec<f64>,
    /// Seconds per request (ms / 1000) for histograms, `None` for counters.
    seconds_each: Option<Vec<f64>>,
    /// Observations per request in the histogram's `_count`.
    count_per_request: f64,
}

/// `name="value"` pairs, escaped as OpenMetrics wants.
fn labels(pairs: &[(&str, &str)]) -> String {
    let escape = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect::<Vec<_>>().join(",")
}

fn braces(labels: &str) -> String {
    if labels.is_empty() { String::new() } else { format!("{{{labels}}}") }
}

/// Unix seconds of point `k` (`k = 0` is the incident's first minute; the
/// zero samples sit at `k = -1`).
fn seconds(k: i64) -> i64 {
    (START_MICROS + k * MINUTE_MICROS) / 1_000_000
}

struct OpenMetrics {
    out: BufWriter<File>,
    points: usize,
}

impl OpenMetrics {
    fn family(&mut self, name: &str, kind: &str, help: &str, series: impl IntoIterator<Item = Result<Growth, BoxError>>) -> Result<(), BoxError> {
        writeln!(self.out, "# TYPE {name} {kind}")?;
        writeln!(self.out, "# HELP {name} {help}")?;
        for growth in series {
            self.series(name, &growth?)?;
        }
        Ok(())
    }

    fn series(&mut self, name: &str, growth: &Growth) -> Result<(), BoxError> {
        let (mut requests, mut seconds_total) = (0.0f64, 0.0f64);
        for k in -1..self.points as i64 {
            if k >= 0 {
                let t = k as usize;
                requests += growth.requests[t];
                if let Some(each) = &growth.seconds_each {
                    seconds_total += growth.requests[t] * each[t];
                }
            }
            let ts = seconds(k);
            match growth.seconds_each {
                None => writeln!(self.out, "{name}_total{} {requests} {ts}", braces(&growth.labels))?,
                Some(_) => {
                    let count = requests * growth.count_per_request;
                    let le = if growth.labels.is_empty() { "le=\"+Inf\"".to_string() } else { format!("{},le=\"+Inf\"", growth.labels) };
                    writeln!(self.out, "{name}_bucket{{{le}}} {count} {ts}")?;
                    writeln!(self.out, "{name}_count{} {count} {ts}", braces(&growth.labels))?;
                    writeln!(self.out, "{name}_sum{} {seconds_total} {ts}", braces(&growth.labels))?;
                }
            }
        }
        Ok(())
    }
}

fn per_request_seconds(ms: &[f64]) -> Option<Vec<f64>> {
    Some(ms.iter().map(|ms| ms / 1000.0).collect())
}

/// Writes [`FILE_NAME`] for `spec` into `out`; returns its path.
pub fn write_openmetrics(spec: IncidentSpec, out: &Path) -> Result<PathBuf, BoxError> {
    let incident = Incident::new(spec);
    let path = out.join(FILE_NAME);
    let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut om = OpenMetrics { out: BufWriter::new(file), points: spec.points };
    let app_requests = &incident.app_throughput_rpm;
    let app = |seconds_each| Ok(Growth { labels: String::new(), requests: app_requests.clone(), seconds_each, count_per_request: 1.0 });

    om.family(
        "django_http_requests_latency_including_middlewares_seconds",
        "histogram",
        "Histogram of requests processing time (including middleware processing time).",
        [app(per_request_seconds(&incident.app_response_ms))],
    )?;
    om.family("django_http_requests_before_middlewares", "counter", "Total count of requests before middlewares run.", [app(None)])?;

    // Each view is drawn again for the second family rather than kept: 10,000
    // views of a week do not fit in memory together.
    let views = || (0..spec.views).map(|index| incident.view(index));
    om.family(
        "django_http_requests_latency_seconds_by_view_method",
        "histogram",
        "Histogram of request processing time labelled by view.",
        views().map(|v| {
            let labels = labels(&[("view", &v.name), ("method", "GET")]);
            Ok(Growth { labels, seconds_each: per_request_seconds(&v.response_ms), requests: v.throughput_rpm, count_per_request: 1.0 })
        }),
    )?;
    om.family(
        "django_http_requests_total_by_view_transport_method",
        "counter",
        "Count of requests by view, transport, method.",
        views().map(|v| {
            let labels = labels(&[("view", &v.name), ("transport", "http"), ("method", "GET")]);
            Ok(Growth { labels, requests: v.throughput_rpm, seconds_each: None, count_per_request: 1.0 })
        }),
    )?;

    let layer = |name: &str| LAYERS.iter().position(|(layer, _)| *layer == name).map(|i| &incident.layers_ms[i]);
    let sql = layer("SQL").ok_or("the incident has no SQL layer")?;
    om.family(
        "django_db_query_duration_seconds",
        "histogram",
        "Histogram of query duration by database and vendor.",
        [Ok(Growth {
            labels: labels(&[("alias", "default"), ("vendor", "postgresql")]),
            requests: app_requests.clone(),
            seconds_each: per_request_seconds(sql),
            count_per_request: QUERIES_PER_REQUEST,
        })],
    )?;
    om.family(
        "app_layer_duration_seconds",
        "histogram",
        "Time spent in each layer of a request (the app's own instrumentation).",
        LAYERS.iter().zip(&incident.layers_ms).filter(|((name, _), _)| *name != "SQL").map(|((name, _), ms)| {
            Ok(Growth { labels: labels(&[("layer", name)]), requests: app_requests.clone(), seconds_each: per_request_seconds(ms), count_per_request: 1.0 })
        }),
    )?;
    writeln!(om.out, "# EOF")?;
    om.out.flush()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_start_at_zero_and_the_file_ends_with_eof() {
        let dir = std::env::temp_dir().join(format!("perfcorr-om-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = write_openmetrics(IncidentSpec { views: 2, points: 3, seed: 1 }, &dir).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(text.ends_with("# EOF\n"));
        assert!(text.starts_with("# TYPE django_http_requests_latency_including_middlewares_seconds histogram\n"));
        assert!(text.contains("django_http_requests_before_middlewares_total 0 1795046340\n"));
        let line = text.lines().find(|l| l.starts_with("django_http_requests_total_by_view_transport_method_total{view=\"apps/data\"")).unwrap();
        assert_eq!(line, "django_http_requests_total_by_view_transport_method_total{view=\"apps/data\",transport=\"http\",method=\"GET\"} 0 1795046340");
        // 2 app families + 2 view families × 2 views + SQL + 9 layers, 4 samples each (3 lines a histogram sample).
        let samples = text.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(samples, 4 * (3 + 1 + 3 * 2 + 2 + 3 + 3 * 9));
    }
}
