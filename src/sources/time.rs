//! Times and durations as Prometheus' HTTP API takes them: a time is Unix
//! seconds (`1795046400`, `1795046400.5`) or RFC 3339
//! (`2026-11-19T00:00:00Z`); a duration is seconds (`60`, `0.5`) or
//! Prometheus' units (`90s`, `1m`, `1h30m`, `500ms`, `1d`, `1w`, `1y`).

use datafusion::arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;

/// Seconds since the Unix epoch.
pub fn parse_time(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() { Ok(seconds) } else { Err(format!("'{text}' is not a time")) };
    }
    string_to_timestamp_nanos(text)
        .map(|nanos| nanos as f64 / 1e9)
        .map_err(|_| format!("'{text}' is not a time (use RFC 3339, e.g. 2026-11-19T00:00:00Z, or Unix seconds)"))
}

/// A positive duration in seconds.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let bad = || format!("'{text}' is not a duration (use e.g. 60s, 1m, 1h30m or seconds)");
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() && seconds > 0.0 { Ok(seconds) } else { Err(bad()) };
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return Err(bad()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    if total > 0.0 { Ok(total) } else { Err(bad()) }
}

/// Seconds as the API takes them: shortest decimal that reads back the same.
pub fn format_seconds(seconds: f64) -> String {
    format!("{seconds}")
}

/// Unix seconds (as Prometheus writes them) to microseconds.
pub fn seconds_to_micros(seconds: f64) -> i64 {
    (seconds * 1e6).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1795046400"), Ok(1_795_046_400.0));
        assert_eq!(parse_time("2026-11-19T00:00:00Z"), Ok(1_795_046_400.0));
        assert_eq!(parse_time("2026-11-19T01:00:00+01:00"), Ok(1_795_046_400.0));
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60"), Ok(60.0));
        assert_eq!(parse_duration("1m"), Ok(60.0));
        assert_eq!(parse_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_duration("500ms"), Ok(0.5));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-5").is_err());
    }

    #[test]
    fn micros() {
        assert_eq!(seconds_to_micros(1_795_046_400.123), 1_795_046_400_123_000);
        assert_eq!(format_seconds(1_795_046_400.0), "1795046400");
    }
}
