//! DataFusion's own aggregates of two columns that are functions of the
//! co-moments — `covar_samp` (`covar`), `covar_pop` and the `regr_*`
//! family (`regr_slope(y, x)`, `regr_intercept`, `regr_r2`, `regr_count`,
//! `regr_avgx`, `regr_avgy`, `regr_sxx`, `regr_syy`, `regr_sxy`) — computed
//! by the fused operator from the co-moments it keeps per series anyway, so
//! "how much does the app's time move per millisecond of this view's" stays
//! on the fused path beside `corr`.
//!
//! Each answer follows DataFusion's accumulator (`functions-aggregate`,
//! `covariance.rs` and `regr.rs`): the pairs with both values not NULL, a
//! NULL where it returns one (fewer than two pairs, a zero variance). They
//! count NaN values as values, which the operator does not tell from a
//! missing difference, so the operator answers only while every value is
//! finite ([`super::pairs::Statistic::needs_finite_values`]); otherwise
//! DataFusion's plan runs.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, UInt64Array};

use crate::stats::CoMoments;

/// Which aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regression {
    CovarSamp,
    CovarPop,
    Slope,
    Intercept,
    R2,
    Count,
    AvgX,
    AvgY,
    Sxx,
    Syy,
    Sxy,
}

impl Regression {
    const ALL: [(Self, &'static str); 11] = [
        (Self::CovarSamp, "covar_samp"),
        (Self::CovarPop, "covar_pop"),
        (Self::Slope, "regr_slope"),
        (Self::Intercept, "regr_intercept"),
        (Self::R2, "regr_r2"),
        (Self::Count, "regr_count"),
        (Self::AvgX, "regr_avgx"),
        (Self::AvgY, "regr_avgy"),
        (Self::Sxx, "regr_sxx"),
        (Self::Syy, "regr_syy"),
        (Self::Sxy, "regr_sxy"),
    ];

    /// The aggregate DataFusion registers under `name` (its UDF's own name,
    /// aliases resolved), if one of these.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(which, _)| *which)
    }

    pub fn name(&self) -> &'static str {
        Self::ALL.iter().find(|(which, _)| which == self).map(|(_, name)| *name).unwrap_or("regr")
    }

    /// The output column, one value per series' co-moments (`x` the series'
    /// difference, `y` the reference's); `series_first` says whether the
    /// call's first argument is the series' difference (`regr_*(y, x)`
    /// regresses its first argument on its second).
    pub fn array(&self, moments: &[CoMoments], series_first: bool) -> ArrayRef {
        if *self == Self::Count {
            return Arc::new(moments.iter().map(|m| m.n).collect::<UInt64Array>());
        }
        Arc::new(moments.iter().map(|m| self.value(&Oriented::new(m, series_first))).collect::<Float64Array>())
    }

    fn value(&self, m: &Oriented) -> Option<f64> {
        let n = m.n as f64;
        let slope = || (m.n > 1 && m.sxx != 0.0).then(|| m.sxy / m.sxx);
        match self {
            Self::CovarSamp => (m.n > 1).then(|| m.sxy / (n - 1.0)),
            Self::CovarPop => (m.n > 0).then(|| m.sxy / n),
            Self::Slope => slope(),
            Self::Intercept => slope().map(|slope| m.mean_y - slope * m.mean_x),
            Self::R2 => (m.n > 1 && m.sxx != 0.0 && m.syy != 0.0).then(|| (m.sxy * m.sxy) / (m.sxx * m.syy)),
            Self::Count => Some(n),
            Self::AvgX => (m.n > 0).then_some(m.mean_x),
            Self::AvgY => (m.n > 0).then_some(m.mean_y),
            Self::Sxx => (m.n > 0).then_some(m.sxx),
            Self::Syy => (m.n > 0).then_some(m.syy),
            Self::Sxy => (m.n > 0).then_some(m.sxy),
        }
    }
}

/// The co-moments as `regr_*(y, x)` names them.
struct Oriented {
    n: u64,
    mean_x: f64,
    mean_y: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Oriented {
    fn new(m: &CoMoments, series_first: bool) -> Self {
        let (mean_series, mean_reference) = m.means();
        let (series, reference) = ((mean_series, m.m2_x), (mean_reference, m.m2_y));
        // The regression's y is the call's first argument.
        let ((mean_y, syy), (mean_x, sxx)) = if series_first { (series, reference) } else { (reference, series) };
        Self { n: m.n, mean_x, mean_y, sxx, syy, sxy: m.c_xy }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Array;

    /// Against values worked by hand: y = 2x + 1 exactly, then with noise.
    #[test]
    fn values_follow_datafusion_definitions() {
        let mut line = CoMoments::default();
        for x in [1.0, 2.0, 3.0, 4.0] {
            // CoMoments' x is the series, y the reference: regr_*(series, reference).
            line.update(2.0 * x + 1.0, x);
        }
        let get = |which: Regression, m: &CoMoments, series_first| {
            let array = which.array(std::slice::from_ref(m), series_first);
            array.as_any().downcast_ref::<Float64Array>().map(|a| (!a.is_null(0)).then(|| a.value(0)))
        };
        // Series first: y = series = 2x + 1 on x = reference.
        assert_eq!(get(Regression::Slope, &line, true), Some(Some(2.0)));
        assert_eq!(get(Regression::Intercept, &line, true), Some(Some(1.0)));
        assert_eq!(get(Regression::R2, &line, true), Some(Some(1.0)));
        assert_eq!(get(Regression::AvgX, &line, true), Some(Some(2.5)));
        assert_eq!(get(Regression::AvgY, &line, true), Some(Some(6.0)));
        assert_eq!(get(Regression::Sxx, &line, true), Some(Some(5.0)));
        assert_eq!(get(Regression::Syy, &line, true), Some(Some(20.0)));
        assert_eq!(get(Regression::Sxy, &line, true), Some(Some(10.0)));
        assert_eq!(get(Regression::CovarSamp, &line, true), Some(Some(10.0 / 3.0)));
        assert_eq!(get(Regression::CovarPop, &line, false), Some(Some(2.5)));
        // Reference first: x = series, slope 1/2, intercept -1/2.
        assert_eq!(get(Regression::Slope, &line, false), Some(Some(0.5)));
        assert_eq!(get(Regression::Intercept, &line, false), Some(Some(-0.5)));
        assert_eq!(get(Regression::AvgX, &line, false), Some(Some(6.0)));
        let count = Regression::Count.array(std::slice::from_ref(&line), true);
        assert_eq!(count.as_any().downcast_ref::<UInt64Array>().unwrap().value(0), 4);
        // One pair: the sample covariance, slope and r² are NULL, the population one 0.
        let mut one = CoMoments::default();
        one.update(3.0, 4.0);
        assert_eq!(get(Regression::CovarSamp, &one, true), Some(None));
        assert_eq!(get(Regression::CovarPop, &one, true), Some(Some(0.0)));
        assert_eq!(get(Regression::Slope, &one, true), Some(None));
        assert_eq!(get(Regression::AvgX, &one, true), Some(Some(4.0)));
        // A constant regressor: no slope; a constant response: slope 0, r² NULL.
        let mut flat = CoMoments::default();
        for (s, r) in [(1.0, 5.0), (2.0, 5.0), (4.0, 5.0)] {
            flat.update(s, r);
        }
        assert_eq!(get(Regression::Slope, &flat, true), Some(None));
        assert_eq!(get(Regression::Slope, &flat, false), Some(Some(0.0)));
        assert_eq!(get(Regression::R2, &flat, false), Some(None));
        // No pairs: NULL everywhere, count 0.
        let none = CoMoments::default();
        assert_eq!(get(Regression::AvgY, &none, true), Some(None));
        assert_eq!(get(Regression::Sxy, &none, true), Some(None));
        assert_eq!(get(Regression::CovarPop, &none, true), Some(None));
        assert_eq!(Regression::from_name("regr_r2"), Some(Regression::R2));
        assert_eq!(Regression::from_name("corr"), None);
        assert!(Regression::ALL.iter().all(|(which, name)| which.name() == *name));
    }
}
