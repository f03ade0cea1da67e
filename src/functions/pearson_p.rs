//! `pearson_p(x, y)`: the two-sided p-value of Pearson's r (aggregate).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Two-sided p-value of pearson_r(x, y) under the null of no correlation, as \
         scipy.stats.pearsonr: exact I_{1-r^2}((n-2)/2, 1/2), accurate down to 1e-300 \
         (0 below the Float64 range). 1.0 for n = 2; NULL for n < 2 or a constant series.",
        "pearson_p(x, y)",
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(
        r#"```sql
> SELECT pearson_p(x, y) AS p FROM (VALUES (1, 2), (2, 4), (3, 5), (4, 4), (5, 5)) AS t(x, y);
+---------------------+
| p                   |
+---------------------+
| 0.12402706265755452 |
+---------------------+
```"#,
    )
    .with_related_udf("pearson_r")
    .with_related_udf("pearson_p_from_r")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
