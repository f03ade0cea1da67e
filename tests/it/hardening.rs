//! What a new user or an adversary types, through the binary: long and deep
//! generated SQL (answer or a one-line error, never an abort), a cut-off CSV,
//! writes into the data folder (refused, the folder left as it was), and the
//! `view` column unquoted.

use std::collections::BTreeMap;
use std::path::Path;

use predicates::prelude::*;
use predicates::str::contains;

use crate::common::perfcorr;


fn one_line_error(expected: &str) -> impl Predicate<str> {
    contains(expected.to_string()).and(predicate::str::starts_with("error: ")).and(predicate::str::is_match("^[^\n]*\n$").unwrap())
}

fn sum_of_ones(terms: usize) -> String {
    format!("SELECT {} AS s", vec!["1"; terms].join(" + "))
}

/// Every file under `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walk(dir) {
        files.insert(entry.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&entry).unwrap());
    }
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn view_is_a_column_name_anywhere() {
    perfcorr()
        .args(["-q", "--format", "csv", "-c", "SELECT ts, view FROM views WHERE view = 'apps/data' ORDER BY ts LIMIT 1"])
        .assert()
        .success()
        .stdout("ts,view\n2026-11-19T00:00:00,apps/data\n");
    perfcorr()
        .args(["-q", "--format", "csv", "-c", "SELECT count(DISTINCT view) AS views, max(v.view) AS last FROM views AS v", "-c", "\\d views"])
        .assert()
        .success()
        .stdout(contains("views,last\n160,users/update\n").and(contains("view,Utf8")));
}

/// Runs `sql` from a file (long SQL exceeds the limit of one argument).
fn run_long(sql: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.sql");
    std::fs::write(&file, format!("{sql};\n")).unwrap();
    perfcorr().args(["-q", "--format", "csv", "-f"]).arg(&file).assert()
}

#[test]
fn long_generated_sql_answers_or_fails_on_one_line() {
    // A sum of 500 terms is answered; of 10,000, a one-line error, in batch mode.
    run_long(&sum_of_ones(500)).success().stdout("s\n500\n");
    run_long(&sum_of_ones(10_000)).code(1).stderr(one_line_error("long.sql:1: expression nested more than"));
    // 10,000 terms of OR, or of AND, are rebalanced and answered.
    let ors: Vec<String> = (0..10_000).map(|k| format!("view = 'v{k}'")).collect();
    run_long(&format!("SELECT count(*) AS n FROM views WHERE {} OR view = 'apps/data'", ors.join(" OR "))).success().stdout("n\n1440\n");
    let ands: Vec<String> = (0..10_000).map(|k| format!("view <> 'v{k}'")).collect();
    run_long(&format!("SELECT count(*) AS n FROM views WHERE {} AND view <> 'apps/data'", ands.join(" AND "))).success().stdout("n\n228960\n");
    let mixed: Vec<String> = (0..3_000).map(|k| format!("(ts > TIMESTAMP '2026-11-19 0{}:00:00' OR view <> 'v{k}')", k % 10)).collect();
    let first_rows = "SELECT * FROM views WHERE view = 'apps/data' ORDER BY ts LIMIT 100";
    run_long(&format!("SELECT count(*) AS n FROM ({first_rows}) WHERE {}", mixed.join(" AND "))).success().stdout("n\n100\n");
    // Flat lists are not nested: 20,000 IN items and 2,000 columns are answered.
    let items: Vec<String> = (0..20_000).map(|k| format!("'v{k}'")).collect();
    run_long(&format!("SELECT count(*) AS n FROM views WHERE view IN ({}, 'apps/data')", items.join(", "))).success().stdout("n\n1440\n");
    let columns: Vec<String> = (0..2_000).map(|k| format!("{k} AS c{k}")).collect();
    run_long(&format!("SELECT count(*) AS n FROM (SELECT {})", columns.join(", "))).success().stdout("n\n1\n");
    // Deeply nested subqueries and parentheses hit the parser's limit.
    run_long(&format!("SELECT x FROM {}(SELECT 1 AS x){}", "(SELECT x FROM ".repeat(80), ")".repeat(80)))
        .code(1)
        .stderr(one_line_error("RecursionLimitExceeded"));
    run_long(&format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000))).code(1).stderr(one_line_error("RecursionLimitExceeded"));
}

#[test]
fn a_cut_off_csv_is_an_error_naming_file_and_line() {
    let cases = [
        ("ts,layer,ms\n2026-01-01T00:00:00Z,SQL,1\n2026-01-01T00:01:00Z,SQL,\"7", "layers.csv:3: a quoted field opens here and never closes"),
        ("ts,layer,ms\n2026-01-01T00:00:00Z,\"SQL,1\n2026-01-01T00:01:00Z,SQL,2\n", "layers.csv:2: a quoted field opens here"),
        ("ts,layer,ms\n2026-01-01T00:00:00Z,\"S\"\"QL\"\"\n", "layers.csv:2: a quoted field opens here"),
    ];
    for (text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("layers.csv"), text).unwrap();
        perfcorr().arg("--data").arg(dir.path()).args(["-c", "SELECT 1"]).assert().code(1).stderr(one_line_error(expected));
        assert_eq!(std::fs::read_to_string(dir.path().join("layers.csv")).unwrap(), text);
    }
    // Quotes that close, escaped quotes and a quote inside an unquoted field still load.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("layers.csv"), "ts,layer,ms\n2026-01-01T00:00:00Z,\"S\"\"QL, \"\"db\"\"\",1\n2026-01-01T00:01:00Z,5\" disk,\"2\"\n").unwrap();
    perfcorr()
        .arg("--data")
        .arg(dir.path())
        .args(["-q", "--format", "csv", "-c", "SELECT layer, ms FROM layers ORDER BY ts"])
        .assert()
        .success()
        .stdout("layer,ms\n\"S\"\"QL, \"\"db\"\"\",1.0\n\"5\"\" disk\",2.0\n");
}

#[test]
fn writes_into_the_data_folder_are_refused() {
    let data = tempfile::tempdir().unwrap();
    perfcorr().args(["generate", "--views", "2", "--points", "10", "--out"]).arg(data.path()).assert().success();
    std::fs::write(data.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
    let before = snapshot(data.path());
    let d = data.path().display().to_string();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("out.csv").display().to_string();
    let refused = [
        format!("COPY (SELECT 1 AS a) TO '{d}/layers.parquet'"),
        format!("COPY (SELECT 1 AS a) TO '{d}/notes.csv'"),
        format!("COPY (SELECT 1 AS a) TO '{d}/new.csv'"),
        format!("COPY (SELECT 1 AS a) TO '{d}/sub/dir/' STORED AS CSV"),
        format!("COPY (SELECT 1 AS a) TO '{d}/../{}/x.csv'", data.path().file_name().unwrap().to_str().unwrap()),
        format!("COPY (SELECT 1 AS a) TO 'file://{d}/x.json'"),
        format!("COPY app TO '{d}/app.parquet'"),
        "INSERT INTO app SELECT * FROM app".to_string(),
        format!("CREATE EXTERNAL TABLE e STORED AS PARQUET LOCATION '{d}/app.parquet'; INSERT INTO e SELECT * FROM app"),
        format!("CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '{d}/' OPTIONS ('format.has_header' 'true'); INSERT INTO e VALUES (1, 2)"),
        format!("EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{d}/x.csv'"),
        format!("COPY (SELECT 1 AS a) TO '{outside}'; CREATE EXTERNAL TABLE mine STORED AS CSV LOCATION '{outside}'; COPY (SELECT 2 AS a) TO '{outside}'"),
    ];
    for sql in &refused {
        perfcorr().arg("--data").arg(data.path()).args(["-q", "-c", sql]).assert().code(1).stderr(one_line_error("refused"));
        assert_eq!(snapshot(data.path()), before, "{sql} changed the data folder");
    }
    for url in [format!("FILE://{d}/app.parquet"), format!("file:{d}/app.parquet"), format!("file://localhost{d}/app.parquet")] {
        perfcorr().arg("--data").arg(data.path()).args(["-q", "-c", &format!("COPY (SELECT 1 AS a) TO '{url}' STORED AS PARQUET")]).assert().code(1).stderr(one_line_error("refused"));
    }
    // A report is a write too.
    perfcorr().args(["report", "--data"]).arg(data.path()).arg("--out").arg(data.path().join("app.parquet")).assert().code(1).stderr(one_line_error("refused"));
    assert_eq!(snapshot(data.path()), before);
    // Elsewhere, writing stays the user's choice; cwd-relative paths resolve.
    perfcorr().arg("--data").arg(data.path()).args(["-q", "-c", &format!("COPY (SELECT 1 AS a) TO '{}/fresh.csv'", elsewhere.path().display())]).assert().success();
    assert!(elsewhere.path().join("fresh.csv").exists());
    perfcorr().current_dir(data.path()).arg("--data").arg(".").args(["-q", "-c", "COPY (SELECT 1 AS a) TO 'rel.csv'"]).assert().code(1).stderr(one_line_error("refused"));
    assert_eq!(snapshot(data.path()), before);
}
