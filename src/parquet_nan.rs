//! Keeps Parquet statistics from deciding about floating-point columns.
//!
//! Parquet writers leave NaN out of a column chunk's min/max (the format asks
//! them to), so statistics cannot say whether a float column holds NaN. Two
//! of DataFusion's shortcuts trust them anyway:
//!
//! - a column whose statistics say min = max with no NULLs is read as that
//!   constant, NaN rows included (the rows come back as the constant), and
//!   `min`/`max` are answered from the files' metadata. [`ForgetFloatStatistics`],
//!   the first physical optimizer rule, drops float columns' min/max/sum from
//!   every file scan's statistics (the table's, each file group's and each
//!   file's, which the Parquet reader looks constants up in); row counts and
//!   the other columns' statistics stay, so DataFusion still sees that the
//!   app's table is small and joins it without repartitioning the series;
//! - row groups (and pages) are skipped when the predicate cannot hold for
//!   any value between min and max. DataFusion orders NaN above every number,
//!   so `v > 0` is true for a NaN row, yet the group holding it is skipped
//!   when its other values are ≤ 0. [`KeepNanRows`] removes every conjunct
//!   that reads a float column from the predicate a Parquet scan prunes with;
//!   the filter above the scan still applies them, so only the pruning goes.
//!   Conjuncts on other columns (time, series keys) still prune. (With
//!   `datafusion.execution.parquet.pushdown_filters = true`, which is off by
//!   default, the predicate is the scan's row filter too: it is left whole
//!   and such a scan does not prune by statistics at all.)
//!
//! The rule: NaN is a value like any other wherever SQL compares it (as in a
//! CSV, JSON or in-memory table), and a query's answer does not depend on
//! how a file was cut into row groups.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::stats::Precision;
use datafusion::common::{Result, ScalarValue, Statistics};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::utils::{collect_columns, conjunction, split_conjunction};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::expressions::Literal;
use datafusion::physical_plan::ExecutionPlan;

/// Drops float columns' min, max and sum from file scans' statistics.
#[derive(Debug, Default)]
pub struct ForgetFloatStatistics;

impl PhysicalOptimizerRule for ForgetFloatStatistics {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _options: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(config) = node.downcast_ref::<DataSourceExec>().and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
            else {
                return Ok(Transformed::no(node));
            };
            let schema = config.file_source.table_schema().table_schema();
            let floats: Vec<usize> = (0..schema.fields().len()).filter(|&i| schema.field(i).data_type().is_floating()).collect();
            if floats.is_empty() {
                return Ok(Transformed::no(node));
            }
            let forget = |statistics: &Statistics| {
                let mut statistics = statistics.clone();
                for &i in &floats {
                    if let Some(column) = statistics.column_statistics.get_mut(i) {
                        column.min_value = Precision::Absent;
                        column.max_value = Precision::Absent;
                        column.sum_value = Precision::Absent;
                    }
                }
                statistics
            };
            let groups = config.file_groups.iter().map(|group| {
                let files = group.files().iter().map(|file| {
                    let mut file = file.clone();
                    file.statistics = file.statistics.as_deref().map(|s| Arc::new(forget(s)));
                    file
                });
                let forgotten = FileGroup::new(files.collect());
                match group.file_statistics(None) {
                    Some(statistics) => forgotten.with_statistics(Arc::new(forget(statistics))),
                    None => forgotten,
                }
            });
            let rebuilt = FileScanConfigBuilder::from(config.clone())
                .with_file_groups(groups.collect())
                .with_statistics(forget(&config.statistics()))
                .build();
            Ok(Transformed::yes(DataSourceExec::from_data_source(rebuilt)))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "forget_float_statistics"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Drops float-column conjuncts from Parquet scans' pruning predicates.
#[derive(Debug, Default)]
pub struct KeepNanRows;

impl PhysicalOptimizerRule for KeepNanRows {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, options: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(exec) = node.downcast_ref::<DataSourceExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some((config, source)) = exec.downcast_to_file_source::<ParquetSource>() else {
                return Ok(Transformed::no(node));
            };
            let Some(predicate) = source.filter() else {
                return Ok(Transformed::no(node));
            };
            let schema = source.table_schema().table_schema().clone();
            let conjuncts = split_conjunction(&predicate);
            // With filters pushed into the scan (`pushdown_filters`, off by
            // default) the predicate is also the scan's row filter and no
            // FilterExec stays above it: it stays whole, and statistics
            // pruning is off for this scan instead.
            if options.execution.parquet.pushdown_filters || source.table_parquet_options().global.pushdown_filters {
                let global = &source.table_parquet_options().global;
                if !conjuncts.iter().any(|c| reads_float(c, &schema)) || (!global.pruning && !global.enable_page_index) {
                    return Ok(Transformed::no(node));
                }
                let mut parquet_options = source.table_parquet_options().clone();
                parquet_options.global.pruning = false;
                parquet_options.global.enable_page_index = false;
                return Ok(Transformed::yes(scan_with(config, source.clone().with_table_parquet_options(parquet_options))));
            }
            let kept: Vec<Arc<dyn PhysicalExpr>> =
                conjuncts.iter().filter(|c| !reads_float(c, &schema)).map(|c| Arc::clone(c)).collect();
            if kept.len() == conjuncts.len() {
                return Ok(Transformed::no(node));
            }
            let predicate = if kept.is_empty() {
                Arc::new(Literal::new(ScalarValue::Boolean(Some(true)))) as Arc<dyn PhysicalExpr>
            } else {
                conjunction(kept)
            };
            Ok(Transformed::yes(scan_with(config, source.with_predicate(predicate))))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "keep_nan_rows"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The scan of `config` with `source` in place of its Parquet source.
fn scan_with(config: &FileScanConfig, source: ParquetSource) -> Arc<dyn ExecutionPlan> {
    let source: Arc<dyn FileSource> = Arc::new(source);
    DataSourceExec::from_data_source(FileScanConfigBuilder::from(config.clone()).with_source(source).build())
}

/// Whether `expr` reads a floating-point column of `schema`.
fn reads_float(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> bool {
    collect_columns(expr).iter().any(|column| {
        schema
            .field_with_name(column.name())
            .map(|field| field.data_type().is_floating())
            .unwrap_or(true)
    })
}
