//! Pure numerics behind perfcorr's SQL functions, free of DataFusion types so
//! they can be unit-tested and checked against scipy on their own.

/// `$vis fn $name(args) -> ret`, running `$body` (an `#[inline(always)]`
/// function of the same arguments) compiled for AVX2 where the processor
/// has it (checked at run time), else as built for any x86-64: the same lanes
/// and operations (no fused multiply-add), so the same result either way.
macro_rules! with_avx {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:path) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the processor has AVX2 (checked just above).
                    return unsafe { avx($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

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
