//! A series' points put in time order for the sorting pass (rows that came
//! out of order): placed by their slot on the reference's time grid when
//! each sits on a slot of its own, else a stable radix sort.
//!
//! Metrics come on a grid (one row a minute), and a series' points read in
//! random order are mostly a permutation of its stretch of that grid: one
//! pass finds each point's slot (`(ts − first) / step`, checked exactly),
//! another gathers the slots in order. That replaces five to six passes of
//! a byte-wise radix sort over microsecond timestamps (the radix sort was
//! 15–20 % of a run on shuffled files). A point off the grid, two points at
//! one time (taken in the order given, which only the stable sort keeps) or
//! a stretch with more than twice as many slots as points (a sparse series)
//! take the radix sort.

/// Buffers reused from series to series.
#[derive(Default, Clone)]
pub struct TimeOrder {
    /// For each slot of the grid, the index of the point on it (or `EMPTY`).
    slots: Vec<u32>,
    placed: Vec<(i64, f64)>,
}

const EMPTY: u32 = u32::MAX;

impl TimeOrder {
    /// Sorts `points` by time, stably (points at the same time stay in the
    /// order given). `step`: the reference's time step, if it has one
    /// ([`grid_step`]).
    pub fn sort(&mut self, points: &mut [(i64, f64)], step: Option<i64>) {
        if points.is_sorted_by_key(|&(ts, _)| ts) {
            return;
        }
        if step.is_some_and(|step| self.place(points, step)) {
            return;
        }
        radsort::sort_by_key(points, |&(ts, _)| ts);
    }

    /// Puts `points` in time order by their slots on the grid of `step`
    /// from the earliest point; `false`, `points` untouched, where a point
    /// is off the grid or shares its slot, or the stretch is sparse.
    fn place(&mut self, points: &mut [(i64, f64)], step: i64) -> bool {
        let Some(&(first, _)) = points.first() else { return true };
        if step <= 0 || points.len() >= EMPTY as usize {
            return false;
        }
        let (min, max) = points.iter().fold((first, first), |(lo, hi), &(ts, _)| (lo.min(ts), hi.max(ts)));
        let Some(span) = max.checked_sub(min) else { return false };
        // Compared before adding one: a span of i64::MAX on a step of 1.
        if span / step > 2 * points.len() as i64 {
            return false;
        }
        let slots = span / step + 1;
        self.slots.clear();
        self.slots.resize(slots as usize, EMPTY);
        // The slot from a multiplication, then checked exactly (a rounding
        // off by one fails the check: the radix sort then).
        let inverse = 1.0 / step as f64;
        for (i, &(ts, _)) in points.iter().enumerate() {
            let offset = ts - min;
            let k = (offset as f64 * inverse).round() as i64;
            if !(0..slots).contains(&k) || k.checked_mul(step) != Some(offset) {
                return false;
            }
            let slot = &mut self.slots[k as usize];
            if *slot != EMPTY {
                return false;
            }
            *slot = i as u32;
        }
        self.placed.clear();
        self.placed.extend(self.slots.iter().filter(|&&i| i != EMPTY).map(|&i| points[i as usize]));
        points.copy_from_slice(&self.placed);
        true
    }
}

/// The step of the grid times `ts` (strictly increasing) lie on: the
/// greatest common divisor of their gaps; `None` for fewer than two times.
pub fn grid_step(ts: impl IntoIterator<Item = i64>) -> Option<i64> {
    let gcd = |mut a: i64, mut b: i64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut ts = ts.into_iter();
    let mut previous = ts.next()?;
    let mut step: Option<i64> = None;
    for t in ts {
        let gap = t.saturating_sub(previous);
        previous = t;
        step = Some(step.map_or(gap, |step| gcd(step, gap)));
    }
    step.filter(|&step| step > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A permutation of `0..n` (a fixed multiplier coprime with n).
    fn permuted<T: Copy>(items: &[T]) -> Vec<T> {
        let n = items.len();
        let multiplier = (1..).map(|k| 7919 * k + 1).find(|m| gcd_usize(*m, n.max(1)) == 1).unwrap();
        (0..n).map(|i| items[(i * multiplier + 3) % n.max(1)]).collect()
    }

    fn gcd_usize(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd_usize(b, a % b) }
    }

    /// The order a stable comparison sort gives.
    fn stable(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
        let mut sorted = points.to_vec();
        sorted.sort_by_key(|&(ts, _)| ts);
        sorted
    }

    #[test]
    fn points_on_the_grid_are_placed_others_sorted_stably() {
        const MINUTE: i64 = 60_000_000;
        let base = 1_763_510_400_000_000; // 2025-11-19 in microseconds
        let on_grid: Vec<(i64, f64)> = (0..1000).map(|k| (base + k * MINUTE, k as f64)).collect();
        let gaps: Vec<(i64, f64)> = on_grid.iter().copied().filter(|&(ts, _)| (ts / MINUTE) % 7 != 3).collect();
        let mut off_grid = gaps.clone();
        off_grid.push((base + 5 * MINUTE + 1, -1.0));
        let mut repeat = gaps.clone();
        repeat.extend([(base + 10 * MINUTE, -2.0), (base + 10 * MINUTE, -3.0)]);
        let sparse: Vec<(i64, f64)> = (0..100).map(|k| (base + k * k * MINUTE, k as f64)).collect();
        let near_the_ends = vec![(i64::MAX - 1, 1.0), (i64::MIN + 1, 2.0), (0, 3.0)];
        let widest = vec![(i64::MAX, 1.0), (0, 2.0), (1, 3.0)];
        let cases = [
            ("on the grid", on_grid, true),
            ("with gaps", gaps, true),
            ("a point off the grid", off_grid, false),
            ("a time twice", repeat, false),
            ("sparse", sparse, false),
            ("near the ends of i64", near_the_ends, false),
        ];
        let mut widest_copy = widest.clone();
        assert!(!TimeOrder::default().place(&mut widest_copy, 1), "a span of i64::MAX on a step of 1: sparse");
        let mut got = widest.clone();
        TimeOrder::default().sort(&mut got, Some(1));
        assert_eq!(got, stable(&widest));
        for (what, points, placed) in cases {
            let shuffled = permuted(&points);
            let mut order = TimeOrder::default();
            let mut got = shuffled.clone();
            assert_eq!(order.place(&mut got, MINUTE), placed, "{what}: placed");
            if !placed {
                assert_eq!(got, shuffled, "{what}: untouched when not placed");
            }
            let mut got = shuffled.clone();
            order.sort(&mut got, Some(MINUTE));
            assert_eq!(got, stable(&shuffled), "{what}");
            let mut got = shuffled.clone();
            order.sort(&mut got, None);
            assert_eq!(got, stable(&shuffled), "{what}, no grid");
        }
    }

    #[test]
    fn the_grid_step_is_the_gcd_of_the_gaps() {
        assert_eq!(grid_step([0, 60, 120, 300, 360]), Some(60));
        assert_eq!(grid_step([10, 25, 40]), Some(15));
        assert_eq!(grid_step([5]), None);
        assert_eq!(grid_step([0i64; 0]), None);
        assert_eq!(grid_step([-100, 20, 80]), Some(60));
    }
}
