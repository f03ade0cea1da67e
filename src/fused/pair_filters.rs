//! The filters the fused operator runs on each series' pairs at execution
//! ([`PairFilters`]): the query's condition on the pairs ([`SeriesFilter`],
//! planned over the series' difference, the reference's and the pair's
//! time) and each aggregate's own `FILTER`, evaluated on a batch of one
//! series' pairs. Which filters go there is decided by [`super::filters`].

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::Session;
use datafusion::common::{internal_datafusion_err, DFSchema, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;

use super::series::Reference;

#[cfg(doc)]
use super::filters::Filters;

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
    /// Plans `filter` (from [`super::filters::filters`] or [`super::filters::call_filter`]) in `session`;
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
