//! The incident window and its reference: an explicit step range, or the
//! contiguous run of steps around the target's most abnormal one in which
//! the target is at least `Z_WIN` reference spreads the harmful way.

use super::change::spread;
use super::config::{Direction, Z_WIN};
use super::{Incident, Options, Reference, Series};
use crate::stats::robust::median;

/// The incident steps and the reference steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steps {
    /// Inclusive step range.
    pub window: (usize, usize),
    pub incident: Vec<usize>,
    pub reference: Vec<usize>,
}

/// The window (explicit or detected) and its reference, or why there is none.
pub fn steps(incident: &Incident, target: &Series, options: &Options) -> Result<Steps, &'static str> {
    let (a, b) = match options.window {
        Some(window) => window,
        None => detect(incident, target, options).ok_or("no anomaly in target")?,
    };
    if a > b || b >= incident.steps {
        return Err("empty window");
    }
    let reference = match options.reference {
        Reference::Outside => (0..incident.steps).filter(|&s| s < a || s > b).collect(),
        Reference::Before => (0..a).collect(),
    };
    Ok(Steps { window: (a, b), incident: (a..=b).collect(), reference })
}

/// The target's harm at every step against its normal level: the median of
/// the ⌈n/2⌉ least harmful present steps (ties: the earlier step). `None` for
/// fewer than two present steps.
pub fn step_harms(incident: &Incident, target: &Series, options: &Options) -> Option<Vec<(usize, f64)>> {
    let present: Vec<usize> = (0..incident.steps).filter(|&s| target.values[s].is_some()).collect();
    if present.len() < 2 {
        return None;
    }
    let value = |step: usize| target.values[step].unwrap_or(f64::NAN);
    let config = options.metrics.get(&target.key.metric);
    let sign = if config.direction == Direction::Neither { 1.0 } else { config.direction.sign() };
    let mut order = present.clone();
    order.sort_by(|&x, &y| (sign * value(x)).total_cmp(&(sign * value(y))).then(x.cmp(&y)));
    let calm: Vec<f64> = order[..present.len().div_ceil(2)].iter().map(|&s| value(s)).collect();
    let c0 = median(&calm);
    let all: Vec<usize> = (0..incident.steps).collect();
    let volume = if options.use_volume { incident.volume_over(&target.key.node, &all, options) } else { None };
    let harms = present
        .iter()
        .map(|&step| {
            let z = (value(step) - c0) / spread(&calm, c0, value(step), &config, volume, &target.key.stat);
            (step, if config.direction == Direction::Neither { z.abs() } else { sign * z })
        })
        .collect();
    Some(harms)
}

/// The contiguous run (over present steps) of harm ≥ `Z_WIN` around the
/// peak; `None` when even the peak is below it.
fn detect(incident: &Incident, target: &Series, options: &Options) -> Option<(usize, usize)> {
    let harms = step_harms(incident, target, options)?;
    let peak = (0..harms.len()).fold(0, |best, i| if harms[i].1 > harms[best].1 { i } else { best });
    if harms[peak].1 < Z_WIN {
        return None;
    }
    let (mut a, mut b) = (peak, peak);
    while a > 0 && harms[a - 1].1 >= Z_WIN {
        a -= 1;
    }
    while b + 1 < harms.len() && harms[b + 1].1 >= Z_WIN {
        b += 1;
    }
    Some((harms[a].0, harms[b].0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rca::SeriesKey;

    fn incident(values: &[f64]) -> Incident {
        let mut incident = Incident::new(values.len());
        let key = SeriesKey { node: "front".into(), metric: "latency".into(), stat: "Average".into() };
        values.iter().enumerate().for_each(|(step, &v)| incident.push(key.clone(), step, v));
        incident
    }

    #[test]
    fn the_window_is_the_run_around_the_peak() {
        // A lone noisy step far off does not stretch the window.
        let incident = incident(&[1.0, 1.0, 1.5, 1.0, 1.0, 3.0, 4.0, 1.0]);
        let steps = steps(&incident, &incident.series[0], &Options::default()).unwrap();
        assert_eq!(steps.window, (5, 6));
        assert_eq!(steps.reference, vec![0, 1, 2, 3, 4, 7]);
        let before = Options { reference: Reference::Before, ..Options::default() };
        assert_eq!(super::steps(&incident, &incident.series[0], &before).unwrap().reference, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_flat_target_has_no_window() {
        let incident = incident(&[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(steps(&incident, &incident.series[0], &Options::default()), Err("no anomaly in target"));
        let outside = Options { window: Some((2, 9)), ..Options::default() };
        assert_eq!(steps(&incident, &incident.series[0], &outside), Err("empty window"));
    }
}
