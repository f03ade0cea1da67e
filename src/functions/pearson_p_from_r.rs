//! `pearson_p_from_r(r, n)`: the Pearson p-value for a given r and n (scalar),
//! for users who already have r, e.g. from DataFusion's built-in `corr`.
//! The same implementation serves `log10_p_from_r` (documented in its file).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::signature::{coerce_args, ArgKind};
use super::{log10_p_from_r, DOC_SECTION_PERFCORR};
use crate::stats::pearson::{log10_p_value, p_value};

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Two-sided p-value of a Pearson r computed from n pairs, exactly as pearson_p \
         (scipy.stats.pearsonr). NULL when r or n is NULL, r is NaN, or n < 2; 1.0 for n = 2; \
         an error for |r| > 1.",
        "pearson_p_from_r(r, n)",
    )
    .with_argument("r", "Correlation coefficient in [-1, 1].")
    .with_argument("n", "Number of pairs r was computed from.")
    .with_sql_example(
        r#"```sql
> SELECT pearson_p_from_r(0.9, 200) AS p;
+------------------------+
| p                      |
+------------------------+
| 2.4826483648185785e-73 |
+------------------------+
```"#,
    )
    .with_related_udf("pearson_p")
    .build()
});

/// The scalar UDF behind `pearson_p_from_r` and `log10_p_from_r`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PearsonPFromRImpl {
    signature: Signature,
    /// Return log10 p (`log10_p_from_r`) rather than p.
    log10: bool,
}

impl PearsonPFromRImpl {
    /// `pearson_p_from_r` (`log10 = false`) or `log10_p_from_r`.
    pub fn new(log10: bool) -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable), log10 }
    }

    fn usage(&self) -> String {
        format!("{}(r: numeric, n: integer)", self.name())
    }
}

impl ScalarUDFImpl for PearsonPFromRImpl {
    fn name(&self) -> &str {
        if self.log10 { "log10_p_from_r" } else { "pearson_p_from_r" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(&self.usage(), arg_types, &[ArgKind::Float, ArgKind::Integer], &[])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let r = arrays[0].as_primitive::<Float64Type>();
        let n = arrays[1].as_primitive::<Int64Type>();
        if let Some(bad) = r.iter().flatten().find(|r| r.abs() > 1.0) {
            return exec_err!("{}: r must be in [-1, 1], got {bad}", self.usage());
        }
        let p_from_r = if self.log10 { log10_p_value } else { p_value };
        let p: Float64Array = r
            .iter()
            .zip(n.iter())
            .map(|(r, n)| p_from_r(r?, n? as f64))
            .collect();
        let p: ArrayRef = Arc::new(p);
        Ok(ColumnarValue::Array(p))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.log10 { log10_p_from_r::documentation() } else { &DOCUMENTATION })
    }
}
