//! Aggregates that need the whole sample rather than running moments:
//! `spearman_r`, `spearman_p` (ranks) and `shift_p` (Mann–Whitney U).
//!
//! The state is the pairwise-complete `(x, y)` values of the group as two
//! Float64 lists; partial states merge by concatenation. Memory grows with
//! the group (16 bytes a row), which is fine for per-series statistics.

use std::mem::size_of;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{not_impl_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, ReversedUDAF, Signature, Volatility};

use super::pairs::for_each_complete_pair;
use super::list_state::{extend_from_lists, list_scalar, list_state_fields};
use super::signature::{coerce_args, ArgKind};
use super::{shift_p, spearman};
use crate::stats::ranks::{mann_whitney_p, spearman};

/// Which statistic a sample aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleStatistic {
    /// `spearman_r`: Spearman's rank correlation.
    SpearmanR,
    /// `spearman_p`: its two-sided p-value.
    SpearmanP,
    /// `shift_p`: Mann–Whitney U p-value of in-window against baseline values.
    ShiftP,
}

impl SampleStatistic {
    pub const ALL: [SampleStatistic; 3] = [Self::SpearmanR, Self::SpearmanP, Self::ShiftP];

    pub fn name(self) -> &'static str {
        match self {
            Self::SpearmanR => "spearman_r",
            Self::SpearmanP => "spearman_p",
            Self::ShiftP => "shift_p",
        }
    }

    fn usage(self) -> String {
        match self {
            Self::ShiftP => "shift_p(value: numeric, in_window: boolean)".to_string(),
            _ => format!("{}(x: numeric, y: numeric)", self.name()),
        }
    }

    fn documentation(self) -> &'static Documentation {
        match self {
            Self::SpearmanR => spearman::documentation(true),
            Self::SpearmanP => spearman::documentation(false),
            Self::ShiftP => shift_p::documentation(),
        }
    }

    fn evaluate(self, xs: &[f64], ys: &[f64]) -> Option<f64> {
        match self {
            Self::SpearmanR => spearman(xs, ys).0,
            Self::SpearmanP => spearman(xs, ys).1,
            Self::ShiftP => {
                let (mut inside, mut outside) = (Vec::new(), Vec::new());
                for (&value, &flag) in xs.iter().zip(ys) {
                    if flag != 0.0 { inside.push(value) } else { outside.push(value) }
                }
                mann_whitney_p(&inside, &outside)
            }
        }
    }
}

/// The aggregate UDF behind each sample statistic.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SampleAggregateImpl {
    statistic: SampleStatistic,
    signature: Signature,
}

impl SampleAggregateImpl {
    pub fn new(statistic: SampleStatistic) -> Self {
        Self { statistic, signature: Signature::user_defined(Volatility::Immutable) }
    }

    /// Which statistic it computes (for the fused path, [`crate::fused`]).
    pub fn statistic(&self) -> SampleStatistic {
        self.statistic
    }
}

impl AggregateUDFImpl for SampleAggregateImpl {
    fn name(&self) -> &str {
        self.statistic.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let second = if self.statistic == SampleStatistic::ShiftP { ArgKind::Flag } else { ArgKind::Float };
        coerce_args(&self.statistic.usage(), arg_types, &[ArgKind::Float, second], &[])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            return not_impl_err!("{} does not support DISTINCT", self.name());
        }
        Ok(Box::new(SampleAccumulator { statistic: self.statistic, xs: Vec::new(), ys: Vec::new() }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(list_state_fields(args.name, &["xs", "ys"]))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(self.statistic.documentation())
    }
}

#[derive(Debug)]
struct SampleAccumulator {
    statistic: SampleStatistic,
    xs: Vec<f64>,
    ys: Vec<f64>,
}


impl Accumulator for SampleAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        // shift_p's flag arrives as Boolean: count it as 1.0 / 0.0.
        let values = [values[0].clone(), cast(&values[1], &DataType::Float64)?];
        for_each_complete_pair(&values, None, |_, x, y| {
            self.xs.push(x);
            self.ys.push(y);
        });
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        extend_from_lists(states, &mut [&mut self.xs, &mut self.ys]);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![list_scalar(&self.xs), list_scalar(&self.ys)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.statistic.evaluate(&self.xs, &self.ys)))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + (self.xs.capacity() + self.ys.capacity()) * size_of::<f64>()
    }
}
