//! The `perfcorr` binary in batch mode: -c, -f, stdin, formats, exit codes,
//! one-line errors, data loading, `generate`, and the saved queries' answers
//! on the bundled incident.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;

use crate::common::{perfcorr, rank_causes_nodes};

fn query_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries").join(name)
}

/// Runs a saved query on the bundled incident and returns its CSV rows.
fn saved_query_rows(name: &str) -> Vec<Vec<String>> {
    let output = perfcorr().args(["-q", "--format", "csv", "-f"]).arg(query_file(name)).output().unwrap();
    assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn saved_queries_find_the_incident() {
    let layers = saved_query_rows("rank_layers.sql");
    assert_eq!(layers[0][0], "SQL");
    assert_eq!(layers.len(), 10);
    let p: f64 = layers[0][2].parse().unwrap();
    assert!(p < 1e-100, "SQL's p-value {p}");
    assert_eq!(saved_query_rows("rank_view_times.sql")[0][0], "apps/data");
    let throughputs = saved_query_rows("rank_view_throughputs.sql");
    assert_eq!(throughputs[0][0], "endpoints/sparkline");
    for row in saved_query_rows("raw_vs_diff.sql") {
        let (raw_r, diff_r): (f64, f64) = (row[1].parse().unwrap(), row[3].parse().unwrap());
        assert!(raw_r > 0.4 && diff_r.abs() < 0.1, "{row:?}");
    }
}

#[test]
fn report_controls_false_discoveries() {
    // 160 throughput series: raw p < 0.05 flags 21 of them, BH q < 0.05 only the real one.
    perfcorr()
        .args(["-q", "--format", "csv", "-c"])
        .arg("SELECT count(*) FILTER (WHERE p < 0.05) AS raw, count(*) FILTER (WHERE q < 0.05) AS bh, \
              count(*) FILTER (WHERE q < 0.05 AND series = 'endpoints/sparkline') AS sparkline \
              FROM rank_correlations('views', 'view', 'throughput_rpm', 'app', 'response_ms')")
        .assert()
        .success()
        .stdout("raw,bh,sparkline\n21,1,1\n");
    let report = saved_query_rows("report.sql");
    assert_eq!(report[0][0], "SQL");
    assert_eq!(report.last().unwrap()[0], "endpoints/sparkline");
}

#[test]
fn commands_and_files_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.sql");
    std::fs::write(&file, "SELECT 2 AS n;\n").unwrap();
    perfcorr()
        .args(["-q", "--format", "csv", "-c", "SELECT 1 AS n", "-f"])
        .arg(&file)
        .args(["-c", "SELECT 3 AS n; SELECT 4 AS n"])
        .assert()
        .success()
        .stdout("n\n1\nn\n2\nn\n3\nn\n4\n");
}

#[test]
fn reads_statements_from_stdin() {
    perfcorr()
        .args(["--format", "ndjson"])
        .write_stdin("SELECT 'a' AS x;\n-- a comment; with a semicolon\nSELECT pearson_n(ms, ms) AS n FROM layers WHERE layer = 'SQL'")
        .assert()
        .success()
        .stdout("{\"x\":\"a\"}\n{\"n\":1440}\n");
}

#[test]
fn every_format() {
    let sql = "SELECT pearson_p_from_r(0.99, 100) AS p, CAST(NULL AS DOUBLE) AS missing, 'a' AS s";
    let run = |format: &str| {
        let output = perfcorr().args(["-q", "--format", format, "-c", sql]).output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(run("csv"), "p,missing,s\n3.575168889781881e-85,,a\n");
    assert_eq!(run("json"), "[{\"p\":3.575168889781881e-85,\"missing\":null,\"s\":\"a\"}]\n");
    assert_eq!(run("ndjson"), "{\"p\":3.575168889781881e-85,\"missing\":null,\"s\":\"a\"}\n");
    assert_eq!(run("markdown"), "| p | missing | s |\n|---|---|---|\n| 3.575168889781881e-85 |  | a |\n");
    let table = run("table");
    assert!(table.contains("| p                     | missing | s |"), "{table}");
    assert!(table.contains("| 3.575168889781881e-85 |         | a |"), "{table}");
}

#[test]
fn errors_are_one_line_with_location_and_exit_1() {
    perfcorr()
        .args(["-c", "SELECT 1", "-c", "SELEC 1", "-c", "SELECT 3"])
        .assert()
        .code(1)
        .stdout(contains("1").and(contains("3").not()))
        .stderr(predicate::str::starts_with("error: -c #2: ").and(predicate::str::is_match("^[^\n]*\n$").unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sql");
    std::fs::write(&file, "SELECT 1;\n\n-- next one fails\nSELECT pearson_r('a', 1);\n").unwrap();
    perfcorr()
        .arg("-f")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {}:4: ", file.display())).and(contains("pearson_r(x: numeric, y: numeric)")));
    // A file included from -c keeps its own location.
    perfcorr()
        .arg("-c")
        .arg(format!("\\i {}", file.display()))
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!("error: {}:4: ", file.display())));
    perfcorr()
        .args(["-f", "no/such/file.sql"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: no/such/file.sql: "));
    perfcorr().args(["-c", "\\nonsense"]).assert().code(1).stderr(contains("\\?"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn loads_csv_and_json_with_typed_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.csv", "ts,response_ms,throughput_rpm\n2026-01-01T00:00:00Z,10,100\n2026-01-01 00:01:00,12.5,90\n2026-01-01T00:02:00.250Z,11,95\n");
    write(dir.path(), "layers.ndjson", "{\"ts\":\"2026-01-01T00:00:00Z\",\"layer\":\"SQL\",\"ms\":1}\n{\"ts\":\"2026-01-01T00:01:00Z\",\"layer\":\"SQL\",\"ms\":3}\n");
    write(dir.path(), "notes.txt", "not a table");
    perfcorr()
        .arg("--data")
        .arg(dir.path())
        .args(["-q", "--format", "csv", "-c", "SELECT a.ts, a.response_ms, l.ms FROM app a JOIN layers l USING (ts) ORDER BY ts"])
        .assert()
        .success()
        .stdout("ts,response_ms,ms\n2026-01-01T00:00:00,10.0,1.0\n2026-01-01T00:01:00,12.5,3.0\n");
    perfcorr()
        .arg("--data")
        .arg(dir.path())
        .args(["-q", "--format", "csv", "-c", "\\d"])
        .assert()
        .success()
        .stdout("table_name,rows\napp,3\nlayers,2\n");
}

#[test]
fn bad_data_files_are_named_with_their_line_and_left_untouched() {
    let cases = [
        ("layers.csv", "ts,layer,ms\n2026-01-01T00:00:00Z,SQL,1\n2026-01-01T00:01:00Z,SQL,2,9\n", "layers.csv:3: "),
        ("layers.csv", "ts,layer,ms\n2026-01-01T00:00:00Z,SQL,1\nlater,SQL,2\n", "layers.csv:3: column ts: 'later' is not an ISO 8601 timestamp"),
        ("app.csv", "ts,response_ms\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,slow\n", "app.csv:3: column response_ms: 'slow' is not a number"),
        ("views.ndjson", "{\"ts\":\"2026-01-01T00:00:00Z\"}\n{oops\n", "views.ndjson:2: not a JSON object"),
        ("views.parquet", "PAR1 but not really", "views.parquet: "),
        ("empty.csv", "", "empty.csv: "),
        // A quoted value spanning lines is shown escaped, keeping the error on one line.
        ("layers.csv", "ts,ms\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,\"un\nclosed\"\n", "layers.csv:3: column ms: 'un\\nclosed' is not a number"),
    ];
    for (name, text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), name, text);
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        perfcorr()
            .arg("--data")
            .arg(dir.path())
            .args(["-c", "SELECT 1"])
            .assert()
            .code(1)
            .stderr(contains(expected).and(predicate::str::starts_with("error: ")).and(predicate::str::is_match("^[^\n]*\n$").unwrap()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{name} changed");
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
    }
    perfcorr().args(["--data", "no/such/dir", "-c", "SELECT 1"]).assert().code(1).stderr(contains("no/such/dir"));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "views.csv", "ts,v\n");
    write(dir.path(), "views.json", "[]");
    perfcorr().arg("--data").arg(dir.path()).args(["-c", "SELECT 1"]).assert().code(1).stderr(contains("two files for table 'views'"));
}

#[test]
fn generate_writes_loadable_csv_and_parquet() {
    for format in ["csv", "parquet"] {
        let dir = tempfile::tempdir().unwrap();
        perfcorr()
            .args(["generate", "--views", "5", "--points", "120", "--seed", "7", "--format", format, "--out"])
            .arg(dir.path())
            .assert()
            .success();
        perfcorr()
            .arg("--data")
            .arg(dir.path())
            .args(["-q", "--format", "csv", "-c", "SELECT (SELECT count(*) FROM app) AS a, (SELECT count(*) FROM layers) AS l, \
                    (SELECT count(DISTINCT view) FROM views) AS v, (SELECT count(*) FROM views) AS rows"])
            .assert()
            .success()
            .stdout("a,l,v,rows\n120,1200,5,600\n");
    }
}

#[test]
fn generate_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        perfcorr().args(["generate", "--views", "3", "--points", "30", "--format", "csv", "--out"]).arg(dir.path()).assert().success();
    }
    for table in ["app.csv", "layers.csv", "views.csv"] {
        let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(table)).unwrap();
        assert_eq!(read(&a), read(&b), "{table}");
    }
}

#[test]
fn rank_causes_names_the_bundled_real_incident() {
    // The exact measured command on the bundled PetShop incident (high_traffic_issue_0).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data/petshop");
    let nodes = rank_causes_nodes(&dir);
    assert_eq!(nodes.first().map(String::as_str), Some("PetSearch_AWS::ECS::Fargate"), "{nodes:?}");
    assert_eq!(nodes.len(), 4, "{nodes:?}");
    // A folder without an anomaly gives a header and no rows; bad input one error line.
    let calm = tempfile::tempdir().unwrap();
    write(calm.path(), "metrics.csv", "ts,node,metric,stat,value\n1,F,latency,Average,1\n2,F,latency,Average,1\n3,F,latency,Average,1\n1,A,latency,Average,2\n2,A,latency,Average,2\n3,A,latency,Average,2\n");
    write(calm.path(), "graph.csv", "caller,callee\nF,A\n");
    write(calm.path(), "target.csv", "node,metric,stat\nF,latency,Average\n");
    assert!(rank_causes_nodes(calm.path()).is_empty());
    write(calm.path(), "target.csv", "node,metric,stat\nG,latency,Average\n");
    perfcorr()
        .args(["-q", "--data"])
        .arg(calm.path())
        .args(["-f"])
        .arg(query_file("rank_causes.sql"))
        .assert()
        .code(1)
        .stderr(contains("rank_causes: target (node, metric, stat) = (G, latency, Average) of table 'target' has no values in table 'metrics'").and(predicate::str::is_match("^[^\n]*\n$").unwrap()));
}
