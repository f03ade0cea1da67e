//! `pearson_log10_p(x, y)`: log10 of Pearson's two-sided p-value (aggregate).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "log10 of pearson_p(x, y), computed in log space so it stays finite far below 1e-308 \
         (r = 0.9 over 1000 rows gives about -361.5): rankings never tie at p = 0. \
         0 for n = 2; NULL for n < 2 or a constant series; -inf for |r| = 1.",
        "pearson_log10_p(x, y)",
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(
        r#"```sql
> SELECT pearson_log10_p(x, y) AS log10_p FROM (VALUES (1, 2), (2, 4), (3, 5), (4, 4), (5, 5)) AS t(x, y);
+---------------------+
| log10_p             |
+---------------------+
| -0.9064835416080836 |
+---------------------+
```"#,
    )
    .with_related_udf("pearson_p")
    .with_related_udf("log10_p_from_r")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
