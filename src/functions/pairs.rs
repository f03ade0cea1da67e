//! Reading `(x, y)` input columns, shared by the two-argument aggregates.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::Float64Type;

/// Calls `f(row, x, y)` for every pairwise-complete row that passes `filter`.
#[inline]
pub fn for_each_complete_pair(
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut f: impl FnMut(usize, f64, f64),
) {
    let x = values[0].as_primitive::<Float64Type>();
    let y = values[1].as_primitive::<Float64Type>();
    let (xs, ys) = (x.values(), y.values());
    let complete = |i: usize| crate::stats::complete(xs[i], ys[i]);
    if x.null_count() == 0 && y.null_count() == 0 && filter.is_none() {
        for i in 0..xs.len() {
            if complete(i) {
                f(i, xs[i], ys[i]);
            }
        }
        return;
    }
    let selected = |i: usize| filter.is_none_or(|m| m.is_valid(i) && m.value(i));
    for i in 0..xs.len() {
        if x.is_valid(i) && y.is_valid(i) && selected(i) && complete(i) {
            f(i, xs[i], ys[i]);
        }
    }
}
