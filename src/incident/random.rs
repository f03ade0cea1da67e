//! A small deterministic random source for the incident generator:
//! SplitMix64 for uniforms, Box–Muller for normals. Its own code (not a
//! crate) so that a seed gives the same incident on every platform and
//! every version of perfcorr.

/// SplitMix64 stream.
#[derive(Debug, Clone)]
pub struct Random {
    state: u64,
    spare_normal: Option<f64>,
}

impl Random {
    /// A stream for `seed`, decorrelated for each `stream` id (e.g. one per view).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut random = Self {
            state: seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
            spare_normal: None,
        };
        random.next_u64();
        random
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_roughly_standard() {
        let a: Vec<f64> = { let mut r = Random::new(7, 1); (0..5).map(|_| r.normal()).collect() };
        let b: Vec<f64> = { let mut r = Random::new(7, 1); (0..5).map(|_| r.normal()).collect() };
        assert_eq!(a, b);
        let mut r = Random::new(7, 2);
        let sample: Vec<f64> = (0..100_000).map(|_| r.normal()).collect();
        let mean = sample.iter().sum::<f64>() / sample.len() as f64;
        let var = sample.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / sample.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "{mean} {var}");
    }
}
