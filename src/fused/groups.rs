//! One partition's share of the fused path: the group key of each row mapped
//! to a dense id, and a [`Segment`] per group fed with the row's point.
//!
//! Keys are compared in Arrow's row format (any key types, several columns),
//! except for the common case of one string-view key column: there rows of the
//! same series usually come in runs, so a row whose 16-byte view equals the
//! previous row's belongs to the same group without hashing.
//!
//! The per-group state is charged to the session's memory pool; if it does
//! not fit (say, millions of one-point series under `--memory-limit`), the
//! operator falls back to DataFusion's plan, which can spill.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringViewArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::execution::memory_pool::MemoryReservation;

use super::series::{Fallback, Reference, Segment};

type ByteMap = HashMap<Box<[u8]>, u32, ahash::RandomState>;

/// A converter to the row format of the key columns; every partition's
/// converter produces the same bytes for the same key.
pub fn key_converter(key_fields: &[FieldRef]) -> Result<RowConverter> {
    Ok(RowConverter::new(key_fields.iter().map(|field| SortField::new(field.data_type().clone())).collect())?)
}

/// The groups one partition has seen: key (row format) and segment per id.
pub struct PartitionSeries {
    converter: RowConverter,
    /// Key bytes (the string itself on the string-view path, the row
    /// format otherwise) to group id.
    index: ByteMap,
    /// Group id of the NULL key on the string-view path.
    null_group: Option<u32>,
    string_view_key: bool,
    keys: Vec<Box<[u8]>>,
    segments: Vec<Segment>,
    ids: Vec<u32>,
    reservation: MemoryReservation,
    /// Set when the pool refused memory for a new group.
    out_of_memory: bool,
}

/// Bytes a group costs besides its key (segment, id, hash table slot).
const GROUP_OVERHEAD: usize = std::mem::size_of::<Segment>() + 48;

impl PartitionSeries {
    pub fn new(key_fields: &[FieldRef], reservation: MemoryReservation) -> Result<Self> {
        let string_view_key = key_fields.len() == 1 && key_fields[0].data_type() == &DataType::Utf8View;
        Ok(Self {
            converter: key_converter(key_fields)?,
            index: ByteMap::default(),
            null_group: None,
            string_view_key,
            keys: Vec::new(),
            segments: Vec::new(),
            ids: Vec::new(),
            reservation,
            out_of_memory: false,
        })
    }

    /// Feeds one batch: key columns, timestamps (rows with a NULL timestamp
    /// are skipped: they sort last in their window partition and join
    /// nothing) and values.
    pub fn push_batch(
        &mut self,
        keys: &[ArrayRef],
        ts: &Int64Array,
        values: &Float64Array,
        reference: &Reference,
    ) -> Result<Result<(), Fallback>> {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        if self.string_view_key {
            self.string_view_ids(keys[0].as_string_view(), &mut ids)?;
        } else {
            self.row_ids(keys, &mut ids)?;
        }
        if self.out_of_memory {
            return Ok(Err(Fallback));
        }
        let (ts_values, x_values) = (ts.values(), values.values());
        let (check_ts, check_values) = (ts.null_count() > 0, values.null_count() > 0);
        let mut outcome = Ok(());
        for (row, &id) in ids.iter().enumerate() {
            if check_ts && ts.is_null(row) {
                continue;
            }
            let value = if check_values && values.is_null(row) { f64::NAN } else { x_values[row] };
            if let Err(fallback) = self.segments[id as usize].push(ts_values[row], value, reference) {
                outcome = Err(fallback);
                break;
            }
        }
        self.ids = ids;
        Ok(outcome)
    }

    /// Row-format keys and segments, by group id.
    pub fn into_parts(self) -> (Vec<Box<[u8]>>, Vec<Segment>) {
        (self.keys, self.segments)
    }

    /// A new group for the key at `row`; `index_bytes` as in [`Self::add_group`].
    fn new_group(&mut self, key_columns: &[ArrayRef], row: usize, index_bytes: usize) -> Result<u32> {
        let single: Vec<ArrayRef> = key_columns.iter().map(|column| column.slice(row, 1)).collect();
        let rows = self.converter.convert_columns(&single)?;
        Ok(self.add_group(rows.row(0).as_ref(), index_bytes))
    }

    /// Registers a group with its row-format key; `index_bytes` is what its
    /// entry in [`Self::index`] holds.
    fn add_group(&mut self, key: &[u8], index_bytes: usize) -> u32 {
        if self.reservation.try_grow(key.len() + index_bytes + GROUP_OVERHEAD).is_err() {
            self.out_of_memory = true;
        }
        self.keys.push(key.into());
        self.segments.push(Segment::default());
        (self.keys.len() - 1) as u32
    }

    fn string_view_ids(&mut self, keys: &StringViewArray, ids: &mut Vec<u32>) -> Result<()> {
        let column: ArrayRef = std::sync::Arc::new(keys.clone());
        let views = keys.views();
        let mut previous: Option<(u128, u32)> = None;
        for row in 0..keys.len() {
            if keys.is_null(row) {
                let id = match self.null_group {
                    Some(id) => id,
                    None => {
                        let id = self.new_group(std::slice::from_ref(&column), row, 0)?;
                        self.null_group = Some(id);
                        id
                    }
                };
                ids.push(id);
                continue;
            }
            // Within one array, equal views mean equal strings.
            let view = views[row];
            if let Some((previous_view, id)) = previous {
                if previous_view == view {
                    ids.push(id);
                    continue;
                }
            }
            let bytes = keys.value(row).as_bytes();
            let id = match self.index.get(bytes) {
                Some(&id) => id,
                None => {
                    let id = self.new_group(std::slice::from_ref(&column), row, bytes.len())?;
                    self.index.insert(bytes.into(), id);
                    id
                }
            };
            previous = Some((view, id));
            ids.push(id);
        }
        Ok(())
    }

    fn row_ids(&mut self, keys: &[ArrayRef], ids: &mut Vec<u32>) -> Result<()> {
        let rows = self.converter.convert_columns(keys)?;
        let mut previous: Option<(usize, u32)> = None;
        for row in 0..rows.num_rows() {
            let bytes = rows.row(row);
            if let Some((previous_row, id)) = previous {
                if rows.row(previous_row) == bytes {
                    ids.push(id);
                    continue;
                }
            }
            let id = match self.index.get(bytes.as_ref()) {
                Some(&id) => id,
                None => {
                    let id = self.add_group(bytes.as_ref(), bytes.as_ref().len());
                    self.index.insert(bytes.as_ref().into(), id);
                    id
                }
            };
            previous = Some((row, id));
            ids.push(id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::StringViewArray;
    use datafusion::arrow::datatypes::Field;
    use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryConsumer, MemoryPool};

    use super::*;

    fn series(pool_bytes: usize, key_type: DataType) -> PartitionSeries {
        let pool: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(pool_bytes));
        let fields = [Arc::new(Field::new("view", key_type, true))];
        PartitionSeries::new(&fields, MemoryConsumer::new("test").register(&pool)).unwrap()
    }

    fn reference() -> Reference {
        Reference::from_points((0..4).map(|t| (t, (t * t) as f64)).collect()).unwrap()
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
            let mut series = series(1 << 20, key_type.clone());
            let (keys, ts, values) = batch(&key_type);
            series.push_batch(&keys, &ts, &values, &reference()).unwrap().unwrap();
            series.push_batch(&keys, &Int64Array::from(vec![2, 2, 3, 2, 3, 3]), &values, &reference()).unwrap().unwrap();
            let (group_keys, segments) = series.into_parts();
            assert_eq!(group_keys.len(), 3, "{key_type}: a, b and NULL");
            assert_eq!(segments.len(), 3);
        }
    }

    #[test]
    fn state_beyond_the_memory_pool_means_fallback() {
        let mut series = series(64, DataType::Utf8View);
        let (keys, ts, values) = batch(&DataType::Utf8View);
        assert_eq!(series.push_batch(&keys, &ts, &values, &reference()).unwrap(), Err(Fallback));
    }
}
