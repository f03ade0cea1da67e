//! Aggregates over a series in time order, `f(x, y ... ORDER BY ts)`:
//! `xcorr_lag`/`xcorr_r` (lead/lag) and `pearson_p_eff`/`pearson_n_eff`
//! (autocorrelation-corrected significance).
//!
//! DataFusion appends the ORDER BY key to the arguments of an
//! order-sensitive aggregate; we keep `(key, x, y)` for every row with a
//! non-NULL key (NULL x or y kept as NaN, so lags stay aligned in time) and
//! sort by key when evaluating, so no input ordering or partitioning is
//! assumed. Keys should be unique within a group (one row per timestamp).

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, Float64Type};
use datafusion::common::{not_impl_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

use super::list_state::{extend_from_lists, list_scalar, list_state_fields};
use super::signature::{coerce_args, ArgKind};
use super::{pearson_eff, xcorr};
use crate::stats::lagged::{best_lag, effective_sample};

/// Which statistic an ordered aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderedStatistic {
    XcorrLag,
    XcorrR,
    PearsonPEff,
    PearsonNEff,
}

impl OrderedStatistic {
    pub const ALL: [OrderedStatistic; 4] = [Self::XcorrLag, Self::XcorrR, Self::PearsonPEff, Self::PearsonNEff];

    pub fn name(self) -> &'static str {
        match self {
            Self::XcorrLag => "xcorr_lag",
            Self::XcorrR => "xcorr_r",
            Self::PearsonPEff => "pearson_p_eff",
            Self::PearsonNEff => "pearson_n_eff",
        }
    }

    fn takes_max_lag(self) -> bool {
        matches!(self, Self::XcorrLag | Self::XcorrR)
    }

    fn usage(self) -> String {
        let max_lag = if self.takes_max_lag() { ", max_lag: integer constant" } else { "" };
        format!("{}(x: numeric, y: numeric{max_lag} ORDER BY ts)", self.name())
    }

    fn documentation(self) -> &'static Documentation {
        match self {
            Self::XcorrLag => xcorr::documentation(true),
            Self::XcorrR => xcorr::documentation(false),
            Self::PearsonPEff => pearson_eff::documentation(true),
            Self::PearsonNEff => pearson_eff::documentation(false),
        }
    }

    fn evaluate(self, xs: &[f64], ys: &[f64], max_lag: usize) -> ScalarValue {
        match self {
            Self::XcorrLag => ScalarValue::Int64(best_lag(xs, ys, max_lag).map(|(lag, _)| lag)),
            Self::XcorrR => ScalarValue::Float64(best_lag(xs, ys, max_lag).map(|(_, r)| r)),
            Self::PearsonPEff => ScalarValue::Float64(effective_sample(xs, ys).2),
            Self::PearsonNEff => ScalarValue::Float64(effective_sample(xs, ys).1),
        }
    }
}

/// The aggregate UDF behind each ordered statistic.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OrderedAggregateImpl {
    statistic: OrderedStatistic,
    signature: Signature,
}

impl OrderedAggregateImpl {
    pub fn new(statistic: OrderedStatistic) -> Self {
        Self { statistic, signature: Signature::user_defined(Volatility::Immutable) }
    }

    /// Which statistic it computes (for the fused path, [`crate::fused`]).
    pub fn statistic(&self) -> OrderedStatistic {
        self.statistic
    }
}

impl AggregateUDFImpl for OrderedAggregateImpl {
    fn name(&self) -> &str {
        self.statistic.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let required: &[ArgKind] =
            if self.statistic.takes_max_lag() { &[ArgKind::Float, ArgKind::Float, ArgKind::Integer] } else { &[ArgKind::Float, ArgKind::Float] };
        coerce_args(&self.statistic.usage(), arg_types, required, &[])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.statistic == OrderedStatistic::XcorrLag { DataType::Int64 } else { DataType::Float64 })
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let usage = self.statistic.usage();
        if args.is_distinct {
            return not_impl_err!("{} does not support DISTINCT", self.name());
        }
        let [order] = args.order_bys else {
            return plan_err!("{usage}: needs exactly one ORDER BY key, e.g. ORDER BY ts");
        };
        let max_lag = match args.exprs.get(2) {
            None => 0,
            Some(expr) => match expr.downcast_ref::<Literal>().map(Literal::value) {
                Some(ScalarValue::Int64(Some(lag))) if *lag >= 0 => *lag as usize,
                _ => return plan_err!("{usage}: max_lag must be a non-negative integer constant, got {expr}"),
            },
        };
        Ok(Box::new(OrderedAccumulator {
            statistic: self.statistic,
            argument_count: args.exprs.len(),
            descending: order.options.descending,
            max_lag,
            keys: Vec::new(),
            xs: Vec::new(),
            ys: Vec::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(list_state_fields(args.name, &["keys", "xs", "ys"]))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        // We sort by the key ourselves; an ordered input only saves work.
        AggregateOrderSensitivity::Beneficial
    }

    fn with_beneficial_ordering(self: Arc<Self>, _ordering_is_satisfied: bool) -> Result<Option<Arc<dyn AggregateUDFImpl>>> {
        // The result is the same either way: the accumulator sorts by key.
        Ok(Some(self))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(self.statistic.documentation())
    }
}

#[derive(Debug)]
struct OrderedAccumulator {
    statistic: OrderedStatistic,
    /// Number of function arguments; the ORDER BY key follows them.
    argument_count: usize,
    descending: bool,
    max_lag: usize,
    keys: Vec<f64>,
    xs: Vec<f64>,
    ys: Vec<f64>,
}

/// The rows in the order of their ORDER BY `keys` (reversed for DESC).
pub(super) fn key_order(keys: &[f64], descending: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    if descending {
        order.reverse();
    }
    order
}

/// An ORDER BY key column as Float64 (timestamps and dates by their count).
pub(super) fn key_values(column: &ArrayRef) -> Result<ArrayRef> {
    let as_number = match column.data_type() {
        DataType::Timestamp(..) | DataType::Date64 | DataType::Time64(_) | DataType::Duration(_) => cast(column, &DataType::Int64)?,
        DataType::Date32 | DataType::Time32(_) => cast(column, &DataType::Int32)?,
        t if t.is_numeric() => column.clone(),
        other => return plan_err!("ORDER BY key must be a timestamp, date or number, got {other}"),
    };
    Ok(cast(&as_number, &DataType::Float64)?)
}


impl Accumulator for OrderedAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let keys = key_values(&values[self.argument_count])?;
        let keys = keys.as_primitive::<Float64Type>();
        let x = values[0].as_primitive::<Float64Type>();
        let y = values[1].as_primitive::<Float64Type>();
        let value = |column: &datafusion::arrow::array::Float64Array, row: usize| if column.is_valid(row) { column.value(row) } else { f64::NAN };
        for row in (0..keys.len()).filter(|&row| keys.is_valid(row)) {
            self.keys.push(keys.value(row));
            self.xs.push(value(x, row));
            self.ys.push(value(y, row));
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        extend_from_lists(states, &mut [&mut self.keys, &mut self.xs, &mut self.ys]);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![list_scalar(&self.keys), list_scalar(&self.xs), list_scalar(&self.ys)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let order = key_order(&self.keys, self.descending);
        let xs: Vec<f64> = order.iter().map(|&i| self.xs[i]).collect();
        let ys: Vec<f64> = order.iter().map(|&i| self.ys[i]).collect();
        Ok(self.statistic.evaluate(&xs, &ys, self.max_lag))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + (self.keys.capacity() + self.xs.capacity() + self.ys.capacity()) * size_of::<f64>()
    }
}
