//! Building SQL text safely: quoting identifiers and string literals, used
//! where perfcorr generates SQL (`\d`, `rank_correlations`).

/// `name` as a double-quoted SQL identifier.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a single-quoted SQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_are_doubled() {
        assert_eq!(super::quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(super::quote_literal("it's"), "'it''s'");
    }
}
