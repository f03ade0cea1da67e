//! Root-cause ranking for one incident (the method behind `rank_causes`):
//! which service, reachable from the symptom in the call graph, changed the
//! harmful way during the incident by the most reference spreads, weighted
//! by its traffic, and is not explained by its callees?
//!
//! Free of DataFusion: [`Incident`] is the metrics on a grid of time steps
//! plus the call graph, [`rank`] returns the candidates best first.
//! [`tables`] reads an incident from SQL tables and writes the result.
//! The method follows `/work/proto/rank_causes/SPEC.md` step by step.

pub mod change;
pub mod config;
pub mod graph;
pub mod score;
pub mod tables;
pub mod window;

use std::collections::HashMap;

use config::MetricTable;
use crate::stats::robust::median;

/// What identifies a series: its node, its metric and its statistic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub node: String,
    pub metric: String,
    pub stat: String,
}

/// One series: a value (or none) per time step, and, if a baseline table
/// holds it, the baseline's values (which then replace its reference).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub key: SeriesKey,
    pub values: Vec<Option<f64>>,
    pub baseline: Option<Vec<f64>>,
}

/// An incident: series on a grid of `steps` time steps (in the order first
/// seen, which breaks exact ties) and caller → callee edges.
#[derive(Debug, Clone, Default)]
pub struct Incident {
    pub steps: usize,
    pub series: Vec<Series>,
    index: HashMap<SeriesKey, usize>,
    pub edges: Vec<(String, String)>,
}

impl Incident {
    /// An incident with `steps` time steps and no series.
    pub fn new(steps: usize) -> Self {
        Self { steps, ..Self::default() }
    }

    /// Sets the value of `key` at `step` (a later value for the same step wins).
    pub fn push(&mut self, key: SeriesKey, step: usize, value: f64) {
        let at = match self.index.get(&key) {
            Some(&at) => at,
            None => {
                self.index.insert(key.clone(), self.series.len());
                self.series.push(Series { key, values: vec![None; self.steps], baseline: None });
                self.series.len() - 1
            }
        };
        self.series[at].values[step] = Some(value);
    }

    /// Adds a baseline value to `key` (ignored when the metrics lack the series).
    pub fn push_baseline(&mut self, key: &SeriesKey, value: f64) {
        if let Some(&at) = self.index.get(key) {
            self.series[at].baseline.get_or_insert_with(Vec::new).push(value);
        }
    }

    /// The series named `key`.
    pub fn get(&self, key: &SeriesKey) -> Option<&Series> {
        self.index.get(key).map(|&at| &self.series[at])
    }

    /// Median requests per step of `node` over `steps` (`None`: no request rows there).
    pub fn volume_over(&self, node: &str, steps: &[usize], options: &Options) -> Option<f64> {
        let (metric, stat) = &options.volume;
        let key = SeriesKey { node: node.to_string(), metric: metric.clone(), stat: stat.clone() };
        let values = self.get(&key)?.at(steps);
        (!values.is_empty()).then(|| median(&values))
    }
}

impl Series {
    /// The values present at `steps`.
    pub fn at(&self, steps: &[usize]) -> Vec<f64> {
        steps.iter().filter_map(|&step| self.values[step]).collect()
    }
}

/// Which steps outside the window form the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// Every step before and after the window.
    Outside,
    /// Only the steps before it.
    Before,
}

/// How to rank: the window, the reference, per-metric configuration, the
/// volume series and the ablation switches.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Inclusive step range of the incident; `None` = found from the target.
    pub window: Option<(usize, usize)>,
    pub reference: Reference,
    pub metrics: MetricTable,
    /// Metric and statistic of the requests-per-step series.
    pub volume: (String, String),
    /// The statistic that is a per-request mean (additive over callers).
    pub mean_stat: String,
    pub use_graph: bool,
    pub use_direction: bool,
    pub use_volume: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            window: None,
            reference: Reference::Outside,
            metrics: MetricTable::default(),
            volume: ("requests".to_string(), "Sum".to_string()),
            mean_stat: "Average".to_string(),
            use_graph: true,
            use_direction: true,
            use_volume: true,
        }
    }
}

/// One ranked candidate and the evidence behind its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub node: String,
    pub rank: usize,
    /// `harm · volume_w · graph_w` (lowered just below its callee's for a mirror).
    pub score: f64,
    /// The change in reference spreads, the harmful way positive (capped at 100).
    pub harm: f64,
    /// The series that gave the harm and its change.
    pub metric: String,
    pub stat: String,
    pub change: change::Change,
    /// Whether the change went the metric's harmful way.
    pub worse: bool,
    /// Mann–Whitney p of the incident values against the reference values.
    pub shift_p: Option<f64>,
    /// Typical requests per step.
    pub volume: Option<f64>,
    pub volume_w: f64,
    pub graph_w: f64,
    pub depth: Option<usize>,
    /// Nodes from the symptom to this one.
    pub path: Option<Vec<String>>,
    pub n_callees: usize,
    pub n_anom_callees: usize,
    pub n_anom_descendants: usize,
    /// The single callee this node only records (it ranks just below it).
    pub mirror_of: Option<String>,
    /// Set when this node was added because a mirror of it was a candidate.
    pub via_mirror: Option<String>,
}

/// The ranking and what it was computed over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub candidates: Vec<Candidate>,
    /// Inclusive step range of the incident, when one was found.
    pub window: Option<(usize, usize)>,
    /// The target's harm over the whole window.
    pub target_z: Option<f64>,
    /// `ok`, or why there are no rows.
    pub status: String,
}

/// Ranks the causes of the symptom `target` in `incident`. Returns no
/// candidates (and a status saying why) when the target is missing, shows no
/// anomaly, or the window or reference is empty.
pub fn rank(incident: &Incident, target: &SeriesKey, options: &Options) -> Outcome {
    let Some(target_series) = incident.get(target) else {
        return Outcome { status: "target missing from metrics".into(), ..Outcome::default() };
    };
    let steps = match window::steps(incident, target_series, options) {
        Ok(steps) => steps,
        Err(status) => return Outcome { status: status.into(), ..Outcome::default() },
    };
    score::rank(incident, target_series, &steps, options)
}
