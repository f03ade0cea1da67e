//! The client's query planner on a cluster. Ballista sends the scheduler a
//! logical plan, and only files (listing tables), views and in-memory tables
//! ([`super::codec`]) can travel in one. Everything else a plan reads —
//! perfcorr's table functions (`rank_correlations`, `rank_causes`,
//! `prometheus`), `information_schema` beside data, any other provider — is
//! scanned here first (its own reads still run on the cluster: a table
//! function plans them with this same session) and replaced by an
//! in-memory table of exactly what the scan returned. Writes into in-memory
//! tables, `DESCRIBE` and plans that read no table run here; everything else
//! goes to the scheduler.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::Result;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::{provider_as_source, source_as_provider, MemTable, ViewTable};
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::{LogicalPlan, SubqueryAlias, TableScan, TableScanBuilder};
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

/// See the module documentation; `cluster` is Ballista's planner.
#[derive(Debug)]
pub struct MaterializingPlanner {
    cluster: Arc<dyn QueryPlanner + Send + Sync>,
}

impl MaterializingPlanner {
    pub fn new(cluster: Arc<dyn QueryPlanner + Send + Sync>) -> Self {
        Self { cluster }
    }
}

/// Whether a plan can name this table and the scheduler read it itself.
fn travels(provider: &dyn TableProvider) -> bool {
    provider.is::<ListingTable>() || provider.is::<MemTable>() || provider.is::<ViewTable>()
}

fn is_information_schema(scan: &TableScan) -> bool {
    scan.table_name.schema() == Some("information_schema")
}

/// One scan that was run here, and the table holding its rows.
struct Materialized {
    scan: TableScan,
    table: Arc<MemTable>,
}

impl Materialized {
    /// Whether `scan` reads what this one read: the same provider (two calls
    /// of one table function have the same table name), columns, filters, limit.
    fn answers(&self, scan: &TableScan) -> bool {
        Arc::ptr_eq(&self.scan.source, &scan.source) && &self.scan == scan
    }
}

#[async_trait]
impl QueryPlanner for MaterializingPlanner {
    async fn create_physical_plan(&self, plan: &LogicalPlan, session: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        let mut scans = Vec::new();
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                scans.push(scan.clone());
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        if scans.is_empty() || runs_here(plan) {
            return DefaultPhysicalPlanner::default().create_physical_plan(plan, session).await;
        }
        // Ballista answers a plan over information_schema alone here itself.
        if scans.iter().all(is_information_schema) {
            return self.cluster.create_physical_plan(plan, session).await;
        }
        let mut done: Vec<Materialized> = Vec::new();
        for scan in scans {
            let provider = source_as_provider(&scan.source)?;
            if travels(provider.as_ref()) || done.iter().any(|m| m.answers(&scan)) {
                continue;
            }
            let table = Arc::new(materialize(&scan, provider.as_ref(), session).await?);
            done.push(Materialized { scan, table });
        }
        if done.is_empty() {
            return self.cluster.create_physical_plan(plan, session).await;
        }
        let rewritten = plan
            .clone()
            .transform_up_with_subqueries(|node| {
                let LogicalPlan::TableScan(scan) = &node else {
                    return Ok(Transformed::no(node));
                };
                match done.iter().position(|m| m.answers(scan)) {
                    // Under a name of its own (Ballista refuses plans that mix
                    // information_schema with data by the scans' names), aliased
                    // back to the original for the columns above.
                    Some(k) => {
                        let source = provider_as_source(done[k].table.clone() as Arc<dyn TableProvider>);
                        let scan = TableScanBuilder::new(format!("perfcorr_materialized_{k}"), source).build()?;
                        let alias = SubqueryAlias::try_new(Arc::new(LogicalPlan::TableScan(scan)), done[k].scan.table_name.clone())?;
                        Ok(Transformed::yes(LogicalPlan::SubqueryAlias(alias)))
                    }
                    None => Ok(Transformed::no(node)),
                }
            })?
            .data;
        self.cluster.create_physical_plan(&rewritten, session).await
    }
}

/// Writes into in-memory tables (the table lives in this process) and plans
/// that only describe a table. (Plans that read no table at all — constants,
/// `LIMIT 0`, which the optimizer empties and Ballista's planner would answer
/// with no columns — run here too.)
fn runs_here(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Dml(dml) => source_as_provider(&dml.target).is_ok_and(|p| p.is::<MemTable>()),
        LogicalPlan::DescribeTable(_) => true,
        _ => false,
    }
}

/// Runs `scan` (its projection, filters and limit) and keeps the rows, typed
/// as the plan expects them.
async fn materialize(scan: &TableScan, provider: &dyn TableProvider, session: &dyn Session) -> Result<MemTable> {
    let exec = provider.scan(session, scan.projection.as_ref(), &scan.filters, scan.fetch).await?;
    let batches = collect(exec, session.task_ctx()).await?;
    let schema = Arc::new(scan.projected_schema.as_arrow().clone());
    let batches = batches
        .into_iter()
        .map(|batch| {
            let rows = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
            RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &rows)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    MemTable::try_new(schema, vec![batches])
}
