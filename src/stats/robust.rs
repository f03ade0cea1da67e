//! Robust location and spread for short series: the median and the median
//! absolute deviation (MAD), as `rank_causes` uses them on a handful of
//! reference points.

/// Turns a MAD into a standard deviation for normal data (`1 / Φ⁻¹(3/4)`).
pub const MAD_TO_SD: f64 = 1.4826;

/// The median; the mean of the two middle values for an even count, NaN for
/// no values. NaN inputs sort last (callers pass finite values).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        // Halves first: the sum of two values near f64::MAX overflows.
        _ => 0.5 * sorted[n / 2 - 1] + 0.5 * sorted[n / 2],
    }
}

/// `MAD_TO_SD · median |x − center|`: the MAD around a given center, scaled
/// to a standard deviation.
pub fn scaled_mad(values: &[f64], center: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|x| (x - center).abs()).collect();
    MAD_TO_SD * median(&deviations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn mad_of_a_constant_is_zero() {
        assert_eq!(scaled_mad(&[100.0, 100.0, 100.0], 100.0), 0.0);
        // deviations 1, 0, 1 -> median 1
        assert_eq!(scaled_mad(&[1.0, 2.0, 3.0], 2.0), MAD_TO_SD);
    }
}
