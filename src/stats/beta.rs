//! The regularized incomplete beta function `I_x(a, b)`, computed in log space.
//!
//! The Pearson p-value is `I_{1−r²}((n−2)/2, 1/2)`. We do not call
//! `statrs::function::beta::beta_reg` for it, for two reasons:
//!
//! * statrs returns `I_x` as a plain `f64`, so every p-value below ~1e-308
//!   becomes 0 and rankings tie; perfcorr needs `ln I_x` (and so `log10 p`),
//!   which stays finite for p far below the Float64 range.
//! * statrs forms the prefactor from `lnΓ(a+b) − lnΓ(a) − lnΓ(b)`; at the large
//!   `a` of a long series (a = 10⁴ … 5·10⁴) the two `lnΓ` values are ~10⁵, so
//!   rounding alone costs about 1e-16 × 10⁵ = 1e-11 in ln p (an estimate, not a
//!   measurement of statrs). We compute `lnΓ(a+b) − lnΓ(a)` directly from
//!   Stirling's series with `ln_1p`, keeping the difference accurate to a few
//!   ulps (see `ln_gamma_ratio`); against 50-digit values over the golden
//!   grid (n ≤ 100,000) p agrees to 5.2e-12 and log10 p to 8.1e-12 relative.
//!
//! The continued fraction itself is the classic modified-Lentz evaluation of
//! the beta continued fraction (DLMF 8.17.22), used on the side of the
//! symmetry `I_x(a,b) = 1 − I_{1−x}(b,a)` where it converges quickly.

use statrs::function::gamma::ln_gamma;

/// Below this argument `ln_gamma_ratio` shifts upwards with the recurrence
/// `Γ(z+1) = zΓ(z)` so Stirling's series has ≤ 1e-17 truncation error.
const STIRLING_MIN: f64 = 10.0;
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
const CF_MAX_ITERATIONS: usize = 100_000;
const CF_EPSILON: f64 = 1e-16;
const CF_TINY: f64 = 1e-300;

/// `lnΓ(z) − [(z − ½)·ln z − z + ½·ln 2π]` for `z ≥ STIRLING_MIN`: the tail of
/// Stirling's series, `Σ B₂ₖ / (2k(2k−1) z^(2k−1))` for k = 1..7.
fn stirling_tail(z: f64) -> f64 {
    let w = 1.0 / (z * z);
    (1.0 / 12.0
        + w * (-1.0 / 360.0
            + w * (1.0 / 1260.0
                + w * (-1.0 / 1680.0
                    + w * (1.0 / 1188.0 + w * (-691.0 / 360_360.0 + w * (1.0 / 156.0)))))))
        / z
}

/// `lnΓ(a + b) − lnΓ(a)` for `a > 0`, `b ≥ 0`, accurate even when both
/// `lnΓ` values are large and nearly equal.
pub fn ln_gamma_ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return 0.0;
    }
    // Shift a up to the range where Stirling's series is accurate:
    // lnΓ(a+b) − lnΓ(a) = [lnΓ(a+k+b) − lnΓ(a+k)] − Σ_{i<k} ln((a+i+b)/(a+i)).
    let mut shifted = a;
    let mut correction = 0.0;
    while shifted < STIRLING_MIN {
        correction += (b / shifted).ln_1p();
        shifted += 1.0;
    }
    let a = shifted;
    // (a+b−½)ln(a+b) − (a−½)ln a − b = (a−½)·ln(1 + b/a) + b·ln(a+b) − b
    let main = (a - 0.5) * (b / a).ln_1p() + b * (a + b).ln() - b;
    main + (stirling_tail(a + b) - stirling_tail(a)) - correction
}

/// `lnΓ(z)` for `z > 0`: Stirling's series for large z, statrs' Lanczos
/// approximation (≈1e-15 relative) below.
pub fn ln_gamma_accurate(z: f64) -> f64 {
    if z >= STIRLING_MIN {
        (z - 0.5) * z.ln() - z + LN_SQRT_2PI + stirling_tail(z)
    } else {
        ln_gamma(z)
    }
}

/// `ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a+b)` for `a, b > 0`.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    let (large, small) = if a >= b { (a, b) } else { (b, a) };
    ln_gamma_accurate(small) - ln_gamma_ratio(large, small)
}

/// Continued fraction for `I_x(a, b)` (modified Lentz); converges quickly for
/// `x < (a + 1) / (a + b + 2)`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    let clamp_tiny = |v: f64| if v.abs() < CF_TINY { CF_TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / clamp_tiny(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=CF_MAX_ITERATIONS {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / clamp_tiny(1.0 + even * d);
        c = clamp_tiny(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / clamp_tiny(1.0 + odd * d);
        c = clamp_tiny(1.0 + odd / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < CF_EPSILON {
            break;
        }
    }
    h
}

/// `ln I_x(a, b)` for `a, b > 0`, given both `x` and `y = 1 − x` so the caller
/// can supply whichever of the two it knows without cancellation.
///
/// Returns `-inf` for `x = 0` and `0` for `x = 1`; the result is finite for
/// any `0 < x`, however small `I_x` is.
pub fn ln_beta_reg(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if y <= 0.0 {
        return 0.0;
    }
    if x < (a + 1.0) / (a + b + 2.0) {
        let ln_front = a * x.ln() + b * y.ln() - ln_beta(a, b) - a.ln();
        ln_front + beta_continued_fraction(a, b, x).ln()
    } else {
        // I_x(a, b) = 1 − I_y(b, a); on this side I_y(b, a) < ~½, so the
        // subtraction loses nothing that matters for a value this large.
        let complement = ln_beta_reg(b, a, y, x).exp();
        (-complement).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn gamma_ratio_matches_direct_formula_for_small_arguments() {
        // Γ(3.5)/Γ(3) = 3.32335097044784... / 2
        let expected = (3.323_350_970_447_843_f64 / 2.0).ln();
        assert!(rel(ln_gamma_ratio(3.0, 0.5), expected) < 1e-14);
        // lnΓ(a+1) − lnΓ(a) = ln a exactly.
        for a in [0.5, 1.0, 7.25, 12.0, 1e4, 1e7] {
            assert!((ln_gamma_ratio(a, 1.0) - f64::ln(a)).abs() < 1e-14 * f64::ln(a).abs().max(1.0));
        }
    }

    #[test]
    fn beta_reg_known_values() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1−x)^b.
        assert!(rel(ln_beta_reg(1.0, 1.0, 0.3, 0.7).exp(), 0.3) < 1e-14);
        assert!(rel(ln_beta_reg(5.0, 1.0, 0.2, 0.8), 5.0 * f64::ln(0.2)) < 1e-14);
        let expected = 1.0 - 0.9_f64.powf(2.5);
        assert!(rel(ln_beta_reg(1.0, 2.5, 0.1, 0.9).exp(), expected) < 1e-14);
        // Far below the Float64 range, still finite: I_x(a, 1) = x^a.
        assert!(rel(ln_beta_reg(5000.0, 1.0, 1e-3, 1.0 - 1e-3), 5000.0 * f64::ln(1e-3)) < 1e-13);
    }

    #[test]
    fn beta_reg_edges() {
        assert_eq!(ln_beta_reg(3.0, 0.5, 0.0, 1.0), f64::NEG_INFINITY);
        assert_eq!(ln_beta_reg(3.0, 0.5, 1.0, 0.0), 0.0);
    }
}
