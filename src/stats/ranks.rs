//! Rank-based statistics: average ranks with ties (scipy's `rankdata`),
//! Spearman's rho, and the Mann–Whitney U test.

// libm (a port of musl) rather than statrs: statrs's erfc is off by ~5e-11
// relative at moderate z, libm's within an ulp or two.
use libm::erfc;

use super::pearson::p_value;

/// 1-based ranks of `values`, ties getting the average of their ranks, plus
/// the sizes of the tie groups (for tie corrections).
pub fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    match packed_order(values) {
        Some((words, low)) => {
            let at = |k: usize| (words[k] & low) as usize;
            average_ranks_in_order(words.len(), |k| values[at(k)], at)
        }
        None => {
            let order = comparison_order(values);
            average_ranks_in_order(order.len(), |k| values[order[k]], |k| order[k])
        }
    }
}

/// Positions of `values` in ascending order (`f64::total_cmp`; ties in any
/// order).
pub fn sorted_positions(values: &[f64]) -> Vec<usize> {
    match packed_order(values) {
        Some((words, low)) => words.into_iter().map(|w| (w & low) as usize).collect(),
        None => comparison_order(values),
    }
}

fn comparison_order(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    order
}

/// The order of `values` as 64-bit words sorted by a radix sort: each word
/// holds the order-preserving bits of the value rounded to f32 (rounding
/// keeps the order, ties aside) above its position (mask `low`, returned) —
/// about twice as fast as sorting `(value, position)` pairs for the 10⁴–10⁵
/// values of a series, the radix sort skipping the unused high bytes.
/// Values with the same f32 key are then put in exact order by a comparison
/// sort of their (short) run. `None` beyond 2³² values.
fn packed_order(values: &[f64]) -> Option<(Vec<u64>, u64)> {
    let bits = (usize::BITS - values.len().leading_zeros()).max(1);
    if bits > 32 {
        return None;
    }
    let low = (1u64 << bits) - 1;
    let key = |v: f64| {
        let b = (v as f32).to_bits();
        u64::from(if b >> 31 == 1 { !b } else { b | (1 << 31) }) << bits
    };
    let mut words: Vec<u64> = values.iter().enumerate().map(|(i, &v)| key(v) | i as u64).collect();
    radsort::sort(&mut words);
    let mut start = 0;
    while start < words.len() {
        let mut end = start + 1;
        while end < words.len() && words[end] & !low == words[start] & !low {
            end += 1;
        }
        if end - start > 1 {
            words[start..end].sort_unstable_by(|a, b| values[(a & low) as usize].total_cmp(&values[(b & low) as usize]));
        }
        start = end;
    }
    Some((words, low))
}

/// Average ranks (1-based, ties sharing the mean of their ranks) and tie
/// group sizes of `len` values given in ascending order: the k-th smallest
/// is `value(k)`, at position `position(k)` of the output.
pub fn average_ranks_in_order(len: usize, value: impl Fn(usize) -> f64, position: impl Fn(usize) -> usize) -> (Vec<f64>, Vec<usize>) {
    let mut ranks = vec![0.0; len];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < len {
        let first = value(start);
        let mut end = start + 1;
        while end < len && value(end) == first {
            end += 1;
        }
        // Positions start..end (0-based) share ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        (start..end).for_each(|k| ranks[position(k)] = average);
        if end - start > 1 {
            ties.push(end - start);
        }
        start = end;
    }
    (ranks, ties)
}

/// Spearman's rho and its p-value, as `scipy.stats.spearmanr`: Pearson's r
/// of the average ranks, with the t-distribution p-value (the same as
/// Pearson's). rho is `None` for fewer than 2 pairs or a constant series; the
/// p-value also for n = 2 (scipy returns NaN there).
pub fn spearman(xs: &[f64], ys: &[f64]) -> (Option<f64>, Option<f64>) {
    spearman_of_ranks(&average_ranks(xs).0, &average_ranks(ys).0)
}

/// [`spearman`] from the average ranks of x and y (same length). The mean
/// of average ranks is exactly (n + 1)/2, and ranks are multiples of ½, so
/// the centred sums are exact up to n ≈ 10⁵ (and within an ulp or so
/// beyond): one pass, no running means.
pub fn spearman_of_ranks(rx: &[f64], ry: &[f64]) -> (Option<f64>, Option<f64>) {
    let n = rx.len();
    let mean = (n as f64 + 1.0) / 2.0;
    // Four lanes: exact sums either way, but no chain of dependent adds.
    let (mut xx, mut yy, mut xy) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    let (chunks_x, chunks_y) = (rx.chunks_exact(4), ry.chunks_exact(4));
    let tail = chunks_x.remainder().iter().zip(chunks_y.remainder());
    for (cx, cy) in chunks_x.zip(chunks_y) {
        for lane in 0..4 {
            let (dx, dy) = (cx[lane] - mean, cy[lane] - mean);
            xx[lane] += dx * dx;
            yy[lane] += dy * dy;
            xy[lane] += dx * dy;
        }
    }
    for (&x, &y) in tail {
        let (dx, dy) = (x - mean, y - mean);
        xx[0] += dx * dx;
        yy[0] += dy * dy;
        xy[0] += dx * dy;
    }
    let (sxx, syy, sxy) = (xx.iter().sum::<f64>(), yy.iter().sum::<f64>(), xy.iter().sum::<f64>());
    let rho = match n {
        _ if n < 2 || sxx <= 0.0 || syy <= 0.0 => None,
        2 => Some(sxy.signum()),
        _ => {
            // One square root of the product: exactly 1 for identical ranks.
            let scale = (sxx * syy).sqrt();
            let scale = if scale.is_normal() { scale } else { sxx.sqrt() * syy.sqrt() };
            Some((sxy / scale).clamp(-1.0, 1.0))
        }
    };
    let p = rho.filter(|_| n > 2).and_then(|rho| p_value(rho, n as f64));
    (rho, p)
}

/// Two-sided Mann–Whitney U p-value of `first` against `second`, as
/// `scipy.stats.mannwhitneyu(first, second, method='asymptotic')`: normal
/// approximation with tie correction and continuity correction. `None` when
/// either sample is empty or the statistic is undefined (NaN in scipy).
pub fn mann_whitney_p(first: &[f64], second: &[f64]) -> Option<f64> {
    let (n1, n2) = (first.len() as f64, second.len() as f64);
    if first.is_empty() || second.is_empty() {
        return None;
    }
    let combined: Vec<f64> = first.iter().chain(second).copied().collect();
    let (ranks, ties) = average_ranks(&combined);
    let rank_sum_first: f64 = ranks[..first.len()].iter().sum();
    let u1 = rank_sum_first - n1 * (n1 + 1.0) / 2.0;
    let u = u1.max(n1 * n2 - u1);
    let n = n1 + n2;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    // Division by a zero sigma gives ±inf or NaN, exactly as scipy's does.
    let z = (u - n1 * n2 / 2.0 - 0.5) / sigma;
    if z.is_nan() {
        return None;
    }
    // 2·Φ̄(z) = erfc(z/√2), accurate far into the tail.
    Some(erfc(z / std::f64::consts::SQRT_2).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::CoMoments;

    #[test]
    fn ranks_average_ties() {
        let (ranks, ties) = average_ranks(&[10.0, 20.0, 10.0, 5.0, 20.0, 20.0]);
        assert_eq!(ranks, vec![2.5, 5.0, 2.5, 1.0, 5.0, 5.0]);
        assert_eq!(ties, vec![2, 3]);
    }

    #[test]
    fn radix_order_is_the_exact_order() {
        // Values equal as f32 but not as f64, signed zeros, infinities, ties.
        let tiny = f64::EPSILON;
        let values = [1.0 + tiny, 1.0, -0.0, 0.0, f64::INFINITY, -3.5, 1.0 + 2.0 * tiny, -3.5, f64::NEG_INFINITY, 1e300, 1e-300, 1.0];
        let mut expected: Vec<usize> = (0..values.len()).collect();
        expected.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let got = sorted_positions(&values);
        let as_values = |order: &[usize]| order.iter().map(|&i| values[i].to_bits()).collect::<Vec<_>>();
        assert_eq!(as_values(&got), as_values(&expected));
        let (ranks, ties) = average_ranks(&values);
        // -0 and 0 tie (==), as do the two -3.5 and the two 1.0.
        assert_eq!(ranks, vec![9.0, 7.5, 4.5, 4.5, 12.0, 2.5, 10.0, 2.5, 1.0, 11.0, 6.0, 7.5]);
        assert_eq!(ties, vec![2, 2, 2]);
    }

    #[test]
    fn spearman_of_ranks_matches_pearson_of_ranks() {
        let xs: Vec<f64> = (0..501).map(|i| ((i * 37) % 101) as f64).collect();
        let ys: Vec<f64> = (0..501).map(|i| ((i * 53) % 89) as f64 + (i % 7) as f64).collect();
        let (rx, ry) = (average_ranks(&xs).0, average_ranks(&ys).0);
        let mut moments = CoMoments::default();
        rx.iter().zip(&ry).for_each(|(&x, &y)| moments.update(x, y));
        let (rho, _) = spearman(&xs, &ys);
        assert!((rho.unwrap() - moments.pearson_r().unwrap()).abs() < 1e-14);
        assert_eq!(spearman(&[3.0; 10], &ys[..10]).0, None, "a constant series");
    }

    #[test]
    fn scipy_examples() {
        // scipy.stats.spearmanr([1,2,2,4,5], [2,4,5,4,5]) = (0.6488856845230502, 0.23615367738664078)
        let (rho, p) = spearman(&[1.0, 2.0, 2.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]);
        assert!((rho.unwrap() - 0.6488856845230502).abs() < 1e-14);
        assert!((p.unwrap() / 0.23615367738664078 - 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 2.0], &[3.0, 1.0]).1, None);
        // mannwhitneyu([1,2,3,4,5,9], [3,6,7,8,8,10,11], method='asymptotic').pvalue
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0, 9.0], &[3.0, 6.0, 7.0, 8.0, 8.0, 10.0, 11.0]).unwrap();
        assert!((p / 0.06256560268080887 - 1.0).abs() < 1e-12, "{p}");
        assert_eq!(mann_whitney_p(&[1.0, 1.0, 1.0], &[1.0, 1.0]), Some(1.0));
        assert_eq!(mann_whitney_p(&[], &[1.0]), None);
    }
}
