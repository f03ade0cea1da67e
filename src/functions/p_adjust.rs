//! `p_adjust(p, method) OVER (...)`: multiple-testing adjusted p-values
//! (q-values) over the rows of each window partition (window function).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{Documentation, PartitionEvaluator, Signature, Volatility, WindowUDFImpl};
use datafusion::physical_expr::expressions::Literal;

use super::signature::{coerce_args, ArgKind};
use super::DOC_SECTION_PERFCORR;
use crate::stats::multiple_testing::{adjust, Adjustment};

const USAGE: &str = "p_adjust(p: numeric, method: 'bonferroni' | 'holm' | 'bh' | 'by') OVER (...)";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Multiple-testing adjusted p-value (q-value) of each row's p among all rows of its window \
         partition, as statsmodels multipletests / scipy false_discovery_control: 'bonferroni', \
         'holm' (family-wise error), 'bh' (Benjamini-Hochberg false discovery rate), 'by' \
         (Benjamini-Yekutieli, any dependence). NULL and NaN p-values are ignored and stay NULL.",
        "p_adjust(p, method) OVER ([PARTITION BY ...])",
    )
    .with_argument("p", "p-values in [0, 1].")
    .with_argument("method", "'bonferroni', 'holm', 'bh' (or 'fdr_bh'), 'by' (or 'fdr_by').")
    .with_sql_example(
        r#"```sql
> SELECT p, p_adjust(p, 'bh') OVER () AS q FROM (VALUES (0.01), (0.04), (0.03), (0.2)) AS t(p);
+------+---------------------+
| p    | q                   |
+------+---------------------+
| 0.01 | 0.04                |
| 0.04 | 0.05333333333333334 |
| 0.03 | 0.05333333333333334 |
| 0.2  | 0.2                 |
+------+---------------------+
```"#,
    )
    .with_related_udf("pearson_p")
    .build()
});

/// The window UDF behind `p_adjust`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PAdjustImpl {
    signature: Signature,
}

impl PAdjustImpl {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl Default for PAdjustImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowUDFImpl for PAdjustImpl {
    fn name(&self) -> &str {
        "p_adjust"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(USAGE, arg_types, &[ArgKind::Float, ArgKind::Text], &[])
    }

    fn partition_evaluator(&self, args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        let method = args.input_exprs()[1].downcast_ref::<Literal>().map(Literal::value);
        let method = match method {
            Some(ScalarValue::Utf8(Some(name))) => Adjustment::parse(name)
                .ok_or_else(|| datafusion::error::DataFusionError::Plan(format!("{USAGE}: unknown method '{name}'; use one of {}", Adjustment::NAMES)))?,
            _ => return plan_err!("{USAGE}: method must be a string constant"),
        };
        Ok(Box::new(PAdjustEvaluator { method }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(field_args.name(), DataType::Float64, true)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

#[derive(Debug)]
struct PAdjustEvaluator {
    method: Adjustment,
}

impl PartitionEvaluator for PAdjustEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let p = values[0].as_primitive::<Float64Type>();
        let present: Vec<usize> = (0..num_rows).filter(|&i| p.is_valid(i) && !p.value(i).is_nan()).collect();
        let tested: Vec<f64> = present.iter().map(|&i| p.value(i)).collect();
        if let Some(bad) = tested.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return exec_err!("{USAGE}: p-values must be in [0, 1], got {bad}");
        }
        let mut out: Vec<Option<f64>> = vec![None; num_rows];
        for (&row, q) in present.iter().zip(adjust(&tested, self.method)) {
            out[row] = Some(q);
        }
        Ok(Arc::new(Float64Array::from(out)))
    }
}
