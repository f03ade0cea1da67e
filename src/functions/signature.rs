//! Argument checking shared by perfcorr's functions: every function coerces
//! numeric arguments to Float64 (or Int64) itself so that a wrong call fails at
//! planning time with the function's name and expected signature.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{plan_err, Result};

/// What one argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// Any numeric type (or NULL), computed on as Float64.
    Float,
    /// Any integer type (or NULL), computed on as Int64.
    Integer,
    /// A string (or NULL), as Utf8.
    Text,
    /// A boolean (or NULL).
    Flag,
}

impl ArgKind {
    fn coerce(self, data_type: &DataType) -> Option<DataType> {
        let accepted = data_type.is_null()
            || match self {
                ArgKind::Float => data_type.is_numeric(),
                ArgKind::Integer => data_type.is_integer(),
                ArgKind::Text => matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
                ArgKind::Flag => data_type == &DataType::Boolean,
            };
        accepted.then_some(match self {
            ArgKind::Float => DataType::Float64,
            ArgKind::Integer => DataType::Int64,
            ArgKind::Text => DataType::Utf8,
            ArgKind::Flag => DataType::Boolean,
        })
    }
}

/// Checks `arg_types` against `required` (then optional `optional`) kinds and
/// returns the types to cast to; `usage` is the signature shown on error,
/// e.g. `"pearson_r(x: numeric, y: numeric)"`.
pub fn coerce_args(
    usage: &str,
    arg_types: &[DataType],
    required: &[ArgKind],
    optional: &[ArgKind],
) -> Result<Vec<DataType>> {
    let max = required.len() + optional.len();
    if arg_types.len() < required.len() || arg_types.len() > max {
        let expected = if optional.is_empty() {
            format!("{}", required.len())
        } else {
            format!("{} to {}", required.len(), max)
        };
        return plan_err!(
            "{usage} takes {expected} arguments, got {}",
            arg_types.len()
        );
    }
    let kinds = required.iter().chain(optional);
    arg_types
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(position, (data_type, kind))| match kind.coerce(data_type) {
            Some(target) => Ok(target),
            None => plan_err!(
                "{usage}: argument {} must be {}, got {data_type}",
                position + 1,
                match kind {
                    ArgKind::Float => "numeric",
                    ArgKind::Integer => "an integer",
                    ArgKind::Text => "a string",
                    ArgKind::Flag => "a boolean",
                }
            ),
        })
        .collect()
}
