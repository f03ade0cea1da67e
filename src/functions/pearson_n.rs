//! `pearson_n(x, y)`: how many rows `pearson_r`/`pearson_p` used (aggregate).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Number of pairwise-complete rows (x and y both non-NULL and finite: NaN and ±inf count as missing): the n behind \
         pearson_r and pearson_p.",
        "pearson_n(x, y)",
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(
        r#"```sql
> SELECT pearson_n(x, y) AS n FROM (VALUES (1, 2), (2, NULL), (3, 5), ('NaN'::double, 4)) AS t(x, y);
+---+
| n |
+---+
| 2 |
+---+
```"#,
    )
    .with_related_udf("pearson_r")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
