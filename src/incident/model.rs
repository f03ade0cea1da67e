//! The synthetic incident: what `perfcorr generate` writes and what ships as
//! the bundled sample.
//!
//! One-minute points from 2026-11-19 00:00 UTC. Every series rides a shared
//! daily trend (quiet at 04:00, busy at 16:00), so raw levels correlate with
//! each other whatever their cause. On top of that:
//! * from 19:00 to 21:20 on the first day the SQL layer slows down (a ramp
//!   plus minute-to-minute jitter), and that drives the app's response time;
//! * the view `apps/data` issues those slow queries: its response time carries
//!   the same jitter;
//! * a script keeps reloading `endpoints/sparkline`: bursts of its throughput
//!   that weakly raise the app's response time.
//!
//! Each view draws from its own random stream, so a view's series do not
//! depend on how many views are generated or in which order they are written.

use super::random::Random;

/// 2026-11-19T00:00:00Z in microseconds since the Unix epoch.
pub const START_MICROS: i64 = 1_795_046_400_000_000;
pub const MINUTE_MICROS: i64 = 60_000_000;
const MINUTES_PER_DAY: f64 = 1440.0;
const INCIDENT_START_MINUTE: usize = 19 * 60;
const INCIDENT_END_MINUTE: usize = 21 * 60 + 20;

/// Layers and their typical time per request (ms).
pub const LAYERS: [(&str, f64); 10] = [
    ("SQL", 38.0),
    ("MongoDB", 12.0),
    ("Elasticsearch", 9.0),
    ("Redis", 2.0),
    ("HTTP", 15.0),
    ("View", 20.0),
    ("Template", 8.0),
    ("Memcached", 1.5),
    ("Middleware", 4.0),
    ("Serialization", 6.0),
];

/// The view whose slow SQL drives the incident.
pub const SLOW_VIEW: &str = "apps/data";
/// The view whose throughput bursts raise the response time.
pub const BURSTY_VIEW: &str = "endpoints/sparkline";

const RESOURCES: [&str; 24] = [
    "accounts", "alerts", "apps", "billing", "checkouts", "comments", "dashboards", "deploys",
    "exports", "feeds", "invoices", "issues", "metrics", "notifications", "orders", "projects",
    "reports", "search", "sessions", "settings", "teams", "traces", "uploads", "users",
];
const ACTIONS: [&str; 8] = ["index", "show", "create", "update", "destroy", "list", "detail", "summary"];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentSpec {
    pub views: usize,
    pub points: usize,
    pub seed: u64,
}

/// The series of one view.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSeries {
    pub name: String,
    pub response_ms: Vec<f64>,
    pub throughput_rpm: Vec<f64>,
}

/// The app-level and layer series, plus what views need to draw their own.
#[derive(Debug, Clone)]
pub struct Incident {
    pub spec: IncidentSpec,
    /// Share of the day's peak traffic, in [0, 1].
    trend: Vec<f64>,
    /// Extra SQL time per request during the incident (0 outside it).
    sql_slowdown: Vec<f64>,
    /// Extra requests per minute from the script reloading the sparkline.
    sparkline_bursts: Vec<f64>,
    pub layers_ms: Vec<Vec<f64>>,
    pub app_response_ms: Vec<f64>,
    pub app_throughput_rpm: Vec<f64>,
}

/// Rounds to `decimals` places: metric exports carry a few digits, and short
/// values keep the sample small.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Busiest-minute throughput of view `index` (the sparkline's is its bursts).
fn view_peak_rpm(index: usize) -> f64 {
    200.0 / (index as f64 + 1.0).powf(0.8)
}

impl Incident {
    pub fn new(spec: IncidentSpec) -> Self {
        let points = spec.points;
        let trend: Vec<f64> = (0..points)
            .map(|t| {
                let minute = t as f64 % MINUTES_PER_DAY;
                0.5 - 0.5 * (2.0 * std::f64::consts::PI * (minute - 240.0) / MINUTES_PER_DAY).cos()
            })
            .collect();
        let sql_slowdown = Self::sql_slowdown(points, &mut Random::new(spec.seed, 1));
        let sparkline_bursts = Self::bursts(points, &mut Random::new(spec.seed, 2));
        let mut noise = Random::new(spec.seed, 3);
        let layers_ms: Vec<Vec<f64>> = LAYERS
            .iter()
            .map(|&(name, base)| {
                (0..points)
                    .map(|t| {
                        let level = base * (0.85 + 0.3 * trend[t]) + 0.06 * base * noise.normal();
                        let slowdown = if name == "SQL" { sql_slowdown[t] } else { 0.0 };
                        round((level + slowdown).max(0.0), 3)
                    })
                    .collect()
            })
            .collect();
        let app_response_ms = (0..points)
            .map(|t| {
                let layers: f64 = layers_ms.iter().map(|layer| layer[t]).sum();
                round(layers + 0.04 * sparkline_bursts[t] + 3.0 * noise.normal(), 3)
            })
            .collect();
        let peak: f64 = (0..spec.views).filter(|&i| i != 1).map(view_peak_rpm).sum();
        let app_throughput_rpm = (0..points)
            .map(|t| {
                let rpm = peak * (0.25 + 0.75 * trend[t]) * (1.0 + 0.02 * noise.normal());
                round(rpm + sparkline_bursts[t], 2)
            })
            .collect();
        Self { spec, trend, sql_slowdown, sparkline_bursts, layers_ms, app_response_ms, app_throughput_rpm }
    }

    /// Ramp up over 20 minutes, hold, ramp down over the last 20; with AR(1)
    /// jitter riding on it.
    fn sql_slowdown(points: usize, random: &mut Random) -> Vec<f64> {
        let mut jitter = 0.0;
        (0..points)
            .map(|t| {
                jitter = 0.6 * jitter + 8.0 * random.normal();
                if !(INCIDENT_START_MINUTE..INCIDENT_END_MINUTE).contains(&t) {
                    return 0.0;
                }
                let into = (t - INCIDENT_START_MINUTE) as f64;
                let left = (INCIDENT_END_MINUTE - t) as f64;
                let envelope = (into / 20.0).min(left / 20.0).min(1.0);
                envelope * (45.0 + jitter)
            })
            .collect()
    }

    /// On/off bursts: a burst starts with probability 1% a minute and lasts
    /// 3–15 minutes at 40–120 extra requests per minute.
    fn bursts(points: usize, random: &mut Random) -> Vec<f64> {
        let (mut remaining, mut rate) = (0usize, 0.0);
        (0..points)
            .map(|_| {
                if remaining == 0 && random.uniform() < 0.01 {
                    remaining = 3 + (random.uniform() * 13.0) as usize;
                    rate = 40.0 + 80.0 * random.uniform();
                }
                if remaining == 0 {
                    return 0.0;
                }
                remaining -= 1;
                rate
            })
            .collect()
    }

    /// The name of view number `index` (0 = `apps/data`, 1 = `endpoints/sparkline`).
    pub fn view_name(index: usize) -> String {
        match index {
            0 => SLOW_VIEW.to_string(),
            1 => BURSTY_VIEW.to_string(),
            _ => {
                let k = index - 2;
                let combos = RESOURCES.len() * ACTIONS.len();
                let base = format!("{}/{}", RESOURCES[k % RESOURCES.len()], ACTIONS[(k / RESOURCES.len()) % ACTIONS.len()]);
                if k < combos { base } else { format!("{base}_{}", k / combos) }
            }
        }
    }

    /// The series of view number `index`.
    pub fn view(&self, index: usize) -> ViewSeries {
        let mut random = Random::new(self.spec.seed, 1_000 + index as u64);
        let points = self.spec.points;
        let peak = view_peak_rpm(index);
        let base_ms = 30.0 * (1.0 + 12.0 * random.uniform()).powf(1.3);
        let sql_sensitivity = if index == 0 { 1.5 } else { 0.3 * random.uniform() };
        let noise_share = if index == 0 { 0.03 } else { 0.04 + 0.06 * random.uniform() };
        let mut response_ms = Vec::with_capacity(points);
        let mut throughput_rpm = Vec::with_capacity(points);
        for t in 0..points {
            let level = base_ms * (0.9 + 0.2 * self.trend[t]);
            let response = level + sql_sensitivity * self.sql_slowdown[t] + noise_share * base_ms * random.normal();
            response_ms.push(round(response.max(0.0), 3));
            let rpm = if index == 1 {
                2.0 + self.sparkline_bursts[t] + 0.5 * random.normal()
            } else {
                peak * (0.25 + 0.75 * self.trend[t]) * (1.0 + 0.08 * random.normal())
            };
            throughput_rpm.push(round(rpm.max(0.0), 2));
        }
        ViewSeries { name: Self::view_name(index), response_ms, throughput_rpm }
    }

    /// Timestamp of point `t`, microseconds since the epoch.
    pub fn timestamp(t: usize) -> i64 {
        START_MICROS + t as i64 * MINUTE_MICROS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_names_are_unique() {
        let names: std::collections::HashSet<String> = (0..10_000).map(Incident::view_name).collect();
        assert_eq!(names.len(), 10_000);
    }

    #[test]
    fn views_do_not_depend_on_how_many_are_generated() {
        let small = Incident::new(IncidentSpec { views: 5, points: 50, seed: 3 });
        let large = Incident::new(IncidentSpec { views: 500, points: 50, seed: 3 });
        assert_eq!(small.view(3), large.view(3));
    }

    #[test]
    fn start_is_the_documented_date() {
        // 2026-11-19T00:00:00Z
        assert_eq!(START_MICROS / 1_000_000, 1_795_046_400);
    }
}
