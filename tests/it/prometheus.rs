//! perfcorr against a real Prometheus server (`prom_server.rs`): the seed's
//! three saved questions through `queries/from_prometheus.sql` give the same
//! rankings, r and n as on the Parquet files of the same incident; long
//! ranges are split into requests; empty answers, PromQL errors, a port where
//! nothing listens and a server that never answers are one-line errors; JSON
//! exports (Prometheus' saved answers, Scout's) load from `--data`.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::perfcorr;
use crate::prom_server::{self, PrometheusServer};

const START: &str = "2026-11-19T00:00:00Z";
const END: &str = "2026-11-19T23:59:00Z";

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs perfcorr with `args` (CSV output) and returns its rows, header first.
fn csv(args: &[&str]) -> Vec<Vec<String>> {
    let output = perfcorr().args(["-q", "--format", "csv"]).args(args).output().unwrap();
    assert!(output.status.success(), "perfcorr {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

/// perfcorr's one-line error for `args`.
fn error(args: &[&str]) -> String {
    let output = perfcorr().args(["-q"]).args(args).output().unwrap();
    assert!(!output.status.success(), "perfcorr {args:?} should fail");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr.trim_end().to_string()
}

/// The saved question `query` through the mapping, against `url`.
fn through_mapping(url: &str, query: &str) -> Vec<Vec<String>> {
    through_mapping_on(&[], url, query)
}

/// [`through_mapping`] with more perfcorr arguments (`--cluster URL`).
fn through_mapping_on(extra: &[&str], url: &str, query: &str) -> Vec<Vec<String>> {
    let mapping = repo_file("queries/from_prometheus.sql");
    let query = repo_file(&format!("queries/{query}"));
    let (prom, start, end) = (format!("prom={url}"), format!("start={START}"), format!("end={END}"));
    let mut args = extra.to_vec();
    args.extend(["--var", &prom, "--var", &start, "--var", &end, "-f", mapping.to_str().unwrap(), "-f", query.to_str().unwrap()]);
    csv(&args)
}

fn on_files(dir: &Path, query: &str) -> Vec<Vec<String>> {
    csv(&["--data", dir.to_str().unwrap(), "-f", repo_file(&format!("queries/{query}")).to_str().unwrap()])
}

/// Same keys in the same order, same n, r within 1e-9 and p within 1e-6
/// (relative): Prometheus' answer is the incident's value to rounding
/// (cumulative counters, then a difference and a ratio in float64).
fn assert_same_ranking(prometheus: &[Vec<String>], files: &[Vec<String>], what: &str) {
    assert_eq!(prometheus[0], files[0], "{what}: header");
    assert_eq!(prometheus.len(), files.len(), "{what}: rows");
    for (a, b) in prometheus.iter().zip(files).skip(1) {
        assert_eq!((&a[0], &a[3]), (&b[0], &b[3]), "{what}: key and n");
        let (ra, rb): (f64, f64) = (a[1].parse().unwrap(), b[1].parse().unwrap());
        assert!((ra - rb).abs() <= 1e-9, "{what} {}: r {ra} vs {rb}", a[0]);
        let (pa, pb): (f64, f64) = (a[2].parse().unwrap(), b[2].parse().unwrap());
        assert!((pa - pb).abs() <= 1e-6 * pb, "{what} {}: p {pa} vs {pb}", a[0]);
    }
}

#[test]
fn saved_questions_match_the_parquet_files() {
    if !prom_server::available("saved_questions_match_the_parquet_files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (views, points) = (8, 1440);
    let server = PrometheusServer::start(dir.path(), views, points);
    let parquet = dir.path().join("parquet");
    prom_server::generate(&parquet, "parquet", views, points);
    for (query, rows) in [("rank_layers.sql", 11), ("rank_view_times.sql", views + 1), ("rank_view_throughputs.sql", views + 1)] {
        let from_prometheus = through_mapping(&server.url, query);
        let from_files = on_files(&parquet, query);
        assert_eq!(from_files.len(), rows, "{query}");
        assert_eq!(from_files[1][3], (points - 1).to_string(), "{query}: n");
        assert_same_ranking(&from_prometheus, &from_files, query);
    }
    // The same mapping on a cluster: prometheus(...) is read by the client,
    // the questions run on the executors.
    let cluster = crate::cluster::local_cluster_url();
    for query in ["rank_layers.sql", "rank_view_times.sql"] {
        let on_cluster = through_mapping_on(&["--cluster", &cluster], &server.url, query);
        assert_same_ranking(&on_cluster, &on_files(&parquet, query), &format!("{query} on a cluster"));
    }
    // The incident is found through Prometheus too.
    assert_eq!(through_mapping(&server.url, "rank_layers.sql")[1][0], "SQL");
    assert_eq!(through_mapping(&server.url, "rank_view_times.sql")[1][0], "apps/data");
    assert_eq!(through_mapping(&server.url, "rank_view_throughputs.sql")[1][0], "endpoints/sparkline");

    // Four hours at a 1 s step is 14,401 points a series: two requests,
    // joined without a repeated timestamp.
    let long = format!(
        "SELECT count(*) AS n, count(DISTINCT ts) AS distinct_ts, min(ts) AS first, max(ts) AS last FROM prometheus('{}', \
         'django_http_requests_before_middlewares_total', '2026-11-19T00:00:00Z', '2026-11-19T04:00:00Z', '1s')",
        server.url
    );
    assert_eq!(csv(&["-c", &long])[1], ["14401", "14401", "2026-11-19T00:00:00", "2026-11-19T04:00:00"]);

    // Labels as columns, instant form, labels= keeping a column on an empty answer.
    let labels = format!("SELECT * FROM prometheus('{}', 'django_db_query_duration_seconds_count', '{START}') ", server.url);
    assert_eq!(csv(&["-c", &labels])[0], ["ts", "__name__", "alias", "vendor", "value"]);
    let empty = format!("SELECT * FROM prometheus('{}', 'no_such_metric', '{START}', '{END}', '1m', 'labels=view')", server.url);
    assert_eq!(csv(&["-c", &empty]), [["ts", "view", "value"]]);

    // A PromQL mistake: Prometheus' own error, naming the server.
    let bad = format!("SELECT * FROM prometheus('{}', 'sum(rate(x[1m])', '{START}', '{END}', '1m')", server.url);
    let message = error(&["-c", &bad]);
    assert!(message.contains(&format!("prometheus {}: Prometheus answered bad_data:", server.url)), "{message}");

    // A saved answer (as curl -o would keep it) loads from --data as the same rows.
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let promql = "sum by (view) (rate(django_http_requests_total_by_view_transport_method_total[1m])) * 60";
    std::fs::write(exports.join("throughput.json"), server.get("query_range", &[("query", promql), ("start", START), ("end", END), ("step", "60")])).unwrap();
    let summary = "SELECT count(*) AS n, count(DISTINCT view) AS views, sum(value) AS total FROM";
    let from_file = csv(&["--data", exports.to_str().unwrap(), "-c", &format!("{summary} throughput")]);
    let from_server = csv(&["-c", &format!("{summary} prometheus('{}', '{promql}', '{START}', '{END}', '60')", server.url)]);
    assert_eq!(from_file, from_server);
    assert_eq!(from_file[1][..2], [(points * views).to_string(), views.to_string()]);
}

#[test]
fn unreachable_and_silent_servers_are_one_line_errors() {
    let nobody = format!("http://127.0.0.1:{}", prom_server::free_port());
    let message = error(&["-c", &format!("SELECT * FROM prometheus('{nobody}', 'up', '{START}', '{END}', '1m')")]);
    assert!(message.contains(&format!("prometheus {nobody}: connection refused")), "{message}");

    // Accepts the connection, reads the request, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.read(&mut [0u8; 1024]);
        std::thread::sleep(Duration::from_secs(3));
    });
    let message = error(&["-c", &format!("SELECT * FROM prometheus('{silent}', 'up', '{START}', 'timeout=1s')")]);
    assert!(message.contains(&format!("prometheus {silent}: no answer within 1s")), "{message}");
    holder.join().unwrap();

    let message = error(&["-c", &format!("SELECT * FROM prometheus('{nobody}', 'up', '{START}', '{END}', 'soon')")]);
    assert!(message.contains("'soon' is not a duration"), "{message}");
}

#[test]
fn json_exports_load_by_content_and_malformed_ones_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("scout_app.json"),
        r#"{"header":{"status":{"code":200,"message":"OK"},"apiVersion":"0.1"},
            "results":{"series":{"response_time":[["2026-11-19T00:00:00Z",120.5],["2026-11-19T00:01:00Z",130]],
                                 "throughput":[["2026-11-19T00:00:00Z",300],["2026-11-19T00:01:00Z",310.5]]}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("instant.json"),
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"django"},"value":[1795046400,"NaN"]}]}}"#,
    )
    .unwrap();
    let data = dir.path().to_str().unwrap();
    let scout = csv(&["--data", data, "-c", "SELECT metric, count(*), sum(value) FROM scout_app GROUP BY metric ORDER BY metric"]);
    assert_eq!(scout, [["metric", "count(*)", "sum(scout_app.value)"], ["response_time", "2", "250.5"], ["throughput", "2", "610.5"]]);
    assert_eq!(csv(&["--data", data, "-c", "SELECT * FROM instant"])[1], ["2026-11-19T00:00:00", "up", "django", "NaN"]);

    std::fs::write(dir.path().join("cut.json"), "{\"status\":\"success\",\n\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{}").unwrap();
    let message = error(&["--data", data, "-c", "SELECT 1"]);
    assert!(message.contains("cut.json:2:") && message.contains("is the export complete?"), "{message}");
    std::fs::write(dir.path().join("cut.json"), r#"{"status":"error","errorType":"timeout","error":"query timed out"}"#).unwrap();
    let message = error(&["--data", data, "-c", "SELECT 1"]);
    assert!(message.ends_with("cut.json: Prometheus answered timeout: query timed out"), "{message}");
}
