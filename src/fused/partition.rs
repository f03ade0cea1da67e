//! One partition's share of the fused path, in its two forms:
//!
//! - [`PartitionSeries`] (streaming, the first pass): a [`Segment`] per
//!   group, fed a run of the group's rows at a time (at once when the run
//!   lies on the reference's grid, else row by row); constant memory per
//!   group;
//! - [`PartitionPoints`] (buffered, the second pass when the first found rows
//!   out of time order): every point `(ts, value)` per group, to be sorted per
//!   series afterwards — 16 bytes per row, charged to the memory pool.
//!
//! Rows with a NULL timestamp are skipped by both (they sort last in their
//! window partition and join nothing); NULL values are carried as NaN.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use datafusion::common::Result;
use datafusion::execution::memory_pool::MemoryReservation;

use super::groups::GroupIndex;
use super::pairs::Pairs;
use super::series::{Fallback, Reference, Segment, SegmentPairs};
use crate::stats::CoMoments;

/// What one partition's state does with a batch of `keys…, ts, value` rows.
pub trait PartitionState: Send + 'static {
    fn push_batch(&mut self, keys: &[ArrayRef], ts: &Int64Array, values: &Float64Array) -> Result<Result<(), Fallback>>;
}

/// The point `(ts, value)` of each row, the value NaN where NULL; `None`
/// for a NULL timestamp.
fn points<'a>(ts: &'a Int64Array, values: &'a Float64Array) -> impl Fn(usize) -> Option<(i64, f64)> + 'a {
    let (ts_values, x_values) = (ts.values(), values.values());
    let (check_ts, check_values) = (ts.null_count() > 0, values.null_count() > 0);
    move |row| {
        if check_ts && ts.is_null(row) {
            return None;
        }
        Some((ts_values[row], if check_values && values.is_null(row) { f64::NAN } else { x_values[row] }))
    }
}

/// Adds each row of `ids` to its group's count in `rows` (`groups` groups
/// so far): `count(*)` of a series an outer join keeps whole counts them
/// all, NULL times too.
fn count_rows(rows: &mut Vec<u64>, ids: &[u32], groups: usize) {
    rows.resize(groups, 0);
    for &id in ids {
        rows[id as usize] += 1;
    }
}

/// Calls `f(group, ts, value)` for each row with a timestamp, stopping at
/// the first [`Fallback`].
fn for_each_point(
    ids: &[u32],
    ts: &Int64Array,
    values: &Float64Array,
    mut f: impl FnMut(u32, i64, f64) -> Result<(), Fallback>,
) -> Result<(), Fallback> {
    let point = points(ts, values);
    ids.iter().enumerate().try_for_each(|(row, &id)| point(row).map_or(Ok(()), |(ts, value)| f(id, ts, value)))
}

/// Calls `f(group, rows)` for each run of consecutive rows of one group,
/// stopping at the first [`Fallback`].
fn for_each_run(ids: &[u32], mut f: impl FnMut(u32, Range<usize>) -> Result<(), Fallback>) -> Result<(), Fallback> {
    let mut start = 0;
    while start < ids.len() {
        let id = ids[start];
        let end = ids[start..].iter().position(|&other| other != id).map_or(ids.len(), |length| start + length);
        f(id, start..end)?;
        start = end;
    }
    Ok(())
}

/// Where the pairs of a run of one group's rows go: one at a time
/// ([`Self::pair`]) or, for a run on the reference's grid, as differences
/// appended to [`Self::grid_xs`] at consecutive positions from `at`
/// ([`Self::grid_taken`]).
trait RunSink {
    fn pair(&mut self, x: f64, at: u32);
    fn grid_xs(&mut self) -> &mut Vec<f64>;
    fn grid_taken(&mut self, index: usize, at: u32);
}

/// Feeds the points of `rows` (one group's) into `segment` and their pairs
/// into `sink`: at once where the rows lie on the reference's grid
/// ([`Segment::step_on_grid`]; a batch of a file sorted by series holds
/// thousands of one series' rows in a row), else point by point, in a
/// register copy of the segment.
fn feed_run(
    segment: &mut Segment,
    mut rows: Range<usize>,
    (ts, values): (&Int64Array, &Float64Array),
    reference: &Reference,
    sink: &mut impl RunSink,
) -> Result<(), Fallback> {
    if ts.null_count() == 0 && values.null_count() == 0 && !rows.is_empty() {
        // A segment's first point has no difference: stepped.
        if segment.is_empty() {
            if let Some((x, at)) = segment.step(ts.value(rows.start), values.value(rows.start), reference)? {
                sink.pair(x, at);
            }
            rows.start += 1;
        }
        let xs = sink.grid_xs();
        let index = xs.len();
        if let Some(at) = segment.step_on_grid(&ts.values()[rows.clone()], &values.values()[rows.clone()], reference, xs) {
            sink.grid_taken(index, at);
            return Ok(());
        }
    }
    let mut local = *segment;
    for (ts, value) in rows.filter_map(points(ts, values)) {
        if let Some((x, at)) = local.step(ts, value, reference)? {
            sink.pair(x, at);
        }
    }
    *segment = local;
    Ok(())
}

/// The pairs of one run gathered for its segment's co-moments, added at
/// once — two vectorised passes, then Chan's merge — instead of one Welford
/// step a row, whose chain of dependent operations through the segment in
/// memory bounded the scan. Fewer than [`Self::SHORTEST`] stepped pairs
/// (series interleaved row by row) take the Welford steps.
#[derive(Default)]
struct RunMoments {
    xs: Vec<f64>,
    ys: Vec<f64>,
}

/// [`RunMoments`]' buffers for one run, and the grid run's first index in
/// `xs` and reference position.
struct MomentsSink<'a> {
    xs: &'a mut Vec<f64>,
    ys: &'a mut Vec<f64>,
    diff: &'a [f64],
    grid: Option<(usize, u32)>,
}

impl RunSink for MomentsSink<'_> {
    fn pair(&mut self, x: f64, at: u32) {
        self.xs.push(x);
        self.ys.push(self.diff[at as usize]);
    }

    fn grid_xs(&mut self) -> &mut Vec<f64> {
        self.xs
    }

    fn grid_taken(&mut self, index: usize, at: u32) {
        self.grid = Some((index, at));
    }
}

impl RunMoments {
    const SHORTEST: usize = 16;

    /// Feeds `rows` into `segment` ([`feed_run`]), then their co-moments.
    fn push(&mut self, segment: &mut Segment, rows: Range<usize>, columns: (&Int64Array, &Float64Array), reference: &Reference) -> Result<(), Fallback> {
        let diff = reference.differences();
        (self.xs.clear(), self.ys.clear());
        let mut sink = MomentsSink { xs: &mut self.xs, ys: &mut self.ys, diff, grid: None };
        feed_run(segment, rows, columns, reference, &mut sink)?;
        let grid = sink.grid;
        let stepped = self.ys.len();
        if stepped < Self::SHORTEST {
            self.xs.iter().zip(&self.ys).for_each(|(&x, &y)| segment.add_pair(x, y));
        } else {
            segment.add_moments(&CoMoments::of_pairs(&self.xs[..stepped], &self.ys));
        }
        if let Some((index, at)) = grid {
            let (xs, at) = (&self.xs[index..], at as usize);
            segment.add_moments(&CoMoments::of_pairs(xs, &diff[at..at + xs.len()]));
        }
        Ok(())
    }
}

/// The kept pairs of a series take a run's pairs directly.
impl RunSink for Pairs {
    fn pair(&mut self, x: f64, at: u32) {
        self.push(x, at);
    }

    fn grid_xs(&mut self) -> &mut Vec<f64> {
        &mut self.xs
    }

    fn grid_taken(&mut self, index: usize, at: u32) {
        self.mark_run(index, at);
    }
}

/// Initial room for a new series' vector: a point at every reference time
/// (its most in a pass that answers), so a series on the reference's grid
/// grows without copying, and a series' pieces from two partitions fit in
/// the first one's vector. Untouched room costs address space only, up to a
/// budget per partition; after it, vectors grow as usual.
struct Room {
    per_series: usize,
    budget_bytes: usize,
}

impl Room {
    fn new(per_series: usize) -> Self {
        Self { per_series, budget_bytes: 1 << 30 }
    }

    fn vec<T>(&mut self) -> Vec<T> {
        let mut vec = Vec::new();
        let bytes = self.per_series.saturating_mul(std::mem::size_of::<T>());
        if bytes <= self.budget_bytes && vec.try_reserve_exact(self.per_series).is_ok() {
            self.budget_bytes -= bytes;
        }
        vec
    }
}

/// The streaming state: a [`Segment`] per group, and its pairs when they
/// are kept (8–12 bytes a joined row, charged to the memory pool).
pub struct PartitionSeries {
    groups: GroupIndex,
    segments: Vec<Segment>,
    /// One vector per group when pairs are kept, else `None`.
    pairs: Option<Vec<Pairs>>,
    reference: Arc<Reference>,
    ids: Vec<u32>,
    /// Rows per group, with a time or not ([`count_rows`]).
    rows: Vec<u64>,
    room: Room,
    run: RunMoments,
}

impl PartitionSeries {
    pub fn new(groups: GroupIndex, reference: Arc<Reference>, keep_pairs: bool) -> Self {
        let room = Room::new(reference.len());
        let (ids, rows, run) = (Vec::new(), Vec::new(), RunMoments::default());
        Self { groups, segments: Vec::new(), pairs: keep_pairs.then(Vec::new), reference, ids, rows, room, run }
    }

    /// Row-format keys, segments (with their pairs) and row counts by group
    /// id, and the memory charged.
    pub fn into_parts(self) -> (Vec<Box<[u8]>>, Vec<SegmentPairs>, Vec<u64>, MemoryReservation) {
        let (keys, reservation) = self.groups.into_parts();
        let mut pairs = self.pairs.unwrap_or_default().into_iter();
        let segments = self.segments.into_iter().map(|segment| (segment, pairs.next().unwrap_or_default())).collect();
        (keys, segments, self.rows, reservation)
    }
}

impl PartitionState for PartitionSeries {
    fn push_batch(&mut self, keys: &[ArrayRef], ts: &Int64Array, values: &Float64Array) -> Result<Result<(), Fallback>> {
        self.groups.ids(keys, &mut self.ids)?;
        count_rows(&mut self.rows, &self.ids, self.groups.len());
        // Pair vectors grow by doubling: charge twice their size.
        let pair_bytes = if self.pairs.is_some() { 2 * Pairs::BYTES_PER_PAIR * ts.len() } else { 0 };
        if !self.groups.reserve(pair_bytes) {
            return Ok(Err(Fallback::Memory));
        }
        let groups = self.groups.len();
        self.segments.resize(groups, Segment::default());
        let (segments, reference) = (&mut self.segments, self.reference.as_ref());
        match &mut self.pairs {
            None => {
                let run = &mut self.run;
                Ok(for_each_run(&self.ids, |id, rows| run.push(&mut segments[id as usize], rows, (ts, values), reference)))
            }
            Some(pairs) => {
                while pairs.len() < groups {
                    pairs.push(Pairs::in_room(self.room.vec()));
                }
                Ok(for_each_run(&self.ids, |id, rows| {
                    feed_run(&mut segments[id as usize], rows, (ts, values), reference, &mut pairs[id as usize])
                }))
            }
        }
    }
}

/// The buffered state: every point per group.
pub struct PartitionPoints {
    groups: GroupIndex,
    points: Vec<Vec<(i64, f64)>>,
    ids: Vec<u32>,
    rows: Vec<u64>,
    room: Room,
}

impl PartitionPoints {
    /// `room`: the most points a series can have in a pass that answers
    /// (one per reference time).
    pub fn new(groups: GroupIndex, room: usize) -> Self {
        Self { groups, points: Vec::new(), ids: Vec::new(), rows: Vec::new(), room: Room::new(room) }
    }

    /// Row-format keys, points and row counts by group id, and the memory
    /// charged.
    pub fn into_parts(self) -> (Vec<Box<[u8]>>, Vec<Vec<(i64, f64)>>, Vec<u64>, MemoryReservation) {
        let (keys, reservation) = self.groups.into_parts();
        (keys, self.points, self.rows, reservation)
    }
}

impl PartitionState for PartitionPoints {
    fn push_batch(&mut self, keys: &[ArrayRef], ts: &Int64Array, values: &Float64Array) -> Result<Result<(), Fallback>> {
        self.groups.ids(keys, &mut self.ids)?;
        count_rows(&mut self.rows, &self.ids, self.groups.len());
        // Vectors grow by doubling: charge twice the points' size.
        if !self.groups.reserve(2 * std::mem::size_of::<(i64, f64)>() * ts.len()) {
            return Ok(Err(Fallback::Memory));
        }
        while self.points.len() < self.groups.len() {
            self.points.push(self.room.vec());
        }
        let points = &mut self.points;
        Ok(for_each_point(&self.ids, ts, values, |id, ts, value| {
            points[id as usize].push((ts, value));
            Ok(())
        }))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::StringViewArray;
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryConsumer, MemoryPool};

    use super::*;

    fn groups(pool_bytes: usize, key_type: DataType) -> GroupIndex {
        let pool: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(pool_bytes));
        let fields = [Arc::new(Field::new("view", key_type, true))];
        GroupIndex::new(&fields, MemoryConsumer::new("test").register(&pool)).unwrap()
    }

    fn reference() -> Arc<Reference> {
        Arc::new(Reference::from_points((0..4).map(|t| (t, (t * t) as f64)).collect()).unwrap())
    }

    /// Keys a, b, a, NULL, b, NULL at times 0, 0, 1, 0, 1, 1.
    fn batch(key_type: &DataType) -> (Vec<ArrayRef>, Int64Array, Float64Array) {
        let keys = StringViewArray::from(vec![Some("a"), Some("b"), Some("a"), None, Some("b"), None]);
        let keys = datafusion::arrow::compute::cast(&keys, key_type).unwrap();
        (vec![keys], Int64Array::from(vec![0, 0, 1, 0, 1, 1]), Float64Array::from(vec![1.0, 5.0, 2.0, 7.0, 3.0, 9.0]))
    }

    #[test]
    fn string_view_and_row_paths_group_alike_including_null() {
        for key_type in [DataType::Utf8View, DataType::Utf8] {
            let mut series = PartitionSeries::new(groups(1 << 20, key_type.clone()), reference(), false);
            let (keys, ts, values) = batch(&key_type);
            series.push_batch(&keys, &ts, &values).unwrap().unwrap();
            series.push_batch(&keys, &Int64Array::from(vec![2, 2, 3, 2, 3, 3]), &values).unwrap().unwrap();
            let (group_keys, segments, rows, _) = series.into_parts();
            assert_eq!(group_keys.len(), 3, "{key_type}: a, b and NULL");
            assert_eq!(segments.len(), 3);
            assert_eq!(rows, vec![4, 4, 4], "{key_type}: rows per group, two batches");
        }
    }

    /// Runs of one series on the reference's grid (taken at once), with
    /// gaps or NULLs (point by point), interleaved with another series
    /// (runs of one), split across batches: the co-moments of the naive
    /// pairs (a repeated timestamp's in the order given); out of order: a
    /// fallback.
    #[test]
    fn runs_on_and_off_the_grid_give_the_naive_moments() {
        let reference = Arc::new(Reference::from_points((0..200).map(|t| (t, if t == 77 { f64::NAN } else { ((t * 37) % 101) as f64 })).collect()).unwrap());
        let value = |t: i64| ((t * 53) % 89) as f64 * 0.25;
        let naive = |points: &[(i64, Option<f64>)]| {
            let mut moments = CoMoments::default();
            for pair in points.windows(2) {
                let x = pair[1].1.unwrap_or(f64::NAN) - pair[0].1.unwrap_or(f64::NAN);
                let y = reference.diff_at(pair[1].0);
                if crate::stats::complete(x, y) {
                    moments.update(x, y);
                }
            }
            moments
        };
        let feed = |rows: &[(&str, i64, Option<f64>)], batch: usize, keep: bool| -> Result<PartitionSeries, Fallback> {
            let mut series = PartitionSeries::new(groups(1 << 24, DataType::Utf8View), Arc::clone(&reference), keep);
            for chunk in rows.chunks(batch) {
                let keys: Vec<ArrayRef> = vec![Arc::new(StringViewArray::from(chunk.iter().map(|r| r.0).collect::<Vec<_>>()))];
                let ts = Int64Array::from(chunk.iter().map(|r| r.1).collect::<Vec<_>>());
                series.push_batch(&keys, &ts, &Float64Array::from(chunk.iter().map(|r| r.2).collect::<Vec<_>>())).unwrap()?;
            }
            Ok(series)
        };
        let run = |rows: &[(&str, i64, Option<f64>)], batch: usize| -> Result<Vec<CoMoments>, Fallback> {
            let (_, segments, ..) = feed(rows, batch, false)?.into_parts();
            Ok(segments.into_iter().map(|segment| super::super::series::combine(vec![segment], &reference).unwrap().unwrap().moments).collect())
        };
        let close = |a: &CoMoments, b: &CoMoments| {
            let near = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs().max(1.0);
            a.n == b.n && near(a.m2_x, b.m2_x) && near(a.m2_y, b.m2_y) && near(a.c_xy, b.c_xy) && a.pearson_r().zip(b.pearson_r()).is_none_or(|(r, s)| near(r, s))
        };
        // Bit for bit, any NaN as one.
        let bits = |x: f64| if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() };
        let on_grid: Vec<(i64, Option<f64>)> = (0..200).map(|t| (t, Some(value(t)))).collect();
        let gaps: Vec<(i64, Option<f64>)> = (0..200).filter(|t| t % 7 != 3).map(|t| (t, Some(value(t)))).collect();
        let nulls: Vec<(i64, Option<f64>)> = (0..200).map(|t| (t, (t % 11 != 4).then(|| value(t)))).collect();
        for (what, points) in [("on the grid", &on_grid), ("gaps", &gaps), ("NULLs", &nulls)] {
            let rows: Vec<_> = points.iter().map(|&(t, v)| ("a", t, v)).collect();
            for batch in [200, 64, 5] {
                let got = run(&rows, batch).unwrap();
                assert!(close(&got[0], &naive(points)), "{what}, batches of {batch}: {:?} vs {:?}", got[0], naive(points));
                // Kept pairs: each point's difference and reference position.
                let (_, segments, ..) = feed(&rows, batch, true).unwrap().into_parts();
                let pairs = &segments[0].1;
                let expected: Vec<(u64, u32)> = (0..points.len())
                    .map(|i| (if i == 0 { f64::NAN } else { points[i].1.unwrap_or(f64::NAN) - points[i - 1].1.unwrap_or(f64::NAN) }, points[i].0 as u32))
                    .map(|(x, at)| (bits(x), at))
                    .collect();
                let got: Vec<(u64, u32)> = pairs.xs.iter().map(|&x| bits(x)).zip(pairs.positions()).collect();
                assert_eq!(got, expected, "{what}, batches of {batch}, pairs kept");
            }
        }
        let interleaved: Vec<_> = on_grid.iter().flat_map(|&(t, v)| [("a", t, v), ("b", t, v.map(|v| -v * v))]).collect();
        let got = run(&interleaved, 64).unwrap();
        let b: Vec<(i64, Option<f64>)> = on_grid.iter().map(|&(t, v)| (t, v.map(|v| -v * v))).collect();
        assert!(close(&got[0], &naive(&on_grid)) && close(&got[1], &naive(&b)), "interleaved");
        let mut back = on_grid.clone();
        back.swap(120, 121);
        let rows: Vec<_> = back.iter().map(|&(t, v)| ("a", t, v)).collect();
        assert_eq!(run(&rows, 64), Err(Fallback::Disorder));
        // A repeated timestamp with another value: taken in the order given
        // (off the grid there), with its pairs when they are kept.
        let mut repeat = on_grid.clone();
        repeat.insert(121, (120, Some(1e3)));
        let rows: Vec<_> = repeat.iter().map(|&(t, v)| ("a", t, v)).collect();
        for batch in [200, 64, 5] {
            assert!(close(&run(&rows, batch).unwrap()[0], &naive(&repeat)), "a repeat, batches of {batch}");
        }
        let (_, segments, ..) = feed(&rows, 64, true).unwrap().into_parts();
        let got: Vec<(u64, u32)> = segments[0].1.xs.iter().map(|&x| bits(x)).zip(segments[0].1.positions()).collect();
        let value = |i: usize| repeat[i].1.unwrap_or(f64::NAN);
        let expected: Vec<(u64, u32)> =
            (0..repeat.len()).map(|i| (bits(if i == 0 { f64::NAN } else { value(i) - value(i - 1) }), repeat[i].0 as u32)).collect();
        assert_eq!(got, expected, "a repeat, pairs kept");
    }

    #[test]
    fn buffered_points_keep_every_row_per_group() {
        let mut points = PartitionPoints::new(groups(1 << 20, DataType::Utf8View), 4);
        let (keys, ts, values) = batch(&DataType::Utf8View);
        points.push_batch(&keys, &ts, &values).unwrap().unwrap();
        let (group_keys, points, rows, _) = points.into_parts();
        assert_eq!(group_keys.len(), 3);
        assert_eq!(rows, vec![2, 2, 2]);
        assert_eq!(points[0], vec![(0, 1.0), (1, 2.0)], "a");
        assert_eq!(points[2], vec![(0, 7.0), (1, 9.0)], "NULL key");
    }

    #[test]
    fn state_beyond_the_memory_pool_means_fallback() {
        let (keys, ts, values) = batch(&DataType::Utf8View);
        let mut series = PartitionSeries::new(groups(64, DataType::Utf8View), reference(), false);
        assert_eq!(series.push_batch(&keys, &ts, &values).unwrap(), Err(Fallback::Memory));
        // One group fits in 2,000 bytes, its 1,000 points do not.
        let keys: Vec<ArrayRef> = vec![Arc::new(StringViewArray::from(vec!["a"; 1000]))];
        let (ts, values) = (Int64Array::from_iter_values(0..1000), Float64Array::from(vec![1.0; 1000]));
        let mut points = PartitionPoints::new(groups(2000, DataType::Utf8View), 1000);
        assert_eq!(points.push_batch(&keys, &ts, &values).unwrap(), Err(Fallback::Memory));
    }
}
