//! The state shared by the Pearson aggregates (`pearson_r`, `pearson_p`,
//! `pearson_log10_p`, `pearson_n`, `pearson_ci_low`, `pearson_ci_high`): one
//! [`CoMoments`] per group, fed by the pairwise-complete rows of `(x, y)`
//! (both non-NULL and not NaN, pandas' rule) and merged across partitions
//! with Chan et al.'s formula.
//!
//! Each SQL function is one [`PearsonAggregateImpl`], differing only in
//! [`PearsonOutput`], the value it emits from the same state.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StructArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, UInt64Type};
use datafusion::common::{not_impl_err, plan_err, Result, ScalarValue};
use datafusion::physical_expr::expressions::Literal;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{format_state_name, AggregateOrderSensitivity};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo,
    GroupsAccumulator, ReversedUDAF, Signature, Volatility,
};

use super::pairs::for_each_complete_pair;
use super::signature::{coerce_args, ArgKind};
use super::{pearson_ci, pearson_log10_p, pearson_n, pearson_p, pearson_r, pearson_summary};
use crate::stats::CoMoments;

/// Which statistic a Pearson aggregate emits from the shared co-moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PearsonOutput {
    /// `pearson_r`: the correlation coefficient.
    R,
    /// `pearson_p`: its two-sided p-value.
    P,
    /// `pearson_log10_p`: log10 of the p-value, finite below 1e-308.
    Log10P,
    /// `pearson_n`: the number of pairwise-complete rows.
    N,
    /// `pearson_ci_low`: lower end of the Fisher-z confidence interval.
    CiLow,
    /// `pearson_ci_high`: upper end of the Fisher-z confidence interval.
    CiHigh,
    /// `pearson_summary`: r, p, log10 p and n in one struct. The optimizer
    /// rule in [`crate::optimizer`] computes several of the above from one
    /// state through it.
    Summary,
}

/// Default confidence level of `pearson_ci_low`/`pearson_ci_high` (scipy's).
const DEFAULT_CONFIDENCE: f64 = 0.95;

impl PearsonOutput {
    pub const ALL: [PearsonOutput; 7] = [
        PearsonOutput::R,
        PearsonOutput::P,
        PearsonOutput::Log10P,
        PearsonOutput::N,
        PearsonOutput::CiLow,
        PearsonOutput::CiHigh,
        PearsonOutput::Summary,
    ];

    /// The field of `pearson_summary` that holds this output, if any.
    pub fn summary_field(self) -> Option<&'static str> {
        match self {
            PearsonOutput::R => Some("r"),
            PearsonOutput::P => Some("p"),
            PearsonOutput::Log10P => Some("log10_p"),
            PearsonOutput::N => Some("n"),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PearsonOutput::R => "pearson_r",
            PearsonOutput::P => "pearson_p",
            PearsonOutput::Log10P => "pearson_log10_p",
            PearsonOutput::N => "pearson_n",
            PearsonOutput::CiLow => "pearson_ci_low",
            PearsonOutput::CiHigh => "pearson_ci_high",
            PearsonOutput::Summary => "pearson_summary",
        }
    }

    fn takes_confidence(self) -> bool {
        matches!(self, PearsonOutput::CiLow | PearsonOutput::CiHigh)
    }

    fn usage(self, name: &str) -> String {
        let confidence = if self.takes_confidence() { " [, confidence: constant in (0, 1)]" } else { "" };
        format!("{name}(x: numeric, y: numeric{confidence})")
    }

    fn return_type(self) -> DataType {
        match self {
            PearsonOutput::N => DataType::Int64,
            PearsonOutput::Summary => DataType::Struct(summary_fields()),
            _ => DataType::Float64,
        }
    }

    fn documentation(self) -> &'static Documentation {
        match self {
            PearsonOutput::R => pearson_r::documentation(),
            PearsonOutput::P => pearson_p::documentation(),
            PearsonOutput::Log10P => pearson_log10_p::documentation(),
            PearsonOutput::N => pearson_n::documentation(),
            PearsonOutput::CiLow | PearsonOutput::CiHigh => pearson_ci::documentation(self == PearsonOutput::CiLow),
            PearsonOutput::Summary => pearson_summary::documentation(),
        }
    }
}

/// The fields of `pearson_summary`'s struct.
fn summary_fields() -> Fields {
    SUMMARY_PARTS
        .iter()
        .map(|part| {
            let name = part.summary_field().expect("summary parts have a field");
            Field::new(name, part.return_type(), *part != PearsonOutput::N)
        })
        .collect()
}

/// The outputs `pearson_summary` carries, in field order.
const SUMMARY_PARTS: [PearsonOutput; 4] = [PearsonOutput::R, PearsonOutput::P, PearsonOutput::Log10P, PearsonOutput::N];

/// A [`PearsonOutput`] with its parameters, as one accumulator computes it.
/// Public for the fused path ([`crate::fused`]), which computes the same
/// outputs from the same co-moments.
#[derive(Debug, Clone, Copy)]
pub struct Statistic {
    output: PearsonOutput,
    confidence: f64,
}

impl Statistic {
    /// `confidence` is the optional third argument of the CI functions,
    /// `None` if there is none; an invalid one gives `None`.
    pub fn new(output: PearsonOutput, confidence: Option<f64>) -> Option<Self> {
        match confidence {
            None => Some(Self { output, confidence: DEFAULT_CONFIDENCE }),
            Some(c) if output.takes_confidence() && c > 0.0 && c < 1.0 => Some(Self { output, confidence: c }),
            Some(_) => None,
        }
    }

    pub fn name(&self) -> &'static str {
        self.output.name()
    }

    /// Reads the optional confidence argument, which must be a constant.
    fn from_args(output: PearsonOutput, args: &AccumulatorArgs) -> Result<Self> {
        let confidence = match args.exprs.get(2) {
            None => DEFAULT_CONFIDENCE,
            Some(expr) => match expr.downcast_ref::<Literal>().map(Literal::value) {
                Some(ScalarValue::Float64(Some(c))) if *c > 0.0 && *c < 1.0 => *c,
                _ => return plan_err!("{}: confidence must be a constant in (0, 1), got {expr}", output.usage(output.name())),
            },
        };
        Ok(Self { output, confidence })
    }

    fn float_value(self, state: &CoMoments) -> Option<f64> {
        let interval = || crate::stats::pearson::fisher_interval(state.pearson_r()?, state.n as f64, self.confidence);
        match self.output {
            PearsonOutput::R => state.pearson_r(),
            PearsonOutput::P => state.pearson_p(),
            PearsonOutput::Log10P => crate::stats::pearson::log10_p_value(state.pearson_r()?, state.n as f64),
            PearsonOutput::N => Some(state.n as f64),
            PearsonOutput::CiLow => interval().map(|(low, _)| low),
            PearsonOutput::CiHigh => interval().map(|(_, high)| high),
            PearsonOutput::Summary => None,
        }
    }

    fn scalar(self, state: &CoMoments) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&self.array(std::slice::from_ref(state)), 0)
    }

    /// The statistic of each state, as the aggregate emits it.
    pub fn array(self, states: &[CoMoments]) -> ArrayRef {
        match self.output {
            PearsonOutput::N => Arc::new(states.iter().map(|s| s.n as i64).collect::<Int64Array>()),
            PearsonOutput::Summary => {
                let part = |output| Statistic { output, ..self }.array(states);
                let columns = SUMMARY_PARTS.map(part);
                Arc::new(StructArray::new(summary_fields(), columns.to_vec(), None))
            }
            _ => Arc::new(states.iter().map(|s| self.float_value(s)).collect::<Float64Array>()),
        }
    }
}

/// The aggregate UDF behind each Pearson aggregate.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PearsonAggregateImpl {
    output: PearsonOutput,
    /// The SQL name: the output's own, or `corr` for [`Self::corr`].
    name: &'static str,
    signature: Signature,
}

impl PearsonAggregateImpl {
    pub fn new(output: PearsonOutput) -> Self {
        Self {
            output,
            name: output.name(),
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// `pearson_r` under the SQL standard's name, in place of DataFusion's
    /// `corr` (see [`super::corr`]).
    pub fn corr() -> Self {
        Self { name: super::corr::NAME, ..Self::new(PearsonOutput::R) }
    }

    pub fn output(&self) -> PearsonOutput {
        self.output
    }
}

impl AggregateUDFImpl for PearsonAggregateImpl {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let optional: &[ArgKind] = if self.output.takes_confidence() { &[ArgKind::Float] } else { &[] };
        coerce_args(&self.output.usage(self.name), arg_types, &[ArgKind::Float, ArgKind::Float], optional)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.output.return_type())
    }

    fn is_nullable(&self) -> bool {
        !matches!(self.output, PearsonOutput::N | PearsonOutput::Summary)
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        match self.output {
            PearsonOutput::N => Ok(ScalarValue::Int64(Some(0))),
            _ => ScalarValue::try_from(data_type),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            return not_impl_err!("{} does not support DISTINCT", self.name());
        }
        Ok(Box::new(PearsonAccumulator {
            statistic: Statistic::from_args(self.output, &args)?,
            state: CoMoments::default(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |suffix: &str, data_type: DataType| -> FieldRef {
            Arc::new(Field::new(format_state_name(args.name, suffix), data_type, true))
        };
        let floats = CoMoments::FLOAT_FIELDS.map(|name| field(name, DataType::Float64));
        Ok(std::iter::once(field("n", DataType::UInt64)).chain(floats).collect())
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(PearsonGroupsAccumulator {
            statistic: Statistic::from_args(self.output, &args)?,
            states: Vec::new(),
        }))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.name == super::corr::NAME { super::corr::documentation() } else { self.output.documentation() })
    }
}

/// Typed views of the state columns produced by [`state_arrays`]: the count,
/// then [`CoMoments::floats`].
struct StateColumns<'a> {
    n: &'a UInt64Array,
    floats: [&'a Float64Array; 7],
}

impl<'a> StateColumns<'a> {
    fn new(states: &'a [ArrayRef]) -> Self {
        Self {
            n: states[0].as_primitive::<UInt64Type>(),
            floats: std::array::from_fn(|k| states[k + 1].as_primitive::<Float64Type>()),
        }
    }

    fn get(&self, row: usize) -> CoMoments {
        let n = if self.n.is_valid(row) { self.n.value(row) } else { 0 };
        CoMoments::from_floats(n, self.floats.map(|column| column.value(row)))
    }
}

fn state_arrays(states: &[CoMoments]) -> Vec<ArrayRef> {
    let n: ArrayRef = Arc::new(UInt64Array::from_iter_values(states.iter().map(|s| s.n)));
    let floats = (0..CoMoments::FLOAT_FIELDS.len()).map(|k| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(states.iter().map(|s| s.floats()[k])))
    });
    std::iter::once(n).chain(floats).collect()
}

/// Row-at-a-time accumulator: ungrouped aggregates and window frames
/// (it supports retraction, so sliding frames cost O(1) per row).
#[derive(Debug)]
struct PearsonAccumulator {
    statistic: Statistic,
    state: CoMoments,
}

impl Accumulator for PearsonAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for_each_complete_pair(values, None, |_, x, y| self.state.update(x, y));
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for_each_complete_pair(values, None, |_, x, y| self.state.remove(x, y));
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let columns = StateColumns::new(states);
        (0..states[0].len()).for_each(|row| self.state.merge(&columns.get(row)));
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let floats = self.state.floats().map(|v| ScalarValue::Float64(Some(v)));
        Ok(std::iter::once(ScalarValue::UInt64(Some(self.state.n))).chain(floats).collect())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.statistic.scalar(&self.state)
    }

    fn size(&self) -> usize {
        size_of::<Self>()
    }
}

/// Vectorised accumulator for `GROUP BY`: one [`CoMoments`] per group.
struct PearsonGroupsAccumulator {
    statistic: Statistic,
    states: Vec<CoMoments>,
}

impl GroupsAccumulator for PearsonGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups, CoMoments::default());
        let states = &mut self.states;
        for_each_complete_pair(values, opt_filter, |row, x, y| {
            states[group_indices[row]].update(x, y)
        });
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups, CoMoments::default());
        let columns = StateColumns::new(values);
        for (row, &group) in group_indices.iter().enumerate() {
            self.states[group].merge(&columns.get(row));
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.statistic.array(&emit_to.take_needed(&mut self.states)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(state_arrays(&emit_to.take_needed(&mut self.states)))
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut states = vec![CoMoments::default(); values[0].len()];
        for_each_complete_pair(values, opt_filter, |row, x, y| states[row].update(x, y));
        Ok(state_arrays(&states))
    }

    fn size(&self) -> usize {
        self.states.capacity() * size_of::<CoMoments>()
    }
}
