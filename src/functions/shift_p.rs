//! `shift_p(value, in_window)`: did a series change during the incident?
//! Mann–Whitney U p-value of in-window values against the baseline (aggregate).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Two-sided Mann-Whitney U p-value comparing `value` where `in_window` is true (the \
         incident) with where it is false (the baseline), as scipy.stats.mannwhitneyu(..., \
         method='asymptotic'): normal approximation with tie and continuity corrections. \
         Rows with a NULL, NaN or ±inf value or a NULL flag are ignored; NULL when either side is empty.",
        "shift_p(value, in_window)",
    )
    .with_argument("value", "Numeric series.")
    .with_argument("in_window", "Boolean: is the row inside the incident window?")
    .with_sql_example(
        "```sql\n> SELECT layer, shift_p(ms, ts >= TIMESTAMP '2026-11-19 19:00:00' AND ts < TIMESTAMP '2026-11-19 21:20:00') AS p\n\
         FROM layers GROUP BY layer ORDER BY p;\n```",
    )
    .with_related_udf("pearson_p")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
