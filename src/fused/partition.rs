//! One partition's share of the fused path, in its two forms:
//!
//! - [`PartitionSeries`] (streaming, the first pass): a [`Segment`] per
//!   group, fed row by row; constant memory per group;
//! - [`PartitionPoints`] (buffered, the second pass when the first found rows
//!   out of time order): every point `(ts, value)` per group, to be sorted per
//!   series afterwards — 16 bytes per row, charged to the memory pool.
//!
//! Rows with a NULL timestamp are skipped by both (they sort last in their
//! window partition and join nothing); NULL values are carried as NaN.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use datafusion::common::Result;
use datafusion::execution::memory_pool::MemoryReservation;

use super::groups::GroupIndex;
use super::pairs::Pairs;
use super::series::{Fallback, Reference, Segment, SegmentPairs};

/// What one partition's state does with a batch of `keys…, ts, value` rows.
pub trait PartitionState: Send + 'static {
    fn push_batch(&mut self, keys: &[ArrayRef], ts: &Int64Array, values: &Float64Array) -> Result<Result<(), Fallback>>;
}

/// Calls `f(group, ts, value)` for each row with a timestamp, stopping at
/// the first [`Fallback`].
fn for_each_point(
    ids: &[u32],
    ts: &Int64Array,
    values: &Float64Array,
    mut f: impl FnMut(u32, i64, f64) -> Result<(), Fallback>,
) -> Result<(), Fallback> {
    let (ts_values, x_values) = (ts.values(), values.values());
    let (check_ts, check_values) = (ts.null_count() > 0, values.null_count() > 0);
    for (row, &id) in ids.iter().enumerate() {
        if check_ts && ts.is_null(row) {
            continue;
        }
        let value = if check_values && values.is_null(row) { f64::NAN } else { x_values[row] };
        f(id, ts_values[row], value)?;
    }
    Ok(())
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
    room: Room,
}

impl PartitionSeries {
    pub fn new(groups: GroupIndex, reference: Arc<Reference>, keep_pairs: bool) -> Self {
        let room = Room::new(reference.len());
        Self { groups, segments: Vec::new(), pairs: keep_pairs.then(Vec::new), reference, ids: Vec::new(), room }
    }

    /// Row-format keys and segments (with their pairs) by group id, and the
    /// memory charged.
    pub fn into_parts(self) -> (Vec<Box<[u8]>>, Vec<SegmentPairs>, MemoryReservation) {
        let (keys, reservation) = self.groups.into_parts();
        let mut pairs = self.pairs.unwrap_or_default().into_iter();
        let segments = self.segments.into_iter().map(|segment| (segment, pairs.next().unwrap_or_default())).collect();
        (keys, segments, reservation)
    }
}

impl PartitionState for PartitionSeries {
    fn push_batch(&mut self, keys: &[ArrayRef], ts: &Int64Array, values: &Float64Array) -> Result<Result<(), Fallback>> {
        self.groups.ids(keys, &mut self.ids)?;
        // Pair vectors grow by doubling: charge twice their size.
        let pair_bytes = if self.pairs.is_some() { 2 * Pairs::BYTES_PER_PAIR * ts.len() } else { 0 };
        if !self.groups.reserve(pair_bytes) {
            return Ok(Err(Fallback::Memory));
        }
        let groups = self.groups.len();
        self.segments.resize(groups, Segment::default());
        let (segments, reference) = (&mut self.segments, self.reference.as_ref());
        match &mut self.pairs {
            None => Ok(for_each_point(&self.ids, ts, values, |id, ts, value| segments[id as usize].push(ts, value, reference, false).map(drop))),
            Some(pairs) => {
                while pairs.len() < groups {
                    pairs.push(Pairs::in_room(self.room.vec()));
                }
                Ok(for_each_point(&self.ids, ts, values, |id, ts, value| {
                    if let Some((x, at)) = segments[id as usize].push(ts, value, reference, true)? {
                        pairs[id as usize].push(x, at);
                    }
                    Ok(())
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
    room: Room,
}

impl PartitionPoints {
    /// `room`: the most points a series can have in a pass that answers
    /// (one per reference time).
    pub fn new(groups: GroupIndex, room: usize) -> Self {
        Self { groups, points: Vec::new(), ids: Vec::new(), room: Room::new(room) }
    }

    /// Row-format keys and points by group id, and the memory charged.
    pub fn into_parts(self) -> (Vec<Box<[u8]>>, Vec<Vec<(i64, f64)>>, MemoryReservation) {
        let (keys, reservation) = self.groups.into_parts();
        (keys, self.points, reservation)
    }
}

impl PartitionState for PartitionPoints {
    fn push_batch(&mut self, keys: &[ArrayRef], ts: &Int64Array, values: &Float64Array) -> Result<Result<(), Fallback>> {
        self.groups.ids(keys, &mut self.ids)?;
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
            let (group_keys, segments, _) = series.into_parts();
            assert_eq!(group_keys.len(), 3, "{key_type}: a, b and NULL");
            assert_eq!(segments.len(), 3);
        }
    }

    #[test]
    fn buffered_points_keep_every_row_per_group() {
        let mut points = PartitionPoints::new(groups(1 << 20, DataType::Utf8View), 4);
        let (keys, ts, values) = batch(&DataType::Utf8View);
        points.push_batch(&keys, &ts, &values).unwrap().unwrap();
        let (group_keys, points, _) = points.into_parts();
        assert_eq!(group_keys.len(), 3);
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
