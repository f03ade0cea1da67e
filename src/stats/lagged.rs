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
    let r = pearson_r(&cx, &cy);
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
///
/// Each lag's r comes from sums over the series centred on their means
/// (prefix sums for the single sums, one dot product per lag for the cross
/// term, corrections at the few missing values), which costs one pass per
/// lag instead of a Welford update per pair and lag. Where those sums would
/// lose precision (a variance below 1e-4 of the whole series' sum of
/// squares: a series constant or nearly so over the lag's pairs, or large
/// values outside them) or are not finite, that lag is computed pair by pair
/// with [`CoMoments`].
pub fn best_lag(xs: &[f64], ys: &[f64], max_lag: usize) -> Option<(i64, f64)> {
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    best_lag_centred(xs, ys, &Centred::new(xs), &Centred::new(ys), max_lag)
}

/// [`best_lag`] of two series of the same length with their [`Centred`]
/// forms made beforehand (one series' may serve many calls).
pub fn best_lag_centred(xs: &[f64], ys: &[f64], x: &Centred, y: &Centred, max_lag: usize) -> Option<(i64, f64)> {
    let n = xs.len();
    debug_assert!(ys.len() == n && x.v.len() == n && y.v.len() == n);
    if n == 0 {
        return None;
    }
    let mut best: Option<(i64, f64)> = None;
    let max_k = max_lag.min(n - 1);
    // Every lag's Σ x·y in one sweep each way.
    let (leads, lags) = (lagged_dots(&x.v, &y.v, max_k), lagged_dots(&y.v, &x.v, max_k));
    for magnitude in 0..=max_k {
        for lag in [magnitude as i64, -(magnitude as i64)] {
            if magnitude == 0 && lag < 0 {
                continue;
            }
            let k = magnitude;
            let r = if lag >= 0 {
                lagged_r(x, y, k, leads[k]).unwrap_or_else(|| r_of_pairs(&xs[..n - k], &ys[k..n]))
            } else {
                lagged_r(y, x, k, lags[k]).unwrap_or_else(|| r_of_pairs(&xs[k..n], &ys[..n - k]))
            };
            if let Some(r) = r {
                if best.is_none_or(|(_, best_r)| r.abs() > best_r.abs()) {
                    best = Some((lag, r));
                }
            }
        }
    }
    best
}

/// A series centred on the mean of its finite values, missing values as 0,
/// with the sums of the centred values and of their squares.
#[derive(Default, Clone)]
pub struct Centred {
    /// `x − mean`, 0 where missing.
    v: Vec<f64>,
    /// Positions of the missing values, ascending.
    missing: Vec<usize>,
    sum: f64,
    sum_sq: f64,
}

impl Centred {
    pub fn new(values: &[f64]) -> Self {
        let mut centred = Self::default();
        centred.set(values);
        centred
    }

    /// Makes this the centred form of `values`, in the buffers it has.
    pub fn set(&mut self, values: &[f64]) {
        centre(self, values)
    }
}

with_avx! {
    fn centre(centred: &mut Centred, values: &[f64]) -> () = centre_lanes
}

#[inline(always)]
fn centre_lanes(centred: &mut Centred, values: &[f64]) {
    {
        // Sums in 8 lanes, missing values counted and summed as 0.
        let (mut count, mut total) = ([0usize; 8], [0.0; 8]);
        let chunks = values.chunks_exact(8);
        let tail = chunks.remainder();
        for chunk in chunks {
            for lane in 0..8 {
                let finite = chunk[lane].is_finite();
                total[lane] += if finite { chunk[lane] } else { 0.0 };
                count[lane] += usize::from(finite);
            }
        }
        for (lane, &x) in tail.iter().enumerate() {
            total[lane] += if x.is_finite() { x } else { 0.0 };
            count[lane] += usize::from(x.is_finite());
        }
        let count = count.iter().sum::<usize>();
        let mean = if count > 0 { total.iter().sum::<f64>() / count as f64 } else { 0.0 };
        centred.missing.clear();
        if count < values.len() {
            centred.missing.extend((0..values.len()).filter(|&i| !values[i].is_finite()));
        }
        centred.v.clear();
        centred.v.extend(values.iter().map(|&x| if x.is_finite() { x - mean } else { 0.0 }));
        let (mut sum, mut sum_sq) = ([0.0; 8], [0.0; 8]);
        let chunks = centred.v.chunks_exact(8);
        let tail = chunks.remainder();
        for chunk in chunks {
            for lane in 0..8 {
                sum[lane] += chunk[lane];
                sum_sq[lane] += chunk[lane] * chunk[lane];
            }
        }
        centred.sum = sum.iter().sum::<f64>() + tail.iter().sum::<f64>();
        centred.sum_sq = sum_sq.iter().sum::<f64>() + tail.iter().map(|x| x * x).sum::<f64>();
    }
}

impl Centred {
    fn present(&self, i: usize) -> bool {
        self.missing.binary_search(&i).is_err()
    }
}

/// Pearson r of the pairs `(a[i], b[i + k])`, i in `[0, n − k)`, from the
/// centred sums; `None` when it must be computed pair by pair (see
/// [`best_lag`]); `Some(None)` when r is undefined (fewer than 2 pairs).
fn lagged_r(a: &Centred, b: &Centred, k: usize, sab: f64) -> Option<Option<f64>> {
    let n = a.v.len();
    let end = n - k;
    // a over [0, end), b over [k, n): the totals less the few values outside.
    let (mut sa, mut saa) = (a.sum, a.sum_sq);
    for &x in &a.v[end..] {
        (sa, saa) = (sa - x, saa - x * x);
    }
    let (mut sb, mut sbb) = (b.sum, b.sum_sq);
    for &y in &b.v[..k] {
        (sb, sbb) = (sb - y, sbb - y * y);
    }
    let mut count = end as i64 - b.missing.iter().filter(|&&j| j >= k).count() as i64;
    // Pairs whose b is missing: take a's value out (a's missing are 0).
    for &j in b.missing.iter().filter(|&&j| j >= k) {
        let x = a.v[j - k];
        (sa, saa) = (sa - x, saa - x * x);
    }
    for &i in a.missing.iter().filter(|&&i| i < end) {
        // Counted once above if b is missing too.
        if b.present(i + k) {
            count -= 1;
        }
        let y = b.v[i + k];
        (sb, sbb) = (sb - y, sbb - y * y);
    }
    if count < 2 {
        return Some(None);
    }
    let n = count as f64;
    let (va, vb, cov) = (saa - sa * sa / n, sbb - sb * sb / n, sab - sa * sb / n);
    // The sums carry rounding errors of about ε times the whole series' sum
    // of squares (values taken out may cancel: a +H, −H glitch outside the
    // lag's pairs), so the variance must stand well clear of that.
    let imprecise = |variance: f64, total: f64| !(variance > 1e-4 * total) || !total.is_finite();
    if imprecise(va, a.sum_sq) || imprecise(vb, b.sum_sq) || !cov.is_finite() {
        return None;
    }
    if count == 2 {
        return Some(Some(cov.signum()));
    }
    let mut scale = (va * vb).sqrt();
    if !scale.is_normal() {
        scale = va.sqrt() * vb.sqrt();
    }
    Some(Some((cov / scale).clamp(-1.0, 1.0)))
}

/// Pearson r over the pairwise-complete pairs, as [`best_lag`] computes it
/// at lag 0.
pub fn pearson_r(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    let (x, y) = (Centred::new(&xs[..n]), Centred::new(&ys[..n]));
    lagged_r(&x, &y, 0, dot(&x.v, &y.v)).unwrap_or_else(|| r_of_pairs(&xs[..n], &ys[..n]))
}

with_avx! {
    /// `Σ a[i]·b[i]` in sixteen independent lanes (vectorisable, enough
    /// independent sums to hide the adds' latency; also a shorter rounding chain
    /// than one running sum), compiled a second time for AVX2 and that copy run
    /// where the processor has it: the same lanes and operations (no fused
    /// multiply-add), so the same result either way.
    fn dot(a: &[f64], b: &[f64]) -> f64 = dot_lanes
}

with_avx! {
    /// `dot(&a[..n − k], &b[k..])` for every k in `0..=max_k` (< n, the
    /// length of both), each with the same lanes, operations and order as
    /// [`dot`] (the same results), in one sweep of blocks of both series
    /// that stay in the L1 cache while every lag reads them (instead of
    /// reading both series from memory once per lag).
    fn lagged_dots(a: &[f64], b: &[f64], max_k: usize) -> Vec<f64> = lagged_dots_lanes
}

#[inline(always)]
fn lagged_dots_lanes(a: &[f64], b: &[f64], max_k: usize) -> Vec<f64> {
    const BLOCK: usize = 32;
    let n = a.len();
    debug_assert!(b.len() == n && max_k < n);
    let mut lanes = vec![[0.0; LANES]; max_k + 1];
    let chunks = |k: usize| (n - k) / LANES;
    for first in (0..chunks(0)).step_by(BLOCK) {
        for (k, lanes) in lanes.iter_mut().enumerate() {
            let mut sums = *lanes;
            for c in first..(first + BLOCK).min(chunks(k)) {
                let (ca, cb) = (&a[c * LANES..][..LANES], &b[c * LANES + k..][..LANES]);
                for lane in 0..LANES {
                    sums[lane] += ca[lane] * cb[lane];
                }
            }
            *lanes = sums;
        }
    }
    lanes
        .iter()
        .enumerate()
        .map(|(k, lanes)| {
            let done = chunks(k) * LANES;
            let tail: f64 = a[done..n - k].iter().zip(&b[done + k..]).map(|(x, y)| x * y).sum();
            lanes.iter().sum::<f64>() + tail
        })
        .collect()
}

/// Lanes of [`dot`].
const LANES: usize = 16;

#[inline(always)]
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0; LANES];
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = chunks_a.remainder().iter().zip(chunks_b.remainder()).map(|(x, y)| x * y).sum();
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for lane in 0..LANES {
            lanes[lane] += ca[lane] * cb[lane];
        }
    }
    lanes.iter().sum::<f64>() + tail
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

    /// Each lag's r pair by pair, as the definition reads.
    fn naive_best_lag(xs: &[f64], ys: &[f64], max_lag: usize) -> Option<(i64, f64)> {
        let n = xs.len();
        let mut best: Option<(i64, f64)> = None;
        for k in 0..=max_lag.min(n.saturating_sub(1)) {
            for lag in [k as i64, -(k as i64)] {
                if k == 0 && lag < 0 {
                    continue;
                }
                let r = if lag >= 0 { r_of_pairs(&xs[..n - k], &ys[k..]) } else { r_of_pairs(&xs[k..], &ys[..n - k]) };
                if let Some(r) = r.filter(|r| best.is_none_or(|(_, b)| r.abs() > b.abs())) {
                    best = Some((lag, r));
                }
            }
        }
        best
    }

    #[test]
    fn centred_sums_agree_with_pairwise_r_at_every_lag() {
        let noise = |t: usize, seed: usize| (((t * 7919 + seed * 104_729) % 1009) as f64 / 1009.0) - 0.5;
        let xs: Vec<f64> = (0..400).map(|t| noise(t, 1) + if t % 37 == 3 { f64::NAN } else { 0.0 }).collect();
        let mut ys: Vec<f64> = (0..400).map(|t| if t >= 3 { xs[t - 3] * 2.0 + 0.3 * noise(t, 2) } else { f64::NAN }).collect();
        ys[100] = f64::INFINITY;
        let offset: Vec<f64> = xs.iter().map(|x| x + 1e9).collect();
        let cases: [(&str, &[f64], &[f64]); 5] = [
            ("missing on both sides", &xs, &ys),
            ("swapped", &ys, &xs),
            ("far from zero", &offset, &ys),
            ("constant x", &[4.0; 50], &ys[..50]),
            ("constant but at one lag-0 pair", &[[1.0, 1.0, 1.0, 9.0].as_slice(), &[1.0; 20]].concat(), &ys[..24]),
        ];
        for (what, xs, ys) in cases {
            for max_lag in [0, 1, 5, 30] {
                let (fast, naive) = (best_lag(xs, ys, max_lag), naive_best_lag(xs, ys, max_lag));
                match (fast, naive) {
                    (Some((lag, r)), Some((naive_lag, naive_r))) => {
                        assert_eq!(lag, naive_lag, "{what}, max_lag {max_lag}");
                        assert!((r - naive_r).abs() < 1e-12, "{what}, max_lag {max_lag}: {r} vs {naive_r}");
                    }
                    (fast, naive) => assert_eq!(fast, naive, "{what}, max_lag {max_lag}"),
                }
            }
        }
        // Large values of opposite sign outside a lag's pairs (the last rows
        // of x at lag 3; next to missing partners at lag 0) cancel in the sums.
        let mut gap_ys = ys.clone();
        gap_ys[200] = f64::NAN;
        gap_ys[201] = f64::NAN;
        for glitch in [1e6, 3.7e7, 1e9, 2.9e10, 7.3e11, 1.1e13] {
            let mut glitch_end = xs.clone();
            glitch_end[397] += glitch;
            glitch_end[398] -= glitch;
            let mut glitch_gap = xs.clone();
            glitch_gap[200] += glitch;
            glitch_gap[201] -= glitch;
            for (what, xs, ys) in [("glitch in the last rows", &glitch_end, &ys), ("glitch next to missing partners", &glitch_gap, &gap_ys)] {
                for max_lag in [0, 3, 5] {
                    let (lag, r) = best_lag(xs, ys, max_lag).unwrap();
                    let (naive_lag, naive_r) = naive_best_lag(xs, ys, max_lag).unwrap();
                    assert_eq!(lag, naive_lag, "{what}, max_lag {max_lag}");
                    assert!((r - naive_r).abs() < 1e-12, "{what} {glitch:e}, max_lag {max_lag}: {r} vs {naive_r}");
                }
            }
        }
        assert_eq!(best_lag(&[], &[], 3), None);
        assert_eq!(best_lag(&[1.0, 2.0], &[3.0, 1.0], 3), Some((0, -1.0)), "two pairs: r is ±1");
    }

    #[test]
    fn one_sweep_gives_each_lags_dot_product_exactly() {
        for (n, max_k) in [(1, 0), (16, 15), (17, 16), (40, 3), (1100, 40), (2049, 100)] {
            let a: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1013) as f64 / 7.0 - 70.0).collect();
            let b: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 997) as f64 * 1e-3 + 1e6 * (i % 3) as f64).collect();
            let swept = lagged_dots(&a, &b, max_k);
            assert_eq!(swept.len(), max_k + 1);
            for (k, &sum) in swept.iter().enumerate() {
                assert_eq!(sum.to_bits(), dot(&a[..n - k], &b[k..]).to_bits(), "n {n}, lag {k}");
            }
        }
    }

    #[test]
    fn centred_forms_reused_are_made_anew() {
        let long: Vec<f64> = (0..1001).map(|t| ((t * 37) % 101) as f64 + if t % 13 == 0 { f64::NAN } else { 0.5 }).collect();
        let short = [3.0, f64::INFINITY, -1.5, 2.0, 7.25, 0.0, 1.0, 9.0, 4.0, -2.0, 5.0];
        let mut centred = Centred::new(&long);
        centred.set(&short);
        let fresh = Centred::new(&short);
        assert_eq!((&centred.v, &centred.missing), (&fresh.v, &fresh.missing));
        assert_eq!((centred.sum.to_bits(), centred.sum_sq.to_bits()), (fresh.sum.to_bits(), fresh.sum_sq.to_bits()));
        assert_eq!(fresh.missing, vec![1]);
        let mean = (3.0 - 1.5 + 2.0 + 7.25 + 0.0 + 1.0 + 9.0 + 4.0 - 2.0 + 5.0) / 10.0;
        assert!((fresh.v[0] - (3.0 - mean)).abs() < 1e-15 && fresh.v[1] == 0.0);
    }

    #[test]
    fn autocorrelation_of_alternating_series() {
        // statsmodels acf([1, -1, 1, -1], nlags=1)[1] = -0.75
        assert!((lag1_autocorrelation(&[1.0, -1.0, 1.0, -1.0]).unwrap() + 0.75).abs() < 1e-15);
        assert_eq!(lag1_autocorrelation(&[2.0, 2.0, 2.0]), None);
    }
}
