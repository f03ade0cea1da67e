//! Scout APM's API metric responses (`/api/v0/apps/:id/metrics/:metric`,
//! and the same for an endpoint), as `curl` saves them:
//! `{"header":{"status":{"code":200,"message":"OK"},…},"results":{"series":{"response_time":[["2026-11-19T00:00:00Z",12.5],…],…}}}`.
//! Each entry of `results.series` is one series, labelled `metric`; a value
//! may be a number, a numeric string or null (read as NaN: missing).

use serde_json::Value;

use super::time::{parse_time, seconds_to_micros};
use super::{parse_value, Series};

/// Whether `json` looks like a Scout API response (for `--data`).
pub fn looks_like(json: &Value) -> bool {
    json.get("header").is_some_and(Value::is_object) || json.get("results").is_some_and(|r| r.get("series").is_some())
}

/// The series of a response; a non-200 header status is an error.
pub fn series(json: &Value) -> Result<Vec<Series>, String> {
    let status = json.pointer("/header/status");
    let code = status.and_then(|s| s.get("code")).and_then(Value::as_i64).unwrap_or(200);
    if code != 200 {
        let message = status.and_then(|s| s.get("message")).and_then(Value::as_str).unwrap_or("(no message)");
        return Err(format!("Scout answered {code}: {message}"));
    }
    let series = json.pointer("/results/series").and_then(Value::as_object).ok_or("Scout response without \"results.series\" (an object of metric → [[time, value], …])")?;
    series
        .iter()
        .map(|(metric, points)| {
            let at = format!("results.series.{metric}");
            let points = points.as_array().ok_or_else(|| format!("{at}: expected an array of [time, value]"))?;
            let points = points.iter().enumerate().map(|(k, p)| point(p, &format!("{at}[{k}]"))).collect::<Result<Vec<_>, _>>()?;
            Ok(Series { labels: [("metric".to_string(), metric.clone())].into(), points })
        })
        .collect()
}

fn point(value: &Value, at: &str) -> Result<(i64, f64), String> {
    let pair = value.as_array().filter(|p| p.len() == 2).ok_or_else(|| format!("{at}: expected [time, value]"))?;
    let time = match &pair[0] {
        Value::String(text) => parse_time(text),
        Value::Number(n) => n.as_f64().ok_or_else(|| "not a time".to_string()),
        other => Err(format!("{other} is not a time")),
    }
    .map_err(|e| format!("{at}: {e}"))?;
    let number = match &pair[1] {
        Value::Null => Some(f64::NAN),
        Value::Number(n) => n.as_f64(),
        Value::String(text) => parse_value(text),
        _ => None,
    }
    .ok_or_else(|| format!("{at}: value {} is not a number", pair[1]))?;
    Ok((seconds_to_micros(time), number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_and_errors() {
        let json: Value = serde_json::from_str(
            r#"{"header":{"status":{"code":200,"message":"OK"},"apiVersion":"0.1"},
                "results":{"series":{"response_time":[["2026-11-19T00:00:00Z",12.5],["2026-11-19T00:01:00Z",null]],"throughput":[["2026-11-19T00:00:00Z","3"]]}}}"#,
        )
        .unwrap();
        assert!(looks_like(&json));
        let got = series(&json).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].labels["metric"], "response_time");
        assert_eq!(got[0].points[0], (1_795_046_400_000_000, 12.5));
        assert!(got[0].points[1].1.is_nan());
        assert_eq!(got[1].points, vec![(1_795_046_400_000_000, 3.0)]);
        let denied: Value = serde_json::from_str(r#"{"header":{"status":{"code":401,"message":"Unauthorized"}}}"#).unwrap();
        assert_eq!(series(&denied).unwrap_err(), "Scout answered 401: Unauthorized");
        let bad: Value = serde_json::from_str(r#"{"header":{},"results":{"series":{"errors":[["later",1]]}}}"#).unwrap();
        assert!(series(&bad).unwrap_err().starts_with("results.series.errors[0]: 'later' is not a time"));
    }
}
