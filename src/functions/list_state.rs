//! Partial state kept as Float64 lists, shared by the aggregates that need
//! the whole sample (`sample_accumulator`, `ordered_accumulator`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::utils::format_state_name;

/// One `List<Float64>` state field per name, for aggregate `aggregate_name`.
pub fn list_state_fields(aggregate_name: &str, names: &[&str]) -> Vec<FieldRef> {
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)));
    names.iter().map(|name| Arc::new(Field::new(format_state_name(aggregate_name, name), list.clone(), true))).collect()
}

/// A state value: `values` as a one-row list.
pub fn list_scalar(values: &[f64]) -> ScalarValue {
    ScalarValue::List(Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>([Some(values.iter().map(|v| Some(*v)))])))
}

/// Appends every list of `states[k]` to `targets[k]` (merging partial states).
pub fn extend_from_lists(states: &[ArrayRef], targets: &mut [&mut Vec<f64>]) {
    for (column, target) in states.iter().zip(targets.iter_mut()) {
        let lists = column.as_list::<i32>();
        for row in (0..lists.len()).filter(|&row| lists.is_valid(row)) {
            target.extend(lists.value(row).as_primitive::<Float64Type>().values().iter());
        }
    }
}
