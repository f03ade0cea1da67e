//! `diff(x [, periods]) OVER (...)`: the first (or k-th) difference of a
//! series within each window partition, pandas' `Series.diff(periods)`.

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, LimitEffect, PartitionEvaluator, Signature, Volatility, WindowUDFImpl,
};
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::PhysicalExpr;

use super::signature::{coerce_args, ArgKind};
use super::DOC_SECTION_PERFCORR;

const USAGE: &str = "diff(x: numeric [, periods: integer constant]) OVER (... ORDER BY ...)";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Difference x(t) - x(t - periods) within each window partition in the window's ORDER BY, \
         as pandas Series.diff(periods): the first `periods` rows of a partition are NULL, and \
         so is any difference with a NULL operand. periods defaults to 1 and may be negative.",
        "diff(x [, periods]) OVER (PARTITION BY key ORDER BY ts)",
    )
    .with_argument("x", "Numeric series; the result is Float64.")
    .with_argument("periods", "Integer constant shift, default 1; negative looks ahead.")
    .with_sql_example(
        r#"```sql
> SELECT ts, diff(v) OVER (ORDER BY ts) AS d FROM (VALUES (1, 10), (2, 13), (3, 11)) AS t(ts, v);
+----+------+
| ts | d    |
+----+------+
| 1  |      |
| 2  | 3.0  |
| 3  | -2.0 |
+----+------+
```"#,
    )
    .with_related_udf("pearson_r")
    .build()
});

/// The window UDF behind `diff`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DiffImpl {
    signature: Signature,
}

impl DiffImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for DiffImpl {
    fn default() -> Self {
        Self::new()
    }
}

/// The `periods` argument of a `diff` call (1 when absent), which must be
/// an integer literal.
pub fn periods_argument(input_exprs: &[Arc<dyn PhysicalExpr>]) -> Result<i64> {
    let Some(expr) = input_exprs.get(1) else {
        return Ok(1);
    };
    match expr.downcast_ref::<Literal>().map(Literal::value) {
        Some(ScalarValue::Int64(Some(periods))) => Ok(*periods),
        _ => plan_err!("{USAGE}: periods must be a non-NULL integer constant, got {expr}"),
    }
}

impl WindowUDFImpl for DiffImpl {
    fn name(&self) -> &str {
        "diff"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(USAGE, arg_types, &[ArgKind::Float], &[ArgKind::Integer])
    }

    fn partition_evaluator(&self, args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        let periods = periods_argument(args.input_exprs())?;
        // A reversed window (DataFusion flipping ORDER BY to reuse a sort)
        // walks the partition backwards, so the shift flips sign.
        let periods = if args.is_reversed() { -periods } else { periods };
        Ok(Box::new(DiffEvaluator { periods }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(field_args.name(), DataType::Float64, true)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }

    fn limit_effect(&self, args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        // Like lag: a row needs only rows before it, unless periods < 0.
        match periods_argument(args) {
            Ok(periods) if periods >= 0 => LimitEffect::None,
            Ok(periods) => LimitEffect::Relative(periods.unsigned_abs() as usize),
            Err(_) => LimitEffect::Unknown,
        }
    }
}

/// Evaluates `diff`: a whole partition at once (`evaluate_all`), or row by
/// row as rows stream in (`evaluate`, bounded execution: only `|periods|`
/// rows are kept, so a sorted input needs no buffering of whole partitions).
#[derive(Debug)]
struct DiffEvaluator {
    periods: i64,
}

impl DiffEvaluator {
    fn distance(&self) -> usize {
        self.periods.unsigned_abs() as usize
    }
}

impl PartitionEvaluator for DiffEvaluator {
    fn supports_bounded_execution(&self) -> bool {
        true
    }

    fn is_causal(&self) -> bool {
        self.periods >= 0
    }

    /// The rows row `idx` needs: itself and the one `periods` away.
    fn get_range(&self, idx: usize, n_rows: usize) -> Result<Range<usize>> {
        let k = self.distance();
        Ok(if self.periods >= 0 { idx.saturating_sub(k)..idx + 1 } else { idx..(idx + k + 1).min(n_rows) })
    }

    /// The difference for the row `range` was built for (its last row when
    /// looking back, its first when looking ahead).
    fn evaluate(&mut self, values: &[ArrayRef], range: &Range<usize>) -> Result<ScalarValue> {
        let x = values[0].as_primitive::<Float64Type>();
        let k = self.distance();
        let (current, other) = if self.periods >= 0 {
            let current = range.end - 1;
            (current, current.checked_sub(k))
        } else {
            (range.start, Some(range.start + k).filter(|&j| j < x.len()))
        };
        let both_valid = |j: &usize| x.is_valid(current) && x.is_valid(*j);
        Ok(ScalarValue::Float64(other.filter(both_valid).map(|j| x.value(current) - x.value(j))))
    }

    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let x = values[0].as_primitive::<Float64Type>();
        let xs = x.values();
        let lag = self.periods;
        let earlier = |row: usize| -> Option<usize> {
            let j = row as i64 - lag;
            (0..num_rows as i64).contains(&j).then_some(j as usize)
        };
        let result: Float64Array = if x.null_count() == 0 {
            (0..num_rows)
                .map(|row| earlier(row).map(|j| xs[row] - xs[j]))
                .collect()
        } else {
            (0..num_rows)
                .map(|row| {
                    let j = earlier(row)?;
                    (x.is_valid(row) && x.is_valid(j)).then(|| xs[row] - xs[j])
                })
                .collect()
        };
        Ok(Arc::new(result))
    }
}
