//! A bound on how deep a statement's expressions nest, checked on the
//! parsed statement before DataFusion plans it.
//!
//! The parser reads `a + b + c + …` without recursing, but the result is a
//! tree as deep as the number of terms, and DataFusion's planner walks and
//! names it level by level: the time grows faster than the square of the
//! depth (release build, `SELECT 1 + 1 + …`: 1.0 s at 1,000 terms, 4.0 s at
//! 2,000, 24 s at 4,000) and the stack with the depth. Deeper statements get
//! a one-line error instead.
//! Parenthesised nesting and subqueries are bounded by the parser's own
//! recursion limit; long flat lists (`IN (…)` with 20,000 items, 1,000
//! columns) are not nested and are not limited.
//!
//! A long chain of `AND` or of `OR` (a generated filter, `view = 'a' OR
//! view = 'b' OR …` with 10,000 terms) is first rebalanced into a tree of
//! depth log2(terms) by [`balance`]: both operators are associative in SQL's
//! three-valued logic, so the meaning is unchanged, and the statement plans
//! like any other. Chains of arithmetic are left as written (floating-point
//! sums depend on their order).

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value, Visit, VisitMut, Visitor, VisitorMut};

/// The deepest expression nesting a statement may have.
pub const MAX_EXPRESSION_DEPTH: usize = 2_500;

/// An error naming the depth if `statement` nests deeper than the limit.
pub fn check(statement: &Statement) -> Result<(), String> {
    let mut depth = Depth::default();
    let exceeded = match statement {
        Statement::Statement(inner) => inner.visit(&mut depth).is_break(),
        Statement::CopyTo(copy) => match &copy.source {
            CopyToSource::Query(query) => query.visit(&mut depth).is_break(),
            CopyToSource::Relation(_) => false,
        },
        Statement::Explain(explain) => return check(&explain.statement),
        Statement::CreateExternalTable(_) | Statement::Reset(_) => false,
    };
    if exceeded {
        return Err(format!(
            "expression nested more than {MAX_EXPRESSION_DEPTH} deep (e.g. a sum of that many terms): \
             split it, e.g. sum partial sums computed in a subquery"
        ));
    }
    Ok(())
}

/// Chains of `AND` (`OR`) with more terms than this are rebalanced;
/// shorter ones keep their shape (and their plans' text).
const BALANCE_FROM_TERMS: usize = 64;

/// Rebalances every long chain of `AND` or `OR` in `statement` (see the
/// module documentation).
pub fn balance(statement: &mut Statement) {
    let mut balancer = Balancer;
    let _ = match statement {
        Statement::Statement(inner) => inner.visit(&mut balancer),
        Statement::CopyTo(copy) => match &mut copy.source {
            CopyToSource::Query(query) => query.visit(&mut balancer),
            CopyToSource::Relation(_) => ControlFlow::Continue(()),
        },
        Statement::Explain(explain) => {
            balance(&mut explain.statement);
            ControlFlow::Continue(())
        }
        Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
    };
}

struct Balancer;

impl VisitorMut for Balancer {
    type Break = ();

    /// Before the visit goes down the chain: it then walks the balanced tree.
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::BinaryOp { op: op @ (BinaryOperator::And | BinaryOperator::Or), .. } = expr else {
            return ControlFlow::Continue(());
        };
        let op = op.clone();
        // The terms, left to right, without recursion (nor a deep drop: each
        // level is taken apart as it is read).
        let mut terms = Vec::new();
        let mut pending = vec![std::mem::replace(expr, Expr::Value(Value::Null.into()))];
        while let Some(next) = pending.pop() {
            match next {
                Expr::BinaryOp { left, op: inner, right } if inner == op => {
                    pending.push(*right);
                    pending.push(*left);
                }
                term => terms.push(term),
            }
        }
        *expr = if terms.len() > BALANCE_FROM_TERMS { balanced(terms, &op) } else { left_deep(terms, &op) };
        ControlFlow::Continue(())
    }
}

/// `terms` joined by `op` in a tree of depth log2(terms), in their order.
fn balanced(mut terms: Vec<Expr>, op: &BinaryOperator) -> Expr {
    if terms.len() == 1 {
        return terms.pop().expect("one term");
    }
    let right = terms.split_off(terms.len() / 2);
    Expr::BinaryOp { left: Box::new(balanced(terms, op)), op: op.clone(), right: Box::new(balanced(right, op)) }
}

/// `terms` joined by `op` as the parser builds them: `((a op b) op c) …`.
fn left_deep(terms: Vec<Expr>, op: &BinaryOperator) -> Expr {
    let mut terms = terms.into_iter();
    let first = terms.next().expect("a chain has terms");
    terms.fold(first, |left, right| Expr::BinaryOp { left: Box::new(left), op: op.clone(), right: Box::new(right) })
}

#[derive(Default)]
struct Depth {
    current: usize,
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.current += 1;
        if self.current > MAX_EXPRESSION_DEPTH {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.current -= 1;
        ControlFlow::Continue(())
    }
}
