//! Pure numerics behind perfcorr's SQL functions, free of DataFusion types so
//! they can be unit-tested and checked against scipy on their own.

pub mod beta;
pub mod comoments;
pub mod lagged;
pub mod multiple_testing;
pub mod pearson;
pub mod ranks;
pub mod robust;

pub use comoments::CoMoments;
