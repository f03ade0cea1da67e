//! `spearman_r(x, y)` and `spearman_p(x, y)`: Spearman's rank correlation and
//! its p-value (aggregates), as `scipy.stats.spearmanr`.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

fn build(rho: bool) -> Documentation {
    let (name, description, example) = if rho {
        (
            "spearman_r",
            "Spearman's rank correlation of x and y (Pearson's r of their average ranks, ties \
             sharing the mean rank) over the rows where both are non-NULL and finite, as \
             scipy.stats.spearmanr. Robust to single latency spikes that dominate pearson_r. \
             NULL for fewer than 2 such rows or a constant series.",
            "0.6488856845230502",
        )
    } else {
        (
            "spearman_p",
            "Two-sided p-value of spearman_r(x, y), as scipy.stats.spearmanr (t distribution \
             with n - 2 degrees of freedom). NULL for n <= 2 or a constant series.",
            "0.23615367738664075",
        )
    };
    Documentation::builder(DOC_SECTION_PERFCORR, description, format!("{name}(x, y)"))
        .with_argument("x", "First numeric series.")
        .with_argument("y", "Second numeric series.")
        .with_sql_example(format!(
            "```sql\n> SELECT {name}(x, y) FROM (VALUES (1, 2), (2, 4), (2, 5), (4, 4), (5, 5)) AS t(x, y);\n-- {example}\n```"
        ))
        .with_related_udf("pearson_r")
        .build()
}

static RHO: LazyLock<Documentation> = LazyLock::new(|| build(true));
static P: LazyLock<Documentation> = LazyLock::new(|| build(false));

/// Documentation of `spearman_r` (`rho`) or `spearman_p`.
pub fn documentation(rho: bool) -> &'static Documentation {
    if rho { &RHO } else { &P }
}
