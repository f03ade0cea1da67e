//! JSON export files among `--data`: a `*.json` file holding one Prometheus
//! query response or one Scout API metric response (recognised by its
//! top-level keys, whatever the file is called) is registered as the long
//! table of its series (`ts, <labels>, value`) under the file stem; any other
//! JSON file is read as rows, as before.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use serde_json::Value;

use super::{long_table, prom_json, scout};

/// Top-level keys that only these exports start with (Prometheus writes
/// `status` first; Scout `header` or `results`).
const EXPORT_KEYS: [&str; 5] = ["status", "data", "errorType", "header", "results"];

/// The table of an export file, `None` when `text` is not one. Errors are
/// one line: `FILE:LINE:COLUMN: …` for malformed JSON, `FILE: …` otherwise.
pub fn read(path: &Path, text: &[u8]) -> Option<Result<RecordBatch, String>> {
    if !EXPORT_KEYS.contains(&first_key(text)?.as_str()) {
        return None;
    }
    let json: Value = match serde_json::from_slice(text) {
        Ok(json) => json,
        Err(e) => {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            return Some(Err(format!("{}:{}:{}: not valid JSON ({message}); is the export complete?", path.display(), e.line(), e.column())));
        }
    };
    let series = if prom_json::looks_like(&json) {
        prom_json::series(&json)
    } else if scout::looks_like(&json) {
        scout::series(&json)
    } else {
        return None;
    };
    let fail = |message: String| format!("{}: {message}", path.display());
    Some(series.map_err(fail).and_then(|series| long_table(&series, &[]).map_err(|e| fail(e.to_string()))))
}

/// The first key of a JSON object text (`{"status": …` → `status`), without
/// parsing the rest.
fn first_key(text: &[u8]) -> Option<String> {
    let start = String::from_utf8_lossy(&text[..text.len().min(256)]);
    let rest = start.trim_start().strip_prefix('{')?.trim_start().strip_prefix('"')?;
    rest.split('"').next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_exports_by_content() {
        assert_eq!(first_key(br#"  { "status":"success"}"#).as_deref(), Some("status"));
        assert_eq!(first_key(br#"{"ts":"2026-11-19","ms":1}"#).as_deref(), Some("ts"));
        assert_eq!(first_key(b"[{}]"), None);
        assert!(read(Path::new("rows.json"), br#"{"ts":"2026-11-19","ms":1}"#).is_none());
        let cut = read(Path::new("prom.json"), b"{\"status\":\"success\",\n\"data\":{\"resultType\":\"matrix\",").unwrap().unwrap_err();
        assert!(cut.starts_with("prom.json:2:"), "{cut}");
        let table = read(Path::new("s.json"), br#"{"header":{"status":{"code":200}},"results":{"series":{"apdex":[[0,1]]}}}"#).unwrap().unwrap();
        assert_eq!(table.num_rows(), 1);
    }
}
