//! Mergeable first and second co-moments of a pair of series.
//!
//! Welford's update for one pair, Chan et al.'s combination for two partial
//! states. Unlike running sums of squares this gives exactly zero variance for
//! a constant series, however the rows are split across partitions.
//!
//! Each state also keeps a *shift*: the first pair it saw. Values are
//! accumulated as `x − shift_x`, which is exact for data near the shift, so
//! a series such as 1e12 + unit noise is processed as unit noise. Plain
//! Welford on such data gets r wrong by 2.7e-5 (the `offset_1e+12` golden case:
//! 0.70330618 instead of 0.70333325), because every running mean is rounded to
//! the 1.2e-4 spacing of floats near 1e12; with the shift the error is 2e-16.

/// Count, means, sums of squared deviations and the co-moment of `(x, y)`.
/// Means are relative to `(shift_x, shift_y)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CoMoments {
    pub n: u64,
    pub shift_x: f64,
    pub shift_y: f64,
    pub mean_x: f64,
    pub mean_y: f64,
    pub m2_x: f64,
    pub m2_y: f64,
    pub c_xy: f64,
}

impl CoMoments {
    /// Names of the Float64 fields, in the order of [`Self::floats`].
    pub const FLOAT_FIELDS: [&'static str; 7] =
        ["shift_x", "shift_y", "mean_x", "mean_y", "m2_x", "m2_y", "c_xy"];

    /// The Float64 fields, for serialising a partial state.
    pub fn floats(&self) -> [f64; 7] {
        [self.shift_x, self.shift_y, self.mean_x, self.mean_y, self.m2_x, self.m2_y, self.c_xy]
    }

    /// Rebuilds a state from its count and [`Self::floats`].
    pub fn from_floats(n: u64, floats: [f64; 7]) -> Self {
        let [shift_x, shift_y, mean_x, mean_y, m2_x, m2_y, c_xy] = floats;
        Self { n, shift_x, shift_y, mean_x, mean_y, m2_x, m2_y, c_xy }
    }

    /// Adds one pair (Welford).
    #[inline]
    pub fn update(&mut self, x: f64, y: f64) {
        if self.n == 0 {
            self.shift_x = x;
            self.shift_y = y;
        }
        let (x, y) = (x - self.shift_x, y - self.shift_y);
        self.n += 1;
        let inv_n = 1.0 / self.n as f64;
        let dx = x - self.mean_x;
        let dy = y - self.mean_y;
        self.mean_x += dx * inv_n;
        self.mean_y += dy * inv_n;
        let dy_new = y - self.mean_y;
        self.m2_x += dx * (x - self.mean_x);
        self.m2_y += dy * dy_new;
        self.c_xy += dx * dy_new;
    }

    /// The co-moments of the complete pairs `(xs[i], ys[i])` (both finite;
    /// equally long slices) in two passes — the means, then the sums of
    /// the centred products, each in four lanes (vectorisable, shorter
    /// rounding chains), with the usual correction for the means' rounding
    /// — shifted by the first complete pair as [`Self::update`] is: the same
    /// state up to rounding (less of it), at a fraction of the cost when the
    /// pairs are at hand.
    pub fn of_pairs(xs: &[f64], ys: &[f64]) -> Self {
        of_pairs(xs, ys)
    }

    /// Removes one pair that was previously added (inverse Welford), for
    /// sliding window frames.
    #[inline]
    pub fn remove(&mut self, x: f64, y: f64) {
        if self.n <= 1 {
            *self = Self::default();
            return;
        }
        let (x, y) = (x - self.shift_x, y - self.shift_y);
        let old = *self;
        self.n -= 1;
        let inv_n = 1.0 / self.n as f64;
        self.mean_x = old.mean_x - (x - old.mean_x) * inv_n;
        self.mean_y = old.mean_y - (y - old.mean_y) * inv_n;
        self.m2_x -= (x - old.mean_x) * (x - self.mean_x);
        self.m2_y -= (y - old.mean_y) * (y - self.mean_y);
        self.c_xy -= (x - old.mean_x) * (y - self.mean_y);
    }

    /// Combines another partial state into this one (Chan et al.).
    pub fn merge(&mut self, other: &CoMoments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (n_a, n_b) = (self.n as f64, other.n as f64);
        let n = n_a + n_b;
        // Difference of the absolute means; the shifts' difference is exact
        // when both are of similar magnitude (Sterbenz).
        let dx = (other.shift_x - self.shift_x) + (other.mean_x - self.mean_x);
        let dy = (other.shift_y - self.shift_y) + (other.mean_y - self.mean_y);
        let weight = n_a * n_b / n;
        self.mean_x += dx * (n_b / n);
        self.mean_y += dy * (n_b / n);
        self.m2_x += other.m2_x + dx * dx * weight;
        self.m2_y += other.m2_y + dy * dy * weight;
        self.c_xy += other.c_xy + dx * dy * weight;
        self.n += other.n;
    }

    /// The absolute means of x and y.
    pub fn means(&self) -> (f64, f64) {
        (self.shift_x + self.mean_x, self.shift_y + self.mean_y)
    }

    /// Pearson's r, clamped to [−1, 1]; `None` for fewer than two pairs or a
    /// zero variance (PostgreSQL's rule). Two pairs always lie on a line, so
    /// r is exactly ±1 there (as scipy reports), not an ulp short of it.
    pub fn pearson_r(&self) -> Option<f64> {
        if self.n < 2 || self.m2_x <= 0.0 || self.m2_y <= 0.0 {
            return None;
        }
        if self.n == 2 {
            return Some(self.c_xy.signum());
        }
        let mut scale = (self.m2_x * self.m2_y).sqrt();
        if !scale.is_normal() {
            // The product over- or underflowed: take the roots separately.
            scale = self.m2_x.sqrt() * self.m2_y.sqrt();
        }
        Some((self.c_xy / scale).clamp(-1.0, 1.0))
    }

    /// The two-sided p-value of `pearson_r` (see [`crate::stats::pearson`]).
    pub fn pearson_p(&self) -> Option<f64> {
        super::pearson::p_value(self.pearson_r()?, self.n as f64)
    }
}

/// [`CoMoments::of_pairs`]: the two passes in AVX2 where the processor has
/// it (explicit intrinsics: the compiler's own vectors pair x with y in
/// 128-bit halves, at a quarter of the speed), else portable lanes; the
/// same lanes, operations and order either way, so the same bits.
fn of_pairs(xs: &[f64], ys: &[f64]) -> CoMoments {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY (both): the processor has AVX2 (checked just above).
        let first = |xs: &[f64], ys: &[f64], shifts| unsafe { avx2::first_sums(xs, ys, shifts) };
        let second = |xs: &[f64], ys: &[f64], centres| unsafe { avx2::second_sums(xs, ys, centres) };
        return of_pairs_with(xs, ys, first, second);
    }
    of_pairs_portable(xs, ys)
}

/// [`CoMoments::of_pairs`] in portable lanes.
fn of_pairs_portable(xs: &[f64], ys: &[f64]) -> CoMoments {
    of_pairs_with(xs, ys, |xs, ys, shifts| lane_sums(xs, ys, shifts, first_sums), |xs, ys, centres| {
        lane_sums(xs, ys, centres, second_sums)
    })
}

/// The two passes of [`CoMoments::of_pairs`], given the sums of each:
/// `first(xs, ys, [shift_x, shift_y])` = Σ (x − shift_x), Σ (y − shift_y)
/// and the count; `second(xs, ys, [shift_x, shift_y, mean_x, mean_y])` =
/// Σ dx², Σ dy², Σ dx·dy, Σ dx, Σ dy of the centred pairs (complete pairs
/// only, in [`LANES`] lanes as [`lane_sums`] adds them).
#[inline(always)]
fn of_pairs_with(
    xs: &[f64],
    ys: &[f64],
    first: impl Fn(&[f64], &[f64], [f64; 2]) -> [f64; 3],
    second: impl Fn(&[f64], &[f64], [f64; 4]) -> [f64; 5],
) -> CoMoments {
    let len = xs.len().min(ys.len());
    let Some(first_pair) = (0..len).find(|&i| super::complete(xs[i], ys[i])) else {
        return CoMoments::default();
    };
    let (xs, ys) = (&xs[first_pair..len], &ys[first_pair..len]);
    let (shift_x, shift_y) = (xs[0], ys[0]);
    // Missing pairs count as (shift_x, shift_y) and centre to 0.
    let [sum_x, sum_y, n] = first(xs, ys, [shift_x, shift_y]);
    let (mean_x, mean_y) = (sum_x / n, sum_y / n);
    // The last two: what the means' rounding left in the first moments.
    let [m2_x, m2_y, c_xy, rest_x, rest_y] = second(xs, ys, [shift_x, shift_y, mean_x, mean_y]);
    let n64 = n as u64;
    CoMoments {
        n: n64,
        shift_x,
        shift_y,
        mean_x: mean_x + rest_x / n,
        mean_y: mean_y + rest_y / n,
        m2_x: m2_x - rest_x * rest_x / n,
        m2_y: m2_y - rest_y * rest_y / n,
        c_xy: c_xy - rest_x * rest_y / n,
    }
}

/// [`first_sums`] and [`second_sums`] over whole slices in AVX2 registers,
/// one lane per register lane, the last pairs padded with NaN pairs as
/// [`lane_sums`] does.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Lanes, LANES};

    /// [`super::each_four`] in registers: `add(x, y, complete)` per four
    /// pairs, `complete` all ones in the lanes whose x and y are both
    /// finite.
    #[target_feature(enable = "avx2")]
    fn each_four(xs: &[f64], ys: &[f64], mut add: impl FnMut(__m256d, __m256d, __m256d)) {
        let finite = |v: __m256d| {
            let magnitude = _mm256_and_pd(v, _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX)));
            _mm256_cmp_pd::<_CMP_LT_OQ>(magnitude, _mm256_set1_pd(f64::INFINITY))
        };
        super::each_four(xs, ys, |x: &Lanes, y: &Lanes| {
            // SAFETY: `Lanes` holds LANES (four) values.
            let (x, y) = unsafe { (_mm256_loadu_pd(x.as_ptr()), _mm256_loadu_pd(y.as_ptr())) };
            add(x, y, _mm256_and_pd(finite(x), finite(y)));
        });
    }

    /// The lanes of `v` added in order, as [`super::lane_sums`] does.
    #[target_feature(enable = "avx2")]
    fn total(v: __m256d) -> f64 {
        let mut lanes = [0.0; LANES];
        // SAFETY: `lanes` holds four values.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), v) };
        lanes.iter().sum()
    }

    /// [`super::first_sums`] over the slices.
    #[target_feature(enable = "avx2")]
    pub fn first_sums(xs: &[f64], ys: &[f64], [shift_x, shift_y]: [f64; 2]) -> [f64; 3] {
        let (shift_x, shift_y, one) = (_mm256_set1_pd(shift_x), _mm256_set1_pd(shift_y), _mm256_set1_pd(1.0));
        let [mut sx, mut sy, mut count] = [_mm256_setzero_pd(); 3];
        each_four(xs, ys, |x, y, complete| {
            sx = _mm256_add_pd(sx, _mm256_and_pd(complete, _mm256_sub_pd(x, shift_x)));
            sy = _mm256_add_pd(sy, _mm256_and_pd(complete, _mm256_sub_pd(y, shift_y)));
            count = _mm256_add_pd(count, _mm256_and_pd(complete, one));
        });
        [total(sx), total(sy), total(count)]
    }

    /// [`super::second_sums`] over the slices (a product and a sum, never
    /// fused: the same rounding as the portable lanes).
    #[target_feature(enable = "avx2")]
    pub fn second_sums(xs: &[f64], ys: &[f64], [shift_x, shift_y, mean_x, mean_y]: [f64; 4]) -> [f64; 5] {
        let (shift_x, shift_y) = (_mm256_set1_pd(shift_x), _mm256_set1_pd(shift_y));
        let (mean_x, mean_y) = (_mm256_set1_pd(mean_x), _mm256_set1_pd(mean_y));
        let [mut sxx, mut syy, mut sxy, mut sx, mut sy] = [_mm256_setzero_pd(); 5];
        each_four(xs, ys, |x, y, complete| {
            let dx = _mm256_and_pd(complete, _mm256_sub_pd(_mm256_sub_pd(x, shift_x), mean_x));
            let dy = _mm256_and_pd(complete, _mm256_sub_pd(_mm256_sub_pd(y, shift_y), mean_y));
            sxx = _mm256_add_pd(sxx, _mm256_mul_pd(dx, dx));
            syy = _mm256_add_pd(syy, _mm256_mul_pd(dy, dy));
            sxy = _mm256_add_pd(sxy, _mm256_mul_pd(dx, dy));
            sx = _mm256_add_pd(sx, dx);
            sy = _mm256_add_pd(sy, dy);
        });
        [total(sxx), total(syy), total(sxy), total(sx), total(sy)]
    }
}

/// Lanes of [`lane_sums`].
const LANES: usize = 4;
type Lanes = [f64; LANES];

/// Adds four pairs to the sums of x − shift_x, y − shift_y and the count
/// (complete pairs only).
#[inline(always)]
fn first_sums(x: &Lanes, y: &Lanes, [shift_x, shift_y]: [f64; 2], [sx, sy, count]: &mut [Lanes; 3]) {
    for lane in 0..LANES {
        let complete = super::complete(x[lane], y[lane]);
        sx[lane] += if complete { x[lane] - shift_x } else { 0.0 };
        sy[lane] += if complete { y[lane] - shift_y } else { 0.0 };
        count[lane] += if complete { 1.0 } else { 0.0 };
    }
}

/// Adds four pairs, centred (`x − shift_x − mean_x`, likewise y), to the
/// sums of their squares, their product and themselves (complete pairs
/// only).
#[inline(always)]
fn second_sums(x: &Lanes, y: &Lanes, [shift_x, shift_y, mean_x, mean_y]: [f64; 4], [sxx, syy, sxy, sx, sy]: &mut [Lanes; 5]) {
    for lane in 0..LANES {
        let complete = super::complete(x[lane], y[lane]);
        let dx = if complete { x[lane] - shift_x - mean_x } else { 0.0 };
        let dy = if complete { y[lane] - shift_y - mean_y } else { 0.0 };
        sxx[lane] += dx * dx;
        syy[lane] += dy * dy;
        sxy[lane] += dx * dy;
        sx[lane] += dx;
        sy[lane] += dy;
    }
}

/// K sums over the pairs, each in four lanes (vectorisable, shorter
/// rounding chains than one running sum): `add` (a function, inlined into
/// the caller's instruction set) adds four pairs, lane i `(x[i], y[i])`, one
/// to each lane of each sum; the last pairs are padded with NaN pairs, which
/// must add nothing.
#[inline(always)]
fn lane_sums<const K: usize, C: Copy>(xs: &[f64], ys: &[f64], context: C, add: impl Fn(&Lanes, &Lanes, C, &mut [Lanes; K])) -> [f64; K] {
    let mut sums = [[0.0; LANES]; K];
    each_four(xs, ys, |x, y| add(x, y, context, &mut sums));
    sums.map(|lanes| lanes.iter().sum())
}

/// Calls `four(x, y)` for each four pairs of `xs` and `ys` (equally long)
/// in order, then once for the rest padded with NaN pairs (four of them if
/// there is no rest).
#[inline(always)]
fn each_four(xs: &[f64], ys: &[f64], mut four: impl FnMut(&Lanes, &Lanes)) {
    let (chunks_x, chunks_y) = (xs.chunks_exact(LANES), ys.chunks_exact(LANES));
    let mut tail = ([f64::NAN; LANES], [f64::NAN; LANES]);
    tail.0[..chunks_x.remainder().len()].copy_from_slice(chunks_x.remainder());
    tail.1[..chunks_y.remainder().len()].copy_from_slice(chunks_y.remainder());
    for (cx, cy) in chunks_x.zip(chunks_y) {
        four(cx.try_into().expect("a chunk"), cy.try_into().expect("a chunk"));
    }
    four(&tail.0, &tail.1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_pairs(pairs: &[(f64, f64)]) -> CoMoments {
        let mut m = CoMoments::default();
        pairs.iter().for_each(|&(x, y)| m.update(x, y));
        m
    }

    #[test]
    fn merge_equals_sequential_update() {
        let pairs: Vec<(f64, f64)> = (0..100)
            .map(|i| {
                let t = i as f64;
                (1e12 + (t * 0.7).sin(), (t * 0.7).sin() * 3.0 + (t * 1.3).cos())
            })
            .collect();
        let whole = from_pairs(&pairs);
        let mut merged = from_pairs(&pairs[..37]);
        merged.merge(&from_pairs(&pairs[37..]));
        merged.merge(&CoMoments::default());
        let r_whole = whole.pearson_r().unwrap();
        let r_merged = merged.pearson_r().unwrap();
        assert!((r_whole - r_merged).abs() < 1e-12, "{r_whole} vs {r_merged}");
        assert_eq!(merged.n, 100);
    }

    #[test]
    fn two_passes_over_pairs_equal_welford() {
        let xs: Vec<f64> = (0..200).map(|i| if i % 17 == 3 { f64::NAN } else { 1e12 + (i as f64 * 0.7).sin() }).collect();
        let ys: Vec<f64> = (0..200).map(|i| if i % 23 == 5 { f64::INFINITY } else { (i as f64 * 1.3).cos() + 0.1 * xs[i] }).collect();
        let complete: Vec<(f64, f64)> = xs.iter().zip(&ys).filter(|(x, y)| crate::stats::complete(**x, **y)).map(|(x, y)| (*x, *y)).collect();
        let (two, welford) = (CoMoments::of_pairs(&xs, &ys), from_pairs(&complete));
        assert_eq!((two.n, two.shift_x, two.shift_y), (welford.n, welford.shift_x, welford.shift_y));
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-300);
        assert!(close(two.m2_x, welford.m2_x) && close(two.m2_y, welford.m2_y) && close(two.c_xy, welford.c_xy));
        assert!((two.pearson_r().unwrap() - welford.pearson_r().unwrap()).abs() < 1e-12);
        assert_eq!(CoMoments::of_pairs(&[f64::NAN, 1.0], &[1.0, f64::NAN]), CoMoments::default());
        assert_eq!(CoMoments::of_pairs(&[3.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]).pearson_r(), None, "constant x");
    }

    /// The AVX2 passes and the portable lanes: the same bits, at lengths
    /// around the lane width, with NaN, infinities and −0.
    #[test]
    fn avx2_and_portable_passes_agree_exactly() {
        for len in [0, 1, 3, 4, 5, 8, 31, 200, 1001] {
            let xs: Vec<f64> = (0..len).map(|i| match i % 13 { 3 => f64::NAN, 7 => -0.0, _ => 1e6 + (i as f64 * 0.7).sin() }).collect();
            let ys: Vec<f64> = (0..len).map(|i| match i % 11 { 5 => f64::NEG_INFINITY, _ => (i as f64 * 1.3).cos() * 1e-3 }).collect();
            assert_eq!(CoMoments::of_pairs(&xs, &ys), of_pairs_portable(&xs, &ys), "{len} pairs");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let shifts = [xs.first().copied().unwrap_or(0.0), 0.25];
                // SAFETY: the processor has AVX2 (checked just above).
                let (first, second) = unsafe { (avx2::first_sums(&xs, &ys, shifts), avx2::second_sums(&xs, &ys, [shifts[0], 0.25, 0.5, -0.5])) };
                assert_eq!(first.map(f64::to_bits), lane_sums(&xs, &ys, shifts, first_sums).map(f64::to_bits), "{len} pairs");
                assert_eq!(second.map(f64::to_bits), lane_sums(&xs, &ys, [shifts[0], 0.25, 0.5, -0.5], second_sums).map(f64::to_bits));
            }
        }
    }

    #[test]
    fn remove_undoes_update() {
        let mut m = from_pairs(&[(1.0, 2.0), (2.0, 1.0), (4.0, 5.0)]);
        m.update(10.0, -3.0);
        m.remove(10.0, -3.0);
        let expected = from_pairs(&[(1.0, 2.0), (2.0, 1.0), (4.0, 5.0)]);
        assert!((m.pearson_r().unwrap() - expected.pearson_r().unwrap()).abs() < 1e-14);
        m.remove(1.0, 2.0);
        m.remove(2.0, 1.0);
        m.remove(4.0, 5.0);
        assert_eq!(m, CoMoments::default());
    }

    #[test]
    fn constant_or_short_series_have_no_r() {
        assert_eq!(from_pairs(&[(1.0, 2.0)]).pearson_r(), None);
        assert_eq!(from_pairs(&[(3.0, 2.0), (3.0, 5.0), (3.0, 1.0)]).pearson_r(), None);
        let mut split = from_pairs(&[(1e12, 1.0), (1e12, 2.0)]);
        split.merge(&from_pairs(&[(1e12, 4.0)]));
        assert_eq!(split.pearson_r(), None);
    }

    #[test]
    fn perfect_lines_are_clamped_to_unit() {
        let up = from_pairs(&[(1.0, 3.0), (2.0, 5.0), (3.0, 7.0), (4.0, 9.0)]);
        assert!((up.pearson_r().unwrap() - 1.0).abs() < 1e-15);
        let down = from_pairs(&[(1.0, 3.0), (2.0, 1.0), (3.0, -1.0)]);
        assert!((down.pearson_r().unwrap() + 1.0).abs() < 1e-15);
    }
}
