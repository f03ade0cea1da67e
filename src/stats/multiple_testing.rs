//! Multiple-testing adjustment of p-values (q-values), as statsmodels'
//! `multipletests(p, method=...)[1]` and scipy's `false_discovery_control`.

/// An adjustment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adjustment {
    /// Family-wise error: `min(1, m·p)`.
    Bonferroni,
    /// Holm's step-down family-wise error control.
    Holm,
    /// Benjamini–Hochberg false discovery rate.
    BenjaminiHochberg,
    /// Benjamini–Yekutieli false discovery rate (any dependence).
    BenjaminiYekutieli,
}

impl Adjustment {
    /// Parses `'bonferroni'`, `'holm'`, `'bh'` (`'fdr_bh'`), `'by'` (`'fdr_by'`), any case.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "bonferroni" => Some(Self::Bonferroni),
            "holm" => Some(Self::Holm),
            "bh" | "fdr_bh" => Some(Self::BenjaminiHochberg),
            "by" | "fdr_by" => Some(Self::BenjaminiYekutieli),
            _ => None,
        }
    }

    pub const NAMES: &'static str = "'bonferroni', 'holm', 'bh', 'by'";
}

/// Adjusts `p` (all in [0, 1]); the result is in the same order.
pub fn adjust(p: &[f64], method: Adjustment) -> Vec<f64> {
    let m = p.len();
    if m == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mf = m as f64;
    let mut adjusted = vec![0.0; m];
    match method {
        Adjustment::Bonferroni => {
            for (out, &value) in adjusted.iter_mut().zip(p) {
                *out = (value * mf).min(1.0);
            }
        }
        Adjustment::Holm => {
            let mut running_max: f64 = 0.0;
            for (rank, &index) in order.iter().enumerate() {
                running_max = running_max.max(((mf - rank as f64) * p[index]).min(1.0));
                adjusted[index] = running_max;
            }
        }
        Adjustment::BenjaminiHochberg | Adjustment::BenjaminiYekutieli => {
            let dependence = if method == Adjustment::BenjaminiYekutieli {
                (1..=m).map(|k| 1.0 / k as f64).sum::<f64>()
            } else {
                1.0
            };
            let mut running_min: f64 = 1.0;
            for (rank, &index) in order.iter().enumerate().rev() {
                running_min = running_min.min(p[index] * mf * dependence / (rank + 1) as f64);
                adjusted[index] = running_min;
            }
        }
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // statsmodels.stats.multitest.multipletests([0.01, 0.04, 0.03, 0.2], method=...)[1]
        let p = [0.01, 0.04, 0.03, 0.2];
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-15);
        assert!(close(&adjust(&p, Adjustment::Bonferroni), &[0.04, 0.16, 0.12, 0.8]));
        assert!(close(&adjust(&p, Adjustment::Holm), &[0.04, 0.09, 0.09, 0.2]));
        assert!(close(&adjust(&p, Adjustment::BenjaminiHochberg), &[0.04, 0.05333333333333334, 0.05333333333333334, 0.2]));
        let c = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
        let by = adjust(&p, Adjustment::BenjaminiYekutieli);
        assert!((by[0] - 0.04 * c).abs() < 1e-15 && (by[3] - (0.2_f64 * c).min(1.0)).abs() < 1e-15);
        assert!(adjust(&[], Adjustment::Holm).is_empty());
        assert_eq!(Adjustment::parse("FDR_BH"), Some(Adjustment::BenjaminiHochberg));
        assert_eq!(Adjustment::parse("sidak"), None);
    }
}
