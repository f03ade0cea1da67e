//! Rank-based statistics: average ranks with ties (scipy's `rankdata`),
//! Spearman's rho, and the Mann–Whitney U test.

// libm (a port of musl) rather than statrs: statrs's erfc is off by ~5e-11
// relative at moderate z, libm's within an ulp or two.
use libm::erfc;

use super::pearson::p_value;
use super::CoMoments;

/// 1-based ranks of `values`, ties getting the average of their ranks, plus
/// the sizes of the tie groups (for tie corrections).
pub fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = average);
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
    let (rx, _) = average_ranks(xs);
    let (ry, _) = average_ranks(ys);
    let mut moments = CoMoments::default();
    rx.iter().zip(&ry).for_each(|(&x, &y)| moments.update(x, y));
    let rho = moments.pearson_r();
    let p = rho.filter(|_| xs.len() > 2).and_then(|rho| p_value(rho, xs.len() as f64));
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

    #[test]
    fn ranks_average_ties() {
        let (ranks, ties) = average_ranks(&[10.0, 20.0, 10.0, 5.0, 20.0, 20.0]);
        assert_eq!(ranks, vec![2.5, 5.0, 2.5, 1.0, 5.0, 5.0]);
        assert_eq!(ties, vec![2, 3]);
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
