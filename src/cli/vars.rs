//! `--var NAME=VALUE`: before a statement runs, `${NAME}` in its text is
//! replaced by VALUE, and `${NAME:-DEFAULT}` by VALUE or, when NAME is not
//! set, DEFAULT. A saved query can so take a server and a time range from
//! the command line (`queries/from_prometheus.sql`). The text is replaced as
//! it is (inside quotes too); `${…}` whose name is not an identifier stays.

use std::collections::BTreeMap;

/// Parses one `--var` argument.
pub fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if is_identifier(name) => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("'{text}': use NAME=VALUE, NAME a letter or _ then letters, digits, _")),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` with every `${NAME}` / `${NAME:-DEFAULT}` replaced; an error names
/// the first variable that is neither set nor defaulted.
pub fn substitute(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        let (name, default) = inner.split_once(":-").map_or((inner, None), |(n, d)| (n, Some(d)));
        if !is_identifier(name) {
            out.push_str("${");
            rest = after;
            continue;
        }
        match (vars.get(name), default) {
            (Some(value), _) => out.push_str(value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => return Err(format!("${{{name}}} is not set: pass --var {name}=VALUE")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_defaults_and_reports_missing() {
        let vars: BTreeMap<String, String> = [("prom".to_string(), "http://h:9090".to_string())].into();
        assert_eq!(substitute("SELECT '${prom}', '${step:-1m}'", &vars).unwrap(), "SELECT 'http://h:9090', '1m'");
        assert_eq!(substitute("no vars, ${1x} and $1 stay", &vars).unwrap(), "no vars, ${1x} and $1 stay");
        assert_eq!(substitute("${start}", &vars).unwrap_err(), "${start} is not set: pass --var start=VALUE");
        assert_eq!(parse_var("a=b=c"), Ok(("a".to_string(), "b=c".to_string())));
        assert!(parse_var("no-equals").is_err());
    }
}
