//! The aggregate calls the fused operator computes ([`statistic_call`]):
//! the Pearson family, DataFusion's `covar_*`, `regr_*` and one-column
//! aggregates, Spearman and the ordered statistics, each with what it
//! reads and its own FILTER, as the matcher finds them in an aggregate.

use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::covariance::{CovariancePopulation, CovarianceSample};
use datafusion::functions_aggregate::regr::Regr;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::Expr;

use super::pairs::{CountOf, PairKind, PairStatistic, Statistic};
use super::regression::Regression;
use super::summary::Summary;
use crate::functions::{OrderedAggregateImpl, PearsonAggregateImpl, PearsonStatistic, SampleAggregateImpl, SampleStatistic};

/// An aggregate call the fused operator can compute: its statistic (a pair
/// statistic's `reference_first` is set once the sides are known; a
/// summary's [`CountOf`] too), what it reads, and the ORDER BY expression of
/// an ordered one.
pub(super) struct Call<'a> {
    pub statistic: Statistic,
    pub args: Args<'a>,
    pub order: Option<&'a Expr>,
    /// Its own `FILTER (WHERE …)`.
    pub filter: Option<&'a Expr>,
}

/// What a [`Call`] reads.
#[derive(Clone, Copy)]
pub(super) enum Args<'a> {
    /// Two differences (in either order).
    Pair(&'a Expr, &'a Expr),
    /// A [`Summary`] (`count`, `avg`…) of a column, or a count of rows
    /// (`None`: `count(*)`, a constant).
    Column(Option<&'a Expr>),
}

impl<'a> Call<'a> {
    /// The two differences, unless it is a summary.
    pub fn pair(&self) -> Option<(&'a Expr, &'a Expr)> {
        match self.args {
            Args::Pair(x, y) => Some((x, y)),
            Args::Column(_) => None,
        }
    }
}

/// Whether `(x, y)` is the pair `(a, b)` in either order.
pub(super) fn same_pair((x, y): (&Expr, &Expr), (a, b): (&Expr, &Expr)) -> bool {
    (x == a && y == b) || (x == b && y == a)
}

/// The call `expr` is (an alias peeled off), if the fused operator computes
/// it: a Pearson aggregate (`corr` among them), DataFusion's `covar_*`,
/// `regr_*` and `count`, `spearman_r`/`spearman_p`, or an ordered aggregate
/// (`xcorr_lag`, `xcorr_r`, `pearson_n_eff`, `pearson_p_eff`) with one
/// ascending ORDER BY key and a constant `max_lag`; never with DISTINCT (a
/// FILTER is checked by the matcher).
pub(super) fn statistic_call(expr: &Expr) -> Option<Call<'_>> {
    let expr = match expr {
        Expr::Alias(alias) => alias.expr.as_ref(),
        expr => expr,
    };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = expr else { return None };
    if params.distinct || params.null_treatment.is_some() {
        return None;
    }
    let filter = params.filter.as_deref();
    let inner = func.inner();
    if let Some(summary) = Summary::of(inner.as_ref()) {
        let column = match params.args.as_slice() {
            [Expr::Literal(value, _)] if !value.is_null() && summary == Summary::Count => None,
            // A column, or one minus another (`avg(s.v - s.prev)`, named by
            // DataFusion when other calls read it too): the matcher reads it
            // as a difference or refuses it.
            [column @ (Expr::Column(_) | Expr::BinaryExpr(_) | Expr::Alias(_))] => Some(column),
            _ => return None,
        };
        // Rows, until the matcher knows what the column is.
        let statistic = Statistic::Pairs(PairStatistic { kind: PairKind::Summary(summary, CountOf::Rows), reference_first: false });
        return params.order_by.is_empty().then_some(Call { statistic, args: Args::Column(column), order: None, filter });
    }
    let (x, y, extra) = (params.args.first()?, params.args.get(1)?, params.args.get(2));
    let pairs = |kind| Statistic::Pairs(PairStatistic { kind, reference_first: false });
    let (statistic, order) = if let Some(pearson) = inner.downcast_ref::<PearsonAggregateImpl>() {
        let confidence = match extra {
            None => None,
            Some(Expr::Literal(ScalarValue::Float64(Some(c)), _)) => Some(*c),
            Some(_) => return None,
        };
        let statistic = PearsonStatistic::new(pearson.output(), confidence)?;
        (params.order_by.is_empty().then_some(Statistic::Moments(statistic))?, None)
    } else if let Some(sample) = inner.downcast_ref::<SampleAggregateImpl>() {
        let statistic = sample.statistic();
        let spearman = matches!(statistic, SampleStatistic::SpearmanR | SampleStatistic::SpearmanP);
        if !spearman || extra.is_some() || !params.order_by.is_empty() {
            return None;
        }
        (pairs(PairKind::Spearman(statistic)), None)
    } else if inner.is::<Regr>() || inner.is::<CovarianceSample>() || inner.is::<CovariancePopulation>() {
        // Its side is set once the sides are known.
        let which = Regression::from_name(func.name())?;
        (params.order_by.is_empty().then_some(Statistic::Regression { which, series_first: true })?, None)
    } else if let Some(ordered) = inner.downcast_ref::<OrderedAggregateImpl>() {
        let [order] = params.order_by.as_slice() else { return None };
        let max_lag = match extra {
            None => 0,
            Some(Expr::Literal(ScalarValue::Int64(Some(lag)), _)) if *lag >= 0 => usize::try_from(*lag).ok()?,
            Some(_) => return None,
        };
        (order.asc.then_some(pairs(PairKind::Ordered(ordered.statistic(), max_lag)))?, Some(&order.expr))
    } else {
        return None;
    };
    Some(Call { statistic, args: Args::Pair(x, y), order, filter })
}
