//! The interactive prompt: rustyline with history and completion, statements
//! across lines with a continuation prompt, Ctrl-C to cancel the line or the
//! running query, Ctrl-D to leave.

use std::io::Write;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;

use super::completion::SqlCompleter;
use super::exec::{Flow, Runner};
use super::statements::Splitter;

const PROMPT: &str = "perfcorr> ";
const CONTINUATION_PROMPT: &str = "       -> ";

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".perfcorr_history"))
}

/// At most three lines: version, data, help.
pub fn banner(runner: &Runner) -> String {
    format!(
        "perfcorr {} - SQL for 'what moved with my response time?'\ndata: {}\nType \\? for help, \\q to quit.\n",
        env!("CARGO_PKG_VERSION"),
        runner.data.description
    )
}

/// Runs the prompt until `\q` or Ctrl-D.
pub async fn run(runner: &mut Runner) -> rustyline::Result<()> {
    let mut editor: Editor<SqlCompleter, DefaultHistory> = Editor::new()?;
    let mut completer = SqlCompleter::default();
    completer.refresh(&runner.ctx).await;
    editor.set_helper(Some(completer));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    if !runner.quiet {
        eprint!("{}", banner(runner));
    }
    let mut splitter = Splitter::new();
    let mut stdout = std::io::stdout();
    'session: loop {
        let prompt = if splitter.is_open() { CONTINUATION_PROMPT } else { PROMPT };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                splitter.reset();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e),
        };
        if !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.trim_end());
        }
        for item in splitter.push(&format!("{line}\n")) {
            runner.width = super::format::terminal_width();
            let outcome = tokio::select! {
                outcome = runner.run_item(&item, &mut stdout) => Some(outcome),
                _ = tokio::signal::ctrl_c() => None,
            };
            match outcome {
                Some(Ok(Flow::Quit)) => break 'session,
                Some(Ok(Flow::Continue)) => {}
                Some(Err(failure)) => eprintln!("error: {failure}"),
                None => eprintln!("query cancelled"),
            }
            let _ = stdout.flush();
        }
        if let Some(helper) = editor.helper_mut() {
            helper.refresh(&runner.ctx).await;
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}
