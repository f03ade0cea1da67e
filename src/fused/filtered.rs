//! Statistics with their own `FILTER (WHERE …)` — before and during an
//! incident side by side, `corr(d, d_app) FILTER (WHERE ts < …)` beside
//! `corr(d, d_app) FILTER (WHERE ts >= …)` — from one read of the data:
//! each series' pairs (kept whenever a statistic has a filter) are cut once
//! per distinct filter (one on the time or the reference's difference by a
//! verdict per reference point, made once), and the statistics sharing it are computed from
//! what passes, as DataFusion's aggregate sees only the rows its filter
//! passes (none passing: the aggregate of no rows, `count` 0, `corr` NULL).

use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::common::Result;

use super::filters::SeriesFilter;
use super::pairs::{evaluate, PairValue, Pairs, Scratch, Shared, Statistic};
use super::series::Reference;
use crate::stats::CoMoments;

/// How the statistics' own filters cut a series' pairs, made once per
/// execution: each distinct filter once, and which one each statistic has.
pub struct CallCuts {
    cuts: Vec<Cut>,
    /// Per statistic: its filter's index in `cuts`, if it has one.
    cut_of: Vec<Option<usize>>,
}

/// One distinct filter.
enum Cut {
    /// One reading only the time and the reference's difference: its
    /// verdict at each reference point (a pair's is its point's).
    AtPoints(BooleanBuffer),
    /// One reading the series' difference: run on each series' pairs.
    OnPairs(SeriesFilter),
}

impl CallCuts {
    /// `filters`: each statistic's own, if any.
    pub fn new(filters: &[Option<SeriesFilter>], reference: &Reference) -> Result<Self> {
        let mut distinct: Vec<&SeriesFilter> = Vec::new();
        let mut cut_of = Vec::with_capacity(filters.len());
        for filter in filters {
            cut_of.push(filter.as_ref().map(|filter| match distinct.iter().position(|known| known.predicate.as_ref() == filter.predicate.as_ref()) {
                Some(at) => at,
                None => {
                    distinct.push(filter);
                    distinct.len() - 1
                }
            }));
        }
        let cuts = distinct
            .into_iter()
            .map(|filter| Ok(if filter.reads_series { Cut::OnPairs(filter.clone()) } else { Cut::AtPoints(filter.at_reference_points(reference)?) }))
            .collect::<Result<_>>()?;
        Ok(Self { cuts, cut_of })
    }

    /// Whether statistic `i` has a filter of its own.
    pub fn filtered(&self, i: usize) -> bool {
        self.cut_of[i].is_some()
    }
}

/// [`evaluate`] with each statistic's own filter (`cuts`): the co-moments
/// of all the pairs, and the values of the pair statistics and of the
/// filtered ones, in the order of `statistics` (a filtered moment
/// statistic's value its filtered co-moments: [`PairValue::Moments`]; see
/// [`valued_by_pairs`]).
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
    let unfiltered: Vec<Statistic> = (0..statistics.len()).filter(|&i| !cuts.filtered(i)).map(|i| statistics[i]).collect();
    let (moments, plain) = evaluate(&unfiltered, pairs, reference, shared, scratch);
    let mut filtered: Vec<Option<PairValue>> = vec![None; statistics.len()];
    for (c, cut) in cuts.cuts.iter().enumerate() {
        // Every statistic with this filter, from one cut of the pairs.
        let members: Vec<usize> = (0..statistics.len()).filter(|&j| cuts.cut_of[j] == Some(c)).collect();
        let passing = match cut {
            Cut::AtPoints(passing) => pairs.at_passing_points(passing),
            Cut::OnPairs(filter) => pairs.filtered(filter, reference)?.unwrap_or_default(),
        };
        let group: Vec<Statistic> = members.iter().map(|&j| statistics[j]).collect();
        let (group_moments, values) = evaluate(&group, &passing, reference, shared, scratch);
        let mut values = values.into_iter();
        for &j in &members {
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

/// Whether statistic `i` takes its value from the pair values
/// [`evaluate_filtered`] gives (a pair statistic, or one with a filter),
/// not from the series' co-moments.
pub fn valued_by_pairs(statistic: &Statistic, filter: Option<&SeriesFilter>) -> bool {
    statistic.needs_pairs() || filter.is_some()
}
