//! Which filters between the aggregate and the two windows the fused path
//! takes, and where each goes. A filter decides which pairs count, after
//! differencing; each conjunct of it may read
//!
//! - the pairs' time and the reference's difference (`WHERE s.ts >= …`,
//!   `WHERE d_app > 0`): evaluated on the reference's rows, it travels as a
//!   third column of the reference input ([`KEEP_COLUMN`]);
//! - the series' difference, alone or with the reference's or the time
//!   (`WHERE d > 0`, `d IS NOT NULL`, `d > d_app`, `ts < … OR d > 0`):
//!   evaluated by the operator on each series' pairs once they are chained
//!   ([`SERIES_DIFFERENCE`], [`REFERENCE_DIFFERENCE`], [`PAIR_TIME`]; see
//!   [`super::run`]).
//!
//! An aggregate's own `FILTER (WHERE …)` reading those is run on the pairs
//! the same way ([`call_filter`], [`PairFilters`]). A conjunct reading a
//! key or anything else, a volatile function or a subquery (but an
//! uncorrelated scalar one on the reference's rows: a constant computed
//! first) keeps DataFusion's plan.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{internal_datafusion_err, Column, DFSchema, Result};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};

use super::origin::{read, trace_expr, DiffCall, JoinSlot, Read};
use super::series::Reference;

#[cfg(doc)]
use super::matcher::KEEP_COLUMN;

/// The columns a pair filter reads once rewritten: the series' difference
/// and the reference's (Float64, nullable: `diff`'s output), and the pair's
/// time (the join key's type).
pub const SERIES_DIFFERENCE: &str = "__perfcorr_series_difference";
pub const REFERENCE_DIFFERENCE: &str = "__perfcorr_reference_difference";
pub const PAIR_TIME: &str = "__perfcorr_pair_time";

/// The filters the operator runs on each series' pairs: the query's
/// (`WHERE d > 0`: which pairs there are; [`Filters::series`]) and each
/// aggregate's own (`corr(d, d_app) FILTER (WHERE ts < …)`: which of them
/// it sees), parallel to the statistics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairFilters<F> {
    pub rows: Option<F>,
    pub calls: Vec<Option<CallFilter<F>>>,
}

/// An aggregate's own filter (see [`super::filtered`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallFilter<F> {
    /// One reading the series' difference: run on each series' pairs.
    Pairs(F),
    /// One reading the time and the reference's difference only: decided
    /// at each reference point by DataFusion, as the reference input's
    /// column [`call_column`]`(k)`.
    Points(usize),
}

/// The reference input's column holding the verdicts of the `k`-th
/// [`CallFilter::Points`].
pub fn call_column(k: usize) -> String {
    format!("__perfcorr_call_{k}")
}

impl<F> PairFilters<F> {
    pub fn try_map<G, E>(&self, mut f: impl FnMut(&F) -> std::result::Result<G, E>) -> std::result::Result<PairFilters<G>, E> {
        let rows = self.rows.as_ref().map(&mut f).transpose()?;
        let call = |call: &CallFilter<F>, f: &mut dyn FnMut(&F) -> std::result::Result<G, E>| {
            Ok(match call {
                CallFilter::Pairs(filter) => CallFilter::Pairs(f(filter)?),
                CallFilter::Points(k) => CallFilter::Points(*k),
            })
        };
        let calls = self.calls.iter().map(|c| c.as_ref().map(|c| call(c, &mut f)).transpose()).collect::<std::result::Result<_, _>>()?;
        Ok(PairFilters { rows, calls })
    }

    /// Every filter run on the pairs.
    pub fn all(&self) -> impl Iterator<Item = &F> {
        let on_pairs = self.calls.iter().flatten().filter_map(|call| match call {
            CallFilter::Pairs(filter) => Some(filter),
            CallFilter::Points(_) => None,
        });
        self.rows.iter().chain(on_pairs)
    }
}

/// A pair filter as the operator runs it: `predicate` over the columns
/// [`SERIES_DIFFERENCE`], [`REFERENCE_DIFFERENCE`] and [`PAIR_TIME`]. The
/// operator carries a NULL difference as NaN and gives NaN differences to
/// the predicate as NULL — exact while no value of the series (of the
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
    /// The pair time's type, if the predicate reads it.
    time: Option<DataType>,
}

impl SeriesFilter {
    /// Plans `filter` (from [`filters`] or [`call_filter`]) in `session`;
    /// `time_type`: the join key's.
    pub fn new(filter: &Expr, time_type: &DataType, session: &dyn Session) -> Result<Self> {
        let schema = DFSchema::try_from(pair_schema(time_type))?;
        let predicate = session.create_physical_expr(filter.clone(), &schema)?;
        let reads = |name: &str| filter.column_refs().iter().any(|column| column.name == name);
        let (reads_reference, reads_series) = (reads(REFERENCE_DIFFERENCE), reads(SERIES_DIFFERENCE));
        let time = reads(PAIR_TIME).then(|| time_type.clone());
        // The series' NULL and NaN differences alike? Tried at one point; a
        // verdict that may change with the reference's difference or the
        // time (or fails to evaluate there) is checked in any case.
        let (x, y) = (Float64Array::from(vec![None, Some(f64::NAN)]), Float64Array::from(vec![Some(0.0); 2]));
        let alike = || -> Result<bool> {
            let verdicts = verdicts(&predicate, time_type, x, y, time_array(vec![0, 0], time_type)?)?;
            Ok(verdicts.value(0) == verdicts.value(1))
        };
        let check_values = reads_series && (reads_reference || time.is_some() || !alike().unwrap_or(false));
        Ok(Self { predicate, check_values, check_reference: reads_reference, time })
    }

    /// Whether each pair (series difference `xs[i]`, at the reference's
    /// point `positions[i]`) passes (NaN as NULL; a NULL verdict fails).
    pub fn passes(&self, xs: &[f64], positions: &[u32], reference: &Reference) -> Result<BooleanBuffer> {
        let diff = reference.differences();
        let ys: Vec<f64> = positions.iter().map(|&at| diff[at as usize]).collect();
        let (time_type, times) = match &self.time {
            Some(time_type) => {
                let ts = reference.times();
                (time_type, time_array(positions.iter().map(|&at| ts[at as usize]).collect(), time_type)?)
            }
            // Not read: any column of the right length.
            None => (&DataType::Int64, Arc::new(Int64Array::from(vec![0; xs.len()])) as ArrayRef),
        };
        verdicts(&self.predicate, time_type, with_nan_as_null(xs), with_nan_as_null(&ys), times)
    }
}

impl std::fmt::Display for SeriesFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.predicate)
    }
}

impl<F: std::fmt::Display> PairFilters<F> {
    /// `, NAME filter=…` for each statistic (named by `names`) with its own.
    pub fn fmt_calls<'a>(&self, names: impl Iterator<Item = &'a str>, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        for (name, filter) in names.zip(&self.calls) {
            match filter {
                Some(CallFilter::Pairs(filter)) => write!(f, ", {name} filter={filter}")?,
                Some(CallFilter::Points(k)) => write!(f, ", {name} filter={}", call_column(*k))?,
                None => {}
            }
        }
        Ok(())
    }
}

/// Times as the operator keeps them (Int64) in the join key's type.
fn time_array(ts: Vec<i64>, time_type: &DataType) -> Result<ArrayRef> {
    let ints: ArrayRef = Arc::new(Int64Array::from(ts));
    Ok(match time_type {
        // Arrow casts days to Date32 from Int32 only.
        DataType::Date32 => cast(&cast(&ints, &DataType::Int32)?, time_type)?,
        _ => cast(&ints, time_type)?,
    })
}

fn with_nan_as_null(values: &[f64]) -> Float64Array {
    let nulls = NullBuffer::new(BooleanBuffer::collect_bool(values.len(), |i| !values[i].is_nan()));
    Float64Array::new(values.to_vec().into(), Some(nulls))
}

/// The columns a pair filter reads.
fn pair_schema(time_type: &DataType) -> Schema {
    Schema::new(vec![
        Field::new(SERIES_DIFFERENCE, DataType::Float64, true),
        Field::new(REFERENCE_DIFFERENCE, DataType::Float64, true),
        Field::new(PAIR_TIME, time_type.clone(), true),
    ])
}

fn verdicts(predicate: &Arc<dyn PhysicalExpr>, time_type: &DataType, xs: Float64Array, ys: Float64Array, times: ArrayRef) -> Result<BooleanBuffer> {
    let rows = xs.len();
    let batch = RecordBatch::try_new(Arc::new(pair_schema(time_type)), vec![Arc::new(xs), Arc::new(ys), times])?;
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
        if !on_reference_rows(predicate) {
            return None;
        }
        for conjunct in split_conjunction(predicate) {
            let (rewritten, reads) = rewrite(conjunct, filter_input, series, reference)?;
            // The series filter is planned on its own (no subquery results).
            if reads.series && !runs_alone(&rewritten) {
                return None;
            }
            if series_side && reads.time && !reads.series && !reads.reference_difference {
                series_rows.push(replace_column(rewritten.clone(), &reference.ts, Expr::Column(series.ts.clone())));
            } else if series_side {
                on_sides_only = false;
            }
            if reads.series {
                on_series.push(at_pair_time(rewritten, reference));
            } else {
                reads_difference |= reads.reference_difference;
                on_reference.push(at_reference_rows(rewritten, reference));
            }
        }
    }
    Some(Filters { keep: conjunction(on_reference), reads_difference, series: conjunction(on_series), series_rows: conjunction(series_rows), on_sides_only })
}

/// What a conjunct rewritten by [`rewrite`] reads: the pairs' time (as the
/// reference's time column), the differences (as [`REFERENCE_DIFFERENCE`]
/// and [`SERIES_DIFFERENCE`]).
#[derive(Default)]
struct Reads {
    time: bool,
    reference_difference: bool,
    series: bool,
}

/// `conjunct` (over `input`'s columns) rewritten, and what it reads; `None`
/// if it reads anything else.
fn rewrite(conjunct: &Expr, input: &LogicalPlan, series: &DiffCall, reference: &DiffCall) -> Option<(Expr, Reads)> {
    let mut reads = Reads::default();
    let expr = rewrite_into(conjunct, input, series, reference, &mut reads)?;
    Some((expr, reads))
}

/// [`rewrite`]'s work, noting in `reads` what `expr` reads. A column the
/// plan computes on the way (DataFusion names a condition used twice, as
/// by `FILTER (WHERE ts < …)` beside `count(*) FILTER (WHERE ts < …)`, in a
/// projection: `__common_expr_1`) is replaced by its definition, rewritten
/// in turn.
fn rewrite_into(expr: &Expr, input: &LogicalPlan, series: &DiffCall, reference: &DiffCall, reads: &mut Reads) -> Option<Expr> {
    let read_expr = |e: &Expr| -> Option<Read> { read(trace_expr(input, e, &mut JoinSlot::Open(None))?, series, reference) };
    let mut failed = false;
    let rewritten = expr
        .clone()
        .transform_down(|e| {
            // A column, or `s.v - s.prev` with `prev = lag(v) OVER w` (the
            // series' difference): what the operator reads for it.
            let known = match &e {
                Expr::Column(_) | Expr::BinaryExpr(BinaryExpr { op: Operator::Minus, .. }) => read_expr(&e),
                _ => None,
            };
            let replacement = match (known, &e) {
                (Some(Read::ReferenceDifference), _) => {
                    reads.reference_difference = true;
                    Expr::Column(Column::from_name(REFERENCE_DIFFERENCE))
                }
                (Some(Read::Time), _) => {
                    reads.time = true;
                    Expr::Column(reference.ts.clone())
                }
                (Some(Read::SeriesDifference), _) => {
                    reads.series = true;
                    Expr::Column(Column::from_name(SERIES_DIFFERENCE))
                }
                (None, Expr::Column(column)) => {
                    match computed(input, column).and_then(|(definition, plan)| rewrite_into(&definition, plan, series, reference, reads)) {
                        Some(inlined) => inlined,
                        None => {
                            failed = true;
                            return Ok(Transformed::no(e));
                        }
                    }
                }
                (None, _) => return Ok(Transformed::no(e)),
            };
            // Not read again: the replacement is over the operator's columns.
            Ok(Transformed::new(replacement, true, TreeNodeRecursion::Jump))
        })
        .ok()?
        .data;
    (!failed).then_some(rewritten)
}

/// The expression a projection on the way down from `plan` computes for
/// `column`, and the plan it reads (not a plain column, a volatile
/// function or a subquery but an uncorrelated scalar one).
fn computed<'a>(plan: &'a LogicalPlan, column: &Column) -> Option<(Expr, &'a LogicalPlan)> {
    let index = plan.schema().index_of_column(column).ok()?;
    match plan {
        LogicalPlan::Projection(projection) => match projection.expr.get(index)?.clone().unalias() {
            Expr::Column(inner) => computed(&projection.input, &inner),
            // What the definition may read is checked where it goes.
            definition => on_reference_rows(&definition).then_some((definition, projection.input.as_ref())),
        },
        LogicalPlan::SubqueryAlias(alias) => computed(&alias.input, &Column::from(alias.input.schema().qualified_field(index))),
        LogicalPlan::Filter(filter) => computed(&filter.input, column),
        _ => None,
    }
}

/// Whether `expr` can be planned on its own and run on the pairs: no
/// volatile function, no subquery.
pub(crate) fn runs_alone(expr: &Expr) -> bool {
    let subquery = |e: &Expr| Ok(matches!(e, Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) | Expr::OuterReferenceColumn(..)));
    !expr.is_volatile() && !expr.exists(subquery).unwrap_or(true)
}

/// A rewritten conjunct run on the pairs: the time as [`PAIR_TIME`].
fn at_pair_time(expr: Expr, reference: &DiffCall) -> Expr {
    replace_column(expr, &reference.ts, Expr::Column(Column::from_name(PAIR_TIME)))
}

/// `expr` with every reference to `from` replaced by `to`.
fn replace_column(expr: Expr, from: &Column, to: Expr) -> Expr {
    expr.transform(|e| match &e {
        Expr::Column(column) if column == from => Ok(Transformed::yes(to.clone())),
        _ => Ok(Transformed::no(e)),
    })
    .map_or_else(|_| unreachable!("the rewrite cannot fail"), |t| t.data)
}

/// Whether `predicate` can run on the reference's rows: no volatile
/// function, no subquery but an uncorrelated scalar one (`s.ts >= (SELECT
/// max(ts) FROM app) - INTERVAL '6 hours'`), a constant DataFusion
/// computes before the plan runs, the operator's inputs included.
fn on_reference_rows(predicate: &Expr) -> bool {
    let unsupported = |e: &Expr| {
        Ok(match e {
            Expr::ScalarSubquery(subquery) => !subquery.outer_ref_columns.is_empty(),
            Expr::Exists(_) | Expr::InSubquery(_) | Expr::OuterReferenceColumn(..) => true,
            _ => false,
        })
    };
    !predicate.is_volatile() && !predicate.exists(unsupported).unwrap_or(true)
}

/// A rewritten conjunct run on the reference's rows: its difference as
/// the reference window's output column.
fn at_reference_rows(expr: Expr, reference: &DiffCall) -> Expr {
    replace_column(expr, &Column::from_name(REFERENCE_DIFFERENCE), reference.output.clone())
}

/// An aggregate's own `FILTER (WHERE …)` as the matcher classifies it.
pub(super) enum CallPredicate {
    /// Reading the series' difference: over the pair columns.
    Pairs(Expr),
    /// Reading the time and the reference's difference only: over the
    /// reference's rows (its window's output when `reads_difference`).
    Points { predicate: Expr, reads_difference: bool },
}

/// An aggregate's own `FILTER (WHERE …)` over `input` (the aggregate's):
/// each conjunct reading the pairs' time and either difference; `None` for
/// anything else (a key, a volatile function, a subquery but an
/// uncorrelated scalar one in a filter not reading the series).
pub(super) fn call_filter(predicate: &Expr, input: &LogicalPlan, series: &DiffCall, reference: &DiffCall) -> Option<CallPredicate> {
    if !on_reference_rows(predicate) {
        return None;
    }
    let rewritten: Vec<(Expr, Reads)> = split_conjunction(predicate).into_iter().map(|c| rewrite(c, input, series, reference)).collect::<Option<_>>()?;
    if rewritten.iter().any(|(_, reads)| reads.series) {
        let predicate = conjunction(rewritten.into_iter().map(|(expr, _)| at_pair_time(expr, reference)))?;
        return runs_alone(&predicate).then_some(CallPredicate::Pairs(predicate));
    }
    let reads_difference = rewritten.iter().any(|(_, reads)| reads.reference_difference);
    let predicate = conjunction(rewritten.into_iter().map(|(expr, _)| at_reference_rows(expr, reference)))?;
    Some(CallPredicate::Points { predicate, reads_difference })
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    /// The operator's Int64 times come back in each join key type the
    /// matcher accepts, with the same values.
    #[test]
    fn times_come_back_in_the_join_keys_type() {
        let ts = vec![0, 86_400, -3, 19_000];
        for time_type in [
            DataType::Int64,
            DataType::Int32,
            DataType::UInt32,
            DataType::Date32,
            DataType::Date64,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamp(TimeUnit::Second, Some("+02:00".into())),
        ] {
            let values = if matches!(time_type, DataType::UInt32) { vec![0, 86_400, 3, 19_000] } else { ts.clone() };
            let array = time_array(values.clone(), &time_type).unwrap();
            assert_eq!(array.data_type(), &time_type);
            let back = cast(&array, &DataType::Int64).unwrap();
            assert_eq!(back.as_primitive::<datafusion::arrow::datatypes::Int64Type>().values().to_vec(), values, "{time_type}");
        }
    }
}
