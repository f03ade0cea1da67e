//! Tab completion for the interactive prompt: table and column names, SQL
//! keywords, and function names (perfcorr's included).

use std::borrow::Cow;
use std::collections::BTreeSet;

use datafusion::prelude::SessionContext;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

const KEYWORDS: &[&str] = &[
    "ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "COPY", "CREATE", "CROSS", "CURRENT", "DESC",
    "DESCRIBE", "DISTINCT", "DROP", "ELSE", "END", "EXCEPT", "EXISTS", "EXPLAIN", "EXTERNAL", "FALSE",
    "FILTER", "FIRST", "FOLLOWING", "FROM", "FULL", "GROUP", "HAVING", "IN", "INNER", "INTERSECT", "INTERVAL",
    "IS", "JOIN", "LAST", "LEFT", "LIKE", "LIMIT", "LOCATION", "NOT", "NULL", "NULLS", "OFFSET", "ON", "OR",
    "ORDER", "OUTER", "OVER", "PARTITION", "PRECEDING", "RANGE", "RIGHT", "ROWS", "SELECT", "SET", "SHOW",
    "STORED", "TABLE", "TABLES", "THEN", "TRUE", "UNBOUNDED", "UNION", "USING", "VALUES", "VIEW", "WHEN",
    "WHERE", "WINDOW", "WITH",
];

/// rustyline helper holding the current completion candidates.
#[derive(Debug, Default)]
pub struct SqlCompleter {
    /// Table, column and function names (case kept).
    names: BTreeSet<String>,
}

impl SqlCompleter {
    /// Re-reads table, column and function names from the session (after
    /// each statement, since it may have created a table).
    pub async fn refresh(&mut self, ctx: &SessionContext) {
        let state = ctx.state();
        let mut names: BTreeSet<String> = BTreeSet::new();
        names.extend(state.scalar_functions().keys().cloned());
        names.extend(state.aggregate_functions().keys().cloned());
        names.extend(state.window_functions().keys().cloned());
        for table in super::meta::table_names(ctx) {
            if let Ok(provider) = ctx.table_provider(table.as_str()).await {
                names.extend(provider.schema().fields().iter().map(|f| f.name().clone()));
            }
            names.insert(table);
        }
        self.names = names;
    }

    /// Candidates completing `prefix`: names as they are, keywords in the
    /// case the user is typing in.
    pub fn candidates(&self, prefix: &str) -> Vec<String> {
        if prefix.is_empty() {
            return Vec::new();
        }
        let lower = prefix.to_lowercase();
        let typing_lowercase = prefix.chars().all(|c| !c.is_uppercase());
        let keywords = KEYWORDS
            .iter()
            .filter(|k| k.to_lowercase().starts_with(&lower))
            .map(|k| if typing_lowercase { k.to_lowercase() } else { k.to_string() });
        let names = self.names.iter().filter(|n| n.to_lowercase().starts_with(&lower)).cloned();
        let mut all: Vec<String> = names.chain(keywords).collect();
        all.sort();
        all.dedup();
        all
    }
}

impl Completer for SqlCompleter {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(pos, |(i, _)| i);
        let pairs = self
            .candidates(&line[start..pos])
            .into_iter()
            .map(|c| Pair { display: c.clone(), replacement: c })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for SqlCompleter {
    type Hint = String;
}

impl Highlighter for SqlCompleter {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _default: bool) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for SqlCompleter {}

impl Helper for SqlCompleter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn completes_tables_columns_keywords_and_functions() {
        let ctx = crate::session();
        let mut completer = SqlCompleter::default();
        crate::cli::data::register_sample(&ctx).unwrap();
        completer.refresh(&ctx).await;
        assert!(completer.candidates("pearson_").contains(&"pearson_p_from_r".to_string()));
        assert!(completer.candidates("vie").contains(&"views".to_string()));
        assert!(completer.candidates("throu").contains(&"throughput_rpm".to_string()));
        assert_eq!(completer.candidates("SELE"), vec!["SELECT".to_string()]);
        assert_eq!(completer.candidates("sele"), vec!["select".to_string()]);
    }
}
