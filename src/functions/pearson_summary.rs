//! `pearson_summary(x, y)`: r, p, log10 p and n of Pearson's correlation in
//! one struct (aggregate), computed from one shared state.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "pearson_r, pearson_p, pearson_log10_p and pearson_n of x and y as one struct \
         {r, p, log10_p, n}, from a single pass. Queries that ask for several of them get \
         rewritten to use it, so asking for all costs about as much as asking for one.",
        "pearson_summary(x, y)",
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(
        "```sql\n> SELECT pearson_summary(x, y)['p'] FROM (VALUES (1, 2), (2, 4), (3, 5), (4, 4), (5, 5)) AS t(x, y);\n\
         -- 0.12402706265755452\n```",
    )
    .with_related_udf("pearson_r")
    .build()
});

/// Documentation shown by `\functions` and `SHOW FUNCTIONS`.
pub fn documentation() -> &'static Documentation {
    &DOCUMENTATION
}
