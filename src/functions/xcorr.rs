//! `xcorr_lag(x, y, max_lag ORDER BY ts)` and `xcorr_r(...)`: which series
//! moved first (aggregates).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::DOC_SECTION_PERFCORR;

fn build(lag: bool) -> Documentation {
    let (name, what) = if lag {
        ("xcorr_lag", "The lag (in rows, within [-max_lag, max_lag])")
    } else {
        ("xcorr_r", "The Pearson r at the lag")
    };
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        format!(
            "{what} at which x shifted against y correlates most strongly (largest |r|, \
             pairwise-complete rows at each lag). Sign convention: a positive lag k pairs x(t) \
             with y(t + k), i.e. x leads y by k rows; a negative lag means y leads. Ties go to \
             the smaller |lag|. Rows are taken in ORDER BY order (keys should be unique)."
        ),
        format!("{name}(x, y, max_lag ORDER BY ts)"),
    )
    .with_argument("x", "Numeric series, e.g. a view's throughput.")
    .with_argument("y", "Numeric series, e.g. the app's response time.")
    .with_argument("max_lag", "Largest shift to try, in rows (non-negative integer constant).")
    .with_sql_example(format!(
        "```sql\n-- y repeats x one row later, so x leads y by 1:\n\
         > SELECT {name}(x, y, 3 ORDER BY t) FROM (VALUES (1, 1, 0), (2, 5, 1), (3, 2, 5), (4, 8, 2), (5, 3, 8), (6, 9, 3)) AS v(t, x, y);\n\
         -- {}\n```",
        if lag { "1" } else { "1.0" }
    ))
    .with_related_udf("pearson_r")
    .build()
}

static LAG: LazyLock<Documentation> = LazyLock::new(|| build(true));
static R: LazyLock<Documentation> = LazyLock::new(|| build(false));

/// Documentation of `xcorr_lag` (`lag`) or `xcorr_r`.
pub fn documentation(lag: bool) -> &'static Documentation {
    if lag { &LAG } else { &R }
}
