//! The streaming core of the fused path: first differences of many series
//! correlated with the differenced reference series, without sorting.
//!
//! Rows arrive in scan order. As long as each series' rows come in strictly
//! increasing time within a partition, its differences can be formed on the
//! fly from the previous point, so one [`Segment`] per series and partition
//! (first point, last point, co-moments of the differences seen) is all the
//! state there is. Segments of the same series from different partitions are
//! chained by time with [`combine`]; the difference across each junction is
//! added there. Whenever that reasoning does not hold — a series going back
//! in time within a partition, or segments of different partitions
//! overlapping in time — the caller is told ([`Fallback`]) and moves on to
//! its next pass (see [`super::run`]).
//!
//! A series repeating a timestamp (a row exported twice, two samples in the
//! same second) has its rows at that time taken in the order of the scan —
//! partition by partition, the files' order —, the order a stable sort by
//! time keeps: the SQL leaves the order of tied rows open (DataFusion's plan
//! takes them in whatever order its sort ends with), and this one is
//! deterministic. Their pairs, when kept, are in that order too (the
//! ordered statistics see them so).
//!
//! NULL values are carried as NaN: a difference involving one is NaN and, like
//! a NULL difference, forms no pair (pandas' pairwise-complete rule, as in the
//! Pearson aggregates).

use super::pairs::{Pairs, SeriesState};
use super::time_order::{grid_step, TimeOrder};
use crate::stats::CoMoments;

/// The `diff` periods of the series and of the reference (`diff(x, k)`:
/// `x(t) − x(t − k)` in rows, pandas' `Series.diff(k)`; negative looks ahead).
/// The streaming pass handles `series == 1`; other periods are differenced
/// after sorting each series ([`from_points`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Periods {
    pub series: i64,
    /// `None`: the reference's input holds its differences already (a filter
    /// on them needed DataFusion's window first; see the matcher).
    pub reference: Option<i64>,
}

impl Default for Periods {
    fn default() -> Self {
        Self { series: 1, reference: Some(1) }
    }
}

/// `values[i] − values[i − k]` for every i (NaN where `i − k` is outside).
fn differences(values: impl ExactSizeIterator<Item = f64> + Clone, k: i64) -> Vec<f64> {
    let all: Vec<f64> = values.collect();
    (0..all.len())
        .map(|i| {
            let j = (i as i64).checked_sub(k).filter(|&j| j >= 0 && (j as usize) < all.len());
            j.map_or(f64::NAN, |j| all[i] - all[j as usize])
        })
        .collect()
}

/// A pass of the fused path cannot answer, and why — which tells the caller
/// whether its next pass can (see [`super::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Rows not in an order the pass can use (a series going back in time,
    /// segments of different partitions overlapping): sorting may help.
    Disorder,
    /// The reference repeats a timestamp (every series row at that time
    /// joins each of its rows): only DataFusion's plan gives the answer.
    Repeat,
    /// The state would not fit the memory pool (see [`super::groups`]), or
    /// is beyond what the operator addresses.
    Memory,
    /// A value NaN or infinite where a filter on the series' difference
    /// must tell a NaN difference from a NULL one
    /// ([`super::pair_filters::SeriesFilter`]), or a statistic counts NaN
    /// differences (`regr_count`): only DataFusion's plan can.
    NonFinite,
    /// The join is on an expression of the time, and on some row it is not
    /// the time shifted by the side's one constant ([`super::time_key`]).
    TimeKey,
}

/// The reference series (the application's response time), differenced:
/// strictly increasing timestamps and the first difference at each (NaN for
/// the first point and wherever a value is NULL or NaN).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    ts: Vec<i64>,
    diff: Vec<f64>,
    /// The step of the grid its times lie on, the filtered-out ones
    /// included ([`grid_step`]).
    step: Option<i64>,
    /// Per aggregate's own filter decided at the reference's points, its
    /// verdict at each kept point (see [`super::filtered`]).
    verdicts: Vec<Vec<bool>>,
}

/// A point of the reference as read: time, value, whether the query's
/// filters on the pairs' time keep it, and the verdicts of the aggregates'
/// own filters there.
pub type MarkedPoint = (i64, f64, bool, Vec<bool>);

impl Reference {
    /// Differences `(ts, value)` points in time order (stable for equal
    /// timestamps, which are a [`Fallback`]: the window's order and the
    /// join's fan-out would be ambiguous).
    pub fn from_points(points: Vec<(i64, f64)>) -> Result<Self, Fallback> {
        Self::from_marked_points(points.into_iter().map(|(ts, value)| (ts, value, true, Vec::new())).collect(), Some(1))
    }

    /// Like [`Self::from_points`], then keeps only the times marked `true`
    /// (the query's filters on the pairs' time): the differences are those
    /// of the whole series, as the window computes them before the join.
    /// `periods` is the reference's `diff` period (`None`: the values are
    /// differences already).
    pub fn from_marked_points(mut points: Vec<MarkedPoint>, periods: Option<i64>) -> Result<Self, Fallback> {
        points.sort_by_key(|point| point.0);
        if points.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Fallback::Repeat);
        }
        // The grid of all its times, not only the kept ones (a series'
        // points lie on all of it).
        let step = grid_step(points.iter().map(|point| point.0));
        let values = points.iter().map(|point| point.1);
        let diffs = match periods {
            Some(periods) => differences(values, periods),
            None => values.collect(),
        };
        let filters = points.first().map_or(0, |point| point.3.len());
        let (mut ts, mut diff, mut verdicts) = (Vec::new(), Vec::new(), vec![Vec::new(); filters]);
        for ((time, _, keep, marks), d) in points.into_iter().zip(diffs) {
            if keep {
                ts.push(time);
                diff.push(d);
                verdicts.iter_mut().zip(marks).for_each(|(verdicts, mark)| verdicts.push(mark));
            }
        }
        // Pairs name their reference point by a u32 position.
        if ts.len() > u32::MAX as usize {
            return Err(Fallback::Memory);
        }
        Ok(Self { ts, diff, step, verdicts })
    }

    /// The verdicts of the `k`-th aggregate filter decided at the
    /// reference's points, one per point.
    pub fn verdicts(&self, k: usize) -> &[bool] {
        &self.verdicts[k]
    }

    /// The number of points (after the query's time filters).
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Its (kept) times, as Int64, ascending.
    pub fn times(&self) -> &[i64] {
        &self.ts
    }

    /// The differences, in time order (NaN where missing).
    pub fn differences(&self) -> &[f64] {
        &self.diff
    }

    /// The position of `ts` in the reference, if it has a point there,
    /// searching forward from `*cursor`, which is left at the first point at
    /// or after `ts`. Successive calls with increasing `ts` cost O(1) each
    /// when the series share a time grid, O(log n) for a jump.
    #[inline]
    fn find_from(&self, cursor: &mut usize, ts: i64) -> Option<usize> {
        let mut at = *cursor;
        if at < self.ts.len() && self.ts[at] < ts {
            at += 1;
            if at < self.ts.len() && self.ts[at] < ts {
                at += self.ts[at..].partition_point(|&t| t < ts);
            }
        }
        *cursor = at;
        (self.ts.get(at) == Some(&ts)).then_some(at)
    }

    /// The difference at `ts`, NaN if the reference has no point there.
    pub fn diff_at(&self, ts: i64) -> f64 {
        let mut cursor = 0;
        self.find_from(&mut cursor, ts).map_or(f64::NAN, |at| self.diff[at])
    }
}

/// The points of one series seen by one partition, in increasing time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segment {
    points: u64,
    first_ts: i64,
    first_value: f64,
    last_ts: i64,
    last_value: f64,
    /// Where the reference lookup for the next point starts.
    cursor: usize,
    /// Whether any point has a reference point at its time: only then does
    /// the series survive the inner join and get an output row.
    joined: bool,
    /// Whether the first point has one (its pair's difference is known only
    /// when the segments are chained).
    first_joined: bool,
    /// Co-moments of (this series' difference, the reference's difference)
    /// over the consecutive points of this segment.
    moments: CoMoments,
}

/// A segment and its pairs in time order (empty unless they are kept; see
/// [`super::pairs`]).
pub type SegmentPairs = (Segment, Pairs);

impl Segment {
    /// Adds the next point; a timestamp before the last one is a
    /// [`Fallback`] (the last one again is taken: its rows' order). Returns
    /// the point's pair `(difference, position in the reference)` if it has
    /// a reference point (the difference NaN for the
    /// segment's first point). The co-moments are updated unless
    /// `pairs_kept` (they are computed from the pairs then, see
    /// [`super::pairs::evaluate`]).
    #[inline]
    pub fn push(&mut self, ts: i64, value: f64, reference: &Reference, pairs_kept: bool) -> Result<Option<(f64, u32)>, Fallback> {
        let pair = self.step(ts, value, reference)?;
        if let Some((difference, at)) = pair.filter(|_| !pairs_kept) {
            self.add_pair(difference, reference.diff[at as usize]);
        }
        Ok(pair)
    }

    /// [`Self::push`] without the co-moments: the caller adds the pair
    /// ([`Self::add_pair`], [`Self::add_moments`]).
    #[inline(always)]
    pub fn step(&mut self, ts: i64, value: f64, reference: &Reference) -> Result<Option<(f64, u32)>, Fallback> {
        let pair = if self.points == 0 {
            self.first_ts = ts;
            self.first_value = value;
            let pair = reference.find_from(&mut self.cursor, ts).map(|at| (f64::NAN, at as u32));
            self.first_joined = pair.is_some();
            pair
        } else {
            if ts < self.last_ts {
                return Err(Fallback::Disorder);
            }
            let found = reference.find_from(&mut self.cursor, ts);
            found.map(|at| (value - self.last_value, at as u32))
        };
        self.joined |= pair.is_some();
        self.points += 1;
        self.last_ts = ts;
        self.last_value = value;
        Ok(pair)
    }

    /// Adds one pair (series difference, reference difference) to the
    /// co-moments if both are known.
    #[inline]
    pub fn add_pair(&mut self, difference: f64, reference_difference: f64) {
        if crate::stats::complete(difference, reference_difference) {
            self.moments.update(difference, reference_difference);
        }
    }

    /// Takes a run of points `(ts[k], values[k])` at once when they sit on
    /// consecutive reference times right after this segment's last point
    /// (a series on the reference's grid): their differences are appended
    /// to `xs`, and the reference position of the first is returned (the
    /// caller pairs them with the reference's differences from there, and
    /// adds the co-moments). `None`, the segment untouched, if the run is
    /// not such (an empty segment, a gap, a time out of order or repeated):
    /// step through it then.
    pub fn step_on_grid(&mut self, ts: &[i64], values: &[f64], reference: &Reference, xs: &mut Vec<f64>) -> Option<u32> {
        let (&first, &last) = (ts.first()?, ts.last()?);
        if self.points == 0 || first <= self.last_ts {
            return None;
        }
        let mut cursor = self.cursor;
        let at = reference.find_from(&mut cursor, first)?;
        let times = reference.ts.get(at..at + ts.len())?;
        if times != ts {
            return None;
        }
        xs.push(values[0] - self.last_value);
        xs.extend(values.windows(2).map(|pair| pair[1] - pair[0]));
        self.joined = true;
        self.points += ts.len() as u64;
        self.cursor = at + ts.len() - 1;
        (self.last_ts, self.last_value) = (last, values[values.len() - 1]);
        Some(at as u32)
    }

    /// Whether no point has been added.
    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// Adds the co-moments of pairs taken by [`Self::step`].
    pub fn add_moments(&mut self, moments: &CoMoments) {
        self.moments.merge(moments);
    }
}

/// Chains the segments of one series (from different partitions, in
/// partition order) into the co-moments of the whole series' differences,
/// and its pairs; `None` if no point of the series has a reference point at
/// its time (the inner join leaves no row for it). Segments that overlap in
/// time are a [`Fallback`]; touching ones too when the later in time comes
/// from an earlier partition (the tied rows would not be in the scan's
/// order).
pub fn combine(segments: Vec<SegmentPairs>, reference: &Reference) -> Result<Option<SeriesState>, Fallback> {
    let mut segments: Vec<(usize, SegmentPairs)> = segments.into_iter().filter(|(segment, _)| segment.points > 0).enumerate().collect();
    let joined = segments.iter().any(|(_, (segment, _))| segment.joined);
    // Stable: touching segments that start at the same time stay in
    // partition order.
    segments.sort_by_key(|(_, (segment, _))| segment.first_ts);
    let mut state = SeriesState::default();
    let mut previous: Option<(usize, &Segment)> = None;
    for (partition, (segment, pairs)) in &mut segments {
        state.moments.merge(&segment.moments);
        if let Some((previous_partition, previous)) = previous {
            if segment.first_ts < previous.last_ts {
                return Err(Fallback::Disorder);
            }
            if segment.first_ts == previous.last_ts && previous_partition > *partition {
                return Err(Fallback::Disorder);
            }
            let difference = segment.first_value - previous.last_value;
            let reference_difference = reference.diff_at(segment.first_ts);
            if crate::stats::complete(difference, reference_difference) {
                state.moments.update(difference, reference_difference);
            }
            if segment.first_joined {
                if let Some(first) = pairs.xs.first_mut() {
                    *first = difference;
                }
            }
        }
        state.pairs.append(pairs);
        previous = Some((*partition, segment));
    }
    Ok(joined.then_some(state))
}

/// The state of one series from its points in any order (sorted here by
/// `order`, on the reference's grid if they lie on it; tied points stay in
/// the order given), with its pairs if `keep_pairs`, `None` as in
/// [`combine`]. Without kept pairs, the co-moments of all pairs at once
/// ([`CoMoments::of_pairs`]).
pub fn from_points(points: &mut [(i64, f64)], periods: i64, reference: &Reference, keep_pairs: bool, order: &mut TimeOrder) -> Option<SeriesState> {
    order.sort(points, reference.step);
    let diffs = differences(points.iter().map(|&(_, value)| value), periods);
    let (mut pairs, mut xs, mut ys) = (Pairs::default(), Vec::new(), Vec::new());
    let (mut joined, mut cursor) = (false, 0);
    for (&(ts, _), dx) in points.iter().zip(diffs) {
        if let Some(at) = reference.find_from(&mut cursor, ts) {
            joined = true;
            if keep_pairs {
                pairs.push(dx, at as u32);
            } else {
                xs.push(dx);
                ys.push(reference.diff[at]);
            }
        }
    }
    joined.then(|| SeriesState { moments: CoMoments::of_pairs(&xs, &ys), pairs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Reference {
        // ts 0..10, value t^2 (differences 1, 3, 5, ...), except a NULL at 5.
        let points = (0..10).map(|t| (t, if t == 5 { f64::NAN } else { (t * t) as f64 })).collect();
        Reference::from_points(points).unwrap()
    }

    /// Differences of `points` paired with the reference's, computed naively.
    fn naive(points: &[(i64, f64)], reference: &Reference) -> CoMoments {
        let mut moments = CoMoments::default();
        for w in points.windows(2) {
            let (dx, dy) = (w[1].1 - w[0].1, reference.diff_at(w[1].0));
            if crate::stats::complete(dx, dy) {
                moments.update(dx, dy);
            }
        }
        moments
    }

    /// A segment of `points` with its pairs kept.
    fn segment(points: &[(i64, f64)], reference: &Reference) -> Result<SegmentPairs, Fallback> {
        let (mut segment, mut pairs) = (Segment::default(), Pairs::default());
        for &(ts, value) in points {
            if let Some((x, at)) = segment.push(ts, value, reference, false)? {
                pairs.push(x, at);
            }
        }
        Ok((segment, pairs))
    }

    /// The pairs a join of the differenced series with the reference gives.
    fn naive_pairs(points: &[(i64, f64)], reference: &Reference) -> Vec<(f64, f64)> {
        let joined = |ts: i64| reference.ts.contains(&ts);
        (0..points.len())
            .filter(|&i| joined(points[i].0))
            .map(|i| (if i == 0 { f64::NAN } else { points[i].1 - points[i - 1].1 }, reference.diff_at(points[i].0)))
            .collect()
    }

    /// Kept pairs as values equal the expected ones (NaN equal to NaN).
    fn same_pairs(pairs: &Pairs, expected: &[(f64, f64)], reference: &Reference) -> bool {
        let same = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
        let got: Vec<(f64, f64)> = pairs.xs.iter().zip(pairs.positions()).map(|(&x, at)| (x, reference.diff[at as usize])).collect();
        got.len() == expected.len() && got.iter().zip(expected).all(|(p, q)| same(p.0, q.0) && same(p.1, q.1))
    }

    #[test]
    fn reference_differences_in_time_order_and_lookup() {
        let reference = Reference::from_points(vec![(20, 5.0), (10, 1.0), (30, 4.0)]).unwrap();
        assert!(reference.diff_at(10).is_nan());
        assert_eq!(reference.diff_at(20), 4.0);
        assert_eq!(reference.diff_at(30), -1.0);
        assert!(reference.diff_at(15).is_nan());
        assert!(reference.diff_at(40).is_nan());
        assert_eq!(Reference::from_points(vec![(1, 1.0), (1, 2.0)]), Err(Fallback::Repeat));
    }

    #[test]
    fn a_segment_matches_the_naive_differences_with_gaps_and_nulls() {
        let reference = reference();
        // Skips ts 2 and 7, has a NULL at 4 and a point (12) the reference lacks.
        let points = [(0, 1.0), (1, 4.0), (3, 2.0), (4, f64::NAN), (5, 7.0), (6, 8.0), (8, 3.0), (9, 9.0), (12, 1.0)];
        let (streamed, pairs) = segment(&points, &reference).unwrap();
        assert!(same_pairs(&pairs, &naive_pairs(&points, &reference), &reference));
        let expected = naive(&points, &reference);
        assert_eq!(streamed.moments.n, expected.n);
        assert_eq!(streamed.moments.n, 4, "pairs at ts 1, 3, 8 and 9; 4, 5, 6 and 12 lack a side");
        assert!((streamed.moments.pearson_r().unwrap() - expected.pearson_r().unwrap()).abs() < 1e-15);
    }

    #[test]
    fn going_back_in_time_is_disorder() {
        let reference = reference();
        assert_eq!(segment(&[(1, 1.0), (3, 2.0), (2, 5.0)], &reference).unwrap_err(), Fallback::Disorder);
    }

    #[test]
    fn segments_chain_across_partitions_in_any_order() {
        let reference = reference();
        let points: Vec<(i64, f64)> = (0..10).map(|t| (t, ((t * 7) % 5) as f64)).collect();
        let whole = naive(&points, &reference);
        let parts = vec![
            segment(&points[6..], &reference).unwrap(),
            segment(&points[..3], &reference).unwrap(),
            segment(&points[3..6], &reference).unwrap(),
            (Segment::default(), Pairs::default()),
        ];
        let chained = combine(parts, &reference).unwrap().unwrap();
        assert_eq!(chained.moments.n, whole.n);
        assert!((chained.moments.pearson_r().unwrap() - whole.pearson_r().unwrap()).abs() < 1e-12);
        assert!(same_pairs(&chained.pairs, &naive_pairs(&points, &reference), &reference), "pairs across the junctions");
    }

    #[test]
    fn a_series_without_a_common_timestamp_has_no_result() {
        let reference = reference();
        let outside = segment(&[(20, 1.0), (21, 2.0)], &reference).unwrap();
        assert!(matches!(combine(vec![outside], &reference), Ok(None)));
        let one_common = segment(&[(9, 1.0), (21, 2.0)], &reference).unwrap();
        assert_eq!(combine(vec![one_common], &reference).unwrap().map(|s| s.moments.n), Some(0));
    }

    #[test]
    fn points_in_any_order_give_the_sorted_series() {
        let reference = reference();
        let points: Vec<(i64, f64)> = (0..10).map(|t| (t, ((t * 7) % 5) as f64)).collect();
        let mut shuffled = points.clone();
        shuffled.reverse();
        shuffled.swap(2, 7);
        let expected = naive(&points, &reference);
        let got = from_points(&mut shuffled.clone(), 1, &reference, false, &mut TimeOrder::default()).unwrap();
        assert_eq!(got.moments.n, expected.n);
        assert!((got.moments.pearson_r().unwrap() - expected.pearson_r().unwrap()).abs() < 1e-15);
        // Kept pairs: the moments are left to the pairs' evaluation.
        let got = from_points(&mut shuffled, 1, &reference, true, &mut TimeOrder::default()).unwrap();
        assert!(same_pairs(&got.pairs, &naive_pairs(&points, &reference), &reference));
        assert_eq!(got.moments.n, 0);
        // A repeated timestamp: its points in the order given (a stable sort).
        let got = from_points(&mut [(3, 1.0), (1, 1.0), (3, 2.0), (4, 7.0)], 1, &reference, false, &mut TimeOrder::default()).unwrap();
        let expected = naive(&[(1, 1.0), (3, 1.0), (3, 2.0), (4, 7.0)], &reference);
        assert_eq!(got.moments.n, expected.n);
        assert!((got.moments.pearson_r().unwrap() - expected.pearson_r().unwrap()).abs() < 1e-15);
        let got = from_points(&mut [(3, 1.0), (1, 1.0), (3, 2.0), (4, 7.0)], 1, &reference, true, &mut TimeOrder::default()).unwrap();
        assert!(same_pairs(&got.pairs, &naive_pairs(&[(1, 1.0), (3, 1.0), (3, 2.0), (4, 7.0)], &reference), &reference), "pairs kept, in that order");
    }

    #[test]
    fn overlapping_segments_are_disorder() {
        let reference = reference();
        let a = segment(&[(0, 1.0), (4, 2.0)], &reference).unwrap();
        let b = segment(&[(2, 1.0), (6, 2.0)], &reference).unwrap();
        let c = segment(&[(4, 1.0)], &reference).unwrap();
        assert!(matches!(combine(vec![a.clone(), b], &reference), Err(Fallback::Disorder)));
        // Touching at a repeated timestamp: chained in partition order.
        for (first, what) in [((4, 2.0), "a duplicate of a's last point"), ((4, 6.0), "another value at a's last time")] {
            let d = segment(&[first, (7, 5.0), (8, 1.0), (9, 4.0)], &reference).unwrap();
            let chained = combine(vec![a.clone(), (Segment::default(), Pairs::default()), d.clone()], &reference).unwrap().unwrap();
            let expected = naive(&[(0, 1.0), (4, 2.0), first, (7, 5.0), (8, 1.0), (9, 4.0)], &reference);
            assert_eq!(chained.moments.n, expected.n, "{what}");
            assert!((chained.moments.pearson_r().unwrap() - expected.pearson_r().unwrap()).abs() < 1e-15, "{what}");
            // The later in time from the earlier partition: not the scan's order.
            assert!(matches!(combine(vec![d.clone(), a.clone()], &reference), Err(Fallback::Disorder)), "{what}");
        }
        // A single point at the same time, from a later partition.
        let chained = combine(vec![a.clone(), c.clone()], &reference).unwrap().unwrap();
        assert_eq!(chained.moments.n, naive(&[(0, 1.0), (4, 2.0), (4, 1.0)], &reference).n);
        assert!(matches!(combine(vec![c, a], &reference), Err(Fallback::Disorder)));
    }

    #[test]
    fn repeated_timestamps_are_taken_in_the_order_given() {
        let reference = reference();
        let duplicates = [(1, 4.0), (3, 2.0), (3, 2.0), (5, 1.0), (6, f64::NAN), (6, f64::NAN), (8, 3.0), (9, 9.0)];
        let other_values = [(1, 4.0), (3, 2.0), (3, 2.5), (4, 1.0), (4, -3.0), (8, 3.0), (9, 9.0)];
        for (points, n, what) in [
            (&duplicates[..], 3, "ts 3 twice (differences -2 and 0) and ts 9; 5, 6 and 8 lack a side"),
            (&other_values[..], 6, "another value at ts 3 and 4: ts 3 twice, 4 twice, 8 and 9"),
        ] {
            let (mut segment, expected) = (Segment::default(), naive(points, &reference));
            for &(ts, value) in points {
                segment.push(ts, value, &reference, false).unwrap();
            }
            assert_eq!((segment.moments.n, expected.n), (n, n), "{what}");
            assert!((segment.moments.pearson_r().unwrap() - expected.pearson_r().unwrap()).abs() < 1e-15, "{what}");
        }
        let mut shuffled = duplicates.to_vec();
        shuffled.reverse();
        for periods in [1, 2] {
            assert!(from_points(&mut shuffled.clone(), periods, &reference, false, &mut TimeOrder::default()).is_some(), "diff({periods})");
            assert!(from_points(&mut shuffled.clone(), periods, &reference, true, &mut TimeOrder::default()).is_some(), "diff({periods}), pairs kept");
        }
        let mut kept = Segment::default();
        kept.push(3, 2.0, &reference, true).unwrap();
        assert_eq!(kept.push(3, 2.5, &reference, true), Ok(Some((0.5, 3))), "pairs kept: the difference and position");
    }
}
