//! perfcorr's SQL functions and their registration on a DataFusion session.
//!
//! One SQL function per file, each with its documentation beside it; the
//! state shared by the Pearson aggregates lives in `pearson_accumulator`, the
//! argument checks shared by all functions in `signature`.

mod corr;
mod diff;
mod list_state;
mod log10_p_from_r;
pub(crate) mod min_max;
mod ordered_accumulator;
mod p_adjust;
mod pairs;
mod pearson_accumulator;
mod pearson_ci;
mod pearson_eff;
mod pearson_log10_p;
mod pearson_n;
mod pearson_p;
mod pearson_p_from_r;
mod pearson_r;
mod pearson_summary;
mod prometheus;
mod rank_causes;
mod rank_correlations;
mod sample_accumulator;
mod shift_p;
mod signature;
mod sparkline;
mod spearman;
mod table_args;
mod xcorr;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, DocSection, Documentation, ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

pub use diff::{periods_argument, DiffImpl};
pub use ordered_accumulator::{OrderedAggregateImpl, OrderedStatistic};
pub use p_adjust::PAdjustImpl;
pub use pearson_accumulator::{PearsonAggregateImpl, PearsonOutput, Statistic as PearsonStatistic};
pub use pearson_p_from_r::PearsonPFromRImpl;
pub use sample_accumulator::{SampleAggregateImpl, SampleStatistic};
pub use sparkline::SparklineImpl;

/// Where perfcorr's functions appear in generated documentation.
pub const DOC_SECTION_PERFCORR: DocSection = DocSection {
    include: true,
    label: "perfcorr Statistical Functions",
    description: Some("Differencing, correlation and significance for performance time series."),
};

/// The aggregate functions: the Pearson family, Spearman, `shift_p`,
/// cross-correlation lag, autocorrelation-corrected p and `sparkline`.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    let pearson = PearsonOutput::ALL.into_iter().map(PearsonAggregateImpl::new).chain([PearsonAggregateImpl::corr()]).map(AggregateUDF::from);
    let samples = SampleStatistic::ALL.into_iter().map(|statistic| AggregateUDF::from(SampleAggregateImpl::new(statistic)));
    let ordered = OrderedStatistic::ALL.into_iter().map(|statistic| AggregateUDF::from(OrderedAggregateImpl::new(statistic)));
    let sparkline = std::iter::once(AggregateUDF::from(SparklineImpl::new()));
    pearson.chain(samples).chain(ordered).chain(sparkline).map(Arc::new).collect()
}

/// The window functions: `diff`, `p_adjust`.
pub fn window_functions() -> Vec<Arc<WindowUDF>> {
    vec![Arc::new(WindowUDF::from(DiffImpl::new())), Arc::new(WindowUDF::from(PAdjustImpl::new()))]
}

/// The scalar functions: `pearson_p_from_r`, `log10_p_from_r`.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    [false, true].into_iter().map(|log10| Arc::new(ScalarUDF::from(PearsonPFromRImpl::new(log10)))).collect()
}

/// Registers every perfcorr function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    ctx.register_udtf("rank_correlations", Arc::new(rank_correlations::RankCorrelationsFunction));
    ctx.register_udtf("rank_causes", Arc::new(rank_causes::RankCausesFunction));
    ctx.register_udtf("prometheus", Arc::new(prometheus::PrometheusFunction));
    aggregate_functions().into_iter().for_each(|f| ctx.register_udaf((*f).clone()));
    // DataFusion's own min/max, made independent of row order with NaN.
    min_max::OrderFreeMinMax::both().into_iter().for_each(|f| ctx.register_udaf(f));
    window_functions().into_iter().for_each(|f| ctx.register_udwf((*f).clone()));
    scalar_functions().into_iter().for_each(|f| ctx.register_udf((*f).clone()));
}

/// Name and documentation of every perfcorr function, sorted by name (for
/// `\functions` and the README's reference).
pub fn documented_functions() -> Vec<(String, Documentation)> {
    let mut docs: Vec<(String, Documentation)> = vec![("prometheus".to_string(), prometheus::documentation())];
    for f in aggregate_functions() {
        docs.extend(f.documentation().map(|d| (f.name().to_string(), d.clone())));
    }
    for f in window_functions() {
        docs.extend(f.documentation().map(|d| (f.name().to_string(), d.clone())));
    }
    for f in scalar_functions() {
        docs.extend(f.documentation().map(|d| (f.name().to_string(), d.clone())));
    }
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs
}
