//! Statistics with their own `FILTER (WHERE …)` — before and during an
//! incident side by side, `corr(d, d_app) FILTER (WHERE ts < …)` beside
//! `corr(d, d_app) FILTER (WHERE ts >= …)` — from one read of the data:
//! each series' pairs (kept whenever a statistic has a filter) are cut once
//! per distinct filter, and the statistics sharing it are computed from
//! what passes, as DataFusion's aggregate sees only the rows its filter
//! passes (none passing: the aggregate of no rows, `count` 0, `corr` NULL).

use datafusion::common::Result;

use super::filters::SeriesFilter;
use super::pairs::{evaluate, PairValue, Pairs, Scratch, Shared, Statistic};
use super::series::Reference;
use crate::stats::CoMoments;

/// [`evaluate`] with each statistic's own filter (`filters[i]`, parallel to
/// `statistics`): the co-moments of all the pairs, and the values of the
/// pair statistics and of the filtered ones, in the order of `statistics`
/// (a filtered moment statistic's value its filtered co-moments:
/// [`PairValue::Moments`]; see [`valued_by_pairs`]).
pub fn evaluate_filtered(
    statistics: &[Statistic],
    filters: &[Option<SeriesFilter>],
    pairs: &Pairs,
    reference: &Reference,
    shared: &Shared,
    scratch: &mut Scratch,
) -> Result<(CoMoments, Vec<PairValue>)> {
    if filters.iter().all(Option::is_none) {
        return Ok(evaluate(statistics, pairs, reference, shared, scratch));
    }
    let unfiltered: Vec<Statistic> = statistics.iter().zip(filters).filter(|(_, f)| f.is_none()).map(|(s, _)| *s).collect();
    let (moments, plain) = evaluate(&unfiltered, pairs, reference, shared, scratch);
    let mut filtered: Vec<Option<PairValue>> = vec![None; statistics.len()];
    for (i, filter) in filters.iter().enumerate() {
        let Some(filter) = filter else { continue };
        if filtered[i].is_some() {
            continue;
        }
        // Every statistic with the same filter, from one cut of the pairs.
        let members: Vec<usize> = (i..statistics.len())
            .filter(|&j| filters[j].as_ref().is_some_and(|other| other.predicate.as_ref() == filter.predicate.as_ref()))
            .collect();
        let passing = pairs.filtered(filter, reference)?.unwrap_or_default();
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
