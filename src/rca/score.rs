//! Evidence and score per node: the harmful change of each node's worst
//! series, its traffic weight, how much of it the node's callees explain
//! (graph factor), and the rule that a node which only records one callee
//! (a client or proxy) never outranks that callee.

use std::collections::HashMap;

use super::change::{change, Change};
use super::config::{Direction, MetricConfig, G_MIN, MIRROR_MIN_HARM, MIRROR_R, VOL_OFFSET, Z_ANOM, Z_CAP, Z_WIN};
use super::graph::{Graph, Reach};
use super::window::Steps;
use super::{Candidate, Incident, Options, Outcome, Series, SeriesKey};
use crate::stats::ranks::mann_whitney_p;
use crate::stats::robust::{median, scaled_mad};
use crate::stats::CoMoments;

/// A node's most harmful series and its change.
#[derive(Debug, Clone)]
struct Evidence {
    harm: f64,
    series: usize,
    change: Change,
}

/// Everything the scoring of one incident shares.
struct Context<'a> {
    incident: &'a Incident,
    steps: &'a Steps,
    options: &'a Options,
    /// Table-wide relative noise per (metric, stat).
    pooled_rel: HashMap<(String, String), f64>,
    /// Typical requests per step per node (`None`: no request rows).
    volume: HashMap<String, Option<f64>>,
    graph: Graph,
    reach: Reach,
    evidence: HashMap<String, Evidence>,
}

impl Context<'_> {
    /// Reference values (the baseline's when it has the series) and incident values.
    fn split(&self, series: &Series) -> (Vec<f64>, Vec<f64>) {
        let reference = series.baseline.clone().unwrap_or_else(|| series.at(&self.steps.reference));
        (reference, series.at(&self.steps.incident))
    }

    /// The metric's configuration, its relative floor raised to the table-wide noise.
    fn config(&self, key: &SeriesKey) -> MetricConfig {
        let mut config = self.options.metrics.get(&key.metric);
        let pooled = self.pooled_rel.get(&(key.metric.clone(), key.stat.clone())).copied().unwrap_or(0.0);
        config.rel_floor = config.rel_floor.max(pooled);
        config
    }

    fn volume(&self, node: &str) -> Option<f64> {
        self.volume.get(node).copied().flatten()
    }

    /// The change of a series, with the sampling floor of its node's volume.
    fn change(&self, series: &Series) -> Option<Change> {
        let (reference, incident) = self.split(series);
        let volume = self.options.use_volume.then(|| self.volume(&series.key.node)).flatten();
        change(&reference, &incident, &self.config(&series.key), volume, &series.key.stat)
    }

    fn harm(&self, node: &str) -> Option<f64> {
        self.evidence.get(node).map(|e| e.harm)
    }

    fn anomalous(&self, node: &str) -> bool {
        self.harm(node).is_some_and(|harm| harm >= Z_ANOM)
    }

    /// Anomalous nodes among `nodes` that are not on a cycle with `node`.
    fn anomalous_outside<'n>(&self, node: &str, nodes: impl IntoIterator<Item = &'n String>) -> Vec<&'n String> {
        nodes.into_iter().filter(|c| self.anomalous(c) && !self.graph.same_component(c, node)).collect()
    }

    /// Requests × harmful change of the node's per-request mean of `metric`:
    /// extra latency-seconds (or failed-request percent-units) per step.
    fn excess(&self, node: &str, metric: &str) -> Option<f64> {
        let key = SeriesKey { node: node.to_string(), metric: metric.to_string(), stat: self.options.mean_stat.clone() };
        let (reference, incident) = self.split(self.incident.get(&key)?);
        if reference.is_empty() || incident.is_empty() {
            return None;
        }
        let direction = self.options.metrics.get(metric).direction;
        let sign = if direction == Direction::Neither { 1.0 } else { direction.sign() };
        let requests = if self.options.use_volume { self.volume(node).unwrap_or(0.0) } else { 1.0 };
        Some(requests * sign * (median(&incident) - median(&reference)))
    }

    /// The share of the node's excess its callees (outside its cycle) account
    /// for, at most 1; `None` without a positive excess of its own.
    fn explained(&self, node: &str, metric: &str) -> Option<f64> {
        let own = self.excess(node, metric).filter(|&x| x > 0.0)?;
        let callees = self.graph.callees(node).iter().filter(|c| !self.graph.same_component(c, node));
        let total: f64 = callees.filter_map(|c| self.excess(c, metric)).filter(|&x| x > 0.0).sum();
        Some((total / own).min(1.0))
    }

    /// The graph factor: 1 − explained share (at least `G_MIN`), or without an
    /// additive mean the node's share of the harm among its anomalous descendants.
    fn graph_weight(&self, node: &str, evidence: &Evidence) -> f64 {
        let metric = &self.incident.series[evidence.series].key.metric;
        match self.explained(node, metric) {
            Some(explained) => (1.0 - explained).max(G_MIN),
            None => {
                let below = self.graph.descendants(node);
                let others: f64 = self.anomalous_outside(node, &below).iter().filter_map(|d| self.harm(d)).sum();
                evidence.harm / (evidence.harm + others)
            }
        }
    }

    /// The single callee this node only records, if any.
    fn mirror_of(&self, node: &str, evidence: &Evidence) -> Option<String> {
        let [callee] = self.graph.callees(node) else { return None };
        let callee_evidence = self.evidence.get(callee)?;
        if self.graph.same_component(callee, node) {
            return None;
        }
        let own = &self.incident.series[evidence.series];
        let twin = SeriesKey { node: callee.clone(), ..own.key.clone() };
        let r = self.incident.get(&twin).and_then(|twin| pearson(&own.values, &twin.values));
        let records = self.anomalous(callee) || (callee_evidence.harm >= MIRROR_MIN_HARM && r.is_some_and(|r| r >= MIRROR_R));
        records.then(|| callee.clone())
    }

    /// A candidate row for `node` with the given score and graph factor.
    fn candidate(&self, node: &str, evidence: &Evidence, score: f64, graph_w: f64) -> Candidate {
        let series = &self.incident.series[evidence.series];
        let (reference, incident) = self.split(series);
        let volume = self.volume(node);
        let below = self.graph.descendants(node);
        Candidate {
            node: node.to_string(),
            rank: 0,
            score,
            harm: evidence.harm,
            metric: series.key.metric.clone(),
            stat: series.key.stat.clone(),
            change: evidence.change,
            worse: self.options.metrics.get(&series.key.metric).direction.sign() * evidence.change.z > 0.0,
            shift_p: mann_whitney_p(&incident, &reference),
            volume,
            volume_w: self.volume_weight(node),
            graph_w,
            depth: self.reach.depth(node),
            path: self.reach.path(node),
            n_callees: self.graph.callees(node).len(),
            n_anom_callees: self.anomalous_outside(node, self.graph.callees(node)).len(),
            n_anom_descendants: self.anomalous_outside(node, &below).len(),
            mirror_of: None,
            via_mirror: None,
        }
    }

    fn volume_weight(&self, node: &str) -> f64 {
        if self.options.use_volume {
            (VOL_OFFSET + self.volume(node).unwrap_or(0.0)).log10()
        } else {
            1.0
        }
    }
}

/// Pearson r of two step series over the steps both have; `None` for fewer
/// than 3 such steps or a constant series.
fn pearson(a: &[Option<f64>], b: &[Option<f64>]) -> Option<f64> {
    let mut moments = CoMoments::default();
    a.iter().zip(b).filter_map(|(x, y)| Some((x.as_ref()?, y.as_ref()?))).for_each(|(x, y)| moments.update(*x, *y));
    if moments.n < 3 {
        return None;
    }
    moments.pearson_r()
}

/// The median relative MAD of every (metric, stat) over the series with at
/// least two reference values and a non-zero reference median.
fn pooled_relative_noise(context: &Context) -> HashMap<(String, String), f64> {
    let mut pooled: HashMap<(String, String), Vec<f64>> = HashMap::new();
    for series in &context.incident.series {
        let (reference, _) = context.split(series);
        let c = median(&reference);
        if reference.len() >= 2 && c != 0.0 {
            pooled.entry((series.key.metric.clone(), series.key.stat.clone())).or_default().push(scaled_mad(&reference, c) / c.abs());
        }
    }
    pooled.into_iter().map(|(key, values)| (key, median(&values))).collect()
}

/// Ranks the candidates of one incident over the given window.
pub fn rank(incident: &Incident, target: &Series, steps: &Steps, options: &Options) -> Outcome {
    let graph = Graph::new(&incident.edges);
    let reach = graph.reach(&target.key.node);
    let mut context = Context { incident, steps, options, pooled_rel: HashMap::new(), volume: HashMap::new(), graph, reach, evidence: HashMap::new() };
    context.pooled_rel = pooled_relative_noise(&context);
    for series in &incident.series {
        let node = &series.key.node;
        if !context.volume.contains_key(node) {
            let typical = [&steps.reference, &steps.incident].into_iter().filter_map(|s| incident.volume_over(node, s, options)).reduce(f64::max);
            context.volume.insert(node.clone(), typical);
        }
    }
    let mut outcome = Outcome { window: Some(steps.window), status: "ok".into(), ..Outcome::default() };
    let Some(target_change) = context.change(target) else {
        outcome.status = "empty window or reference".into();
        return outcome;
    };
    let direction = options.metrics.get(&target.key.metric).direction;
    let target_z = match direction {
        Direction::Neither => target_change.z.abs(),
        _ => direction.sign() * target_change.z,
    };
    outcome.target_z = Some(target_z);
    if !(target_z >= Z_WIN) || !target_z.is_finite() {
        outcome.status = "no anomaly in target".into();
        return outcome;
    }
    // Each node's most harmful directed series (ties: the first seen).
    let mut order: Vec<String> = Vec::new();
    for (at, series) in incident.series.iter().enumerate() {
        let direction = options.metrics.get(&series.key.metric).direction;
        let Some(change) = (direction != Direction::Neither).then(|| context.change(series)).flatten() else { continue };
        let harm = if options.use_direction { direction.sign() * change.z } else { change.z.abs() };
        // A change that is not finite (values near f64::MAX) is no evidence;
        // `NaN.min(Z_CAP)` would make it the largest harm.
        if !harm.is_finite() {
            continue;
        }
        let harm = harm.min(Z_CAP);
        let node = &series.key.node;
        match context.evidence.get(node) {
            Some(current) if current.harm >= harm => {}
            current => {
                if current.is_none() {
                    order.push(node.clone());
                }
                context.evidence.insert(node.clone(), Evidence { harm, series: at, change });
            }
        }
    }
    let use_graph = options.use_graph && !context.graph.callees(&target.key.node).is_empty();
    if options.use_graph && !use_graph {
        outcome.status = "ok (target has no callees in the graph: graph component off)".into();
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    for node in &order {
        let evidence = &context.evidence[node];
        if evidence.harm < Z_ANOM || (use_graph && context.reach.depth(node).is_none()) {
            continue;
        }
        let graph_w = if use_graph { context.graph_weight(node, evidence) } else { 1.0 };
        let score = evidence.harm * context.volume_weight(node) * graph_w;
        let mut candidate = context.candidate(node, evidence, score, graph_w);
        candidate.mirror_of = use_graph.then(|| context.mirror_of(node, evidence)).flatten();
        candidates.push(candidate);
    }
    add_mirrored_callees(&context, &mut candidates);
    cap_mirrors(&mut candidates);
    // Best score first; ties: deeper, then more traffic, then the name (only for determinism).
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.depth.unwrap_or(0).cmp(&a.depth.unwrap_or(0)))
            .then(b.volume.unwrap_or(0.0).total_cmp(&a.volume.unwrap_or(0.0)))
            .then(a.node.cmp(&b.node))
    });
    candidates.iter_mut().enumerate().for_each(|(i, c)| c.rank = i + 1);
    if candidates.is_empty() {
        outcome.status = "no anomalous candidate".into();
    }
    outcome.candidates = candidates;
    outcome
}

/// A mirror's callee that is not a candidate itself (its own change is below
/// `Z_ANOM`) joins with the mirror's score and graph factor.
fn add_mirrored_callees(context: &Context, candidates: &mut Vec<Candidate>) {
    for i in 0..candidates.len() {
        let Some(callee) = candidates[i].mirror_of.clone() else { continue };
        if candidates.iter().any(|c| c.node == callee) {
            continue;
        }
        let (score, graph_w, via) = (candidates[i].score, candidates[i].graph_w, candidates[i].node.clone());
        let mut added = context.candidate(&callee, &context.evidence[&callee], score, graph_w);
        added.via_mirror = Some(via);
        candidates.push(added);
    }
}

/// Lowers every mirror's score just below its callee's, until nothing changes.
fn cap_mirrors(candidates: &mut [Candidate]) {
    let position: HashMap<String, usize> = candidates.iter().enumerate().map(|(i, c)| (c.node.clone(), i)).collect();
    for _ in 0..=candidates.len() {
        let mut changed = false;
        for i in 0..candidates.len() {
            let Some(&callee) = candidates[i].mirror_of.as_ref().and_then(|m| position.get(m)) else { continue };
            if candidates[i].score >= candidates[callee].score {
                candidates[i].score = candidates[callee].score * (1.0 - 1e-6);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
