//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::format::OutputFormat;
use crate::incident::FileFormat;

/// perfcorr: which layer, view or traffic surge moved with your app's
/// response time? SQL over APM metrics with first differences, Pearson r and
/// exact p-values.
///
/// With no -c/-f, reads statements from stdin when it is not a terminal, and
/// otherwise starts an interactive prompt.
#[derive(Debug, Parser)]
#[command(name = "perfcorr", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Register every *.csv, *.parquet, *.json, *.ndjson file in DIR as a
    /// table named after the file (repeatable); a JSON Prometheus query
    /// response or Scout API metric response becomes the long table of its
    /// series. Default: the bundled sample incident.
    #[arg(long, value_name = "DIR", global = true)]
    pub data: Vec<PathBuf>,

    /// Run SQL (repeatable; runs in order with -f).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// Run the statements in FILE (repeatable; runs in order with -c).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format of query results.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Set a variable: ${NAME} (or ${NAME:-DEFAULT}) in statements is
    /// replaced by VALUE before they run (repeatable), e.g. --var
    /// prom=http://localhost:9090 for queries/from_prometheus.sql.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = super::vars::parse_var)]
    pub vars: Vec<(String, String)>,

    /// Quiet: no banner, no timing lines.
    #[arg(short, long)]
    pub quiet: bool,

    /// Run every query on the Ballista cluster whose scheduler is at URL
    /// (df://HOST:PORT; see `perfcorr cluster`). Parquet files are read by
    /// the executors at their absolute paths; CSV/JSON tables and the bundled
    /// sample are sent with the query.
    #[arg(long, value_name = "URL", global = true)]
    pub cluster: Option<String>,

    /// Memory for sorts, joins and aggregations (e.g. 4G, 512M); beyond it
    /// they spill to temporary files. Default: no limit (for `cluster
    /// executor`: the tasks' shared pool, default 70% of the machine's).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, global = true)]
    pub memory_limit: Option<usize>,
}

/// Parses `4G`, `512M`, `64K` or a byte count.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = text.find(|c: char| c.is_ascii_alphabetic()).map_or((text, ""), |i| text.split_at(i));
    let scale: f64 = match unit.to_ascii_uppercase().trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("'{text}': use a size like 4G, 512M or 65536")),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 => Ok((n * scale) as usize),
        _ => Err(format!("'{text}': use a size like 4G, 512M or 65536")),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a deterministic synthetic incident (app, layers, views tables).
    Generate(GenerateArgs),
    /// Write one self-contained HTML page answering the three questions
    /// (which layer, which view's response time, which view's traffic) for
    /// the loaded tables (app, layers, views), with charts.
    Report(ReportArgs),
    /// Run a scheduler or an executor of a perfcorr cluster (Apache
    /// DataFusion Ballista with perfcorr's functions); query it with
    /// `perfcorr --cluster df://HOST:PORT`.
    #[cfg(feature = "cluster")]
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

#[cfg(feature = "cluster")]
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Start a scheduler: it plans each query and hands its stages to the executors.
    Scheduler {
        /// Address to listen on (0.0.0.0 for every interface).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Port to listen on.
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Host name executors and clients reach this scheduler by (default: --bind).
        #[arg(long)]
        external_host: Option<String>,
    },
    /// Start an executor: it runs stages for the scheduler and serves their output to other executors.
    Executor {
        /// The scheduler to serve, df://HOST:PORT.
        #[arg(long, default_value = "df://127.0.0.1:50050")]
        scheduler: String,
        /// Address to listen on (0.0.0.0 for every interface).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Arrow Flight port (other executors fetch shuffle data from it).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Host name other processes reach this executor by (default: --bind).
        #[arg(long)]
        external_host: Option<String>,
        /// Tasks run at once (default: one per core).
        #[arg(long, default_value_t = 0)]
        concurrency: usize,
        /// Folder for shuffle files and spills (default: a new temporary folder, removed at exit).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The incident window, shaded in the charts: START..END, e.g.
    /// 2026-11-19T19:00..2026-11-19T21:20.
    #[arg(long, value_name = "START..END")]
    pub window: Option<String>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of views (at least 2: apps/data and endpoints/sparkline).
    #[arg(long, default_value_t = 160)]
    pub views: usize,
    /// Number of one-minute points per series (1440 = one day).
    #[arg(long, default_value_t = 1440)]
    pub points: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output folder (created if missing; app, layers, views files, or
    /// incident.om for openmetrics, are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format; openmetrics writes one file with django-prometheus'
    /// metric names for `promtool tsdb create-blocks-from openmetrics`.
    #[arg(long, value_enum, default_value_t = FileFormat::Parquet)]
    pub format: FileFormat,
    /// Do not record the sort order (key, ts) in the Parquet metadata.
    #[arg(long)]
    pub no_sort_metadata: bool,
}

/// A -c or -f argument, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchInput {
    Command(String),
    File(PathBuf),
}

/// Parses the process arguments, keeping -c and -f in the order given.
pub fn parse() -> (Cli, Vec<BatchInput>) {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut ordered: Vec<(usize, BatchInput)> = Vec::new();
    if let Some(indices) = matches.indices_of("commands") {
        ordered.extend(indices.zip(&cli.commands).map(|(i, c)| (i, BatchInput::Command(c.clone()))));
    }
    if let Some(indices) = matches.indices_of("files") {
        ordered.extend(indices.zip(&cli.files).map(|(i, f)| (i, BatchInput::File(f.clone()))));
    }
    ordered.sort_by_key(|(index, _)| *index);
    (cli, ordered.into_iter().map(|(_, input)| input).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("4G"), Ok(4 << 30));
        assert_eq!(super::parse_size("512mb"), Ok(512 << 20));
        assert_eq!(super::parse_size("1.5K"), Ok(1536));
        assert_eq!(super::parse_size("1000"), Ok(1000));
        assert!(super::parse_size("lots").is_err());
        assert!(super::parse_size("4T").is_err());
    }
}
