//! `min` and `max` whose answer does not depend on row order when a float
//! column holds NaN.
//!
//! DataFusion's grouped `max`/`min` over floats keep, per group, the last
//! value that does not compare (`partial_cmp` is `None`): with NaN among the
//! values the result is NaN or a number depending on the order the rows (and
//! partitions) arrive in — `max` over `NaN, 8` gives 8, over `8, NaN` gives
//! NaN. The ungrouped aggregate orders NaN above every number (so `max` is
//! NaN and `min` ignores it), as DataFusion's sorts and comparisons do. These
//! wrappers register under the same names and give grouped floats that same
//! answer by using the row accumulator; every other type keeps DataFusion's
//! vectorised one.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, GroupsAccumulator, ReversedUDAF, SetMonotonicity, Signature,
    StatisticsArgs,
};

/// DataFusion's `min` or `max`, with the row accumulator for floats.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OrderFreeMinMax {
    inner: Arc<AggregateUDF>,
}

impl OrderFreeMinMax {
    /// `min` and `max`.
    pub fn both() -> [AggregateUDF; 2] {
        [min_udaf(), max_udaf()].map(|inner| AggregateUDF::from(Self { inner }))
    }
}

impl AggregateUDFImpl for OrderFreeMinMax {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.accumulator(args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.return_field.data_type().is_floating() && self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner.create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.create_sliding_accumulator(args)
    }

    fn is_descending(&self) -> Option<bool> {
        self.inner.is_descending()
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.reverse_udf()
    }

    fn value_from_stats(&self, statistics_args: &StatisticsArgs) -> Option<ScalarValue> {
        self.inner.value_from_stats(statistics_args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.inner().set_monotonicity(data_type)
    }
}
