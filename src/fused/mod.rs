//! The fused path for the seed's question: "first differences of each
//! series, joined with the differenced reference on time, Pearson per
//! series" in one pass over the data, without the sort that
//! `diff(...) OVER (PARTITION BY key ORDER BY ts)` implies.
//!
//! - [`matcher`] recognises that query shape in the optimized logical plan
//!   ([`calls`]: the aggregate calls it takes; [`split`]: several pairs in one aggregate, one part per pair;
//!   [`filters`]: the filters it takes on the way; [`fixed_keys`]: the app
//!   picked from the same long table as the series; [`time_key`]: joins on
//!   an expression of the time);
//! - [`plan`] holds the logical node, its physical planner and the session's
//!   query planner that applies the rewrite;
//! - [`exec`] is the operator and [`run`] one execution of it ([`read`]: its
//!   inputs read and checked): it streams
//!   each partition of the series through per-series state ([`partition`],
//!   keyed by [`groups`], numerics in [`series`]); if rows come out of time
//!   order it reads them again and sorts per series ([`time_order`]); DataFusion's original
//!   plan is the last resort;
//! - [`pairs`]: the statistics it computes — the Pearson family from running
//!   co-moments; Spearman, lead/lag and n_eff from each series' pairs, kept
//!   only when one of them is asked for; [`regression`]: DataFusion's
//!   `covar_*` and `regr_*` from the same co-moments; [`summary`]: `count`,
//!   `avg`, `stddev`… of either difference from the pairs.

pub mod calls;
pub mod exec;
pub mod filtered;
pub mod filters;
pub mod fixed_keys;
pub mod groups;
pub mod matcher;
pub mod origin;
pub mod pair_filters;
pub mod pairs;
pub mod partition;
pub mod plan;
pub mod read;
pub mod regression;
pub mod run;
pub mod series;
pub mod split;
pub mod summary;
pub mod time_key;
pub mod time_order;

pub use plan::FusingQueryPlanner;
