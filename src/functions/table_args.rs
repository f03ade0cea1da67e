//! What perfcorr's table functions (`rank_correlations`, `rank_causes`)
//! share: string-literal arguments checked against a usage line, and the
//! DataFusion session state they plan their reads with when scanned.

use datafusion::catalog::Session;
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;

/// Every argument as a string; a non-string argument is an error starting with `usage`.
pub fn string_arguments(exprs: &[Expr], usage: &str) -> Result<Vec<String>> {
    let argument = |(i, expr): (usize, &Expr)| match expr {
        Expr::Literal(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)) | ScalarValue::LargeUtf8(Some(text)), _) => Ok(text.clone()),
        other => plan_err!("{usage}: argument {} must be a string literal, got {other}", i + 1),
    };
    exprs.iter().enumerate().map(argument).collect()
}

/// The scan's session as a [`SessionState`] (`function` names the caller in the error).
pub fn session_state<'a>(session: &'a dyn Session, function: &str) -> Result<&'a SessionState> {
    match session.as_any().downcast_ref::<SessionState>() {
        Some(state) => Ok(state),
        None => plan_err!("{function} needs a DataFusion SessionState"),
    }
}
