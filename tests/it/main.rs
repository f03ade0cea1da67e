//! perfcorr's integration tests, one binary (each file directly under
//! `tests/` would link the whole engine again).

mod cli;
mod cluster;
mod common;
mod errors;
mod fused;
mod fused_filter_clause;
mod fused_lag_columns;
mod fused_long_table;
mod fused_random;
mod fused_spellings;
mod fused_time_keys;
mod fuzz;
mod golden_diff;
mod golden_offsets;
mod golden_pearson;
mod golden_rank;
mod golden_tests;
mod group_sort;
mod hardening;
mod nan;
mod partitions;
mod petshop;
mod pictures;
mod prom_server;
mod prometheus;
mod repl;
mod slt;
