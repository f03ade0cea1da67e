//! Wrong argument types and counts fail at planning time with a message that
//! names the function and its expected signature.

async fn plan_error(sql: &str) -> String {
    let ctx = perfcorr::session();
    match ctx.sql(sql).await {
        Ok(df) => match df.collect().await {
            Ok(_) => panic!("{sql} succeeded"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn wrong_arguments_name_function_and_signature() {
    let cases = [
        ("SELECT pearson_r('a', 1)", "pearson_r(x: numeric, y: numeric)"),
        ("SELECT pearson_p(1)", "pearson_p(x: numeric, y: numeric)"),
        ("SELECT pearson_n(1, 2, 3)", "pearson_n(x: numeric, y: numeric)"),
        ("SELECT pearson_p_from_r(0.5, 'ten')", "pearson_p_from_r(r: numeric, n: integer)"),
        ("SELECT diff() OVER ()", "diff(x: numeric [, periods: integer constant])"),
        ("SELECT diff(1, 0.5) OVER ()", "diff(x: numeric [, periods: integer constant])"),
        ("SELECT diff(v, v) OVER (ORDER BY v) FROM (VALUES (1)) AS t(v)", "periods must be a non-NULL integer constant"),
        // Without ORDER BY, rows would be differenced in arrival order.
        ("SELECT diff(v) OVER () FROM (VALUES (1)) AS t(v)", "diff needs an ORDER BY in its window"),
        ("SELECT diff(v, 2) OVER (PARTITION BY v) FROM (VALUES (1)) AS t(v)", "diff needs an ORDER BY in its window"),
        ("SELECT * FROM (SELECT sum(d) OVER () FROM (SELECT diff(v) OVER () AS d FROM (VALUES (1)) AS t(v)))", "diff needs an ORDER BY"),
        ("SELECT 1 WHERE 1 IN (SELECT diff(v) OVER () FROM (VALUES (1)) AS t(v))", "diff needs an ORDER BY"),
    ];
    for (sql, expected) in cases {
        let message = plan_error(sql).await;
        assert!(message.contains(expected), "{sql}: {message}");
    }
}
