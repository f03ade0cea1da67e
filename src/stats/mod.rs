//! Pure numerics behind perfcorr's SQL functions, free of DataFusion types so
//! they can be unit-tested and checked against scipy on their own.

pub mod beta;
pub mod comoments;
pub mod lagged;
pub mod multiple_testing;
pub mod pearson;
pub mod ranks;
pub mod resample;
pub mod robust;

pub use comoments::CoMoments;

/// Whether a pair of values counts in a statistic: both finite. NaN and ±inf
/// are missing, as NULL is (an infinite latency is a broken measurement, and
/// one would turn every moment into NaN).
#[inline]
pub fn complete(x: f64, y: f64) -> bool {
    x.is_finite() && y.is_finite()
}
