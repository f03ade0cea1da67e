//! The same SQL on a Ballista cluster as in one process: the `.slt` suite
//! and the table functions on an in-process cluster (scheduler and two
//! executors configured as `perfcorr cluster …` configures them), and the
//! saved queries on a real one — a scheduler and two executor processes
//! on free loopback ports — over a generated incident of 1,000 views.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use perfcorr::cluster::client::connect;
use perfcorr::cluster::local::{free_port, wait_for_port, LocalCluster};
use perfcorr::datafusion::prelude::SessionContext;

use crate::common::rows;

/// One in-process cluster for every test of this file (each test has its
/// own runtime, so the cluster gets a runtime of its own too).
pub fn local_cluster_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let cluster = LocalCluster::start(2, 2).await.unwrap();
                sender.send(cluster.url.clone()).unwrap();
                std::future::pending::<()>().await;
                drop(cluster);
            });
        });
        receiver.recv().unwrap()
    })
    .clone()
}

async fn cluster_session() -> SessionContext {
    connect(&local_cluster_url()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files_on_a_cluster() {
    crate::slt::run_slt_files(cluster_session).await;
}

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The statement of a saved query file (comments and the final `;` removed).
fn saved_query(name: &str) -> String {
    let text = std::fs::read_to_string(repo(&format!("queries/{name}.sql"))).unwrap();
    let sql: String = text.lines().filter(|line| !line.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    sql.trim().trim_end_matches(';').to_string()
}

/// Both sessions answer `sql` with the same rows (floats within 1e-12).
async fn assert_same_answer(single: &SessionContext, cluster: &SessionContext, sql: &str) {
    let expected = rows(single, sql).await;
    let actual = rows(cluster, sql).await;
    assert!(!expected.is_empty(), "{sql}: no rows to compare");
    crate::common::assert_rows_close(&actual, &expected, sql);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_queries_and_table_functions_on_the_bundled_sample() {
    let single = perfcorr::session();
    let cluster = cluster_session().await;
    for ctx in [&single, &cluster] {
        perfcorr::cli::data::register_sample(ctx).unwrap();
    }
    for name in ["rank_layers", "rank_view_times", "rank_view_throughputs", "raw_vs_diff"] {
        assert_same_answer(&single, &cluster, &saved_query(name)).await;
    }
    for sql in [
        "SELECT * FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms')",
        "SELECT series, r FROM rank_correlations('layers', 'layer', 'ms', 'app', 'response_ms', 'periods=2') WHERE n > 10",
        // A table function beside a table, and inside a subquery.
        "SELECT v.view, count(*) AS points FROM views v JOIN (SELECT series FROM rank_correlations('views', 'view', 'throughput_rpm', 'app', 'response_ms') ORDER BY q, series LIMIT 3) t ON v.view = t.series GROUP BY v.view ORDER BY v.view",
        // Two calls of one table function in one query.
        "SELECT a.series, a.r AS r_time, b.r AS r_traffic FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms') a \
         JOIN rank_correlations('views', 'view', 'throughput_rpm', 'app', 'response_ms') b ON a.series = b.series ORDER BY a.series",
        "SELECT layer, sparkline(ms, 20 ORDER BY ts) AS shape FROM layers GROUP BY layer ORDER BY layer",
        "SELECT count(*) AS tables FROM information_schema.tables t JOIN (SELECT DISTINCT layer FROM layers) l ON true WHERE t.table_name = 'views'",
    ] {
        assert_same_answer(&single, &cluster, sql).await;
    }
    // Tables made on the client are sent with the queries that read them.
    for ctx in [&single, &cluster] {
        ctx.sql("CREATE TABLE top AS SELECT view, avg(response_ms) AS ms FROM views GROUP BY view ORDER BY ms DESC LIMIT 5").await.unwrap().collect().await.unwrap();
        ctx.sql("INSERT INTO top VALUES ('extra', 1.5)").await.unwrap().collect().await.unwrap();
    }
    assert_same_answer(&single, &cluster, "SELECT view, ms FROM top ORDER BY ms DESC").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rank_causes_on_the_bundled_real_incident() {
    let single = perfcorr::session();
    let cluster = cluster_session().await;
    for ctx in [&single, &cluster] {
        perfcorr::cli::data::register_directories(ctx, &[repo("sample_data/petshop")]).await.unwrap();
    }
    assert_same_answer(&single, &cluster, &saved_query("rank_causes")).await;
}

/// Child processes killed (and reaped) when dropped.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(args: &[&str], log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_perfcorr"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// `perfcorr [--cluster URL] -q --format csv --data DIR -f queries/NAME.sql`, as lines.
fn saved_question_csv(cluster: Option<&str>, data: &Path, name: &str) -> Vec<Vec<String>> {
    let mut command = crate::common::perfcorr();
    if let Some(url) = cluster {
        command.args(["--cluster", url]);
    }
    let output = command.args(["-q", "--format", "csv", "--data"]).arg(data).arg("-f").arg(repo(&format!("queries/{name}.sql"))).output().unwrap();
    assert!(output.status.success(), "{name} on {cluster:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|line| line.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn saved_queries_on_a_scheduler_and_two_executor_processes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("incident");
    let status = crate::common::perfcorr().args(["generate", "--views", "1000", "--points", "1440", "--out"]).arg(&data).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));

    let port = free_port().unwrap().to_string();
    let url = format!("df://127.0.0.1:{port}");
    let mut processes = Processes(vec![spawn(&["cluster", "scheduler", "--port", &port], &dir.path().join("scheduler.log"))]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(wait_for_port(port.parse().unwrap())).unwrap();
    let mut flight_ports = Vec::new();
    let work_dirs: Vec<_> = (0..2).map(|k| dir.path().join(format!("work{k}"))).collect();
    for (k, work_dir) in work_dirs.iter().enumerate() {
        let (flight, grpc) = (free_port().unwrap().to_string(), free_port().unwrap().to_string());
        let log = dir.path().join(format!("executor{k}.log"));
        let work_dir = work_dir.to_str().unwrap();
        let args = ["cluster", "executor", "--scheduler", &url, "--port", &flight, "--grpc-port", &grpc, "--concurrency", "2", "--work-dir", work_dir];
        processes.0.push(spawn(&args, &log));
        flight_ports.push(flight);
    }
    for port in &flight_ports {
        runtime.block_on(wait_for_port(port.parse().unwrap())).unwrap();
    }

    // Every saved query: the questions (and the rest) on the generated
    // incident, rank_causes on the bundled real one; from_prometheus.sql needs
    // a Prometheus server (tests/it/prometheus.rs runs it, on a cluster too).
    let mut names: Vec<String> = std::fs::read_dir(repo("queries"))
        .unwrap()
        .filter_map(|entry| entry.unwrap().path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|name| name != "from_prometheus")
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    for name in &names {
        let folder = if name == "rank_causes" { repo("sample_data/petshop") } else { data.clone() };
        let expected = saved_question_csv(None, &folder, name);
        let actual = saved_question_csv(Some(&url), &folder, name);
        assert!(expected.len() > 3, "{name}: {expected:?}");
        assert_eq!(actual.len(), expected.len(), "{name}: row counts");
        for (a, e) in actual.iter().zip(&expected) {
            assert_eq!(a[0], e[0], "{name}: ranking");
            for (x, y) in a.iter().zip(e).skip(1) {
                match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => assert!((x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1e-300), "{name} {}: {x:e} vs {y:e}", a[0]),
                    _ => assert_eq!(x, y, "{name} {}", a[0]),
                }
            }
        }
    }
    // The executors ran the queries: their shuffle output is in their work folders.
    let jobs: usize = work_dirs.iter().map(|d| std::fs::read_dir(d).map_or(0, |entries| entries.count())).sum();
    assert!(jobs >= 3, "{jobs} job folders in the executors' work folders");

    // The prompt's table listing (scalar subqueries under UNION ALL and ORDER BY).
    let output = crate::common::perfcorr().args(["--cluster", &url, "-q", "--data"]).arg(&data).args(["-c", "\\d"]).output().unwrap();
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && listing.contains("| views      | 1440000 |"), "{listing}{}", String::from_utf8_lossy(&output.stderr));

    for (k, child) in processes.0.iter_mut().enumerate() {
        assert!(child.try_wait().unwrap().is_none(), "process {k} exited early");
    }
}

#[test]
fn an_unreachable_scheduler_is_a_one_line_error() {
    let port = free_port().unwrap().to_string();
    let url = format!("df://127.0.0.1:{port}");
    let output = crate::common::perfcorr().args(["--cluster", &url, "-q", "-c", "SELECT count(*) FROM views"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("refused"), "{stderr}");
    let output = crate::common::perfcorr().args(["--cluster", "s3://bucket", "-c", "SELECT 1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("df://HOST:PORT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_planned_as_stages_on_the_cluster() {
    let cluster = cluster_session().await;
    perfcorr::cli::data::register_sample(&cluster).unwrap();
    let plan = rows(&cluster, "EXPLAIN SELECT layer, pearson_r(ms, ms) FROM layers GROUP BY layer").await;
    let kinds: Vec<&str> = plan.iter().map(|row| row[0].text()).collect();
    assert!(kinds.contains(&"distributed_plan"), "{kinds:?}");
}

#[test]
fn cluster_servers_report_bad_arguments_in_one_line() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let cases: [(&[&str], &str); 3] = [
        (&["cluster", "scheduler", "--port", &port], &port),
        (&["cluster", "scheduler", "--memory-limit", "1G"], "--memory-limit"),
        (&["cluster", "executor", "--scheduler", "s3://bucket"], "df://HOST:PORT"),
    ];
    for (args, expected) in cases {
        let output = crate::common::perfcorr().args(args).timeout(std::time::Duration::from_secs(30)).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert!(!output.status.success(), "{args:?}: {stderr}");
        assert!(errors.len() == 1 && errors[0].contains(expected), "{args:?}: {stderr}");
    }
}
