//! `pearson_r(x, y)`: Pearson's correlation coefficient (aggregate).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Pearson correlation coefficient of x and y over the rows where both are non-NULL and \
         finite (NaN and ±inf are missing); NULL for fewer than 2 such rows or a constant series. Numerically stable \
         (Welford co-moments), so large offsets such as 1e12 + noise keep full precision.",
        "pearson_r(x, y)",
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(
        r#"```sql
> SELECT pearson_r(x, y) AS r FROM (VALUES (1, 2), (2, 4), (3, 5), (4, 4), (5, 5)) AS t(x, y);
+--------------------+
| r                  |
+--------------------+
| 0.7745966692414834 |
+--------------------+
```"#,
    )
    .with_related_udf("pearson_p")
    .with_related_udf("pearson_n")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
