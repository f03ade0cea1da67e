//! Which filters between the aggregate and the two windows the fused path
//! takes, and where each goes. A filter decides which pairs count, after
//! differencing; each conjunct of it may read
//!
//! - the pairs' time and the reference's difference (`WHERE s.ts >= …`,
//!   `WHERE d_app > 0`): evaluated on the reference's rows, it travels as a
//!   third column of the reference input ([`KEEP_COLUMN`]);
//! - the series' difference alone (`WHERE d > 0`, `d IS NOT NULL`):
//!   evaluated by the operator on each series' pairs once they are chained
//!   ([`SERIES_DIFFERENCE`]; see [`super::run`]).
//!
//! A conjunct reading both differences, a key or anything else, a subquery
//! or a volatile function keeps DataFusion's plan.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array, RecordBatch};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{internal_datafusion_err, Column, DFSchema, Result};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{Expr, Filter, LogicalPlan};

use super::matcher::{is_pair_time, output_column, trace, DiffCall, JoinSlot, Origin};

#[cfg(doc)]
use super::matcher::KEEP_COLUMN;

/// The column a series-difference filter reads once rewritten (Float64,
/// nullable: `diff`'s output).
pub const SERIES_DIFFERENCE: &str = "__perfcorr_series_difference";

/// A series-difference filter as the operator runs it: `predicate` over one
/// nullable Float64 column ([`SERIES_DIFFERENCE`]). The operator carries a
/// NULL difference as NaN; when the predicate's verdicts on NULL and NaN
/// differ (`d > 0`: NaN passes in Arrow's total order, NULL does not), the
/// NaN differences are given to it as NULL — exact while no value of the
/// series is NaN or infinite (a NaN difference is then always a NULL one),
/// which the operator checks (`check_values`) and otherwise falls back.
#[derive(Debug, Clone)]
pub struct SeriesFilter {
    pub predicate: Arc<dyn PhysicalExpr>,
    pub check_values: bool,
}

impl SeriesFilter {
    /// Plans `filter` (from [`filters`]) in `session`.
    pub fn new(filter: &Expr, session: &dyn Session) -> Result<Self> {
        let schema = DFSchema::try_from(difference_schema())?;
        let predicate = session.create_physical_expr(filter.clone(), &schema)?;
        let verdicts = verdicts(&predicate, Float64Array::from(vec![None, Some(f64::NAN)]))?;
        Ok(Self { check_values: verdicts.value(0) != verdicts.value(1), predicate })
    }

    /// Whether each difference passes (NaN as NULL; a NULL verdict fails).
    pub fn passes(&self, differences: &[f64]) -> Result<BooleanBuffer> {
        let nulls = NullBuffer::new(BooleanBuffer::collect_bool(differences.len(), |i| !differences[i].is_nan()));
        verdicts(&self.predicate, Float64Array::new(differences.to_vec().into(), Some(nulls)))
    }
}

/// The one column a series filter reads.
fn difference_schema() -> Schema {
    Schema::new(vec![Field::new(SERIES_DIFFERENCE, DataType::Float64, true)])
}

fn verdicts(predicate: &Arc<dyn PhysicalExpr>, differences: Float64Array) -> Result<BooleanBuffer> {
    let rows = differences.len();
    let batch = RecordBatch::try_new(Arc::new(difference_schema()), vec![Arc::new(differences)])?;
    let verdicts = predicate.evaluate(&batch)?.into_array(rows)?;
    let verdicts = verdicts.as_boolean_opt().ok_or_else(|| internal_datafusion_err!("a filter that is not boolean"))?;
    Ok(match verdicts.nulls() {
        Some(valid) => verdicts.values() & valid.inner(),
        None => verdicts.values().clone(),
    })
}

/// The query's filters, sorted by what they read.
pub struct Filters {
    /// On the reference's rows (its time column and difference).
    pub keep: Option<Expr>,
    /// Whether `keep` reads the reference's difference.
    pub reads_difference: bool,
    /// On the series' difference, as [`SERIES_DIFFERENCE`].
    pub series: Option<Expr>,
}

/// What a column of a filter's input is.
enum Read {
    /// The pairs' time, or (`true`) the reference's difference, as the
    /// reference's column.
    Reference(Column, bool),
    SeriesDifference,
}

/// The filters on the way from `input` down to the windows (see the module
/// documentation); `None` when one cannot be taken.
pub(super) fn filters(input: &LogicalPlan, series: &DiffCall, reference: &DiffCall) -> Option<Filters> {
    let mut found = Vec::new();
    collect_filters(input, &mut found);
    let (mut on_reference, mut on_series, mut reads_difference) = (Vec::new(), Vec::new(), false);
    for filter in found {
        let unsupported = |e: &Expr| {
            Ok(matches!(e, Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) | Expr::OuterReferenceColumn(..)))
        };
        if filter.predicate.is_volatile() || filter.predicate.exists(unsupported).unwrap_or(true) {
            return None;
        }
        let read = |column: &Column| -> Option<Read> {
            let index = filter.input.schema().index_of_column(column).ok()?;
            match trace(&filter.input, index, &mut JoinSlot::Open(None))? {
                origin @ Origin::Input(..) => is_pair_time(origin, series, reference).then(|| Read::Reference(reference.ts.clone(), false)),
                Origin::Output(window, k) if std::ptr::eq(window, reference.window) && output_column(window, k) == reference.output => {
                    Some(Read::Reference(reference.output.clone(), true))
                }
                Origin::Output(window, k) if std::ptr::eq(window, series.window) && output_column(window, k) == series.output => {
                    Some(Read::SeriesDifference)
                }
                Origin::Output(..) => None,
            }
        };
        for conjunct in split_conjunction(&filter.predicate) {
            let (mut reads_reference, mut reads_series, mut reads_other) = (false, false, false);
            let rewritten = conjunct
                .clone()
                .transform(|e| match &e {
                    Expr::Column(column) => Ok(match read(column) {
                        Some(Read::Reference(column, difference)) => {
                            reads_reference = true;
                            reads_difference |= difference;
                            Transformed::yes(Expr::Column(column))
                        }
                        Some(Read::SeriesDifference) => {
                            reads_series = true;
                            Transformed::yes(Expr::Column(Column::from_name(SERIES_DIFFERENCE)))
                        }
                        None => {
                            reads_other = true;
                            Transformed::no(e)
                        }
                    }),
                    _ => Ok(Transformed::no(e)),
                })
                .ok()?
                .data;
            if reads_other || (reads_reference && reads_series) {
                return None;
            }
            if reads_series { &mut on_series } else { &mut on_reference }.push(rewritten);
        }
    }
    Some(Filters { keep: conjunction(on_reference), reads_difference, series: conjunction(on_series) })
}

/// The filters on the way from `plan` down to the windows.
fn collect_filters<'a>(plan: &'a LogicalPlan, filters: &mut Vec<&'a Filter>) {
    match plan {
        LogicalPlan::Projection(projection) => collect_filters(&projection.input, filters),
        LogicalPlan::SubqueryAlias(alias) => collect_filters(&alias.input, filters),
        LogicalPlan::Filter(filter) => {
            filters.push(filter);
            collect_filters(&filter.input, filters);
        }
        LogicalPlan::Join(join) => {
            collect_filters(&join.left, filters);
            collect_filters(&join.right, filters);
        }
        _ => {}
    }
}
