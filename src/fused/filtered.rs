//! Statistics with their own `FILTER (WHERE …)` — before and during an
//! incident side by side, `corr(d, d_app) FILTER (WHERE ts < …)` beside
//! `corr(d, d_app) FILTER (WHERE ts >= …)` — from one read of the data:
//! each series' pairs (kept whenever a statistic has a filter) are cut once
//! per distinct filter (one on the time or the reference's difference by a
//! verdict per reference point, which DataFusion computes as a column of
//! the reference's input, scalar subqueries included), and the statistics sharing it are computed from
//! what passes, as DataFusion's aggregate sees only the rows its filter
//! passes (none passing: the aggregate of no rows, `count` 0, `corr` NULL).

use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::common::Result;

use super::pair_filters::{CallFilter, SeriesFilter};
use super::pairs::{evaluate, PairValue, Pairs, Scratch, Shared, Statistic};
use super::series::Reference;
use crate::stats::CoMoments;

/// How the statistics' own filters cut a series' pairs, made once per
/// execution: each distinct filter once, with the statistics that have it.
pub struct CallCuts {
    /// The statistics without a filter of their own.
    unfiltered: Vec<Statistic>,
    /// Each distinct filter, the positions of the statistics that have it
    /// and those statistics.
    cuts: Vec<(Cut, Vec<usize>, Vec<Statistic>)>,
    /// Per statistic: whether it has a filter of its own.
    filtered: Vec<bool>,
}

/// One distinct filter.
enum Cut {
    /// One reading only the time and the reference's difference: its
    /// verdict at each reference point, DataFusion's (a pair's is its
    /// point's).
    AtPoints(BooleanBuffer),
    /// One reading the series' difference: run on each series' pairs.
    OnPairs(SeriesFilter),
}

impl CallCuts {
    /// `filters`: each statistic's own, if any.
    pub fn new(statistics: &[Statistic], filters: &[Option<CallFilter<SeriesFilter>>], reference: &Reference) -> Self {
        let mut distinct: Vec<(&CallFilter<SeriesFilter>, Vec<usize>)> = Vec::new();
        let same = |a: &CallFilter<SeriesFilter>, b: &CallFilter<SeriesFilter>| match (a, b) {
            (CallFilter::Pairs(a), CallFilter::Pairs(b)) => a.predicate.as_ref() == b.predicate.as_ref(),
            (CallFilter::Points(a), CallFilter::Points(b)) => a == b,
            _ => false,
        };
        for (i, filter) in filters.iter().enumerate() {
            let Some(filter) = filter else { continue };
            match distinct.iter_mut().find(|(known, _)| same(known, filter)) {
                Some((_, members)) => members.push(i),
                None => distinct.push((filter, vec![i])),
            }
        }
        let cuts = distinct
            .into_iter()
            .map(|(filter, members)| {
                let cut = match filter {
                    CallFilter::Pairs(filter) => Cut::OnPairs(filter.clone()),
                    CallFilter::Points(k) => Cut::AtPoints(BooleanBuffer::from(reference.verdicts(*k))),
                };
                let group = members.iter().map(|&j| statistics[j]).collect();
                (cut, members, group)
            })
            .collect();
        let filtered: Vec<bool> = filters.iter().map(Option::is_some).collect();
        let unfiltered = statistics.iter().zip(&filtered).filter(|(_, &f)| !f).map(|(s, _)| *s).collect();
        Self { unfiltered, cuts, filtered }
    }

    /// Whether statistic `i` takes its value from the pair values
    /// [`evaluate_filtered`] gives (a pair statistic, or one with a filter
    /// of its own), not from the series' co-moments.
    pub fn valued_by_pairs(&self, statistics: &[Statistic]) -> Vec<bool> {
        statistics.iter().zip(&self.filtered).map(|(statistic, &filtered)| statistic.needs_pairs() || filtered).collect()
    }
}

/// [`evaluate`] with each statistic's own filter (`cuts`): the co-moments
/// of all the pairs, and the values of the pair statistics and of the
/// filtered ones, in the order of `statistics` (a filtered moment
/// statistic's value its filtered co-moments: [`PairValue::Moments`]; see
/// [`CallCuts::valued_by_pairs`]).
pub fn evaluate_filtered(
    statistics: &[Statistic],
    cuts: &CallCuts,
    pairs: &Pairs,
    reference: &Reference,
    shared: &Shared,
    scratch: &mut Scratch,
) -> Result<(CoMoments, Vec<PairValue>)> {
    if cuts.cuts.is_empty() {
        return Ok(evaluate(statistics, pairs, reference, shared, scratch));
    }
    let (moments, plain) = evaluate(&cuts.unfiltered, pairs, reference, shared, scratch);
    let mut filtered: Vec<Option<PairValue>> = vec![None; statistics.len()];
    for (cut, members, group) in &cuts.cuts {
        // Every statistic with this filter, from one cut of the pairs.
        let passing = match cut {
            Cut::AtPoints(passing) => pairs.at_passing_points(passing),
            Cut::OnPairs(filter) => pairs.filtered(filter, reference)?.unwrap_or_default(),
        };
        let (group_moments, values) = evaluate(group, &passing, reference, shared, scratch);
        let mut values = values.into_iter();
        for &j in members {
            filtered[j] = Some(if statistics[j].needs_pairs() { values.next().expect("a value per pair statistic") } else { PairValue::Moments(group_moments) });
        }
    }
    let mut plain = plain.into_iter();
    let values = statistics
        .iter()
        .zip(filtered)
        .filter_map(|(statistic, filtered)| filtered.or_else(|| statistic.needs_pairs().then(|| plain.next().expect("a value per pair statistic"))))
        .collect();
    Ok((moments, values))
}
