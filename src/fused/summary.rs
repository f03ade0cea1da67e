//! DataFusion's one-column aggregates beside the pair statistics — `count`,
//! `sum`, `avg`, `min`, `max`, `median`, `var_*`/`stddev_*` of a series'
//! difference or of the reference's (`avg(d_view)`: "how much did it move")
//! — computed from the pairs the operator keeps per series, with the
//! general plan's meaning: every joined row the query's filters keep, a
//! missing difference (NaN in the pairs) skipped as the aggregate skips a
//! NULL. The operator checks the summarised side holds no NaN or infinite
//! value (see [`super::pairs::Statistic::needs_finite_values`]), so a NaN
//! in the pairs is a NULL in the plan.

use datafusion::functions_aggregate::average::Avg;
use datafusion::functions_aggregate::count::Count;
use datafusion::functions_aggregate::median::Median;
use datafusion::functions_aggregate::min_max::{Max, Min};
use datafusion::functions_aggregate::stddev::{Stddev, StddevPop};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::functions_aggregate::variance::{VariancePopulation, VarianceSample};
use datafusion::logical_expr::AggregateUDFImpl;

use crate::functions::min_max::OrderFreeMinMax;

/// Which one-column aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Summary {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    /// `var_samp` (`sample`) or `var_pop`.
    Variance { sample: bool },
    /// `stddev_samp` (`sample`) or `stddev_pop`.
    Stddev { sample: bool },
}

impl Summary {
    /// The summary DataFusion's aggregate `function` is, if one of these.
    pub fn of(function: &dyn AggregateUDFImpl) -> Option<Self> {
        Some(if function.is::<Count>() {
            Self::Count
        } else if function.is::<Sum>() {
            Self::Sum
        } else if function.is::<Avg>() {
            Self::Avg
        } else if function.is::<Min>() || function.is::<Max>() || function.is::<OrderFreeMinMax>() {
            // perfcorr's `min`/`max` (same answers while no value is NaN).
            if function.name() == "min" { Self::Min } else { Self::Max }
        } else if function.is::<Median>() {
            Self::Median
        } else if function.is::<VarianceSample>() {
            Self::Variance { sample: true }
        } else if function.is::<VariancePopulation>() {
            Self::Variance { sample: false }
        } else if function.is::<Stddev>() {
            Self::Stddev { sample: true }
        } else if function.is::<StddevPop>() {
            Self::Stddev { sample: false }
        } else {
            return None;
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Median => "median",
            Self::Variance { sample: true } => "var_samp",
            Self::Variance { sample: false } => "var_pop",
            Self::Stddev { sample: true } => "stddev_samp",
            Self::Stddev { sample: false } => "stddev_pop",
        }
    }

    /// Whether its column is Int64 (`count`), else Float64.
    pub fn is_integer(&self) -> bool {
        matches!(self, Self::Count)
    }

    /// The summary of `values`, NaN standing for NULL (skipped): NULL when
    /// none is left (`count`: 0), as DataFusion's aggregates; the sample
    /// variance and deviation of one value NULL, the population's 0.
    pub fn of_values(&self, values: &[f64]) -> Summarised {
        let present = || values.iter().copied().filter(|v| !v.is_nan());
        let n = present().count();
        if let Self::Count = self {
            return Summarised::Int(n as i64);
        }
        if n == 0 {
            return Summarised::Float(None);
        }
        Summarised::Float(match *self {
            Self::Count => unreachable!("counted above"),
            Self::Sum => Some(compensated_sum(present())),
            Self::Avg => Some(compensated_sum(present()) / n as f64),
            Self::Min => present().reduce(f64::min),
            Self::Max => present().reduce(f64::max),
            Self::Median => Some(median(&mut present().collect::<Vec<_>>())),
            Self::Variance { sample } => variance(present(), n, sample),
            Self::Stddev { sample } => variance(present(), n, sample).map(f64::sqrt),
        })
    }
}

/// A summary's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Summarised {
    Int(i64),
    Float(Option<f64>),
}

/// Neumaier's compensated sum: exact to an ulp or so of the total whatever
/// the cancellation (first differences sum to little: the series' net move).
/// A sum past the largest float is the plain sum's infinity, as
/// DataFusion's (the compensation would make it NaN).
fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        compensation += if sum.abs() >= v.abs() { (sum - t) + v } else { (v - t) + sum };
        sum = t;
    }
    if sum.is_finite() { sum + compensation } else { sum }
}

/// The variance of `n` ≥ 1 values from their mean (two passes), over n − 1
/// (`sample`) or n; the sample's of one value is NULL.
fn variance(values: impl Iterator<Item = f64> + Clone, n: usize, sample: bool) -> Option<f64> {
    if sample && n < 2 {
        return None;
    }
    let mean = compensated_sum(values.clone()) / n as f64;
    let m2 = compensated_sum(values.map(|v| (v - mean) * (v - mean)));
    Some(m2 / if sample { n - 1 } else { n } as f64)
}

/// The middle value (the mean of the two middle ones for an even count), as
/// DataFusion's `median`; `values` is not empty.
fn median(values: &mut [f64]) -> f64 {
    let (half, odd) = (values.len() / 2, values.len() % 2 == 1);
    let (low, &mut high, _) = values.select_nth_unstable_by(half, f64::total_cmp);
    if odd {
        return high;
    }
    let below = low.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (below + high) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(summary: Summary, values: &[f64]) -> Option<f64> {
        match summary.of_values(values) {
            Summarised::Float(v) => v,
            Summarised::Int(_) => panic!("{summary:?} is a float"),
        }
    }

    /// Hand-computed values; NaN skipped as a NULL.
    #[test]
    fn summaries_skip_missing_values() {
        let values = [f64::NAN, 2.0, -1.0, 4.0, f64::NAN, 3.0];
        assert_eq!(Summary::Count.of_values(&values), Summarised::Int(4));
        assert_eq!(float(Summary::Sum, &values), Some(8.0));
        assert_eq!(float(Summary::Avg, &values), Some(2.0));
        assert_eq!(float(Summary::Min, &values), Some(-1.0));
        assert_eq!(float(Summary::Max, &values), Some(4.0));
        assert_eq!(float(Summary::Median, &values), Some(2.5));
        assert_eq!(float(Summary::Median, &values[..4]), Some(2.0));
        // Deviations from 2: 0, −3, 2, 1 → m2 = 14.
        assert_eq!(float(Summary::Variance { sample: true }, &values), Some(14.0 / 3.0));
        assert_eq!(float(Summary::Variance { sample: false }, &values), Some(3.5));
        assert_eq!(float(Summary::Stddev { sample: false }, &values), Some(3.5f64.sqrt()));
    }

    #[test]
    fn nothing_left_is_null_one_value_has_no_sample_variance() {
        let none = [f64::NAN, f64::NAN];
        assert_eq!(Summary::Count.of_values(&none), Summarised::Int(0));
        for summary in [Summary::Sum, Summary::Avg, Summary::Min, Summary::Max, Summary::Median, Summary::Variance { sample: false }] {
            assert_eq!(float(summary, &none), None, "{summary:?}");
        }
        assert_eq!(float(Summary::Variance { sample: true }, &[5.0]), None);
        assert_eq!(float(Summary::Stddev { sample: true }, &[5.0]), None);
        assert_eq!(float(Summary::Stddev { sample: false }, &[5.0]), Some(0.0));
    }

    /// Differences of a long walk sum to its net move: the compensated sum
    /// keeps it where a plain one loses digits.
    #[test]
    fn sums_of_differences_keep_the_net_move() {
        let walk: Vec<f64> = (0..100_000).map(|i| 1e6 + ((i * 7919) % 1000) as f64 * 0.1 + 1e-7 * i as f64).collect();
        let diffs: Vec<f64> = walk.windows(2).map(|w| w[1] - w[0]).collect();
        let exact: f64 = walk[walk.len() - 1] - walk[0];
        let got = float(Summary::Sum, &diffs).unwrap();
        assert!((got - exact).abs() <= 1e-9 * exact.abs().max(1.0), "{got} vs {exact}");
        assert_eq!(float(Summary::Sum, &[f64::MAX, f64::MAX, 1.0]), Some(f64::INFINITY), "past the largest float");
    }
}
