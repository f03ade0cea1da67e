//! Statistics of ordered series: lag-1 autocorrelation, Bartlett's effective
//! sample size, and the lag of maximal cross-correlation. NaN (and ±inf)
//! mark a missing value throughout.

use super::pearson::p_value;
use super::CoMoments;

/// Pearson r over the pairwise-complete pairs of two equally long slices.
fn r_of_pairs(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let mut moments = CoMoments::default();
    for (&x, &y) in xs.iter().zip(ys) {
        if super::complete(x, y) {
            moments.update(x, y);
        }
    }
    moments.pearson_r()
}

/// Lag-1 autocorrelation as `statsmodels.tsa.stattools.acf(x, nlags=1)[1]`:
/// `Σ (x_t − x̄)(x_{t+1} − x̄) / Σ (x_t − x̄)²` over the whole series (no
/// missing values). `None` for fewer than 2 values or a constant series.
pub fn lag1_autocorrelation(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let denominator: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
    if denominator == 0.0 {
        return None;
    }
    let numerator: f64 = xs.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    Some(numerator / denominator)
}

/// Pearson r, Bartlett's effective sample size `n·(1 − ρx·ρy)/(1 + ρx·ρy)`
/// and the p-value of r at that size, over the pairwise-complete rows in
/// order. `(r, n_eff, p)`; each `None` when undefined.
pub fn effective_sample(xs: &[f64], ys: &[f64]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let (cx, cy): (Vec<f64>, Vec<f64>) = xs.iter().zip(ys).filter(|(x, y)| super::complete(**x, **y)).map(|(x, y)| (*x, *y)).unzip();
    let r = r_of_pairs(&cx, &cy);
    let n_eff = match (lag1_autocorrelation(&cx), lag1_autocorrelation(&cy)) {
        (Some(rho_x), Some(rho_y)) => Some(cx.len() as f64 * (1.0 - rho_x * rho_y) / (1.0 + rho_x * rho_y)),
        _ => None,
    };
    let p = match (r, n_eff) {
        (Some(r), Some(n_eff)) => p_value(r, n_eff),
        _ => None,
    };
    (r, n_eff, p)
}

/// The lag in `[−max_lag, max_lag]` (rows) at which x shifted against y
/// correlates most strongly (largest |r|), and that r. A positive lag `k`
/// pairs `x(t)` with `y(t + k)`: x leads y by k rows. Ties go to the smaller
/// |lag|, then to the positive one. `None` if no lag has a defined r.
pub fn best_lag(xs: &[f64], ys: &[f64], max_lag: usize) -> Option<(i64, f64)> {
    let n = xs.len().min(ys.len());
    let mut best: Option<(i64, f64)> = None;
    for magnitude in 0..=max_lag.min(n.saturating_sub(1)) {
        for lag in [magnitude as i64, -(magnitude as i64)] {
            if magnitude == 0 && lag < 0 {
                continue;
            }
            let k = magnitude;
            let r = if lag >= 0 { r_of_pairs(&xs[..n - k], &ys[k..n]) } else { r_of_pairs(&xs[k..n], &ys[..n - k]) };
            if let Some(r) = r {
                if best.is_none_or(|(_, best_r)| r.abs() > best_r.abs()) {
                    best = Some((lag, r));
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_is_a_positive_lag() {
        // y repeats x two rows later: x leads y by 2.
        let xs: Vec<f64> = (0..50).map(|t| ((t * t) % 17) as f64).collect();
        let ys: Vec<f64> = (0..50).map(|t| if t >= 2 { xs[t - 2] } else { 0.0 }).collect();
        let (lag, r) = best_lag(&xs, &ys, 5).unwrap();
        assert_eq!(lag, 2);
        assert!((r - 1.0).abs() < 1e-12);
        let (lag, _) = best_lag(&ys, &xs, 5).unwrap();
        assert_eq!(lag, -2);
    }

    #[test]
    fn autocorrelation_of_alternating_series() {
        // statsmodels acf([1, -1, 1, -1], nlags=1)[1] = -0.75
        assert!((lag1_autocorrelation(&[1.0, -1.0, 1.0, -1.0]).unwrap() + 0.75).abs() < 1e-15);
        assert_eq!(lag1_autocorrelation(&[2.0, 2.0, 2.0]), None);
    }
}
