//! One partition's share of the fused path: the group key of each row mapped
//! to a dense id, and a [`Segment`] per group fed with the row's point.
//!
//! Keys are compared in Arrow's row format (any key types, several columns),
//! except for the common case of one string-view key column: there rows of the
//! same series usually come in runs, so a row whose 16-byte view equals the
//! previous row's belongs to the same group without hashing.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringViewArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;

use super::series::{Disorder, Reference, Segment};

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
}

impl PartitionSeries {
    pub fn new(key_fields: &[FieldRef]) -> Result<Self> {
        let string_view_key = key_fields.len() == 1 && key_fields[0].data_type() == &DataType::Utf8View;
        Ok(Self {
            converter: key_converter(key_fields)?,
            index: ByteMap::default(),
            null_group: None,
            string_view_key,
            keys: Vec::new(),
            segments: Vec::new(),
            ids: Vec::new(),
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
    ) -> Result<Result<(), Disorder>> {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        if self.string_view_key {
            self.string_view_ids(keys[0].as_string_view(), &mut ids)?;
        } else {
            self.row_ids(keys, &mut ids)?;
        }
        let (ts_values, x_values) = (ts.values(), values.values());
        let (check_ts, check_values) = (ts.null_count() > 0, values.null_count() > 0);
        let mut outcome = Ok(());
        for (row, &id) in ids.iter().enumerate() {
            if check_ts && ts.is_null(row) {
                continue;
            }
            let value = if check_values && values.is_null(row) { f64::NAN } else { x_values[row] };
            if let Err(disorder) = self.segments[id as usize].push(ts_values[row], value, reference) {
                outcome = Err(disorder);
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

    fn new_group(&mut self, key_columns: &[ArrayRef], row: usize) -> Result<u32> {
        let single: Vec<ArrayRef> = key_columns.iter().map(|column| column.slice(row, 1)).collect();
        let rows = self.converter.convert_columns(&single)?;
        self.keys.push(rows.row(0).as_ref().into());
        self.segments.push(Segment::default());
        Ok((self.keys.len() - 1) as u32)
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
                        let id = self.new_group(std::slice::from_ref(&column), row)?;
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
                    let id = self.new_group(std::slice::from_ref(&column), row)?;
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
                    self.keys.push(bytes.as_ref().into());
                    self.segments.push(Segment::default());
                    let id = (self.keys.len() - 1) as u32;
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
