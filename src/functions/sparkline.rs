//! `sparkline(value [, width] ORDER BY ts)`: a one-line Unicode picture of a
//! series (aggregate), so a ranking can carry a picture column.
//!
//! Like the other ordered aggregates, DataFusion appends the ORDER BY key to
//! the arguments; we keep `(key, value)` per row (missing values as NaN, so
//! gaps stay in place) and sort by key when evaluating.

use std::mem::size_of;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, FieldRef, Float64Type};
use datafusion::common::{not_impl_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

use super::list_state::{extend_from_lists, list_scalar, list_state_fields};
use super::ordered_accumulator::{key_order, key_values};
use super::signature::{coerce_args, ArgKind};
use super::DOC_SECTION_PERFCORR;
use crate::stats::resample::{bucket_means, finite_range, position};

const USAGE: &str = "sparkline(value: numeric [, width: integer constant] ORDER BY ts)";
/// Characters wide when no width is given.
pub const DEFAULT_WIDTH: usize = 40;
/// The widest sparkline one call may ask for.
const MAX_WIDTH: i64 = 10_000;
/// Eight levels, lowest first.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The sparkline of `values` (in time order): resampled to at most `width`
/// characters by bucket means, scaled from the smallest to the largest
/// bucket; a bucket with no finite value is a space; a constant series is a
/// flat line at the middle level. None when no value is finite.
pub fn render(values: &[f64], width: usize) -> Option<String> {
    let buckets = bucket_means(values, width);
    let (lo, hi) = finite_range(buckets.iter().flatten().copied())?;
    let level = |v: f64| {
        if hi > lo {
            (position(v, lo, hi) * 7.0).round().clamp(0.0, 7.0) as usize
        } else {
            3
        }
    };
    Some(buckets.iter().map(|b| b.map_or(' ', |v| LEVELS[level(v)])).collect())
}

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "A one-line Unicode sparkline (▁▂▃▄▅▆▇█) of the series in ORDER BY order. Longer series \
         are resampled to `width` characters (default 40) by the mean of each equal run of rows; \
         shorter ones get one character per row. Levels run from the smallest to the largest \
         value shown; NULL, NaN and ±inf are gaps (spaces); a constant series is a flat line (▄). \
         NULL when no value is present.",
        "sparkline(value [, width] ORDER BY ts)",
    )
    .with_argument("value", "Numeric series, e.g. a view's response time.")
    .with_argument("width", "Characters wide, an integer constant from 1 to 10000 (default 40).")
    .with_sql_example(
        "```sql\n> SELECT sparkline(v ORDER BY t) FROM (VALUES (1, 1), (2, 5), (3, NULL), (4, 8), (5, 3)) AS s(t, v);\n\
         -- ▁▅ █▃\n\
         > SELECT view, sparkline(response_ms, 30 ORDER BY ts) FROM views GROUP BY view LIMIT 3;\n```",
    )
    .with_related_udf("xcorr_lag")
    .build()
});

/// The `sparkline` aggregate UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparklineImpl {
    signature: Signature,
}

impl SparklineImpl {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl Default for SparklineImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl AggregateUDFImpl for SparklineImpl {
    fn name(&self) -> &str {
        "sparkline"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(USAGE, arg_types, &[ArgKind::Float], &[ArgKind::Integer])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            return not_impl_err!("sparkline does not support DISTINCT");
        }
        let [order] = args.order_bys else {
            return plan_err!("{USAGE}: needs exactly one ORDER BY key, e.g. ORDER BY ts");
        };
        let width = match args.exprs.get(1) {
            None => DEFAULT_WIDTH,
            Some(expr) => match expr.downcast_ref::<Literal>().map(Literal::value) {
                Some(ScalarValue::Int64(Some(width))) if (1..=MAX_WIDTH).contains(width) => *width as usize,
                _ => return plan_err!("{USAGE}: width must be an integer constant from 1 to {MAX_WIDTH}, got {expr}"),
            },
        };
        Ok(Box::new(SparklineAccumulator {
            argument_count: args.exprs.len(),
            descending: order.options.descending,
            width,
            keys: Vec::new(),
            values: Vec::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(list_state_fields(args.name, &["keys", "values"]))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Beneficial
    }

    fn with_beneficial_ordering(self: Arc<Self>, _ordering_is_satisfied: bool) -> Result<Option<Arc<dyn AggregateUDFImpl>>> {
        // The accumulator sorts by key itself.
        Ok(Some(self))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

#[derive(Debug)]
struct SparklineAccumulator {
    /// Number of function arguments; the ORDER BY key follows them.
    argument_count: usize,
    descending: bool,
    width: usize,
    keys: Vec<f64>,
    values: Vec<f64>,
}

impl Accumulator for SparklineAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let keys = key_values(&values[self.argument_count])?;
        let keys = keys.as_primitive::<Float64Type>();
        let column = values[0].as_primitive::<Float64Type>();
        for row in (0..keys.len()).filter(|&row| keys.is_valid(row)) {
            self.keys.push(keys.value(row));
            self.values.push(if column.is_valid(row) { column.value(row) } else { f64::NAN });
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        extend_from_lists(states, &mut [&mut self.keys, &mut self.values]);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![list_scalar(&self.keys), list_scalar(&self.values)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let values: Vec<f64> = key_order(&self.keys, self.descending).iter().map(|&i| self.values[i]).collect();
        Ok(ScalarValue::Utf8(render(&values, self.width)))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + (self.keys.capacity() + self.values.capacity()) * size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn levels_gaps_and_flat_lines() {
        assert_eq!(render(&[1.0, 5.0, f64::NAN, 8.0, 3.0], 40).as_deref(), Some("▁▅ █▃"));
        assert_eq!(render(&[2.0, 2.0, 2.0], 40).as_deref(), Some("▄▄▄"));
        assert_eq!(render(&[f64::NAN, f64::INFINITY], 40), None);
        assert_eq!(render(&(0..100).map(f64::from).collect::<Vec<_>>(), 8).as_deref(), Some("▁▂▃▄▅▆▇█"));
    }
}
