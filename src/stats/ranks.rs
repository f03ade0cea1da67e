//! Rank-based statistics: average ranks with ties (scipy's `rankdata`),
//! Spearman's rho, and the Mann–Whitney U test.

// libm (a port of musl) rather than statrs: statrs's erfc is off by ~5e-11
// relative at moderate z, libm's within an ulp or two.
use libm::erfc;

use super::pearson::p_value;

/// 1-based ranks of `values`, ties getting the average of their ranks, plus
/// the sizes of the tie groups (for tie corrections).
pub fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let order = Order::of(values);
    ranks_in_order(values.len(), |start, k| order.same(values, start, k), |k| order.position(k))
}

/// Positions of `values` in ascending order (`f64::total_cmp`; ties in any
/// order).
pub fn sorted_positions(values: &[f64]) -> Vec<usize> {
    let order = Order::of(values);
    (0..values.len()).map(|k| order.position(k)).collect()
}

/// The positions of some values in ascending order (`f64::total_cmp`), as
/// 64-bit words: the value's order-preserving bits (`total_cmp`'s order as
/// an unsigned integer), truncated to make room below for its position
/// (mask `low`). An LSD radix sort orders the words by their top 33 bits
/// (three passes); words equal there — mostly values close together — are
/// ordered by a sort of the (short) run's words themselves, which orders by
/// the rest of the key, then the position; values with the same whole key
/// (equal, or within about 2⁻³⁸ of each other at 10⁴ values) are put in
/// exact order by comparison. About twice as fast as sorting `(value,
/// position)` pairs for the 10⁴–10⁵ values of a series. Beyond 2³² values,
/// plain positions sorted by comparison (`low` all ones, no key).
struct Order {
    words: Vec<u64>,
    low: u64,
    /// Where the key starts (64: no key).
    shift: u32,
}

/// `f64::total_cmp`'s order as an unsigned integer.
fn order_bits(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

impl Order {
    fn of(values: &[f64]) -> Self {
        let bits = (usize::BITS - values.len().leading_zeros()).max(1);
        if bits > 32 {
            let mut words: Vec<u64> = (0..values.len() as u64).collect();
            words.sort_unstable_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
            return Self { words, low: u64::MAX, shift: 64 };
        }
        let low = (1u64 << bits) - 1;
        let mut words: Vec<u64> = values.iter().enumerate().map(|(i, &v)| (order_bits(v) & !low) | i as u64).collect();
        // The words start in position order and the sort is stable.
        radix_sort_high(&mut words);
        // Runs equal in the radix sort's bits, ordered by the whole word;
        // inside them, runs of the same key, ordered by value.
        let runs = |words: &mut [u64], same: &dyn Fn(u64, u64) -> bool, sort: &mut dyn FnMut(&mut [u64])| {
            let mut start = 0;
            while start < words.len() {
                let mut end = start + 1;
                while end < words.len() && same(words[start], words[end]) {
                    end += 1;
                }
                if end - start > 1 {
                    sort(&mut words[start..end]);
                }
                start = end;
            }
        };
        let by_value = |a: &u64, b: &u64| values[(a & low) as usize].total_cmp(&values[(b & low) as usize]);
        runs(&mut words, &|a, b| (a ^ b) >> RADIX_SHIFT == 0, &mut |run| {
            run.sort_unstable();
            runs(run, &|a, b| (a ^ b) & !low == 0, &mut |same_key| same_key.sort_unstable_by(by_value));
        });
        Self { words, low, shift: bits }
    }

    #[inline]
    fn position(&self, k: usize) -> usize {
        (self.words[k] & self.low) as usize
    }

    /// Whether the k-th and (k−1)-th values may be equal: values that differ
    /// in key differ, save −0 and +0 (adjacent keys).
    #[inline]
    fn may_equal_previous(&self, k: usize) -> bool {
        if self.shift == 64 {
            return true;
        }
        let key = |w: u64| w >> self.shift;
        let (before, this) = (key(self.words[k - 1]), key(self.words[k]));
        before == this || (before == order_bits(-0.0) >> self.shift && this == order_bits(0.0) >> self.shift)
    }

    /// Whether the k-th value equals the start-th, all between being equal
    /// (`==`: −0 ties with +0, NaN with nothing); the values are read only
    /// when the keys allow it.
    #[inline]
    fn same(&self, values: &[f64], start: usize, k: usize) -> bool {
        self.may_equal_previous(k) && values[self.position(k)] == values[self.position(start)]
    }

    /// Calls `group(start, end)` for each run `start..end` of the order whose
    /// values are equal, in ascending order.
    fn tie_groups(&self, values: &[f64], group: impl FnMut(usize, usize)) {
        tie_groups(self.words.len(), |start, k| self.same(values, start, k), group);
    }
}

/// Calls `group(start, end)` for each run `start..end` of `0..len` in which
/// `same(start, k)` holds for every k (ascending values: the k-th equals the
/// run's first).
fn tie_groups(len: usize, same: impl Fn(usize, usize) -> bool, mut group: impl FnMut(usize, usize)) {
    let mut start = 0;
    while start < len {
        let mut end = start + 1;
        while end < len && same(start, end) {
            end += 1;
        }
        group(start, end);
        start = end;
    }
}

/// Where [`radix_sort_high`]'s digits start: the words' top 33 bits.
const RADIX_SHIFT: u32 = 64 - 3 * 11;

/// Sorts `words` (stably) by their top 33 bits: an LSD radix sort in three
/// passes of 11-bit digits (2,048 buckets: the counts stay in the L1
/// cache), a pass skipped when every word has the same digit.
fn radix_sort_high(words: &mut Vec<u64>) {
    const DIGIT: u32 = 11;
    const BUCKETS: usize = 1 << DIGIT;
    const PASSES: usize = 3;
    let digit = |w: u64, pass: usize| ((w >> (RADIX_SHIFT + pass as u32 * DIGIT)) as u32 & (BUCKETS as u32 - 1)) as usize;
    if words.len() < 2 {
        return;
    }
    let mut counts = vec![[0u32; BUCKETS]; PASSES];
    for &w in words.iter() {
        for (pass, counts) in counts.iter_mut().enumerate() {
            counts[digit(w, pass)] += 1;
        }
    }
    let mut spare = vec![0u64; words.len()];
    for (pass, counts) in counts.iter_mut().enumerate() {
        if counts[digit(words[0], pass)] as usize == words.len() {
            continue;
        }
        let mut next = 0;
        for count in counts.iter_mut() {
            (*count, next) = (next, next + *count);
        }
        for &w in words.iter() {
            let at = &mut counts[digit(w, pass)];
            spare[*at as usize] = w;
            *at += 1;
        }
        std::mem::swap(words, &mut spare);
    }
}

/// Average ranks (1-based, ties sharing the mean of their ranks) and tie
/// group sizes of `len` values given in ascending order: the k-th smallest
/// is `value(k)`, at position `position(k)` of the output.
pub fn average_ranks_in_order(len: usize, value: impl Fn(usize) -> f64, position: impl Fn(usize) -> usize) -> (Vec<f64>, Vec<usize>) {
    ranks_in_order(len, |start, k| value(k) == value(start), position)
}

/// [`average_ranks_in_order`] with ties told by `same` (see [`tie_groups`]).
fn ranks_in_order(len: usize, same: impl Fn(usize, usize) -> bool, position: impl Fn(usize) -> usize) -> (Vec<f64>, Vec<usize>) {
    let (mut ranks, mut ties) = (vec![0.0; len], Vec::new());
    tie_groups(len, same, |start, end| {
        // Positions start..end (0-based) share ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        (start..end).for_each(|k| ranks[position(k)] = average);
        if end - start > 1 {
            ties.push(end - start);
        }
    });
    (ranks, ties)
}

/// Spearman's rho and its p-value, as `scipy.stats.spearmanr`: Pearson's r
/// of the average ranks, with the t-distribution p-value (the same as
/// Pearson's). rho is `None` for fewer than 2 pairs or a constant series; the
/// p-value also for n = 2 (scipy returns NaN there).
pub fn spearman(xs: &[f64], ys: &[f64]) -> (Option<f64>, Option<f64>) {
    spearman_with_y_ranks(xs, &average_ranks(ys).0)
}

/// [`spearman`] from x's values and y's average ranks `ry` (same length):
/// x's ranks follow from x's order and its tie groups (never stored by
/// position). The mean of average ranks is exactly (n + 1)/2 and ranks are
/// multiples of ½, so the centred sums are exact up to n ≈ 10⁵ (within an
/// ulp or so beyond), whatever order they are added in: one pass, no
/// running means.
pub fn spearman_with_y_ranks(xs: &[f64], ry: &[f64]) -> (Option<f64>, Option<f64>) {
    debug_assert_eq!(xs.len(), ry.len());
    let n = xs.len();
    let mean = (n as f64 + 1.0) / 2.0;
    let order = Order::of(xs);
    // x's ranks in x's order (written in sequence), and the tie term
    // Σ (t³ − t) of its tie groups.
    let mut ranks = Vec::with_capacity(n);
    let mut tie_term = 0u128;
    order.tie_groups(xs, |start, end| {
        if end - start == 1 {
            ranks.push((start + 1) as f64);
        } else {
            let t = (end - start) as u128;
            tie_term += t * t * t - t;
            ranks.resize(end, (start + 1 + end) as f64 / 2.0);
        }
    });
    // Σ (rank − mean)² = ((n³ − n) − Σ (t³ − t)) / 12, a multiple of ¼:
    // the same exact value the sum of squares gives.
    let n3 = n as u128;
    let sxx = ((n3 * n3 * n3 - n3) - tie_term) as f64 / 12.0;
    let (mut xy, mut yy) = ([0.0; 4], [0.0; 4]);
    for (k, &rank) in ranks.iter().enumerate() {
        let y = ry[order.position(k)] - mean;
        xy[k % 4] += (rank - mean) * y;
        yy[k % 4] += y * y;
    }
    rho_and_p(n, sxx, yy.iter().sum(), xy.iter().sum())
}

/// Spearman's rho and p-value from n and the rank sums centred on (n + 1)/2.
fn rho_and_p(n: usize, sxx: f64, syy: f64, sxy: f64) -> (Option<f64>, Option<f64>) {
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

    /// Ranks by the definition: a comparison sort, ties by `==`.
    fn naive_ranks(values: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut ranks = vec![0.0; values.len()];
        let mut start = 0;
        while start < order.len() {
            let end = (start..order.len()).find(|&k| values[order[k]] != values[order[start]]).unwrap_or(order.len());
            let end = end.max(start + 1);
            (start..end).for_each(|k| ranks[order[k]] = (start + 1 + end) as f64 / 2.0);
            start = end;
        }
        ranks
    }

    #[test]
    fn radix_order_of_near_ties_duplicates_and_zeros() {
        // Thousands of values, many equal, many an ulp or a few apart (the
        // same radix digits, the same truncated key), ±0, tiny and huge.
        let mut values = Vec::new();
        for i in 0..6000u64 {
            let base = [0.001, 2.5, -7.25, 1e6, -1e-9, 123.456][(i % 6) as usize] * ((i % 97) as f64 - 48.0);
            values.push(match i % 11 {
                0 => f64::from_bits(base.to_bits() + (i % 3)),
                1 => -0.0,
                2 => 0.0,
                3 => f64::MIN_POSITIVE * (i % 5) as f64,
                4 => -f64::MIN_POSITIVE * (i % 7) as f64,
                _ => base,
            });
        }
        let as_bits = |order: &[usize]| order.iter().map(|&i| values[i].to_bits()).collect::<Vec<_>>();
        let mut expected: Vec<usize> = (0..values.len()).collect();
        expected.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        assert_eq!(as_bits(&sorted_positions(&values)), as_bits(&expected));
        let ranks = naive_ranks(&values);
        assert_eq!(average_ranks(&values).0, ranks);
        // Spearman from x's order equals Pearson's sums over stored ranks.
        let ys: Vec<f64> = (0..values.len()).map(|i| ((i * 7919) % 1013) as f64).collect();
        let ry = naive_ranks(&ys);
        let mean = (values.len() as f64 + 1.0) / 2.0;
        let sum = |f: &dyn Fn(usize) -> f64| (0..values.len()).map(f).sum::<f64>();
        let (sxx, syy) = (sum(&|i| (ranks[i] - mean).powi(2)), sum(&|i| (ry[i] - mean).powi(2)));
        let sxy = sum(&|i| (ranks[i] - mean) * (ry[i] - mean));
        assert_eq!(spearman_with_y_ranks(&values, &ry), rho_and_p(values.len(), sxx, syy, sxy), "exact sums alike");
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
