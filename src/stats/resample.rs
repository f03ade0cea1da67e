//! Resampling a series to a fixed number of points (for pictures: sparklines,
//! terminal charts), treating NaN and ±inf as missing.

/// The mean of the finite values in each of `width` equal runs of `values`
/// (None where a run has none). With no more values than `width`, each value
/// is its own run: a short series is not stretched.
pub fn bucket_means(values: &[f64], width: usize) -> Vec<Option<f64>> {
    let n = values.len();
    let buckets = n.min(width);
    (0..buckets)
        .map(|bucket| {
            let (start, end) = (bucket * n / buckets, (bucket + 1) * n / buckets);
            // A running mean: a sum of values near f64::MAX would overflow.
            let (mean, count) = values[start..end]
                .iter()
                .filter(|v| v.is_finite())
                .fold((0.0, 0usize), |(m, c), v| (m + (v - m) / (c + 1) as f64, c + 1));
            (count > 0).then_some(mean)
        })
        .collect()
}

/// Where `v` lies between `lo` and `hi` (0 to 1), computed on halves so that
/// a range wider than f64::MAX (from −1e308 to 1e308) does not overflow.
pub fn position(v: f64, lo: f64, hi: f64) -> f64 {
    (v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5)
}

/// The smallest and largest of the present values, if any.
pub fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().filter(|v| v.is_finite()).fold(None, |range, v| match range {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_average_runs_and_keep_gaps() {
        assert_eq!(bucket_means(&[1.0, 3.0, f64::NAN, f64::NAN, 5.0, 7.0], 3), vec![Some(2.0), None, Some(6.0)]);
        assert_eq!(bucket_means(&[1.0, 2.0], 40), vec![Some(1.0), Some(2.0)]);
        assert_eq!(bucket_means(&[], 40), Vec::<Option<f64>>::new());
        assert_eq!(bucket_means(&[1.0, 2.0, 3.0], 2), vec![Some(1.0), Some(2.5)]);
        assert_eq!(finite_range([3.0, f64::INFINITY, -1.0, f64::NAN]), Some((-1.0, 3.0)));
        assert_eq!(finite_range([f64::NAN]), None);
        assert_eq!(bucket_means(&[1e308, 1e308], 1), vec![Some(1e308)], "no overflow");
    }
}
