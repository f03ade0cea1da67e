//! The change of one series during the incident, in reference spreads: the
//! reference and incident medians, and a spread that is never 0 (MAD,
//! relative and absolute floors, and the sampling noise of an aggregate of
//! N requests).

use super::config::{stat_share, Kind, MetricConfig};
use crate::stats::robust::{median, scaled_mad};

/// A series' reference median, incident median, spread and z.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub reference: f64,
    pub incident: f64,
    pub spread: f64,
    /// `(incident − reference) / spread`, before any direction.
    pub z: f64,
}

/// The spread of a series whose reference points are `reference` around
/// center `c`, with incident median `im`, under `config`. `volume` is the
/// typical number of requests per step (`None`: no sampling floor), `stat`
/// the statistic (a tail percentile rests on fewer requests).
pub fn spread(reference: &[f64], c: f64, im: f64, config: &MetricConfig, volume: Option<f64>, stat: &str) -> f64 {
    let mut sp = scaled_mad(reference, c).max(config.rel_floor * c.abs()).max(config.abs_floor);
    if let Some(volume) = volume {
        let n = volume.max(1.0);
        match config.kind {
            Kind::Percent => {
                let q = (1.0 - c / 100.0).max(1.0 - im / 100.0).max(0.5 / (n + 1.0)).min(0.5);
                sp = sp.max(100.0 * (q * (1.0 - q) / n).sqrt());
            }
            Kind::Level => {
                let effective = (n * stat_share(stat)).max(1.0);
                sp = sp.max(c.abs().max(im.abs()) / effective.sqrt());
            }
            Kind::Count => {}
        }
    }
    sp
}

/// The change from `reference` to `incident` values; `None` if either is empty.
pub fn change(reference: &[f64], incident: &[f64], config: &MetricConfig, volume: Option<f64>, stat: &str) -> Option<Change> {
    if reference.is_empty() || incident.is_empty() {
        return None;
    }
    let c = median(reference);
    let im = median(incident);
    let sp = spread(reference, c, im, config, volume, stat);
    Some(Change { reference: c, incident: im, spread: sp, z: (im - c) / sp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rca::config::MetricTable;

    #[test]
    fn a_constant_percentage_reference_keeps_a_finite_spread() {
        let availability = MetricTable::default().get("availability");
        // 100 % before, 90 % during, 1000 requests: binomial s.e. of q = 0.1.
        let ch = change(&[100.0, 100.0, 100.0], &[90.0], &availability, Some(1000.0), "Average").unwrap();
        let se = 100.0 * (0.1f64 * 0.9 / 1000.0).sqrt();
        assert!((ch.spread - se).abs() < 1e-12, "{ch:?}");
        assert!((ch.z + 10.0 / se).abs() < 1e-9);
        // Without volume the 0.1-point floor holds.
        assert_eq!(change(&[100.0, 100.0], &[100.0], &availability, None, "Average").unwrap().spread, 0.1);
    }

    #[test]
    fn few_requests_make_a_level_noisy() {
        let latency = MetricTable::default().get("latency");
        // 4 requests, p99: one request sets it, spread = max(level) / 1.
        let ch = change(&[1.0, 1.0, 1.0], &[3.0], &latency, Some(4.0), "p99").unwrap();
        assert_eq!((ch.spread, ch.z), (3.0, 2.0 / 3.0));
        // 10,000 requests, Average: the 5 % relative floor rules.
        let ch = change(&[1.0, 1.0, 1.0], &[3.0], &latency, Some(10_000.0), "Average").unwrap();
        assert!((ch.spread - 0.05).abs() < 1e-15);
        assert!(change(&[], &[1.0], &latency, None, "Average").is_none());
    }
}
