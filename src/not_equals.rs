//! `NotEqualsAsNotIn`: an optimizer rule that reads a long conjunction of
//! inequalities of one expression, `view <> 'a' AND view <> 'b' AND …` (an
//! exclusion list a script generates, 10,000 terms), as `view NOT IN ('a',
//! 'b', …)`, which DataFusion evaluates with one hash lookup per row instead
//! of one comparison per term (at 10 million rows and 10,000 terms: 2.7 s
//! in DuckDB, which does the same, and minutes term by term).
//!
//! The meaning is the same in SQL's three-valued logic: both are FALSE when
//! the expression equals a term, NULL when it is NULL, TRUE otherwise (NULL
//! terms are left as written). Only inequalities of one deterministic
//! expression without subqueries to literals of its type are gathered, from
//! at least [`FROM_TERMS`] of them (DataFusion's simplifier writes short
//! `NOT IN` lists back as inequalities), in the conditions of filters and
//! joins (whose names nothing reads), at the top of the condition (not in a
//! conjunction under an `OR`); the other conjuncts keep their order.
//! DataFusion already reads a disjunction of equalities as `IN`.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::utils::{split_conjunction, split_conjunction_owned};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};

use crate::fused::filters::runs_alone;
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// Fewest inequalities of one expression read as a `NOT IN`.
pub const FROM_TERMS: usize = 8;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct NotEqualsAsNotIn;

impl OptimizerRule for NotEqualsAsNotIn {
    fn name(&self) -> &str {
        "not_equals_as_not_in"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        // What the conditions read: the filter's input, the join's two sides.
        let schema = match &plan {
            LogicalPlan::Filter(filter) => Arc::clone(filter.input.schema()),
            LogicalPlan::Join(join) => Arc::new(join.left.schema().as_ref().clone().join(join.right.schema())?),
            _ => return Ok(Transformed::no(plan)),
        };
        plan.map_expressions(|expr| Ok(gather(expr, &schema)))
    }
}

/// `expr <> literal` (either way round, of one type): the expression and
/// the literal.
fn inequality<'a>(expr: &'a Expr, schema: &DFSchema) -> Option<(&'a Expr, &'a Expr)> {
    let Expr::BinaryExpr(BinaryExpr { left, op: Operator::NotEq, right }) = expr else { return None };
    let (value, literal) = match (left.as_ref(), right.as_ref()) {
        (value, literal @ Expr::Literal(scalar, _)) | (literal @ Expr::Literal(scalar, _), value) if !scalar.is_null() => (value, literal),
        _ => return None,
    };
    let same_type = matches!((value.get_type(schema), literal.get_type(schema)), (Ok(a), Ok(b)) if a == b);
    (!matches!(value, Expr::Literal(..)) && same_type && runs_alone(value)).then_some((value, literal))
}

/// A conjunction with each long run of inequalities of one expression as
/// one `NOT IN` (at the first one's place); anything else unchanged.
fn gather(expr: Expr, schema: &DFSchema) -> Transformed<Expr> {
    if !matches!(expr, Expr::BinaryExpr(BinaryExpr { op: Operator::And, .. })) {
        return Transformed::no(expr);
    }
    // Which list each conjunct joins, and how long each list is.
    let (list_of, sizes) = {
        let mut lists: HashMap<&Expr, usize> = HashMap::new();
        let mut sizes: Vec<usize> = Vec::new();
        let conjuncts = split_conjunction(&expr);
        let list_of: Vec<Option<usize>> = conjuncts
            .iter()
            .map(|conjunct| {
                let (value, _) = inequality(conjunct, schema)?;
                let next = lists.len();
                let k = *lists.entry(value).or_insert(next);
                if k == sizes.len() {
                    sizes.push(0);
                }
                sizes[k] += 1;
                Some(k)
            })
            .collect();
        (list_of, sizes)
    };
    if sizes.iter().all(|&n| n < FROM_TERMS) {
        return Transformed::no(expr);
    }
    let mut lists: Vec<Option<(Box<Expr>, Vec<Expr>)>> = vec![None; sizes.len()];
    let mut rewritten: Vec<Option<Expr>> = Vec::new();
    for (conjunct, list) in split_conjunction_owned(expr).into_iter().zip(list_of) {
        match list.filter(|&k| sizes[k] >= FROM_TERMS) {
            Some(k) => {
                let Expr::BinaryExpr(BinaryExpr { left, right, .. }) = conjunct else { unreachable!("an inequality") };
                let (value, literal) = if matches!(*right, Expr::Literal(..)) { (left, *right) } else { (right, *left) };
                match &mut lists[k] {
                    Some((_, literals)) => literals.push(literal),
                    slot @ None => {
                        *slot = Some((value, vec![literal]));
                        // Its place: the first inequality's.
                        rewritten.push(None);
                    }
                }
            }
            None => rewritten.push(Some(conjunct)),
        }
    }
    let mut lists = lists.into_iter().flatten();
    let conjuncts = rewritten.into_iter().map(|conjunct| {
        conjunct.unwrap_or_else(|| {
            let (value, literals) = lists.next().expect("one list per place");
            Expr::InList(InList::new(value, literals, true))
        })
    });
    Transformed::yes(balanced_conjunction(conjuncts.collect()))
}

/// `conjuncts` joined by AND in a tree of depth log2(conjuncts) (others
/// may stay in their thousands).
fn balanced_conjunction(mut conjuncts: Vec<Expr>) -> Expr {
    if conjuncts.len() == 1 {
        return conjuncts.pop().expect("one conjunct");
    }
    let right = conjuncts.split_off(conjuncts.len() / 2);
    balanced_conjunction(conjuncts).and(balanced_conjunction(right))
}

#[cfg(test)]
mod tests {
    use super::FROM_TERMS;

    async fn optimized(where_clause: &str) -> String {
        let ctx = crate::session();
        ctx.sql("CREATE TABLE names(id INT, name TEXT) AS VALUES (1, 'a'), (2, NULL)").await.unwrap();
        let df = ctx.sql(&format!("SELECT id FROM names WHERE {where_clause}")).await.unwrap();
        df.into_optimized_plan().unwrap().display_indent().to_string()
    }

    fn inequalities(column: &str, n: usize) -> Vec<String> {
        (0..n).map(|k| format!("{column} <> 'n{k}'")).collect()
    }

    #[tokio::test]
    async fn long_runs_of_inequalities_become_one_not_in_in_place() {
        let mut terms = inequalities("name", FROM_TERMS + 2);
        terms.insert(3, "id > 1".into());
        terms.push("'n99' <> name".into());
        let plan = optimized(&terms.join(" AND ")).await;
        assert_eq!(plan.matches("NOT IN").count(), 1, "{plan}");
        assert!(plan.contains("Utf8View(\"n99\")]) AND names.id > Int32(1)"), "{plan}");
        assert!(!plan.contains("<>"), "{plan}");
    }

    /// Outside a filter or a join the expression keeps its name: a
    /// projection and an aggregate's FILTER are left as written.
    #[tokio::test]
    async fn projections_and_aggregate_filters_keep_their_names() {
        let ctx = crate::session();
        ctx.sql("CREATE TABLE names(id INT, name TEXT) AS VALUES (1, 'a'), (2, NULL), (3, 'n3')").await.unwrap();
        let terms = inequalities("name", FROM_TERMS).join(" AND ");
        let df = ctx.sql(&format!("SELECT {terms} AS kept, count(*) FILTER (WHERE {terms}) AS n FROM names GROUP BY 1 ORDER BY 1")).await.unwrap();
        let batches = df.collect().await.unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
        assert!(text.contains("| kept  | n |") && text.contains("| false | 0 |") && text.contains("| true  | 1 |"), "{text}");
        let df = ctx.sql(&format!("SELECT {terms} FROM names")).await.unwrap();
        assert!(!df.schema().field(0).name().contains("NOT IN"), "{}", df.schema().field(0).name());
        let plan = df.into_optimized_plan().unwrap().display_indent().to_string();
        assert!(!plan.contains("NOT IN"), "{plan}");
    }

    #[tokio::test]
    async fn short_runs_null_terms_and_other_expressions_stay() {
        let mut terms = inequalities("name", FROM_TERMS - 1);
        terms.extend((0..FROM_TERMS).map(|k| format!("name <> NULL OR id <> {k}")));
        terms.extend((0..FROM_TERMS).map(|k| format!("random() <> {k}")));
        let plan = optimized(&terms.join(" AND ")).await;
        assert!(!plan.contains("NOT IN"), "{plan}");
    }
}
