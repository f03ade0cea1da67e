//! Prometheus' query API response (`/api/v1/query_range`, `/api/v1/query`),
//! as the server sends it and as `curl` saves it:
//! `{"status":"success","data":{"resultType":"matrix"|"vector"|"scalar","result":…}}`
//! or `{"status":"error","errorType":…,"error":…}`. Float samples only
//! (native-histogram samples are not metrics perfcorr reads).

use serde_json::Value;

use super::time::seconds_to_micros;
use super::{parse_value, Series};

/// Whether `json` looks like a Prometheus query response (for `--data`).
pub fn looks_like(json: &Value) -> bool {
    json.get("status").is_some_and(Value::is_string) && (json.get("data").is_some() || json.get("errorType").is_some())
}

/// The series of a response; an error response gives its `errorType: error`.
pub fn series(json: &Value) -> Result<Vec<Series>, String> {
    match json.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let kind = json.get("errorType").and_then(Value::as_str).unwrap_or("error");
            let message = json.get("error").and_then(Value::as_str).unwrap_or("(no message)");
            return Err(format!("Prometheus answered {kind}: {message}"));
        }
        _ => return Err("not a Prometheus response: no \"status\": \"success\" or \"error\"".to_string()),
    }
    let data = json.get("data").ok_or("Prometheus response without \"data\"")?;
    let result = data.get("result").ok_or("Prometheus response without \"data.result\"")?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix") => array(result, "data.result")?.iter().enumerate().map(|(i, s)| matrix_series(s, i)).collect(),
        Some("vector") => array(result, "data.result")?.iter().enumerate().map(|(i, s)| vector_series(s, i)).collect(),
        Some("scalar") => Ok(vec![Series { labels: Default::default(), points: vec![sample(result, "data.result")?] }]),
        Some(other) => Err(format!("Prometheus result type '{other}' holds no numbers")),
        None => Err("Prometheus response without \"data.resultType\"".to_string()),
    }
}

fn array<'a>(value: &'a Value, at: &str) -> Result<&'a Vec<Value>, String> {
    value.as_array().ok_or_else(|| format!("{at}: expected an array"))
}

fn labels(series: &Value, at: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    let Some(metric) = series.get("metric") else { return Ok(Default::default()) };
    let object = metric.as_object().ok_or_else(|| format!("{at}.metric: expected an object"))?;
    object
        .iter()
        .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())).ok_or_else(|| format!("{at}.metric.{k}: expected a string")))
        .collect()
}

/// `[unix_seconds, "value"]`.
fn sample(value: &Value, at: &str) -> Result<(i64, f64), String> {
    let pair = value.as_array().filter(|p| p.len() == 2).ok_or_else(|| format!("{at}: expected [time, \"value\"]"))?;
    let time = pair[0].as_f64().ok_or_else(|| format!("{at}: time {} is not a number", pair[0]))?;
    let number = match &pair[1] {
        Value::String(text) => parse_value(text),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .ok_or_else(|| format!("{at}: value {} is not a number", pair[1]))?;
    Ok((seconds_to_micros(time), number))
}

fn matrix_series(series: &Value, index: usize) -> Result<Series, String> {
    let at = format!("data.result[{index}]");
    let values = match series.get("values") {
        Some(values) => array(values, &format!("{at}.values"))?.as_slice(),
        None => &[],
    };
    let points = values.iter().enumerate().map(|(k, v)| sample(v, &format!("{at}.values[{k}]"))).collect::<Result<_, _>>()?;
    Ok(Series { labels: labels(series, &at)?, points })
}

fn vector_series(series: &Value, index: usize) -> Result<Series, String> {
    let at = format!("data.result[{index}]");
    let value = series.get("value").ok_or_else(|| format!("{at}: no \"value\""))?;
    Ok(Series { labels: labels(series, &at)?, points: vec![sample(value, &format!("{at}.value"))?] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_vector_scalar_and_errors() {
        let matrix: Value = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"view":"a"},"values":[[1795046400,"1.5"],[1795046460,"NaN"],[1795046520,"+Inf"]]}]}}"#,
        )
        .unwrap();
        let got = series(&matrix).unwrap();
        assert_eq!(got[0].labels["view"], "a");
        assert_eq!(got[0].points[0], (1_795_046_400_000_000, 1.5));
        assert!(got[0].points[1].1.is_nan());
        assert_eq!(got[0].points[2].1, f64::INFINITY);
        let vector: Value = serde_json::from_str(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"-Inf"]}]}}"#).unwrap();
        assert_eq!(series(&vector).unwrap()[0].points, vec![(1_500_000, f64::NEG_INFINITY)]);
        let scalar: Value = serde_json::from_str(r#"{"status":"success","data":{"resultType":"scalar","result":[2,"3"]}}"#).unwrap();
        assert_eq!(series(&scalar).unwrap()[0].points, vec![(2_000_000, 3.0)]);
        let error: Value = serde_json::from_str(r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#).unwrap();
        assert_eq!(series(&error).unwrap_err(), "Prometheus answered bad_data: parse error");
        let bad: Value = serde_json::from_str(r#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"x"]]}]}}"#).unwrap();
        assert_eq!(series(&bad).unwrap_err(), "data.result[0].values[0]: value \"x\" is not a number");
        assert!(looks_like(&matrix) && looks_like(&error) && !looks_like(&serde_json::json!([{"a": 1}])));
    }
}
