//! `corr(x, y)`: the SQL standard's name for Pearson's r, computed as
//! `pearson_r` (in place of DataFusion's built-in `corr`).
//!
//! DataFusion's grouped `corr` keeps five plain running sums, which lose
//! digits at large offsets and can turn a constant series' zero variance
//! into rounding noise, and it answers NULL or NaN for a NaN depending on
//! which side holds it. perfcorr registers `pearson_r` under this name, so a
//! query written with `corr` gets the same stable r, with NaN and ±inf
//! treated as missing as everywhere else, and is fused like `pearson_r`.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

/// The SQL name.
pub const NAME: &str = "corr";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "The SQL standard's correlation coefficient, computed exactly as pearson_r: over the rows where both \
         are non-NULL and finite (NaN and ±inf are missing); NULL for fewer than 2 such rows or a constant \
         series; numerically stable at large offsets. Replaces DataFusion's built-in corr.",
        "corr(x, y)",
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(
        r#"```sql
> SELECT corr(x, y) AS r FROM (VALUES (1e9 + 1, 2), (1e9 + 2, 1), (1e9 + 3, 4), (1e9 + 4, 3)) AS t(x, y);
+-----+
| r   |
+-----+
| 0.6 |
+-----+
```"#,
    )
    .with_related_udf("pearson_r")
    .with_related_udf("pearson_n")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
