//! `pearson_ci_low(x, y [, confidence])` and `pearson_ci_high(...)`: the
//! Fisher-z confidence interval of Pearson's r (aggregates).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

fn build(low: bool) -> Documentation {
    let (name, end, example) = if low {
        ("pearson_ci_low", "Lower", "-0.34008203518751035")
    } else {
        ("pearson_ci_high", "Upper", "0.9842357551507267")
    };
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        format!(
            "{end} end of the Fisher-z confidence interval of pearson_r(x, y), as \
             scipy.stats.pearsonr(x, y).confidence_interval(confidence): \
             tanh(atanh(r) -/+ z_((1+confidence)/2) / sqrt(n - 3)). NULL when n <= 3."
        ),
        format!("{name}(x, y [, confidence])"),
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_argument("confidence", "Constant confidence level in (0, 1); default 0.95.")
    .with_sql_example(format!(
        "```sql\n> SELECT {name}(x, y, 0.95) AS ci FROM (VALUES (1, 2), (2, 4), (3, 5), (4, 4), (5, 5)) AS t(x, y);\n\
         -- {example}\n```"
    ))
    .with_related_udf("pearson_r")
    .build()
}

static LOW: LazyLock<Documentation> = LazyLock::new(|| build(true));
static HIGH: LazyLock<Documentation> = LazyLock::new(|| build(false));

/// Documentation of `pearson_ci_low` (`low`) or `pearson_ci_high`.
pub fn documentation(low: bool) -> &'static Documentation {
    if low { &LOW } else { &HIGH }
}
