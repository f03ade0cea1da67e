//! Which filters between the aggregate and the two windows the fused path
//! takes, and where each goes. A filter decides which pairs count, after
//! differencing; each conjunct of it may read
//!
//! - the pairs' time and the reference's difference (`WHERE s.ts >= …`,
//!   `WHERE d_app > 0`): evaluated on the reference's rows, it travels as a
//!   third column of the reference input ([`KEEP_COLUMN`]);
//! - the series' difference, alone or with the reference's (`WHERE d > 0`,
//!   `d IS NOT NULL`, `d > d_app`): evaluated by the operator on each
//!   series' pairs once they are chained ([`SERIES_DIFFERENCE`],
//!   [`REFERENCE_DIFFERENCE`]; see [`super::run`]).
//!
//! A conjunct reading the series' difference and the pairs' time, a key or
//! anything else, a volatile function or a subquery (but an uncorrelated
//! scalar one on the reference's rows: a constant computed first) keeps
//! DataFusion's plan.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array, RecordBatch};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{internal_datafusion_err, Column, DFSchema, Result};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{Expr, LogicalPlan};

use super::matcher::{read, trace, DiffCall, JoinSlot, Read};

#[cfg(doc)]
use super::matcher::KEEP_COLUMN;

/// The columns a series-difference filter reads once rewritten (Float64,
/// nullable: `diff`'s output): the series' difference and the reference's.
pub const SERIES_DIFFERENCE: &str = "__perfcorr_series_difference";
pub const REFERENCE_DIFFERENCE: &str = "__perfcorr_reference_difference";

/// A series-difference filter as the operator runs it: `predicate` over the
/// nullable Float64 columns [`SERIES_DIFFERENCE`] and
/// [`REFERENCE_DIFFERENCE`] (a pair's two differences). The operator
/// carries a NULL difference as NaN and gives NaN differences to the
/// predicate as NULL — exact while no value of the series (of the
/// reference) is NaN or infinite, a NaN difference being then always a
/// NULL one, which the operator checks (`check_values`,
/// `check_reference`) and otherwise falls back. Unchecked where the
/// verdicts on NULL and NaN cannot differ: a filter on the series'
/// difference alone that fails (or passes) both alike (`d < 0`; `d > 0`
/// passes NaN in Arrow's total order and fails NULL: checked).
#[derive(Debug, Clone)]
pub struct SeriesFilter {
    pub predicate: Arc<dyn PhysicalExpr>,
    pub check_values: bool,
    pub check_reference: bool,
}

impl SeriesFilter {
    /// Plans `filter` (from [`filters`]) in `session`.
    pub fn new(filter: &Expr, session: &dyn Session) -> Result<Self> {
        let schema = DFSchema::try_from(difference_schema())?;
        let predicate = session.create_physical_expr(filter.clone(), &schema)?;
        let reads_reference = filter.column_refs().iter().any(|column| column.name == REFERENCE_DIFFERENCE);
        let (x, y) = (Float64Array::from(vec![None, Some(f64::NAN)]), Float64Array::from(vec![Some(0.0); 2]));
        let verdicts = verdicts(&predicate, x, y)?;
        // With the reference's difference read, NULL and NaN may differ for
        // some other value of it: both sides checked.
        let check_values = reads_reference || verdicts.value(0) != verdicts.value(1);
        Ok(Self { predicate, check_values, check_reference: reads_reference })
    }

    /// Whether each pair `(xs[i], ys[i])` passes (NaN as NULL; a NULL
    /// verdict fails).
    pub fn passes(&self, xs: &[f64], ys: &[f64]) -> Result<BooleanBuffer> {
        verdicts(&self.predicate, with_nan_as_null(xs), with_nan_as_null(ys))
    }
}

fn with_nan_as_null(values: &[f64]) -> Float64Array {
    let nulls = NullBuffer::new(BooleanBuffer::collect_bool(values.len(), |i| !values[i].is_nan()));
    Float64Array::new(values.to_vec().into(), Some(nulls))
}

/// The two columns a series filter reads.
fn difference_schema() -> Schema {
    Schema::new(vec![Field::new(SERIES_DIFFERENCE, DataType::Float64, true), Field::new(REFERENCE_DIFFERENCE, DataType::Float64, true)])
}

fn verdicts(predicate: &Arc<dyn PhysicalExpr>, xs: Float64Array, ys: Float64Array) -> Result<BooleanBuffer> {
    let rows = xs.len();
    let batch = RecordBatch::try_new(Arc::new(difference_schema()), vec![Arc::new(xs), Arc::new(ys)])?;
    let verdicts = predicate.evaluate(&batch)?.into_array(rows)?;
    let verdicts = verdicts.as_boolean_opt().ok_or_else(|| internal_datafusion_err!("a filter that is not boolean"))?;
    Ok(match verdicts.nulls() {
        Some(valid) => verdicts.values() & valid.inner(),
        None => verdicts.values().clone(),
    })
}

/// The query's filters, sorted by what they read and where they stand.
pub struct Filters {
    /// On the reference's rows (its time column and difference).
    pub keep: Option<Expr>,
    /// Whether `keep` reads the reference's difference.
    pub reads_difference: bool,
    /// On the series' difference (and the reference's), as
    /// [`SERIES_DIFFERENCE`] (and [`REFERENCE_DIFFERENCE`]).
    pub series: Option<Expr>,
    /// Those on the series' side of the join (each reading the time only),
    /// over the series window's input: which series rows there are.
    pub series_rows: Option<Expr>,
    /// Whether every filter stands on one side of the join, those on the
    /// series' side reading the time only: none above the join or in it.
    pub on_sides_only: bool,
}

/// Where a filter stands: above the join or in it, or on one of its sides.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Join,
    Left,
    Right,
}

/// The filters on the way from `input` down to the windows (see the module
/// documentation); `None` when one cannot be taken. `series_on_the_left`:
/// which side of the join the series is.
pub(super) fn filters(input: &LogicalPlan, series: &DiffCall, reference: &DiffCall, series_on_the_left: bool) -> Option<Filters> {
    let mut found = Vec::new();
    collect_filters(input, &mut found, Place::Join);
    let (mut on_reference, mut on_series, mut reads_difference) = (Vec::new(), Vec::new(), false);
    let (mut series_rows, mut on_sides_only) = (Vec::new(), true);
    for (predicate, filter_input, place) in found {
        let series_side = match place {
            Place::Join => {
                on_sides_only = false;
                false
            }
            Place::Left => series_on_the_left,
            Place::Right => !series_on_the_left,
        };
        // An uncorrelated scalar subquery (`s.ts >= (SELECT max(ts) FROM
        // app) - INTERVAL '6 hours'`) is a constant DataFusion computes
        // before the plan runs, the operator's inputs included.
        let unsupported = |e: &Expr| {
            Ok(match e {
                Expr::ScalarSubquery(subquery) => !subquery.outer_ref_columns.is_empty(),
                Expr::Exists(_) | Expr::InSubquery(_) | Expr::OuterReferenceColumn(..) => true,
                _ => false,
            })
        };
        if predicate.is_volatile() || predicate.exists(unsupported).unwrap_or(true) {
            return None;
        }
        let read_column = |column: &Column| -> Option<Read> {
            let index = filter_input.schema().index_of_column(column).ok()?;
            read(trace(filter_input, index, &mut JoinSlot::Open(None))?, series, reference)
        };
        for conjunct in split_conjunction(predicate) {
            let (mut reads_time, mut reads_reference_difference, mut reads_series, mut reads_other) = (false, false, false, false);
            // The reference's difference as REFERENCE_DIFFERENCE first, its
            // column again if the conjunct goes to the reference's rows.
            let rewritten = conjunct
                .clone()
                .transform(|e| match &e {
                    Expr::Column(column) => Ok(match read_column(column) {
                        Some(Read::ReferenceDifference) => {
                            reads_reference_difference = true;
                            Transformed::yes(Expr::Column(Column::from_name(REFERENCE_DIFFERENCE)))
                        }
                        Some(Read::Time) => {
                            reads_time = true;
                            Transformed::yes(Expr::Column(reference.ts.clone()))
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
            // The series filter is planned on its own (no subquery results).
            let has_subquery = || conjunct.exists(|e| Ok(matches!(e, Expr::ScalarSubquery(_)))).unwrap_or(true);
            if reads_other || (reads_time && reads_series) || (reads_series && has_subquery()) {
                return None;
            }
            if series_side && reads_time && !reads_series && !reads_reference_difference {
                let on_series_rows = rewritten.clone().transform(|e| match &e {
                    Expr::Column(column) if *column == reference.ts => Ok(Transformed::yes(Expr::Column(series.ts.clone()))),
                    _ => Ok(Transformed::no(e)),
                });
                series_rows.push(on_series_rows.ok()?.data);
            } else if series_side {
                on_sides_only = false;
            }
            if reads_series {
                on_series.push(rewritten);
            } else {
                reads_difference |= reads_reference_difference;
                let difference = Expr::Column(reference.output.clone());
                let on_rows = rewritten
                    .transform(|e| match &e {
                        Expr::Column(column) if column.name == REFERENCE_DIFFERENCE => Ok(Transformed::yes(difference.clone())),
                        _ => Ok(Transformed::no(e)),
                    })
                    .ok()?
                    .data;
                on_reference.push(on_rows);
            }
        }
    }
    Some(Filters { keep: conjunction(on_reference), reads_difference, series: conjunction(on_series), series_rows: conjunction(series_rows), on_sides_only })
}

/// The filters on the way from `plan` (at `place`) down to the windows:
/// each predicate, the plan whose columns it reads (a filter's input; the
/// join itself for the join's own filter, where the optimizer puts a
/// condition reading both sides) and where it stands.
fn collect_filters<'a>(plan: &'a LogicalPlan, filters: &mut Vec<(&'a Expr, &'a LogicalPlan, Place)>, place: Place) {
    match plan {
        LogicalPlan::Projection(projection) => collect_filters(&projection.input, filters, place),
        LogicalPlan::SubqueryAlias(alias) => collect_filters(&alias.input, filters, place),
        LogicalPlan::Filter(filter) => {
            filters.push((&filter.predicate, &filter.input, place));
            collect_filters(&filter.input, filters, place);
        }
        LogicalPlan::Join(join) => {
            if let Some(predicate) = &join.filter {
                filters.push((predicate, plan, Place::Join));
            }
            collect_filters(&join.left, filters, Place::Left);
            collect_filters(&join.right, filters, Place::Right);
        }
        _ => {}
    }
}
