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
use datafusion::arrow::buffer::Buffer;
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
    /// String-view path only.
    view_cache: ViewCache,
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
            view_cache: ViewCache::new(if string_view_key { VIEW_CACHE_SLOTS } else { 0 }),
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
        self.view_cache.begin(keys);
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
            let canonical = self.view_cache.canonical(view);
            if let Some(cached_id) = self.view_cache.get(canonical) {
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
            self.view_cache.put(canonical, id);
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


/// Slots of a [`ViewCache`] (a power of two; 1 MB), two to a set.
const VIEW_CACHE_SLOTS: usize = 32768;

/// Data buffers a [`ViewCache`] holds on to before it starts afresh.
const VIEW_CACHE_BUFFERS: usize = 16;

/// A two-way set-associative cache from a string view to its group id, so
/// that most rows need no string hashing even when a key's rows are not
/// adjacent. Two ways, not one slot per view: with 10,000 keys in rows of
/// random order, a quarter of the keys shared a slot with another one and
/// missed on most of their rows (hashing the string then; L-shuffled,
/// 100M rows); with two, a view misses only where three meet in a set.
///
/// A view of a string of up to 12 bytes holds the string itself; a longer
/// one holds its length, prefix, and where it is: a data buffer of its array
/// and an offset. Parquet pages decode to arrays whose views point into the
/// page dictionary's buffer, shared by all the batches of a row group, so one
/// key keeps the same view for many batches. The cache holds a clone of each
/// data buffer it has entries for (so that memory cannot be freed and reused
/// for other bytes) and keys long views by the held buffer's slot instead of
/// the array's buffer index: a hit then means the same bytes, in any array.
struct ViewCache {
    /// Sets of two `(canonical view, group id, generation)`, the newer
    /// first; only entries of the current generation count.
    sets: Box<[[(u128, u32, u32); 2]]>,
    generation: u32,
    held: Vec<Buffer>,
    /// For the current array: held slot of each of its data buffers.
    held_slot: Vec<u32>,
}

impl ViewCache {
    fn new(slots: usize) -> Self {
        Self { sets: vec![[(0, 0, 0); 2]; slots / 2].into_boxed_slice(), generation: 1, held: Vec::new(), held_slot: Vec::new() }
    }

    /// Prepares for the views of `array`, holding its data buffers.
    fn begin(&mut self, array: &StringViewArray) {
        let buffers = array.data_buffers();
        let new_buffers = buffers.iter().filter(|b| self.held_position(b).is_none()).count();
        if self.held.len() + new_buffers > VIEW_CACHE_BUFFERS {
            // Start afresh: no entry of an earlier generation counts.
            self.held.clear();
            self.generation = self.generation.wrapping_add(1);
            if self.generation == 0 {
                self.sets.fill([(0, 0, 0); 2]);
                self.generation = 1;
            }
        }
        self.held_slot.clear();
        for buffer in buffers {
            let slot = self.held_position(buffer).unwrap_or_else(|| {
                self.held.push(buffer.clone());
                self.held.len() - 1
            });
            self.held_slot.push(slot as u32);
        }
    }

    /// Where `buffer` (the same memory, held alive) is among the held ones.
    fn held_position(&self, buffer: &Buffer) -> Option<usize> {
        self.held.iter().position(|h| h.as_ptr() == buffer.as_ptr() && h.len() == buffer.len())
    }

    /// `view` with its buffer index replaced by the held slot (long strings).
    #[inline]
    fn canonical(&self, view: u128) -> u128 {
        if (view as u32) <= 12 {
            return view;
        }
        let buffer = (view >> 64) as u32 as usize;
        let slot = self.held_slot[buffer] as u128;
        (view & !(0xFFFF_FFFF_u128 << 64)) | (slot << 64)
    }

    #[inline]
    fn set(&self, canonical: u128) -> usize {
        let folded = (canonical as u64) ^ ((canonical >> 64) as u64);
        let bits = self.sets.len().trailing_zeros();
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    #[inline]
    fn get(&self, canonical: u128) -> Option<u32> {
        let set = self.sets.get(self.set(canonical))?;
        set.iter().find(|&&(view, _, generation)| generation == self.generation && view == canonical).map(|&(_, id, _)| id)
    }

    /// Adds a view [`Self::get`] missed: the set's newer entry becomes its
    /// older, the older is dropped (a newer one of an earlier generation is
    /// replaced instead).
    #[inline]
    fn put(&mut self, canonical: u128, id: u32) {
        let (at, generation) = (self.set(canonical), self.generation);
        if let Some(set) = self.sets.get_mut(at) {
            *set = if set[0].2 == generation { [(canonical, id, generation), set[0]] } else { [(canonical, id, generation), set[1]] };
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::Field;
    use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, UnboundedMemoryPool};

    use super::*;

    fn ids_of(groups: &mut GroupIndex, keys: StringViewArray) -> Vec<u32> {
        let mut ids = Vec::new();
        groups.ids(&[Arc::new(keys)], &mut ids).unwrap();
        ids
    }

    /// Two views of one set both stay; a third drops the older of them.
    #[test]
    fn the_view_cache_keeps_two_views_a_set() {
        let mut cache = ViewCache::new(VIEW_CACHE_SLOTS);
        let first = cache.set(1);
        let same_set: Vec<u128> = (2..).filter(|&v| cache.set(v) == first).take(2).collect();
        let (a, b, c) = (1, same_set[0], same_set[1]);
        cache.put(a, 10);
        cache.put(b, 11);
        assert_eq!((cache.get(a), cache.get(b)), (Some(10), Some(11)));
        cache.put(c, 12);
        assert_eq!((cache.get(a), cache.get(b), cache.get(c)), (None, Some(11), Some(12)));
    }

    #[test]
    fn the_view_cache_tells_keys_apart_across_arrays() {
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        let fields = [Arc::new(Field::new("view", DataType::Utf8View, true))];
        let mut groups = GroupIndex::new(&fields, MemoryConsumer::new("test").register(&pool)).unwrap();
        let a = StringViewArray::from(vec!["a long key number one", "a long key number two", "a long key number one"]);
        assert_eq!(ids_of(&mut groups, a.clone()), [0, 1, 0]);
        // Same lengths, prefixes, buffer index and offsets as `a`, other bytes.
        let b = StringViewArray::from(vec!["a long key number 111", "a long key number 222", "a long key number two"]);
        assert_eq!(ids_of(&mut groups, b), [2, 3, 1]);
        // An array sharing `a`'s buffer (as the batches of a Parquet row group do).
        assert_eq!(ids_of(&mut groups, a.slice(1, 2)), [1, 0]);
        // More arrays than the cache holds buffers for: it starts afresh, still right.
        for k in 0..3 * VIEW_CACHE_BUFFERS {
            let c = StringViewArray::from(vec![format!("generated long key {k:04}"), "a long key number one".to_string()]);
            assert_eq!(ids_of(&mut groups, c), [4 + k as u32, 0]);
        }
        assert_eq!(ids_of(&mut groups, a), [0, 1, 0]);
        assert_eq!(groups.len(), 4 + 3 * VIEW_CACHE_BUFFERS);
    }
}
