//! The `perfcorr` command: argument handling and dispatch to batch mode, the
//! interactive prompt, `generate` or `report`. `main.rs` only calls [`main`].

pub mod args;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod completion;
pub mod data;
pub mod exec;
pub mod format;
pub mod guard;
pub mod meta;
pub mod nesting;
pub mod panics;
pub mod plot;
pub mod repl;
pub mod statements;
pub mod vars;

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use args::{BatchInput, Command, GenerateArgs};
use exec::{Failure, Flow, Runner};

use crate::incident::{write_incident, IncidentSpec, Output};

/// Stack size of the threads that plan and run statements. Planning and
/// evaluating an expression recurse once per level, and generated SQL nests
/// deep (`a + b + …` over thousands of columns is a left-deep tree of that
/// depth); 8 MB overflows near 2,000 terms, which aborts the process. The
/// stack is reserved address space: only the pages a query touches are used
/// (a 2,500-deep expression, the limit of [`nesting`], touches about 300 MB
/// in a debug build).
pub const STACK_BYTES: usize = 512 << 20;

/// Entry point of the binary: runs [`run`] on a thread with a deep stack.
pub fn main() -> ExitCode {
    panics::install_hook();
    match std::thread::Builder::new().name("perfcorr".to_string()).stack_size(STACK_BYTES).spawn(run) {
        Ok(thread) => thread.join().unwrap_or_else(|_| fail(&panics::take())),
        Err(e) => fail(&format!("cannot start: {e}")),
    }
}

fn run() -> ExitCode {
    let (cli, inputs) = args::parse();
    if let Some(Command::Generate(generate)) = &cli.command {
        return run_generate(generate);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().thread_stack_size(STACK_BYTES).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        #[cfg(feature = "cluster")]
        if let Some(Command::Cluster(command)) = &cli.command {
            return match cluster::run(command, cli.memory_limit).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => fail(&message),
            };
        }
        let ctx = match session(&cli).await {
            Ok(ctx) => ctx,
            Err(message) => return fail(&message),
        };
        let data = if cli.data.is_empty() {
            data::register_sample(&ctx)
        } else {
            data::register_directories(&ctx, &cli.data).await
        };
        let mut data = match data {
            Ok(data) => data,
            Err(message) => return fail(&message),
        };
        if let Some(url) = &cli.cluster {
            data.description = format!("{}; queries run on the cluster at {url}", data.description);
        }
        if let Some(Command::Report(report)) = &cli.command {
            let runner = Runner::new(ctx, data, cli.format, false, true);
            return match crate::report::write(&runner, &report.out, report.window.as_deref()).await {
                Ok(written) => {
                    eprintln!("wrote {written}");
                    ExitCode::SUCCESS
                }
                Err(failure) => fail(&failure.to_string()),
            };
        }
        let interactive = inputs.is_empty() && std::io::stdin().is_terminal();
        let mut runner = Runner::new(ctx, data, cli.format, interactive, cli.quiet);
        runner.vars = cli.vars.iter().cloned().collect();
        if interactive {
            return match repl::run(&mut runner).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("terminal: {e}")),
            };
        }
        restore_default_sigpipe();
        match run_batch(&mut runner, &inputs).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => fail(&failure.to_string()),
        }
    })
}

/// The session the arguments ask for: on a cluster, with a memory limit, or plain.
async fn session(cli: &args::Cli) -> Result<datafusion::prelude::SessionContext, String> {
    match (&cli.cluster, cli.memory_limit) {
        (Some(_), Some(_)) => Err("--memory-limit applies to one process; executors of a cluster manage their own memory".to_string()),
        #[cfg(feature = "cluster")]
        (Some(url), None) => crate::cluster::client::connect(url).await.map_err(|e| format!("--cluster {url}: {}", exec::one_line(&e.to_string()))),
        #[cfg(not(feature = "cluster"))]
        (Some(_), None) => Err("--cluster: this perfcorr was built without the `cluster` feature".to_string()),
        (None, Some(bytes)) => crate::session_with_memory_limit(bytes).map_err(|e| format!("--memory-limit: {e}")),
        (None, None) => Ok(crate::session()),
    }
}

/// Batch output piped into `head` should end quietly when the pipe closes, as
/// other command-line tools do, not report "Broken pipe" as a failure.
fn restore_default_sigpipe() {
    // SAFETY: resetting a signal disposition to its default has no memory
    // effects; Rust's runtime set SIGPIPE to ignored at start-up.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Runs -c/-f inputs in order, or stdin when there are none.
async fn run_batch(runner: &mut Runner, inputs: &[BatchInput]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    if inputs.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::new(format!("stdin: {e}")))?;
        runner.run_script("stdin", &text, &mut stdout).await?;
        return Ok(());
    }
    let mut command_number = 0;
    for input in inputs {
        let flow = match input {
            BatchInput::Command(sql) => {
                command_number += 1;
                let label = format!("-c #{command_number}");
                runner.run_script(&label, sql, &mut stdout).await.map_err(|mut failure| {
                    // A one-line -c is located by its number alone (but a
                    // failure inside a file it includes keeps that file's line).
                    if sql.lines().count() <= 1 && failure.location.as_deref() == Some(format!("{label}:1").as_str()) {
                        failure.location = Some(label);
                    }
                    failure
                })?
            }
            BatchInput::File(path) => runner.run_file(path, &mut stdout).await?,
        };
        if flow == Flow::Quit {
            break;
        }
    }
    Ok(())
}

fn run_generate(args: &GenerateArgs) -> ExitCode {
    let spec = IncidentSpec { views: args.views, points: args.points, seed: args.seed };
    let output = Output { format: args.format, sort_metadata: !args.no_sort_metadata };
    match write_incident(spec, &args.out, output) {
        Ok(files) => {
            for file in files {
                eprintln!("wrote {}", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}
