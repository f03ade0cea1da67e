//! `pearson_p_eff(x, y ORDER BY ts)` and `pearson_n_eff(...)`: Pearson's
//! p-value with the sample size corrected for autocorrelation (aggregates).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

fn build(p: bool) -> Documentation {
    let (name, what) = if p {
        ("pearson_p_eff", "Two-sided p-value of pearson_r(x, y) computed with Bartlett's effective sample size instead of n")
    } else {
        ("pearson_n_eff", "Bartlett's effective sample size")
    };
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        format!(
            "{what}: n_eff = n (1 - rx ry) / (1 + rx ry), rx and ry the lag-1 autocorrelations \
             (statsmodels acf) of x and y over the pairwise-complete rows in ORDER BY order. \
             Autocorrelated series carry less information than n rows suggest, so plain \
             p-values are too small; differenced noise has negative autocorrelation. NULL when \
             undefined (n < 2, a constant series, n_eff < 2)."
        ),
        format!("{name}(x, y ORDER BY ts)"),
    )
    .with_argument("x", "First numeric series.")
    .with_argument("y", "Second numeric series.")
    .with_sql_example(format!("```sql\n> SELECT layer, {name}(ms, app_ms ORDER BY ts) FROM joined GROUP BY layer;\n```"))
    .with_related_udf("pearson_p")
    .build()
}

static P: LazyLock<Documentation> = LazyLock::new(|| build(true));
static N: LazyLock<Documentation> = LazyLock::new(|| build(false));

/// Documentation of `pearson_p_eff` (`p`) or `pearson_n_eff`.
pub fn documentation(p: bool) -> &'static Documentation {
    if p { &P } else { &N }
}
