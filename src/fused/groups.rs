//! Group keys of the fused path: each row's key mapped to a dense id per
//! partition ([`GroupIndex`]), and the partitions' groups gathered by key
//! ([`merge_by_key`]).
//!
//! Keys are compared in Arrow's row format (any key types, several columns),
//! except for the common case of one string-view key column: there rows of the
//! same series usually come in runs, so a row whose 16-byte view equals the
//! previous row's belongs to the same group without hashing.
//!
//! Per-group state is charged to the session's memory pool through the
//! index's reservation; if it does not fit (say, millions of one-point series
//! under `--memory-limit`), the operator falls back to DataFusion's plan,
//! which can spill.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringViewArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::execution::memory_pool::MemoryReservation;

type ByteMap = HashMap<Box<[u8]>, u32, ahash::RandomState>;

/// A converter to the row format of the key columns; every partition's
/// converter produces the same bytes for the same key.
pub fn key_converter(key_fields: &[FieldRef]) -> Result<RowConverter> {
    Ok(RowConverter::new(key_fields.iter().map(|field| SortField::new(field.data_type().clone())).collect())?)
}

/// Bytes a group costs besides its key (per-group state, id, hash slot).
const GROUP_OVERHEAD: usize = 128;

/// Group keys of one partition, numbered densely in order of appearance.
pub struct GroupIndex {
    converter: RowConverter,
    /// Key bytes (the string itself on the string-view path, the row
    /// format otherwise) to group id.
    index: ByteMap,
    /// Group id of the NULL key on the string-view path.
    null_group: Option<u32>,
    string_view_key: bool,
    /// Row-format key of each group.
    keys: Vec<Box<[u8]>>,
    reservation: MemoryReservation,
    out_of_memory: bool,
    /// Direct-mapped cache from a string view to its group id, for the
    /// current array: Parquet dictionary pages decode to views that share
    /// the dictionary's bytes, so a key repeats its view even when its rows
    /// are not adjacent, and a hit needs no string hashing. Entries are
    /// `(view, group id, array number)`: only those of the current array
    /// ([`Self::arrays_seen`]) count.
    view_cache: Box<[(u128, u32, u32)]>,
    arrays_seen: u32,
}

/// Slots of [`GroupIndex::view_cache`] (a power of two; 1 MB): a hit rate
/// of ~75% with 10,000 series in random order.
const VIEW_CACHE_SLOTS: usize = 32768;

fn view_slot(view: u128) -> usize {
    let folded = (view as u64) ^ ((view >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - VIEW_CACHE_SLOTS.trailing_zeros())) as usize
}

impl GroupIndex {
    pub fn new(key_fields: &[FieldRef], reservation: MemoryReservation) -> Result<Self> {
        let string_view_key = key_fields.len() == 1 && key_fields[0].data_type() == &DataType::Utf8View;
        Ok(Self {
            converter: key_converter(key_fields)?,
            index: ByteMap::default(),
            null_group: None,
            string_view_key,
            keys: Vec::new(),
            reservation,
            out_of_memory: false,
            view_cache: vec![(0, 0, 0); if string_view_key { VIEW_CACHE_SLOTS } else { 0 }].into_boxed_slice(),
            arrays_seen: 0,
        })
    }

    /// Number of groups so far.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Sets `ids` to the group id of each row of `keys`, adding groups for
    /// new keys.
    pub fn ids(&mut self, keys: &[ArrayRef], ids: &mut Vec<u32>) -> Result<()> {
        ids.clear();
        if self.string_view_key {
            self.string_view_ids(keys[0].as_string_view(), ids)
        } else {
            self.row_ids(keys, ids)
        }
    }

    /// Charges `bytes` more to the memory pool; `false` (from now on) if the
    /// pool refused this or an earlier charge.
    pub fn reserve(&mut self, bytes: usize) -> bool {
        if self.reservation.try_grow(bytes).is_err() {
            self.out_of_memory = true;
        }
        !self.out_of_memory
    }

    /// Row-format keys by group id, and the memory charged so far (freed
    /// when dropped).
    pub fn into_parts(self) -> (Vec<Box<[u8]>>, MemoryReservation) {
        (self.keys, self.reservation)
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
        self.reserve(key.len() + index_bytes + GROUP_OVERHEAD);
        self.keys.push(key.into());
        (self.keys.len() - 1) as u32
    }

    fn string_view_ids(&mut self, keys: &StringViewArray, ids: &mut Vec<u32>) -> Result<()> {
        let column: ArrayRef = std::sync::Arc::new(keys.clone());
        let views = keys.views();
        // Views point into this array's buffers: cached ids are valid for it only.
        self.arrays_seen = self.arrays_seen.wrapping_add(1);
        if self.arrays_seen == 0 {
            self.view_cache.fill((0, 0, 0));
            self.arrays_seen = 1;
        }
        let current = self.arrays_seen;
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
            let slot = view_slot(view);
            let (cached_view, cached_id, array) = self.view_cache[slot];
            if array == current && cached_view == view {
                previous = Some((view, cached_id));
                ids.push(cached_id);
                continue;
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
            self.view_cache[slot] = (view, id, current);
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


/// Gathers the per-group values of several partitions by key: the keys in
/// order of first appearance and, for each, its values from every partition
/// that has it.
pub fn merge_by_key<T>(partitions: impl IntoIterator<Item = (Vec<Box<[u8]>>, Vec<T>)>) -> (Vec<Box<[u8]>>, Vec<Vec<T>>) {
    let mut index: HashMap<Box<[u8]>, usize, ahash::RandomState> = HashMap::default();
    let (mut keys, mut values): (Vec<Box<[u8]>>, Vec<Vec<T>>) = (Vec::new(), Vec::new());
    for (partition_keys, partition_values) in partitions {
        for (key, value) in partition_keys.into_iter().zip(partition_values) {
            let id = *index.entry(key.clone()).or_insert_with(|| {
                keys.push(key);
                values.push(Vec::new());
                keys.len() - 1
            });
            values[id].push(value);
        }
    }
    (keys, values)
}
