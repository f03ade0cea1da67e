//! Splits script text into SQL statements and meta-commands, remembering the
//! line each starts on (for `error: FILE:LINE: message`).
//!
//! A SQL statement ends at a `;` outside quotes (`'…'`, `"…"`) and comments
//! (`-- …`, `/* … */`). A line whose first non-blank character is `\`, at a
//! point where no statement is open, is a meta-command (`\d`, `\i FILE`, …)
//! ending at the end of that line.

/// One unit of work in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// SQL text without the terminating `;`.
    Sql { text: String, line: usize },
    /// A meta-command line, starting with `\`.
    Meta { text: String, line: usize },
}

impl Item {
    pub fn line(&self) -> usize {
        match self {
            Item::Sql { line, .. } | Item::Meta { line, .. } => *line,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    SingleQuote,
    DoubleQuote,
    LineComment,
    BlockComment,
}

/// Incremental splitter: feed text, take complete items, and see whether a
/// statement is still open (the REPL's continuation prompt).
#[derive(Debug, Clone)]
pub struct Splitter {
    state: State,
    current: String,
    /// Line of the first significant character of `current`.
    start_line: Option<usize>,
    line: usize,
    at_line_start: bool,
    meta: Option<(String, usize)>,
}

impl Default for Splitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Splitter {
    pub fn new() -> Self {
        Self { state: State::Normal, current: String::new(), start_line: None, line: 1, at_line_start: true, meta: None }
    }

    /// True while a statement has started but not ended.
    pub fn is_open(&self) -> bool {
        self.start_line.is_some() || self.state == State::BlockComment
    }

    /// Drops any partial statement (Ctrl-C at the prompt).
    pub fn reset(&mut self) {
        let line = self.line;
        *self = Self::new();
        self.line = line;
    }

    /// Feeds `text` (which should end with a newline for line-based input)
    /// and returns the items it completed.
    pub fn push(&mut self, text: &str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if let Some((meta, line)) = &mut self.meta {
                if c == '\n' {
                    items.push(Item::Meta { text: meta.trim().to_string(), line: *line });
                    self.meta = None;
                    self.advance_line();
                } else {
                    meta.push(c);
                }
                continue;
            }
            if self.state == State::Normal && c == '\\' && self.at_line_start && self.start_line.is_none() {
                self.meta = Some((String::from(c), self.line));
                continue;
            }
            let significant = !c.is_whitespace() && self.state != State::LineComment && self.state != State::BlockComment;
            match self.state {
                State::Normal => match c {
                    ';' => {
                        if let Some(line) = self.start_line.take() {
                            items.push(Item::Sql { text: std::mem::take(&mut self.current).trim().to_string(), line });
                        }
                        self.current.clear();
                        self.at_line_start = false;
                        continue;
                    }
                    '\'' => self.state = State::SingleQuote,
                    '"' => self.state = State::DoubleQuote,
                    '-' if chars.peek() == Some(&'-') => self.state = State::LineComment,
                    '/' if chars.peek() == Some(&'*') => self.state = State::BlockComment,
                    _ => {}
                },
                State::SingleQuote if c == '\'' => self.state = State::Normal,
                State::DoubleQuote if c == '"' => self.state = State::Normal,
                State::LineComment if c == '\n' => self.state = State::Normal,
                State::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                    self.current.push(c);
                    self.current.push(chars.next().unwrap_or('/'));
                    self.state = State::Normal;
                    continue;
                }
                _ => {}
            }
            let opens_comment = self.state == State::LineComment || self.state == State::BlockComment;
            if significant && !opens_comment && self.start_line.is_none() {
                self.start_line = Some(self.line);
            }
            self.current.push(c);
            if c == '\n' {
                self.advance_line();
            } else if !c.is_whitespace() {
                self.at_line_start = false;
            }
        }
        items
    }

    fn advance_line(&mut self) {
        self.line += 1;
        self.at_line_start = true;
    }

    /// Ends the input: an unterminated statement or meta-command becomes an
    /// item too (a script's last statement may lack its `;`).
    pub fn finish(&mut self) -> Vec<Item> {
        let mut items = self.push("\n");
        if let Some(line) = self.start_line.take() {
            let text = std::mem::take(&mut self.current).trim().to_string();
            items.push(Item::Sql { text, line });
        }
        self.current.clear();
        items
    }
}

/// Splits a whole script.
pub fn split_script(text: &str) -> Vec<Item> {
    let mut splitter = Splitter::new();
    let mut items = splitter.push(text);
    items.extend(splitter.finish());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(text: &str, line: usize) -> Item {
        Item::Sql { text: text.to_string(), line }
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let script = "-- header; comment\nSELECT 'a;b', \"c;d\" /* ; */ FROM t;\n\nSELECT 2; SELECT\n 3";
        assert_eq!(
            split_script(script),
            vec![
                // Comments before a statement stay in its text; its line is
                // that of its first token.
                sql("-- header; comment\nSELECT 'a;b', \"c;d\" /* ; */ FROM t", 2),
                sql("SELECT 2", 4),
                sql("SELECT\n 3", 4),
            ]
        );
    }

    #[test]
    fn meta_commands_take_a_line() {
        let script = "\\d views\nSELECT 1;\n  \\timing off\nSELECT '\\x';";
        assert_eq!(
            split_script(script),
            vec![
                Item::Meta { text: "\\d views".into(), line: 1 },
                sql("SELECT 1", 2),
                Item::Meta { text: "\\timing off".into(), line: 3 },
                sql("SELECT '\\x'", 4),
            ]
        );
    }

    #[test]
    fn open_statements_are_reported_for_continuation() {
        let mut splitter = Splitter::new();
        assert!(splitter.push("SELECT 1\n").is_empty());
        assert!(splitter.is_open());
        assert_eq!(splitter.push("  + 1;\n"), vec![sql("SELECT 1\n  + 1", 1)]);
        assert!(!splitter.is_open());
        assert!(splitter.push("SELECT 'unterminated;\n").is_empty());
        assert!(splitter.is_open());
        splitter.reset();
        assert!(!splitter.is_open());
        assert!(splitter.push("-- only a comment\n").is_empty());
        assert!(!splitter.is_open());
    }
}
