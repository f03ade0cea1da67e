//! Meta-commands (`\?`, `\q`, `\d`, `\i`, `\timing`, `\format`, `\functions`,
//! `\plot`, `\report`):
//! parsing, help text, and the SQL or result batches behind them.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::prelude::SessionContext;

use super::format::OutputFormat;
use crate::sql_text::{quote_identifier, quote_literal};

pub const HELP: &str = r#"Statements end with ';' and may span lines. Meta-commands:
  \?                  this help
  \q                  quit (or Ctrl-D)
  \d                  list tables with row counts
  \d NAME             columns and types of table NAME
  \i FILE             run the statements in FILE
  \timing [on|off]    print row count and elapsed time after each query
  \format FORMAT      table, csv, json, ndjson or markdown
  \functions          perfcorr's SQL functions
  \plot [SELECT ...]  chart a query's result (or the last result) in the terminal
  \report FILE [START..END]
                      write the HTML report of the loaded tables to FILE,
                      the incident window START..END shaded
Ctrl-C cancels the current line or the running query.
"#;

/// A parsed meta-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    Help,
    Quit,
    ListTables,
    Describe(String),
    Include(PathBuf),
    Timing(Option<bool>),
    Format(OutputFormat),
    Functions,
    /// `\plot` alone (the last result) or `\plot SELECT …`.
    Plot(Option<String>),
    /// `\report FILE [START..END]`.
    Report { path: PathBuf, window: Option<String> },
}

/// Parses a `\…` line.
pub fn parse(text: &str) -> Result<MetaCommand, String> {
    let text = text.trim().trim_end_matches(';').trim();
    let (command, argument) = match text.split_once(char::is_whitespace) {
        Some((command, argument)) => (command, argument.trim()),
        None => (text, ""),
    };
    let no_argument = |parsed: MetaCommand| {
        if argument.is_empty() { Ok(parsed) } else { Err(format!("{command} takes no argument")) }
    };
    match command {
        "\\?" | "\\h" | "\\help" => no_argument(MetaCommand::Help),
        "\\q" | "\\quit" => no_argument(MetaCommand::Quit),
        "\\d" if argument.is_empty() => Ok(MetaCommand::ListTables),
        "\\d" => Ok(MetaCommand::Describe(argument.to_string())),
        "\\i" if argument.is_empty() => Err("\\i needs a file: \\i FILE".to_string()),
        "\\i" => Ok(MetaCommand::Include(PathBuf::from(argument))),
        "\\timing" => match argument {
            "" => Ok(MetaCommand::Timing(None)),
            "on" => Ok(MetaCommand::Timing(Some(true))),
            "off" => Ok(MetaCommand::Timing(Some(false))),
            other => Err(format!("\\timing takes on or off, not '{other}'")),
        },
        "\\format" => OutputFormat::parse(argument)
            .map(MetaCommand::Format)
            .ok_or_else(|| format!("\\format takes one of {}, not '{argument}'", OutputFormat::names())),
        "\\functions" => no_argument(MetaCommand::Functions),
        "\\plot" => Ok(MetaCommand::Plot((!argument.is_empty()).then(|| argument.to_string()))),
        "\\report" if argument.is_empty() => Err("\\report needs a file: \\report FILE.html".to_string()),
        "\\report" => {
            let (path, window) = argument.split_once(char::is_whitespace).map_or((argument, ""), |(p, w)| (p, w.trim()));
            Ok(MetaCommand::Report { path: PathBuf::from(path), window: (!window.is_empty()).then(|| window.to_string()) })
        }
        other => Err(format!("unknown command {other}; type \\? for help")),
    }
}

/// The user's tables (the session's default schema), sorted.
pub fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names = ctx
        .catalog("datafusion")
        .and_then(|catalog| catalog.schema("public"))
        .map(|schema| schema.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

/// SQL listing the user's tables with their row counts.
pub fn list_tables_sql(ctx: &SessionContext) -> String {
    let names = table_names(ctx);
    if names.is_empty() {
        return "SELECT CAST(NULL AS VARCHAR) AS table_name, CAST(NULL AS BIGINT) AS rows WHERE false".to_string();
    }
    names
        .iter()
        .map(|name| format!("SELECT {} AS table_name, (SELECT count(*) FROM {}) AS rows", quote_literal(name), quote_identifier(name)))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
        + " ORDER BY table_name"
}

/// SQL describing the columns of `table`.
pub fn describe_sql(table: &str) -> String {
    format!(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = {} ORDER BY ordinal_position",
        quote_literal(table)
    )
}

/// perfcorr's functions with their syntax and one-line description.
pub fn functions_batch() -> Result<RecordBatch, ArrowError> {
    let docs = crate::functions::documented_functions();
    let first_sentence = |text: &str| match text.find(". ") {
        Some(end) => text[..=end].to_string(),
        None => text.to_string(),
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("function", DataType::Utf8, false),
        Field::new("syntax", DataType::Utf8, false),
        Field::new("description", DataType::Utf8, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(docs.iter().map(|(name, _)| name.clone()))),
            Arc::new(StringArray::from_iter_values(docs.iter().map(|(_, doc)| doc.syntax_example.clone()))),
            Arc::new(StringArray::from_iter_values(docs.iter().map(|(_, doc)| first_sentence(&doc.description)))),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meta_commands() {
        assert_eq!(parse("\\q"), Ok(MetaCommand::Quit));
        assert_eq!(parse("\\d"), Ok(MetaCommand::ListTables));
        assert_eq!(parse("\\d views"), Ok(MetaCommand::Describe("views".into())));
        assert_eq!(parse("\\timing off"), Ok(MetaCommand::Timing(Some(false))));
        assert_eq!(parse("\\format csv"), Ok(MetaCommand::Format(OutputFormat::Csv)));
        assert_eq!(parse("\\i queries/a.sql"), Ok(MetaCommand::Include("queries/a.sql".into())));
        assert!(parse("\\x").unwrap_err().contains("\\?"));
        assert!(parse("\\format xml").unwrap_err().contains("markdown"));
        assert!(parse("\\q now").is_err());
        assert_eq!(parse("\\plot"), Ok(MetaCommand::Plot(None)));
        assert_eq!(parse("\\plot SELECT ts, ms FROM layers;"), Ok(MetaCommand::Plot(Some("SELECT ts, ms FROM layers".into()))));
        assert_eq!(parse("\\report /tmp/r.html"), Ok(MetaCommand::Report { path: "/tmp/r.html".into(), window: None }));
        let window = Some("2026-11-19 19:00..2026-11-19 21:20".to_string());
        assert_eq!(parse("\\report r.html 2026-11-19 19:00..2026-11-19 21:20"), Ok(MetaCommand::Report { path: "r.html".into(), window }));
        assert!(parse("\\report").is_err());
    }
}
