//! The statistics of the fused aggregate: the Pearson family from running
//! co-moments, and those that need every pair of a series in time order —
//! Spearman's rho and its p-value (ranks), the lead/lag search
//! (`xcorr_lag`, `xcorr_r`) and the autocorrelation-corrected `pearson_n_eff`
//! and `pearson_p_eff` — computed from the pairs the operator keeps per
//! series when a query asks for them (see [`super::run`]).
//!
//! The pairs are what the general plan's aggregate would see: one per joined
//! point of the series, `(series difference, reference difference)`, NaN
//! where a difference is missing, in time order; Spearman takes the
//! complete ones, exactly as the aggregates do. The reference's side is kept
//! as a position in the reference, so its ranks come from one sort of the
//! reference ([`Ranking`]) instead of one per series.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::common::Result;

use crate::functions::{OrderedStatistic, PearsonStatistic, SampleStatistic};
use super::pair_filters::SeriesFilter;
use super::regression::Regression;
use super::series::Reference;
use super::summary::{Summarised, Summary};
use crate::stats::lagged::{best_lag_centred, effective_sample, Centred};
use crate::stats::ranks::{average_ranks, average_ranks_in_order, sorted_positions, Ranker};
use crate::stats::CoMoments;

/// One output column of the fused aggregate.
#[derive(Debug, Clone, Copy)]
pub enum Statistic {
    /// A Pearson aggregate: from the co-moments.
    Moments(PearsonStatistic),
    /// Needs the series' pairs.
    Pairs(PairStatistic),
    /// DataFusion's `covar_*` or `regr_*` (`regr_count`: the pairs whose
    /// two differences are not NULL, NaN or not), from the co-moments while
    /// every value is finite, which the operator checks
    /// ([`Self::needs_finite_values`]); `series_first`: whether the call's
    /// first argument is the series' difference.
    Regression { which: Regression, series_first: bool },
    /// `count(*)` where an outer join keeps the series whole and nothing
    /// filters the rows: every row of the series, its time NULL or not
    /// (each joins one reference row or none: the operator answers only when
    /// the reference repeats no time).
    SeriesRows,
}

impl Statistic {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Moments(statistic) => statistic.name(),
            Self::Regression { which, .. } => which.name(),
            Self::SeriesRows => Summary::Count.name(),
            Self::Pairs(statistic) => match statistic.kind {
                PairKind::Spearman(s) => s.name(),
                PairKind::Ordered(s, _) => s.name(),
                PairKind::Summary(s, _) => s.name(),
            },
        }
    }

    pub fn needs_pairs(&self) -> bool {
        matches!(self, Self::Pairs(_))
    }

    /// Whether its answer is the operator's only while no value of the
    /// reference (`reference`) or of the series is NaN or infinite (the
    /// scans check; a [`super::series::Fallback`] otherwise): it counts or
    /// summarises NaN differences, which the operator does not tell from
    /// NULL ones.
    pub fn needs_finite_values(&self, reference: bool) -> bool {
        match self {
            Self::Regression { .. } => true,
            Self::Pairs(PairStatistic { kind: PairKind::Summary(_, CountOf::Series), .. }) => !reference,
            Self::Pairs(PairStatistic { kind: PairKind::Summary(_, CountOf::Reference), .. }) => reference,
            _ => false,
        }
    }

    /// Whether it sees rows that are no complete pair, not only the pairs:
    /// it reads which pairs are neighbours in time (the lag search, n_eff)
    /// or counts or summarises rows. So the pairs a series filter fails must be dropped,
    /// not only made incomplete, and the rows an outer join adds change it.
    pub fn needs_filtered_pairs(&self) -> bool {
        matches!(self, Self::Pairs(PairStatistic { kind: PairKind::Ordered(..) | PairKind::Summary(..), .. }))
    }

    /// Whether its column is Int64 (the lag, counts), else Float64 (or
    /// what [`Regression::array`] makes).
    fn is_integer(&self) -> bool {
        match self {
            Self::SeriesRows => true,
            Self::Pairs(PairStatistic { kind: PairKind::Ordered(OrderedStatistic::XcorrLag, _), .. }) => true,
            Self::Pairs(PairStatistic { kind: PairKind::Summary(summary, _), .. }) => summary.is_integer(),
            _ => false,
        }
    }
}

/// Which pair statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairKind {
    /// `spearman_r` or `spearman_p`.
    Spearman(SampleStatistic),
    /// An ordered aggregate (`ORDER BY` the pairs' time) and its `max_lag`
    /// (0 for those without one).
    Ordered(OrderedStatistic, usize),
    /// DataFusion's `count`, `avg`, `stddev`… of the joined rows the
    /// aggregate sees ([`Summary`]).
    Summary(Summary, CountOf),
}

/// What a [`Summary`] beside the statistics reads: the joined rows (after
/// the query's filters) with their NULLs, as the aggregate sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOf {
    /// Every row (a count only): `count(*)`, `count(1)`, `count(ts)` (the
    /// join's key is never NULL).
    Rows,
    /// The series' difference, skipping its NULLs: `count(d)`, `avg(d)`.
    Series,
    /// The reference's difference: `count(d_app)`, `stddev(d_app)`.
    Reference,
}

/// A pair statistic and whether the call names the reference first
/// (`xcorr_lag(d_app, d_view, …)`: the lag's sign flips).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairStatistic {
    pub kind: PairKind,
    pub reference_first: bool,
}

/// Everything one series contributes to the output.
#[derive(Debug, Clone, Default)]
pub struct SeriesState {
    pub moments: CoMoments,
    /// Its pairs in time order when a pair statistic is asked for, else empty.
    pub pairs: Pairs,
}

/// A series' pairs in time order: its difference and the position of the
/// reference point at the same time (whose difference is the pair's other
/// value). Positions are kept as runs of consecutive positions — a series
/// on the reference's grid is one run — so a pair costs 8 bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    pub xs: Vec<f64>,
    /// `(first pair, its position)` of each run, in order.
    runs: Vec<(u32, u32)>,
}

impl Pairs {
    /// Memory per pair, allowing for runs of a few pairs each.
    pub const BYTES_PER_PAIR: usize = std::mem::size_of::<f64>() + std::mem::size_of::<u32>();

    /// No pairs yet, their differences to go into `xs` (empty, with room).
    pub fn in_room(xs: Vec<f64>) -> Self {
        debug_assert!(xs.is_empty());
        Self { xs, runs: Vec::new() }
    }

    #[inline]
    pub fn push(&mut self, x: f64, at: u32) {
        self.mark_run(self.xs.len(), at);
        self.xs.push(x);
    }

    /// Records that the pairs from `xs[index]` on (appended by the caller)
    /// sit at consecutive reference positions from `at`.
    #[inline]
    pub fn mark_run(&mut self, index: usize, at: u32) {
        let index = index as u32;
        let continues = self.runs.last().is_some_and(|&(first, start)| start.wrapping_add(index - first) == at);
        if !continues {
            self.runs.push((index, at));
        }
    }

    /// Moves `other`'s pairs after these.
    pub fn append(&mut self, other: &mut Pairs) {
        if self.xs.is_empty() {
            std::mem::swap(self, other);
            return;
        }
        let offset = self.xs.len() as u32;
        for (first, at) in other.runs.drain(..) {
            let index = first + offset;
            let continues = self.runs.last().is_some_and(|&(f, start)| start.wrapping_add(index - f) == at);
            if !continues {
                self.runs.push((index, at));
            }
        }
        self.xs.append(&mut other.xs);
    }

    /// The pairs whose reference point passes (`passing[position]`).
    pub fn at_passing_points(&self, passing: &BooleanBuffer) -> Pairs {
        let mut kept = Pairs::in_room(Vec::new());
        for (i, at) in self.positions().enumerate() {
            if passing.value(at as usize) {
                kept.push(self.xs[i], at);
            }
        }
        kept
    }

    /// The pairs that pass `filter`, `None` if none does.
    pub fn filtered(&self, filter: &SeriesFilter, reference: &Reference) -> Result<Option<Pairs>> {
        let Some((positions, passes)) = self.verdicts(filter, reference)? else { return Ok(None) };
        let mut kept = Pairs::in_room(Vec::with_capacity(passes.count_set_bits()));
        for i in passes.set_indices() {
            kept.push(self.xs[i], positions[i]);
        }
        Ok(Some(kept))
    }

    /// These pairs with the differences that fail `filter` made missing
    /// (NaN), `None` if none passes: the same complete pairs as
    /// [`Self::filtered`] keeps, in place, for statistics that do not read
    /// the pairs' order.
    pub fn masked(mut self, filter: &SeriesFilter, reference: &Reference) -> Result<Option<Pairs>> {
        let Some((_, passes)) = self.verdicts(filter, reference)? else { return Ok(None) };
        self.xs.iter_mut().zip(passes.iter()).for_each(|(x, pass)| *x = if pass { *x } else { f64::NAN });
        Ok(Some(self))
    }

    /// The pairs' positions and `filter`'s verdict on each, `None` if none
    /// passes.
    fn verdicts(&self, filter: &SeriesFilter, reference: &Reference) -> Result<Option<(Vec<u32>, BooleanBuffer)>> {
        let positions: Vec<u32> = self.positions().collect();
        let passes = filter.passes(&self.xs, &positions, reference)?;
        Ok((passes.count_set_bits() > 0).then_some((positions, passes)))
    }

    /// The reference position of each pair, in order.
    pub fn positions(&self) -> impl Iterator<Item = u32> + '_ {
        self.runs.iter().enumerate().flat_map(|(k, &(first, at))| {
            let end = self.runs.get(k + 1).map_or(self.xs.len() as u32, |&(next, _)| next);
            (0..end - first).map(move |i| at + i)
        })
    }
}

/// What the series' pair statistics share, made at most once per query from
/// the reference (on first use, by whichever task needs it): its differences
/// centred (the lag search of a series on the reference's whole grid) and
/// their [`Ranking`] (Spearman).
#[derive(Default)]
pub struct Shared {
    centred: OnceLock<Centred>,
    ranking: OnceLock<Ranking>,
}

/// The reference's finite differences in ascending order: the ranks of the
/// reference's side of any series' pairs follow from it without a sort per
/// series.
pub struct Ranking {
    /// Positions of the finite differences, ascending by value.
    order: Vec<u32>,
    /// Each position's average rank among all finite differences.
    full: Vec<f64>,
}

impl Ranking {
    pub fn new(reference: &Reference) -> Self {
        let diff = reference.differences();
        let finite: Vec<u32> = (0..diff.len() as u32).filter(|&at| diff[at as usize].is_finite()).collect();
        let values: Vec<f64> = finite.iter().map(|&at| diff[at as usize]).collect();
        let order: Vec<u32> = sorted_positions(&values).into_iter().map(|k| finite[k]).collect();
        let mut full = vec![f64::NAN; diff.len()];
        let (ranks, _) = average_ranks_in_order(order.len(), |k| diff[order[k] as usize], |k| k);
        order.iter().zip(ranks).for_each(|(&at, rank)| full[at as usize] = rank);
        Self { order, full }
    }

    /// Average ranks of the reference's differences at `positions`
    /// (finite), in the order of `positions`: those among all finite
    /// differences when `positions` are all of them (a series on the
    /// reference's whole grid), else one walk of the sorted order; ranked
    /// afresh when a position repeats (a series repeating a timestamp).
    fn ranks(&self, diff: &[f64], positions: &[u32], ranks: &mut Vec<f64>) {
        ranks.clear();
        // Pairs come in time order: distinct positions increase.
        if !positions.windows(2).all(|w| w[0] < w[1]) {
            let values: Vec<f64> = positions.iter().map(|&at| diff[at as usize]).collect();
            ranks.extend(average_ranks(&values).0);
            return;
        }
        if positions.len() == self.order.len() {
            ranks.extend(positions.iter().map(|&at| self.full[at as usize]));
            return;
        }
        const ABSENT: u32 = u32::MAX;
        let mut slot = vec![ABSENT; diff.len()];
        positions.iter().enumerate().for_each(|(i, &at)| slot[at as usize] = i as u32);
        let members: Vec<u32> = self.order.iter().map(|&at| slot[at as usize]).filter(|&i| i != ABSENT).collect();
        let value = |k: usize| diff[positions[members[k] as usize] as usize];
        ranks.extend(average_ranks_in_order(members.len(), value, |k| members[k] as usize).0);
    }
}

/// Buffers one task reuses from series to series (a series of 10⁴ pairs
/// needs a few of 80 kB each: fresh ones cost page faults and cache misses).
#[derive(Default, Clone)]
pub struct Scratch {
    ranker: Ranker,
    complete_x: Vec<f64>,
    complete_at: Vec<u32>,
    ranks_y: Vec<f64>,
    centred_x: Centred,
    centred_y: Centred,
}

/// The values of one series' pair statistics, each computed once however
/// many columns read it (`xcorr_lag` and `xcorr_r` share the lag search).
#[derive(Default)]
struct Computed {
    spearman: Option<(Option<f64>, Option<f64>)>,
    lags: Vec<((usize, bool), Option<(i64, f64)>)>,
    effective: Option<(Option<f64>, Option<f64>, Option<f64>)>,
}

/// A pair statistic's value: an integer (the lag) or a float; or the
/// co-moments of the pairs a moment statistic's own filter passes (see
/// [`super::filtered`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairValue {
    Int(Option<i64>),
    Float(Option<f64>),
    Moments(CoMoments),
}

/// Where the complete pairs start if they run, without a gap, to the last
/// pair (`None`: none complete, or a gap).
fn complete_run_to_end(xs: &[f64], ys: &[f64]) -> Option<usize> {
    let first = (0..xs.len()).find(|&i| crate::stats::complete(xs[i], ys[i]))?;
    let complete = xs[first..].iter().zip(&ys[first..]).filter(|&(&x, &y)| crate::stats::complete(x, y)).count();
    (complete == xs.len() - first).then_some(first)
}

/// The co-moments of one series' pairs (the passes that keep them leave the
/// moments to this), and its pair statistics in the order of `statistics`
/// (the moment ones skipped).
pub fn evaluate(
    statistics: &[Statistic],
    pairs: &Pairs,
    reference: &Reference,
    shared: &Shared,
    scratch: &mut Scratch,
) -> (CoMoments, Vec<PairValue>) {
    let diff = reference.differences();
    let xs = &pairs.xs;
    // On the reference's whole grid, the pairs' other side is the reference.
    let whole_grid = pairs.runs == [(0, 0)] && xs.len() == diff.len();
    let at: Vec<u32> = if whole_grid { Vec::new() } else { pairs.positions().collect() };
    let position = |i: usize| if whole_grid { i as u32 } else { at[i] };
    let ys: Cow<[f64]> = if whole_grid { Cow::Borrowed(diff) } else { Cow::Owned(at.iter().map(|&at| diff[at as usize]).collect()) };
    let moments = CoMoments::of_pairs(xs, &ys);
    let mut computed = Computed::default();
    let mut values = Vec::new();
    for statistic in statistics {
        let Statistic::Pairs(PairStatistic { kind, reference_first }) = *statistic else { continue };
        values.push(match kind {
            PairKind::Spearman(which) => {
                let (rho, p) = *computed.spearman.get_or_insert_with(|| {
                    let ranking = shared.ranking.get_or_init(|| Ranking::new(reference));
                    let Scratch { ranker, complete_x: cx, complete_at: at, ranks_y: ry, .. } = scratch;
                    // On the whole grid with the complete pairs one run to
                    // the end, and every finite reference difference among
                    // them: both sides are slices, y's ranks those of all.
                    if let Some(first) = whole_grid.then(|| complete_run_to_end(xs, &ys)).flatten() {
                        if ranking.order.len() == xs.len() - first {
                            return ranker.spearman_with_y_ranks(&xs[first..], &ranking.full[first..]);
                        }
                    }
                    // Every pair written, the complete ones kept (no branch).
                    let complete = |i: &usize| crate::stats::complete(xs[*i], ys[*i]);
                    (cx.clear(), at.clear());
                    (cx.resize(xs.len(), 0.0), at.resize(xs.len(), 0));
                    let mut kept = 0;
                    for i in 0..xs.len() {
                        (cx[kept], at[kept]) = (xs[i], position(i));
                        kept += usize::from(complete(&i));
                    }
                    cx.truncate(kept);
                    at.truncate(kept);
                    ranking.ranks(diff, at, ry);
                    ranker.spearman_with_y_ranks(cx, ry)
                });
                PairValue::Float(if which == SampleStatistic::SpearmanP { p } else { rho })
            }
            PairKind::Ordered(which @ (OrderedStatistic::XcorrLag | OrderedStatistic::XcorrR), max_lag) => {
                let key = (max_lag, reference_first);
                let best = match computed.lags.iter().find(|(k, _)| *k == key) {
                    Some((_, best)) => *best,
                    None => {
                        scratch.centred_x.set(xs);
                        let cx = &scratch.centred_x;
                        let cy = if whole_grid {
                            shared.centred.get_or_init(|| Centred::new(diff))
                        } else {
                            scratch.centred_y.set(&ys);
                            &scratch.centred_y
                        };
                        let best = if reference_first {
                            best_lag_centred(&ys, xs, cy, cx, max_lag)
                        } else {
                            best_lag_centred(xs, &ys, cx, cy, max_lag)
                        };
                        computed.lags.push((key, best));
                        best
                    }
                };
                match which {
                    OrderedStatistic::XcorrLag => PairValue::Int(best.map(|(lag, _)| lag)),
                    _ => PairValue::Float(best.map(|(_, r)| r)),
                }
            }
            PairKind::Ordered(which, _) => {
                // r, n_eff and p are symmetric in x and y.
                let (_, n_eff, p) = *computed.effective.get_or_insert_with(|| effective_sample(xs, &ys));
                PairValue::Float(if which == OrderedStatistic::PearsonNEff { n_eff } else { p })
            }
            // A missing difference is NaN here, a NULL one in the plan (the
            // operator checks there is no NaN value: `needs_finite_values`).
            PairKind::Summary(summary, of) => {
                let summarised = match of {
                    CountOf::Rows => Summarised::Int(xs.len() as i64),
                    CountOf::Series => summary.of_values(xs),
                    CountOf::Reference => summary.of_values(&ys),
                };
                match summarised {
                    Summarised::Int(n) => PairValue::Int(Some(n)),
                    Summarised::Float(v) => PairValue::Float(v),
                }
            }
        });
    }
    (moments, values)
}

/// The output columns: `moments[i]` and `pair_values[i]` (from
/// [`super::filtered::evaluate_filtered`]) are series i's; `by_pairs[k]`:
/// whether statistic k's value is among the pair values.
/// `rows`: each series' row count ([`Statistic::SeriesRows`]).
pub fn columns(statistics: &[Statistic], by_pairs: &[bool], moments: &[CoMoments], pair_values: &[Vec<PairValue>], rows: &[u64]) -> Vec<ArrayRef> {
    let mut next_pair = 0;
    statistics
        .iter()
        .zip(by_pairs)
        .map(|(statistic, &by_pairs)| {
            let own_moments: Vec<CoMoments>;
            let moments = if by_pairs {
                let at = next_pair;
                next_pair += 1;
                if statistic.needs_pairs() {
                    let column = pair_values.iter().map(|values| values[at]);
                    return if statistic.is_integer() {
                        Arc::new(column.map(|v| if let PairValue::Int(v) = v { v } else { None }).collect::<Int64Array>()) as ArrayRef
                    } else {
                        Arc::new(column.map(|v| if let PairValue::Float(v) = v { v } else { None }).collect::<Float64Array>())
                    };
                }
                own_moments = pair_values.iter().map(|values| if let PairValue::Moments(m) = values[at] { m } else { CoMoments::default() }).collect();
                &own_moments
            } else {
                moments
            };
            match statistic {
                Statistic::Moments(statistic) => statistic.array(moments),
                Statistic::Regression { which, series_first } => which.array(moments, *series_first),
                Statistic::SeriesRows => Arc::new(rows.iter().map(|&n| n as i64).collect::<Int64Array>()),
                Statistic::Pairs(_) => unreachable!("pair statistics take their pair values"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::ranks::average_ranks;

    #[test]
    fn positions_are_kept_as_runs() {
        let mut pairs = Pairs::default();
        for (x, at) in [(1.0, 4), (2.0, 5), (3.0, 6), (4.0, 9), (5.0, 10)] {
            pairs.push(x, at);
        }
        assert_eq!(pairs.runs, vec![(0, 4), (3, 9)]);
        let mut more = Pairs::default();
        more.push(6.0, 11);
        more.push(7.0, 20);
        pairs.append(&mut more);
        assert_eq!(pairs.runs, vec![(0, 4), (3, 9), (6, 20)], "a run continued across the junction");
        assert_eq!(pairs.positions().collect::<Vec<_>>(), vec![4, 5, 6, 9, 10, 11, 20]);
        assert_eq!(pairs.xs, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let mut empty = Pairs::default();
        empty.append(&mut pairs);
        assert_eq!(empty.positions().count(), 7);
    }

    /// Spearman from slices (the whole grid, complete pairs to the end) and
    /// from the copied complete pairs (a gap in x, a NaN in the reference,
    /// x starting later than the reference's differences):
    /// both as Spearman of the complete pairs by definition.
    #[test]
    fn spearman_of_whole_grid_slices_and_of_copies_agree() {
        let spearman = [Statistic::Pairs(PairStatistic { kind: PairKind::Spearman(SampleStatistic::SpearmanR), reference_first: false })];
        let values = |i: i64| ((i * 7919) % 101) as f64 + if i % 5 == 0 { 0.0 } else { 0.5 };
        let mut scratch = Scratch::default();
        for (gap_in_x, reference_nan, x_from) in [(false, false, 1), (true, false, 1), (false, true, 1), (false, false, 6)] {
            let reference = Reference::from_points((0..300).map(|t| (t, if reference_nan && t == 150 { f64::NAN } else { values(t + 3) })).collect()).unwrap();
            let diff = reference.differences();
            let mut pairs = Pairs::default();
            // The first difference(s) missing, as a series' first one is.
            (0..diff.len()).for_each(|at| pairs.push(if at < x_from || (gap_in_x && at == 40) { f64::NAN } else { values(at as i64) % 13.0 }, at as u32));
            let (_, got) = evaluate(&spearman, &pairs, &reference, &Shared::default(), &mut scratch);
            let complete: Vec<(f64, f64)> = pairs.xs.iter().zip(diff).filter(|(x, y)| crate::stats::complete(**x, **y)).map(|(x, y)| (*x, *y)).collect();
            let (xs, ys): (Vec<f64>, Vec<f64>) = complete.into_iter().unzip();
            let expected = crate::stats::ranks::spearman(&xs, &ys).0.unwrap();
            let PairValue::Float(Some(rho)) = got[0] else { panic!("no rho: {got:?}") };
            assert!((rho - expected).abs() < 1e-14, "gap {gap_in_x}, NaN {reference_nan}, from {x_from}: {rho} vs {expected}");
        }
        assert_eq!(complete_run_to_end(&[f64::NAN, 1.0, 2.0], &[1.0, 1.0, 1.0]), Some(1));
        assert_eq!(complete_run_to_end(&[1.0, f64::NAN, 2.0], &[1.0, 1.0, 1.0]), None);
        assert_eq!(complete_run_to_end(&[f64::NAN], &[1.0]), None);
    }

    #[test]
    fn reference_ranks_of_a_subset_are_its_own_ranks() {
        let reference = Reference::from_points((0..8).map(|t| (t, [0.0, 5.0, 3.0, 3.0, f64::NAN, 9.0, 1.0, 4.0][t as usize])).collect()).unwrap();
        // Differences: NaN, 5, -2, 0, NaN, NaN, -8, 3.
        let ranking = Ranking::new(&reference);
        let diff = reference.differences();
        let subset = [7, 1, 3];
        let own = average_ranks(&subset.iter().map(|&at| diff[at as usize]).collect::<Vec<_>>()).0;
        let mut ranks = vec![7.0; 30];
        ranking.ranks(diff, &subset, &mut ranks);
        assert_eq!(ranks, own);
        let all = [1, 2, 3, 6, 7];
        let own = average_ranks(&all.iter().map(|&at| diff[at as usize]).collect::<Vec<_>>()).0;
        ranking.ranks(diff, &all, &mut ranks);
        assert_eq!(ranks, own, "every finite difference");
    }
}
