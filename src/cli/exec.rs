//! Executes statements and meta-commands against the session and prints
//! results; shared by batch mode and the interactive prompt.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use super::data::LoadedData;
use super::format::OutputFormat;
use super::guard::WriteGuard;
use super::meta::{self, MetaCommand};
use super::statements::{split_script, Item};

/// Includes (`\i`) nested deeper than this are refused (a file including itself).
const MAX_INCLUDE_DEPTH: usize = 16;
/// The area `\plot` fills when output is not a terminal (and COLUMNS/LINES are unset).
const BATCH_CHART_AREA: (usize, usize) = (100, 25);

/// A query's result: its schema and batches.
pub type QueryResult = (SchemaRef, Vec<RecordBatch>);

/// Whether to keep going after an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// A failure, already one line. `location` is `FILE:LINE` (or `-c #K`) when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub location: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self { location: None, message: one_line(&message.into()) }
    }

    fn at(mut self, location: String) -> Self {
        self.location.get_or_insert(location);
        self
    }
}

/// Collapses a multi-line error message into one line.
pub fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Parses and plans one statement as `SessionContext::sql` does, with
/// perfcorr's checks between: expression depth, writes into the user's data.
async fn plan(ctx: &SessionContext, guard: &WriteGuard, sql: &str) -> Result<datafusion::dataframe::DataFrame, Failure> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let mut statement = state.sql_to_statement(sql, &dialect).map_err(|e| Failure::new(e.to_string()))?;
    super::nesting::balance(&mut statement);
    super::nesting::check(&statement).map_err(Failure::new)?;
    let plan = state.statement_to_plan(statement).await.map_err(|e| Failure::new(e.to_string()))?;
    guard.check(ctx, &plan).await.map_err(Failure::new)?;
    ctx.execute_logical_plan(plan).await.map_err(|e| Failure::new(e.to_string()))
}

/// Aborts a spawned task when dropped (a cancelled query stops running).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The session plus the user's output settings.
pub struct Runner {
    pub ctx: SessionContext,
    pub data: LoadedData,
    pub format: OutputFormat,
    pub timing: bool,
    pub quiet: bool,
    /// Tables are fitted to this many columns (the prompt's terminal width).
    pub width: Option<usize>,
    /// `--var` values, put into `${NAME}` in statements.
    pub vars: std::collections::BTreeMap<String, String>,
    guard: WriteGuard,
    include_depth: usize,
    /// The last query's result, for `\plot` without a query.
    last: Option<QueryResult>,
}

impl Runner {
    pub fn new(ctx: SessionContext, data: LoadedData, format: OutputFormat, timing: bool, quiet: bool) -> Self {
        let guard = WriteGuard::new(&data.folders);
        Self { ctx, data, format, timing, quiet, width: None, vars: Default::default(), guard, include_depth: 0, last: None }
    }

    /// Plans and runs one SQL statement, returning its result.
    pub async fn collect(&self, sql: &str) -> Result<QueryResult, Failure> {
        let (ctx, guard, sql) = (self.ctx.clone(), self.guard.clone(), sql.to_string());
        // Planned and executed in its own task, so that the prompt's Ctrl-C
        // handler runs even while operators are busy (dropping this future
        // aborts it) and a panic is caught and reported, not fatal.
        let mut task = AbortOnDrop(tokio::spawn(async move {
            let df = plan(&ctx, &guard, &sql).await?;
            let schema = df.schema().inner().clone();
            let batches = df.collect().await.map_err(|e| Failure::new(e.to_string()))?;
            Ok::<_, Failure>((schema, batches))
        }));
        (&mut task.0).await.map_err(|e| Failure::new(if e.is_panic() { super::panics::take() } else { format!("query task failed: {e}") }))?
    }

    /// An error if writing `path` (a report) would change the user's data.
    pub async fn check_write(&self, path: &Path) -> Result<(), Failure> {
        self.guard.check_path(&self.ctx, path).await.map_err(Failure::new)
    }

    /// Runs one SQL statement and prints its result.
    pub async fn run_sql(&mut self, sql: &str, out: &mut dyn Write) -> Result<(), Failure> {
        let started = Instant::now();
        let (schema, batches) = self.collect(sql).await?;
        if !schema.fields().is_empty() {
            self.format.print_fitted(out, &schema, &batches, self.width).map_err(|e| Failure::new(e.to_string()))?;
        }
        out.flush().map_err(|e| Failure::new(e.to_string()))?;
        if self.timing && !self.quiet {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            eprintln!("{rows} row(s) in {:.3} s", started.elapsed().as_secs_f64());
        }
        if !schema.fields().is_empty() {
            self.last = Some((schema, batches));
        }
        Ok(())
    }

    /// `\plot`: charts `sql`'s result, or the last result, fitted to the terminal.
    async fn plot(&mut self, sql: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
        if let Some(sql) = sql {
            self.last = Some(self.collect(sql).await?);
        }
        let Some((schema, batches)) = &self.last else {
            return Err(Failure::new("\\plot: no result yet; run a query first, or \\plot SELECT ts, response_ms FROM app"));
        };
        // One line is left for the prompt (or the shell's) after the chart.
        let (columns, rows) = super::format::chart_area(BATCH_CHART_AREA);
        let color = std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none();
        let chart = super::plot::plot(schema, batches, columns, rows.saturating_sub(1), color).map_err(|e| Failure::new(format!("\\plot: {e}")))?;
        write!(out, "{chart}").map_err(|e| Failure::new(e.to_string()))
    }

    /// Runs one statement or meta-command.
    pub async fn run_item(&mut self, item: &Item, out: &mut dyn Write) -> Result<Flow, Failure> {
        match item {
            Item::Sql { text, .. } => {
                let text = super::vars::substitute(text, &self.vars).map_err(Failure::new)?;
                self.run_sql(&text, out).await.map(|_| Flow::Continue)
            }
            Item::Meta { text, .. } => {
                let command = meta::parse(text).map_err(Failure::new)?;
                self.run_meta(command, out).await
            }
        }
    }

    async fn run_meta(&mut self, command: MetaCommand, out: &mut dyn Write) -> Result<Flow, Failure> {
        match command {
            MetaCommand::Quit => return Ok(Flow::Quit),
            MetaCommand::Help => write!(out, "{}", meta::HELP).map_err(|e| Failure::new(e.to_string()))?,
            MetaCommand::Timing(setting) => {
                self.timing = setting.unwrap_or(!self.timing);
                eprintln!("timing is {}", if self.timing { "on" } else { "off" });
            }
            MetaCommand::Format(format) => self.format = format,
            MetaCommand::Include(path) => return Box::pin(self.run_file(&path, out)).await,
            MetaCommand::ListTables => {
                self.run_sql(&meta::list_tables_sql(&self.ctx), out).await?;
            }
            MetaCommand::Describe(table) => {
                if !self.ctx.table_exist(table.as_str()).map_err(|e| Failure::new(e.to_string()))? {
                    return Err(Failure::new(format!("no table named '{table}'; \\d lists the tables")));
                }
                self.run_sql(&meta::describe_sql(&table), out).await?;
            }
            MetaCommand::Plot(sql) => self.plot(sql.as_deref(), out).await?,
            MetaCommand::Report { path, window } => {
                let written = crate::report::write(self, &path, window.as_deref()).await?;
                eprintln!("wrote {written}");
            }
            MetaCommand::Functions => {
                let batch = meta::functions_batch().map_err(|e| Failure::new(e.to_string()))?;
                self.format.print_fitted(out, &batch.schema(), &[batch], self.width).map_err(|e| Failure::new(e.to_string()))?;
            }
        }
        Ok(Flow::Continue)
    }

    /// Runs a script; a failure is located at `label:LINE`.
    pub async fn run_script(&mut self, label: &str, text: &str, out: &mut dyn Write) -> Result<Flow, Failure> {
        for item in split_script(text) {
            let flow = self.run_item(&item, out).await.map_err(|f| f.at(format!("{label}:{}", item.line())))?;
            if flow == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        Ok(Flow::Continue)
    }

    /// Runs the statements of a file (`-f`, `\i`).
    pub async fn run_file(&mut self, path: &Path, out: &mut dyn Write) -> Result<Flow, Failure> {
        if self.include_depth >= MAX_INCLUDE_DEPTH {
            return Err(Failure::new(format!("{}: files include each other more than {MAX_INCLUDE_DEPTH} deep", path.display())));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
        self.include_depth += 1;
        let result = self.run_script(&path.display().to_string(), &text, out).await;
        self.include_depth -= 1;
        result
    }
}
