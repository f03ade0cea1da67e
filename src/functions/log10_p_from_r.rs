//! `log10_p_from_r(r, n)`: log10 of the Pearson p-value for a given r and n
//! (scalar; implemented with `pearson_p_from_r`).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "log10 of the two-sided Pearson p-value of r over n pairs, finite far below 1e-308 \
         (log10_p_from_r(0.9, 1000) = -361.454...). NULL when r or n is NULL, r is NaN or \
         n < 2; 0 for n = 2; -inf for |r| = 1; an error for |r| > 1.",
        "log10_p_from_r(r, n)",
    )
    .with_argument("r", "Correlation coefficient in [-1, 1].")
    .with_argument("n", "Number of pairs r was computed from.")
    .with_sql_example("```sql\n> SELECT log10_p_from_r(0.9, 1000) AS log10_p;\n-- -361.45403144633843\n```")
    .with_related_udf("pearson_log10_p")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
