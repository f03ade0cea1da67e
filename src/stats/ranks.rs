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
/// (three passes); the runs of words equal there — values close together,
/// mostly two or three — are put in exact order by the values' whole order
/// bits, then the position (the truncated key serves the tie search: values
/// whose keys differ differ). About twice as fast as sorting `(value,
/// position)` pairs for the 10⁴–10⁵ values of a series. Beyond 2³² values,
/// plain positions sorted by comparison (`low` all ones, no key).
struct Order {
    words: Vec<u64>,
    low: u64,
    /// Where the key starts (64: no key).
    shift: u32,
}

/// `f64::total_cmp`'s order as an unsigned integer (no branch: negative
/// values have every bit flipped, others the sign bit only).
#[inline]
fn order_bits(v: f64) -> u64 {
    let b = v.to_bits();
    b ^ (((b as i64) >> 63) as u64 | (1 << 63))
}

impl Order {
    fn of(values: &[f64]) -> Self {
        Self::reusing(values, Vec::new(), &mut Vec::new())
    }

    /// [`Self::of`] in `words` and `spare`, buffers of earlier orders (their
    /// contents do not matter), to spare the allocations and fresh pages.
    fn reusing(values: &[f64], mut words: Vec<u64>, spare: &mut Vec<u64>) -> Self {
        words.clear();
        let bits = (usize::BITS - values.len().leading_zeros()).max(1);
        if bits > 32 {
            words.extend(0..values.len() as u64);
            words.sort_unstable_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
            return Self { words, low: u64::MAX, shift: 64 };
        }
        let low = (1u64 << bits) - 1;
        words.extend(values.iter().enumerate().map(|(i, &v)| (order_bits(v) & !low) | i as u64));
        // The words start in position order and the sort is stable.
        radix_sort_high(&mut words, spare);
        // Runs equal in the radix sort's bits put in the exact order: by
        // the value's whole order bits, then the position.
        let exact = |w: u64| (order_bits(values[(w & low) as usize]), w & low);
        let same_digits = BitRuns::of(words.len(), |k| (words[k] ^ words[k - 1]) >> RADIX_SHIFT == 0);
        same_digits.for_each(|start, end| sort_run(&mut words[start..end], exact));
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

/// Sorts a short run of words by `key`: two or three words (most runs the
/// radix sort leaves) without a branch, up to 32 by insertion.
fn sort_run<K: Ord + Copy>(run: &mut [u64], key: impl Fn(u64) -> K) {
    let order2 = |a: u64, b: u64| {
        let swap = key(a) > key(b);
        (if swap { b } else { a }, if swap { a } else { b })
    };
    match run.len() {
        2 => (run[0], run[1]) = order2(run[0], run[1]),
        3 => {
            let (a, b) = order2(run[0], run[1]);
            let (b, c) = order2(b, run[2]);
            let (a, b) = order2(a, b);
            run.copy_from_slice(&[a, b, c]);
        }
        len if len > 32 => run.sort_unstable_by_key(|&w| key(w)),
        len => {
            for i in 1..len {
                let (w, k) = (run[i], key(run[i]));
                let mut j = i;
                while j > 0 && key(run[j - 1]) > k {
                    run[j] = run[j - 1];
                    j -= 1;
                }
                run[j] = w;
            }
        }
    }
}

/// Marks on `1..len` (`mark(k)`: item k belongs with item k − 1), packed
/// 64 to a word, and the runs `start..end` of items they join.
struct BitRuns {
    bits: Vec<u64>,
    len: usize,
}

impl BitRuns {
    fn of(len: usize, mark: impl Fn(usize) -> bool) -> Self {
        let mut bits = vec![0u64; len / 64 + 1];
        for (w, word) in bits.iter_mut().enumerate() {
            let first = (w * 64).max(1);
            *word = (first..((w + 1) * 64).min(len)).fold(0, |word, k| word | u64::from(mark(k)) << (k % 64));
        }
        Self { bits, len }
    }

    /// The first k ≥ `from` whose mark is `set`, or `len`.
    fn next(&self, from: usize, set: bool) -> usize {
        let mut w = from / 64;
        let flip = if set { 0 } else { u64::MAX };
        let mut word = (self.bits[w] ^ flip) & (u64::MAX << (from % 64));
        while word == 0 {
            w += 1;
            if w >= self.bits.len() {
                return self.len;
            }
            word = self.bits[w] ^ flip;
        }
        (w * 64 + word.trailing_zeros() as usize).min(self.len)
    }

    /// Calls `run(start, end)` for each run of two or more items, in order.
    fn for_each(&self, mut run: impl FnMut(usize, usize)) {
        let mut k = self.next(0, true);
        while k < self.len {
            let end = self.next(k, false);
            run(k - 1, end);
            k = if end < self.len { self.next(end, true) } else { self.len };
        }
    }
}

/// Where [`radix_sort_high`]'s digits start: the words' top 33 bits.
const RADIX_SHIFT: u32 = 64 - PASSES as u32 * DIGIT;
/// Bits per digit and passes of [`radix_sort_high`].
const DIGIT: u32 = 11;
const PASSES: usize = 3;

/// Sorts `words` (stably) by their top `PASSES × DIGIT` bits: an LSD radix
/// sort in three passes of 11-bit digits (2,048 buckets: the counts stay in
/// the L1 cache; 8-bit digits, four passes, measured slower), a pass skipped
/// when every word has the same digit. `spare`: a buffer to sort through.
fn radix_sort_high(words: &mut Vec<u64>, spare: &mut Vec<u64>) {
    const BUCKETS: usize = 1 << DIGIT;
    #[inline(always)]
    fn digit(w: u64, pass: usize) -> usize {
        ((w >> (RADIX_SHIFT + pass as u32 * DIGIT)) as usize) & (BUCKETS - 1)
    }
    if words.len() < 2 {
        return;
    }
    let mut counts = [[0u32; BUCKETS]; PASSES];
    for &w in words.iter() {
        for (pass, counts) in counts.iter_mut().enumerate() {
            counts[digit(w, pass)] += 1;
        }
    }
    spare.clear();
    spare.resize(words.len(), 0);
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
        std::mem::swap(words, spare);
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

/// [`spearman`] from x's values and y's average ranks `ry` (same length).
pub fn spearman_with_y_ranks(xs: &[f64], ry: &[f64]) -> (Option<f64>, Option<f64>) {
    Ranker::default().spearman_with_y_ranks(xs, ry)
}

/// Spearman's rho of many series, one after another, in the same buffers
/// (a series of 10⁴ values needs four of 80 kB: fresh ones cost page faults
/// and cache misses that take longer than the ranking itself).
#[derive(Default, Clone)]
pub struct Ranker {
    words: Vec<u64>,
    spare: Vec<u64>,
    sorted: Vec<f64>,
    centred_y: Vec<f64>,
}

impl Ranker {
    /// [`spearman_with_y_ranks`]: x's ranks follow from x's order and its
    /// tie groups (never stored). The mean of average ranks is exactly
    /// (n + 1)/2 and ranks are multiples of ½, so the centred sums are exact
    /// up to n ≈ 10⁵ (within an ulp or so beyond), whatever order they are
    /// added in: one pass, no running means.
    pub fn spearman_with_y_ranks(&mut self, xs: &[f64], ry: &[f64]) -> (Option<f64>, Option<f64>) {
        debug_assert_eq!(xs.len(), ry.len());
        let n = xs.len();
        let mean = (n as f64 + 1.0) / 2.0;
        let order = Order::reusing(xs, std::mem::take(&mut self.words), &mut self.spare);
        // In x's order: its values (for the ties) and y's centred ranks.
        let (sorted, cy) = (&mut self.sorted, &mut self.centred_y);
        sorted.clear();
        sorted.extend((0..n).map(|k| xs[order.position(k)]));
        cy.clear();
        cy.extend((0..n).map(|k| ry[order.position(k)] - mean));
        self.words = order.words;
        // The sums as if x had no ties (the k-th smallest has rank k + 1)...
        let (mut xy, mut yy) = ([0.0; 4], [0.0; 4]);
        for (k, &y) in cy.iter().enumerate() {
            xy[k % 4] += (k as f64 + 1.0 - mean) * y;
            yy[k % 4] += y * y;
        }
        let mut xy: f64 = xy.iter().sum();
        // ...then each tie group's ranks moved to their average, and the tie
        // term Σ (t³ − t).
        let mut tie_term = 0u128;
        BitRuns::of(n, |k| sorted[k] == sorted[k - 1]).for_each(|start, end| {
            let average = (start + 1 + end) as f64 / 2.0;
            xy += (start..end).map(|k| (average - (k as f64 + 1.0)) * cy[k]).sum::<f64>();
            let t = (end - start) as u128;
            tie_term += t * t * t - t;
        });
        // Σ (rank − mean)² = ((n³ − n) − Σ (t³ − t)) / 12, a multiple of ¼:
        // the same exact value the sum of squares gives.
        let n3 = n as u128;
        let sxx = ((n3 * n3 * n3 - n3) - tie_term) as f64 / 12.0;
        rho_and_p(n, sxx, yy.iter().sum(), xy)
    }
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
        assert_eq!(average_ranks(&values).0, naive_ranks(&values));
        // Spearman from x's order equals Pearson's sums over stored ranks.
        let ys: Vec<f64> = (0..values.len()).map(|i| ((i * 7919) % 1013) as f64).collect();
        let ry = naive_ranks(&ys);
        assert_eq!(spearman_with_y_ranks(&values, &ry), naive_spearman(&values, &ry), "exact sums alike");
    }

    /// Spearman's rho and p from ranks by the definition (sums over stored
    /// ranks).
    fn naive_spearman(xs: &[f64], ry: &[f64]) -> (Option<f64>, Option<f64>) {
        let ranks = naive_ranks(xs);
        let mean = (xs.len() as f64 + 1.0) / 2.0;
        let sum = |f: &dyn Fn(usize) -> f64| (0..xs.len()).map(f).sum::<f64>();
        let (sxx, syy) = (sum(&|i| (ranks[i] - mean).powi(2)), sum(&|i| (ry[i] - mean).powi(2)));
        rho_and_p(xs.len(), sxx, syy, sum(&|i| (ranks[i] - mean) * (ry[i] - mean)))
    }

    #[test]
    fn a_ranker_reused_ranks_each_series_afresh() {
        // Series longer and shorter than the buffers hold, tie groups at and
        // across the 64-value blocks of the tie search, runs of 2, 3, many.
        let mut ranker = Ranker::default();
        for (len, modulus) in [(5000, 97), (17, 5), (3000, 1499), (1, 1), (0, 1), (64, 2), (65, 3), (129, 64), (200, 199)] {
            let xs: Vec<f64> = (0..len).map(|i| ((i * 7919) % modulus) as f64 * 0.25 - 3.0 + (i % 2) as f64 * 1e-13).collect();
            let ry = naive_ranks(&(0..len).map(|i| ((i * 31) % 53) as f64).collect::<Vec<_>>());
            assert_eq!(ranker.spearman_with_y_ranks(&xs, &ry), naive_spearman(&xs, &ry), "{len} values");
        }
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
