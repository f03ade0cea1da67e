//! What `rank_causes` needs to know about each metric — which direction
//! hurts, whether it is a percentage, its noise floors — and the method's
//! constants, each with the reason for its value (see
//! `/work/proto/rank_causes/SPEC.md` §1).

use std::collections::HashMap;

/// A change of at least this many reference spreads is anomalous (3 sigma).
pub const Z_ANOM: f64 = 3.0;
/// Target steps at least this abnormal form the incident window; lower than
/// [`Z_ANOM`] because the symptom is known to be sick and partly degraded
/// edge steps would spoil the reference.
pub const Z_WIN: f64 = 2.0;
/// Cap on the harm, so a spread stuck at its floor cannot dominate.
pub const Z_CAP: f64 = 100.0;
/// Volume weight `log10(VOL_OFFSET + N)`: N = 0 → 1, 3 → 1.11, 3000 → 3.48.
pub const VOL_OFFSET: f64 = 10.0;
/// Graph factor of a node whose callees explain all of its change.
pub const G_MIN: f64 = 0.05;
/// Pearson r above which a single-callee node counts as a record of it.
pub const MIRROR_R: f64 = 0.8;
/// ... provided the callee moved the harmful way by at least this many spreads.
pub const MIRROR_MIN_HARM: f64 = 1.0;

/// Which way of a metric hurts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    /// Neither (e.g. request counts): never evidence of harm.
    Neither,
}

impl Direction {
    /// +1, −1 or 0.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Up => 1.0,
            Direction::Down => -1.0,
            Direction::Neither => 0.0,
        }
    }

    /// `up`, `down` or `none`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "up" => Some(Direction::Up),
            "down" => Some(Direction::Down),
            "none" | "neither" => Some(Direction::Neither),
            _ => None,
        }
    }
}

/// How a metric's sampling noise behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A level (latency, error count): per-request CV ≈ 1, s.e. ≈ level/√n.
    Level,
    /// A percentage of requests (availability): binomial s.e.
    Percent,
    /// A count (requests): no sampling floor.
    Count,
}

/// One metric's direction, kind and spread floors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricConfig {
    pub direction: Direction,
    pub kind: Kind,
    /// The spread is at least `rel_floor · |reference median|`.
    pub rel_floor: f64,
    /// ... and at least `abs_floor`, so it is never 0.
    pub abs_floor: f64,
}

/// Any metric not configured: no direction, a level, 5 % and 1e-9 floors.
pub const FALLBACK: MetricConfig = MetricConfig { direction: Direction::Neither, kind: Kind::Level, rel_floor: 0.05, abs_floor: 1e-9 };

/// Per-metric configuration, by metric name.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTable {
    metrics: HashMap<String, MetricConfig>,
}

impl Default for MetricTable {
    /// latency up (1 µs floor), availability down (a percentage, 0.1 pp
    /// floor), errors up, requests neither.
    fn default() -> Self {
        let level = |direction, abs_floor| MetricConfig { direction, kind: Kind::Level, rel_floor: 0.05, abs_floor };
        let metrics = HashMap::from([
            ("latency".to_string(), level(Direction::Up, 1e-6)),
            ("availability".to_string(), MetricConfig { direction: Direction::Down, kind: Kind::Percent, rel_floor: 0.0, abs_floor: 0.1 }),
            ("errors".to_string(), level(Direction::Up, 1e-9)),
            ("requests".to_string(), MetricConfig { direction: Direction::Neither, kind: Kind::Count, rel_floor: 0.05, abs_floor: 1.0 }),
        ]);
        Self { metrics }
    }
}

impl MetricTable {
    /// The configuration of `metric` ([`FALLBACK`] when not configured).
    pub fn get(&self, metric: &str) -> MetricConfig {
        self.metrics.get(metric).copied().unwrap_or(FALLBACK)
    }

    /// Sets the direction of `metric` (a new metric starts from [`FALLBACK`]).
    pub fn set_direction(&mut self, metric: &str, direction: Direction) {
        self.metrics.entry(metric.to_string()).or_insert(FALLBACK).direction = direction;
    }

    /// Makes `metric` a percentage of requests: binomial sampling floor and a
    /// 0.1-point absolute floor, no relative floor.
    pub fn set_percent(&mut self, metric: &str) {
        let config = self.metrics.entry(metric.to_string()).or_insert(FALLBACK);
        *config = MetricConfig { kind: Kind::Percent, rel_floor: 0.0, abs_floor: 0.1, ..*config };
    }
}

/// The fraction of a statistic's requests that set its sampling noise: 1 for
/// means and sums, `1 − q` for a tail percentile `pQ` with q > 0.5 (p90 →
/// 0.1, never below 0.005), 0.5 for a percentile at or below the median.
pub fn stat_share(stat: &str) -> f64 {
    let lower = stat.to_ascii_lowercase();
    let q = lower.strip_prefix('p').and_then(|digits| digits.parse::<f64>().ok()).map(|p| p / 100.0);
    match q {
        Some(q) if q > 0.5 && q < 1.0 => (1.0 - q).max(0.005),
        Some(q) if q > 0.0 && q <= 0.5 => 0.5,
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_percentiles_use_few_requests() {
        assert!((stat_share("p90") - 0.1).abs() < 1e-12);
        assert!((stat_share("P99") - 0.01).abs() < 1e-12);
        assert_eq!(stat_share("p99.9"), 0.005);
        assert_eq!(stat_share("p50"), 0.5);
        assert_eq!(stat_share("Average"), 1.0);
        assert_eq!(stat_share("Sum"), 1.0);
    }

    #[test]
    fn directions_and_percentages_are_inputs() {
        let mut table = MetricTable::default();
        assert_eq!(table.get("latency").direction, Direction::Up);
        assert_eq!(table.get("availability").kind, Kind::Percent);
        assert_eq!(table.get("cpu"), FALLBACK);
        table.set_direction("cpu", Direction::Up);
        table.set_percent("success_rate");
        assert_eq!(table.get("cpu").direction, Direction::Up);
        assert_eq!((table.get("success_rate").kind, table.get("success_rate").direction), (Kind::Percent, Direction::Neither));
    }
}
