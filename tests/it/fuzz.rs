//! A time-bounded fuzz test of what reaches perfcorr from outside: random
//! corruptions of valid CSV, JSON and Parquet files through the data loader,
//! and random token soups of SQL (keywords, perfcorr's functions, numbers,
//! quotes, parentheses, writes aimed at the data folder) through the same
//! statement runner as the binary. Asserted for every case: no panic (the
//! runner would report one as an "internal error"), no hang (each case has a
//! time limit), errors on one line, and the data folder byte for byte as it
//! was. The random cases are seeded, so a failure repeats; inputs that found
//! bugs are kept in `tests/fuzz_corpus/` and replayed first.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use perfcorr::cli::data::{register_directories, LoadedData};
use perfcorr::cli::exec::Runner;
use perfcorr::cli::format::OutputFormat;
use perfcorr::incident::{write_incident, FileFormat, IncidentSpec, Output};

use crate::hardening::snapshot;

/// How long each half of the fuzz test runs (CI has 2 cores, a debug build).
const BUDGET: Duration = Duration::from_secs(12);
/// A single case taking longer than this counts as a hang.
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// xorshift64*: small, seeded, good enough to pick mutations.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// Runs the test body on a deep stack with a runtime like the binary's.
fn run_like_the_binary<F: std::future::Future<Output = ()>>(body: impl FnOnce() -> F + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(perfcorr::cli::STACK_BYTES)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .thread_stack_size(perfcorr::cli::STACK_BYTES)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(body());
        })
        .unwrap()
        .join()
        .unwrap();
}

fn assert_one_line(message: &str, case: &str) {
    assert!(!message.contains('\n'), "{case}: error on several lines: {message}");
    assert!(!message.contains("internal error"), "{case}: panic: {message}");
}

/// Valid files to corrupt: an incident as CSV and Parquet, and NDJSON.
fn seeds(dir: &Path) -> Vec<PathBuf> {
    let spec = IncidentSpec { views: 3, points: 40, seed: 3 };
    let mut files = Vec::new();
    for (format, sub) in [(FileFormat::Csv, "csv"), (FileFormat::Parquet, "parquet")] {
        files.extend(write_incident(spec, &dir.join(sub), Output { format, sort_metadata: true }).unwrap());
    }
    let json = dir.join("events.ndjson");
    let lines: Vec<String> = (0..30).map(|k| format!("{{\"ts\":\"2026-01-01T00:{k:02}:00Z\",\"layer\":\"SQL\",\"ms\":{}.5}}", k % 7)).collect();
    std::fs::write(&json, lines.join("\n")).unwrap();
    files.push(json);
    files
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    const SPECIAL: &[u8] = b"\",\n\r{}[]:\\\0\xff0-.eE";
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            2 => bytes.insert(at, *rng.pick(SPECIAL)),
            3 => {
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ if at < bytes.len() => bytes[at] = *rng.pick(SPECIAL),
            _ => {}
        }
    }
}

/// Loads `dir` and, if it loads, queries each table; panics on a broken promise.
async fn load_and_query(dir: &Path, case: &str) {
    let before = snapshot(dir);
    let ctx = perfcorr::session();
    let dirs = vec![dir.to_path_buf()];
    let loading = tokio::spawn(async move { register_directories(&ctx, &dirs).await.map(|data| (ctx, data)) });
    let loaded = tokio::time::timeout(CASE_LIMIT, loading).await.unwrap_or_else(|_| panic!("{case}: loading hangs"));
    match loaded.unwrap_or_else(|e| panic!("{case}: loading panicked: {e}")) {
        Err(message) => assert_one_line(&message, case),
        Ok((ctx, data)) => {
            let tables = data.tables.clone();
            let mut runner = Runner::new(ctx, data, OutputFormat::Csv, false, true);
            for table in tables {
                for sql in [format!("SELECT * FROM {table} LIMIT 3"), format!("SELECT count(*) FROM {table}")] {
                    run(&mut runner, &sql, case).await;
                }
            }
        }
    }
    assert_eq!(snapshot(dir), before, "{case}: the data folder changed");
}

async fn run(runner: &mut Runner, sql: &str, case: &str) {
    let mut out = Vec::new();
    let result = tokio::time::timeout(CASE_LIMIT, runner.run_sql(sql, &mut out))
        .await
        .unwrap_or_else(|_| panic!("{case}: {sql:?} hangs"));
    if let Err(failure) = result {
        assert_one_line(&failure.to_string(), &format!("{case}: {sql:?}"));
    }
}

#[test]
fn corrupted_data_files_load_or_fail_on_one_line() {
    run_like_the_binary(|| async {
        for file in corpus("files") {
            let dir = tempfile::tempdir().unwrap();
            std::fs::copy(&file, dir.path().join(file.file_name().unwrap())).unwrap();
            load_and_query(dir.path(), &file.display().to_string()).await;
        }
        let work = tempfile::tempdir().unwrap();
        let seeds = seeds(work.path());
        let mut rng = Rng(0x5eed_f11e);
        let started = Instant::now();
        let mut cases = 0;
        while started.elapsed() < BUDGET {
            let seed = rng.pick(&seeds).clone();
            let mut bytes = std::fs::read(&seed).unwrap();
            mutate(&mut rng, &mut bytes);
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(seed.file_name().unwrap()), &bytes).unwrap();
            load_and_query(dir.path(), &format!("mutation {cases} of {}", seed.display())).await;
            cases += 1;
        }
        assert!(cases > 20, "only {cases} cases ran");
    });
}

#[test]
fn token_soup_sql_fails_on_one_line() {
    run_like_the_binary(|| async {
        let data = tempfile::tempdir().unwrap();
        write_incident(IncidentSpec { views: 3, points: 40, seed: 5 }, data.path(), Output { format: FileFormat::Parquet, sort_metadata: true }).unwrap();
        std::fs::write(data.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
        let before = snapshot(data.path());
        let ctx = perfcorr::session();
        let loaded: LoadedData = register_directories(&ctx, &[data.path().to_path_buf()]).await.unwrap();
        let mut runner = Runner::new(ctx, loaded, OutputFormat::Csv, false, true);
        for file in corpus("sql") {
            let text = std::fs::read_to_string(&file).unwrap().replace("<DIR>", &data.path().display().to_string());
            run(&mut runner, &text, &file.display().to_string()).await;
        }
        let target = format!("'{}/layers.parquet'", data.path().display());
        let tokens: Vec<&str> = vec![
            "SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "JOIN", "USING", "ON", "OVER", "PARTITION BY",
            "WITH", "AS", "UNION", "CASE", "WHEN", "THEN", "ELSE", "END", "AND", "OR", "NOT", "IN", "IS", "NULL", "DISTINCT",
            "CAST", "::double", "INSERT INTO", "VALUES", "COPY", "TO", &target, "CREATE TABLE", "DROP TABLE", "EXPLAIN",
            "diff", "pearson_r", "pearson_p", "pearson_n", "pearson_ci_low", "spearman_r", "shift_p", "xcorr_lag",
            "pearson_p_eff", "p_adjust", "pearson_p_from_r", "log10_p_from_r", "rank_correlations", "pearson_summary",
            "app", "layers", "views", "ts", "ms", "layer", "view", "response_ms", "throughput_rpm", "*",
            "(", ")", "(", ")", ",", ",", ";", "+", "-", "*", "/", "%", "=", "<", ">=", "||", ".",
            "0", "1", "-1", "2.5", "1e308", "-1e-308", "9223372036854775807", "'NaN'", "'inf'", "'a'", "''", "'", "\"", "\"view\"",
            "'views'", "'view'", "'response_ms'", "'app'", "'*'", "'raw'", "'max_lag=3'", "'periods=-2'",
        ];
        let mut rng = Rng(0x50_0b_5e);
        let started = Instant::now();
        let mut cases = 0;
        while started.elapsed() < BUDGET {
            let length = 1 + rng.below(30);
            let mut sql: Vec<&str> = (0..length).map(|_| *rng.pick(&tokens)).collect();
            if rng.below(2) == 0 {
                sql.insert(0, "SELECT");
            }
            run(&mut runner, &sql.join(" "), &format!("soup {cases}")).await;
            cases += 1;
        }
        assert!(cases > 100, "only {cases} cases ran");
        assert_eq!(snapshot(data.path()), before, "the data folder changed");
    });
}
