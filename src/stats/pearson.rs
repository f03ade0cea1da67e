//! p-values for Pearson's r under the null of no correlation.
//!
//! scipy's `pearsonr` uses the exact distribution of r for bivariate normal
//! data: `p = 2·P(R ≥ |r|)` with R ~ Beta(n/2 − 1, n/2 − 1) on [−1, 1], which
//! equals `I_{1−r²}((n−2)/2, 1/2)`. We evaluate that in log space with
//! `1 − r² = (1 − |r|)(1 + |r|)`, never as `2·(1 − CDF(t))`, which collapses
//! to 0 once p drops below ~1e-16.

use super::beta::ln_beta_reg;

/// Natural log of the two-sided p-value of r over n pairs.
///
/// `None` when `n < 2` or r is NaN; `0` (p = 1) when `n = 2`; `-inf` for
/// |r| = 1 with n > 2.
pub fn ln_p_value(r: f64, n: f64) -> Option<f64> {
    if r.is_nan() || n.is_nan() || n < 2.0 {
        return None;
    }
    if n == 2.0 {
        return Some(0.0);
    }
    let abs_r = r.abs().min(1.0);
    let one_minus_r2 = (1.0 - abs_r) * (1.0 + abs_r);
    Some(ln_beta_reg(n / 2.0 - 1.0, 0.5, one_minus_r2, abs_r * abs_r))
}

/// The two-sided p-value of r over n pairs, as `scipy.stats.pearsonr`;
/// 0 once it falls below the smallest Float64.
pub fn p_value(r: f64, n: f64) -> Option<f64> {
    ln_p_value(r, n).map(f64::exp)
}

/// Base-10 log of the two-sided p-value; finite far below 1e-308.
pub fn log10_p_value(r: f64, n: f64) -> Option<f64> {
    ln_p_value(r, n).map(|ln_p| ln_p / std::f64::consts::LN_10)
}

/// Fisher-z confidence interval for r over n pairs at `confidence` (e.g.
/// 0.95), as `scipy.stats.pearsonr(...).confidence_interval()`:
/// `tanh(atanh r ∓ z_{(1+c)/2} / √(n−3))`. `None` for n ≤ 3 or NaN r.
pub fn fisher_interval(r: f64, n: f64, confidence: f64) -> Option<(f64, f64)> {
    use statrs::distribution::{ContinuousCDF, Normal};
    if r.is_nan() || n.is_nan() || n <= 3.0 {
        return None;
    }
    let z_critical = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
    let z = r.atanh();
    let half_width = z_critical / (n - 3.0).sqrt();
    Some(((z - half_width).tanh(), (z + half_width).tanh()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_n_rules() {
        assert_eq!(p_value(0.3, 1.0), None);
        assert_eq!(p_value(0.3, 2.0), Some(1.0));
        assert_eq!(p_value(f64::NAN, 10.0), None);
        assert_eq!(p_value(1.0, 10.0), Some(0.0));
        assert_eq!(p_value(0.0, 10.0), Some(1.0));
    }

    #[test]
    fn n3_closed_form() {
        // For n = 3, p = 1 − (2/π)·asin(|r|).
        for r in [0.1, 0.5, 0.9, 0.999] {
            let expected = 1.0 - 2.0 / std::f64::consts::PI * f64::asin(r);
            let got = p_value(r, 3.0).unwrap();
            assert!(((got - expected) / expected).abs() < 1e-12, "r={r}: {got} vs {expected}");
        }
    }

    #[test]
    fn fisher_interval_known_value() {
        // scipy.stats.pearsonr on n = 5 pairs with r = 0.7745966692414834:
        // confidence_interval(0.95) = (-0.34008203518751035, 0.9842357551507267).
        let (low, high) = fisher_interval(0.7745966692414834, 5.0, 0.95).unwrap();
        assert!((low - -0.340_082_035_187_510_35).abs() < 1e-12, "{low}");
        assert!((high - 0.984_235_755_150_726_7).abs() < 1e-12, "{high}");
        assert_eq!(fisher_interval(0.5, 3.0, 0.95), None);
    }

    #[test]
    fn log10_p_stays_finite_below_float_range() {
        // r = 0.9, n = 1000: p ≈ 10^-361.5, far below f64::MIN_POSITIVE.
        let log10_p = log10_p_value(0.9, 1000.0).unwrap();
        assert!((-362.0..-361.0).contains(&log10_p), "{log10_p}");
        assert_eq!(p_value(0.9, 1000.0), Some(0.0));
    }
}
