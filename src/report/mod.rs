//! `perfcorr report` and `\report FILE`: one self-contained HTML page (inline
//! SVG and CSS, nothing fetched) answering the seed's three questions for the
//! loaded tables: the rankings with r, p, q and n, charts of each question's
//! top series against the app's response time (raw and differenced, the
//! incident window shaded) with a scatter of the differences, and how many
//! series pass p < 0.05 against q < 0.05.

mod charts;

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use serde::Serialize;

use crate::chart_data::{ChartData, Series};
use crate::cli::exec::{Failure, QueryResult, Runner};
use crate::sql_text::{quote_identifier, quote_literal};
use charts::{Panel, APP_COLOUR, SERIES_COLOUR};

const TEMPLATE: &str = include_str!("report.html");
/// Ranking rows shown per question (all series are counted in the notes).
const SHOWN_ROWS: usize = 10;

/// A question: which series of which table moved with the app's response time.
struct Question {
    title: &'static str,
    table: &'static str,
    key: &'static str,
    value: &'static str,
    what: &'static str,
}

const QUESTIONS: [Question; 3] = [
    Question { title: "Which layer?", table: "layers", key: "layer", value: "ms", what: "time per request in each layer (ms)" },
    Question { title: "Which view's response time?", table: "views", key: "view", value: "response_ms", what: "each view's response time (ms)" },
    Question { title: "Which view's traffic?", table: "views", key: "view", value: "throughput_rpm", what: "each view's throughput (requests/min)" },
];

#[derive(Serialize)]
struct Row {
    series: String,
    r: String,
    p: String,
    q: String,
    n: i64,
    sparkline: String,
    passes_q: bool,
}

#[derive(Serialize)]
struct Section {
    title: &'static str,
    what: &'static str,
    sql: String,
    rows: Vec<Row>,
    total: usize,
    pass_p: usize,
    pass_q: usize,
    top: String,
    level_svg: String,
    diff_svg: String,
    scatter_svg: String,
}

/// Writes the report of `runner`'s tables to `path` (`window` as
/// `START..END`, shaded in the charts); returns what was written.
pub async fn write(runner: &Runner, path: &Path, window: Option<&str>) -> Result<String, Failure> {
    runner.check_write(path).await?;
    let html = render(runner, window).await?;
    std::fs::write(path, html).map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// The report as HTML.
pub async fn render(runner: &Runner, window: Option<&str>) -> Result<String, Failure> {
    for table in ["app", "layers", "views"] {
        if !runner.ctx.table_exist(table).map_err(|e| Failure::new(e.to_string()))? {
            return Err(Failure::new(format!("report: no table '{table}' in the loaded data (it needs app, layers and views; see the README's Data layout)")));
        }
    }
    let window = window.map(parse_window).transpose().map_err(Failure::new)?;
    let mut sections = Vec::new();
    for question in &QUESTIONS {
        sections.push(section(runner, question, window).await?);
    }
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE).map_err(|e| Failure::new(format!("report template: {e}")))?;
    let context = minijinja::context! {
        data => runner.data.description.clone(),
        window => window.map(|_| window_text(window)),
        sections => minijinja::value::Serde(sections),
        version => env!("CARGO_PKG_VERSION"),
    };
    env.get_template("report.html").and_then(|t| t.render(context)).map_err(|e| Failure::new(format!("report template: {e}")))
}

fn window_text(window: Option<(f64, f64)>) -> String {
    let label = |x: f64| datafusion::arrow::temporal_conversions::timestamp_us_to_datetime(x as i64).map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    window.and_then(|(a, b)| Some(format!("{} to {}", label(a)?, label(b)?))).unwrap_or_default()
}

/// `START..END` as microseconds (ISO 8601 times, `T` or a space).
fn parse_window(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("--window '{text}': use START..END, e.g. 2026-11-19T19:00..2026-11-19T21:20");
    let (start, end) = text.split_once("..").ok_or_else(bad)?;
    // Arrow parses ISO 8601 with seconds; `19:00` means `19:00:00`.
    let with_seconds = |t: &str| if t.len() == 16 { format!("{t}:00") } else { t.to_string() };
    let times = Arc::new(StringArray::from(vec![with_seconds(start.trim()), with_seconds(end.trim())]));
    let parsed = cast(&(times as Arc<dyn Array>), &DataType::Timestamp(TimeUnit::Microsecond, None)).map_err(|_| bad())?;
    let micros = cast(&parsed, &DataType::Int64).map_err(|_| bad())?;
    let micros = micros.as_primitive::<Int64Type>();
    if micros.null_count() > 0 || micros.value(0) >= micros.value(1) {
        return Err(bad());
    }
    Ok((micros.value(0) as f64, micros.value(1) as f64))
}

async fn section(runner: &Runner, question: &Question, window: Option<(f64, f64)>) -> Result<Section, Failure> {
    let Question { table, key, value, .. } = question;
    let sql = format!(
        "SELECT series, r, p, q, CAST(n AS BIGINT) AS n FROM rank_correlations({}, {}, {}, 'app', 'response_ms')",
        quote_literal(table),
        quote_literal(key),
        quote_literal(value)
    );
    let (_, batches) = runner.collect(&sql).await?;
    let mut rows = Vec::new();
    let (mut total, mut pass_p, mut pass_q) = (0, 0, 0);
    for batch in &batches {
        let series = cast(batch.column(0), &DataType::Utf8).map_err(|e| Failure::new(e.to_string()))?;
        let series = series.as_string::<i32>();
        let float = |i: usize, row: usize| {
            let column = batch.column(i).as_primitive::<Float64Type>();
            column.is_valid(row).then(|| column.value(row))
        };
        let n = batch.column(4).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let (r, p, q) = (float(1, row), float(2, row), float(3, row));
            total += 1;
            pass_p += usize::from(p.is_some_and(|p| p < 0.05));
            pass_q += usize::from(q.is_some_and(|q| q < 0.05));
            if rows.len() < SHOWN_ROWS {
                let text = |v: Option<f64>, f: fn(f64) -> String| v.map_or("–".to_string(), f);
                rows.push(Row {
                    series: series.value(row).to_string(),
                    r: text(r, |r| format!("{r:.3}")),
                    p: text(p, |p| format!("{p:.2e}")),
                    q: text(q, |q| format!("{q:.2e}")),
                    n: n.value(row),
                    sparkline: String::new(),
                    passes_q: q.is_some_and(|q| q < 0.05),
                });
            }
        }
    }
    let top = rows.first().map(|r| r.series.clone()).ok_or_else(|| Failure::new(format!("report: {table} has no series to rank")))?;
    add_sparklines(runner, question, &mut rows).await?;
    let data = top_series(runner, question, &top).await?;
    let find = |name: &str| data.series.iter().find(|s| s.name == name);
    let missing = || Failure::new(format!("report: {table} '{top}' has no values at the app's timestamps"));
    let (level, app, d_level, d_app) = (find("v").ok_or_else(missing)?, find("app").ok_or_else(missing)?, find("dv").ok_or_else(missing)?, find("dapp").ok_or_else(missing)?);
    let x_range = data.x_range();
    let level_svg = charts::time_panels(&panels([level, app], "", &top, value), x_range, window, (1040, 380)).map_err(Failure::new)?;
    let diff_svg = charts::time_panels(&panels([d_level, d_app], "Δ ", &top, value), x_range, window, (1040, 380)).map_err(Failure::new)?;
    let pairs: Vec<(f64, f64)> = d_level.points.iter().zip(&d_app.points).map(|(a, b)| (a.1, b.1)).collect();
    let r = rows.first().map(|r| r.r.clone()).unwrap_or_default();
    let scatter_svg = charts::scatter(&pairs, &format!("Δ {top} vs Δ app (r = {r})"), (&format!("Δ {value}"), "Δ app response_ms"), (520, 420)).map_err(Failure::new)?;
    Ok(Section { title: question.title, what: question.what, sql, rows, total, pass_p, pass_q, top, level_svg, diff_svg, scatter_svg })
}

/// The series' panel above the app's.
fn panels<'a>([series, app]: [&'a Series; 2], prefix: &str, top: &str, value: &str) -> Vec<Panel<'a>> {
    vec![
        Panel { title: format!("{prefix}{top}: {value}"), series, colour: SERIES_COLOUR },
        Panel { title: format!("{prefix}app: response_ms"), series: app, colour: APP_COLOUR },
    ]
}

/// Fills each row's sparkline of the raw series (one query per question).
async fn add_sparklines(runner: &Runner, question: &Question, rows: &mut [Row]) -> Result<(), Failure> {
    let keys: Vec<String> = rows.iter().map(|r| quote_literal(&r.series)).collect();
    let sql = format!(
        "SELECT {key}, sparkline({value}, 48 ORDER BY ts) FROM {table} WHERE {key} IN ({}) GROUP BY {key}",
        keys.join(", "),
        key = quote_identifier(question.key),
        value = quote_identifier(question.value),
        table = quote_identifier(question.table)
    );
    let (_, batches) = runner.collect(&sql).await?;
    for batch in &batches {
        let names = cast(batch.column(0), &DataType::Utf8).map_err(|e| Failure::new(e.to_string()))?;
        let (names, lines) = (names.as_string::<i32>(), batch.column(1).as_string::<i32>());
        for i in (0..batch.num_rows()).filter(|&i| lines.is_valid(i)) {
            rows.iter_mut().filter(|r| r.series == names.value(i)).for_each(|r| r.sparkline = lines.value(i).to_string());
        }
    }
    Ok(())
}

/// The top series and the app's response time at the same timestamps, raw
/// (`v`, `app`) and first-differenced (`dv`, `dapp`).
async fn top_series(runner: &Runner, question: &Question, top: &str) -> Result<ChartData, Failure> {
    let sql = format!(
        "WITH s AS (SELECT ts, {value} AS v FROM {table} WHERE {key} = {top}), a AS (SELECT ts, response_ms AS app FROM app) \
         SELECT ts, v, app, diff(v) OVER (ORDER BY ts) AS dv, diff(app) OVER (ORDER BY ts) AS dapp FROM s JOIN a USING (ts) ORDER BY ts",
        value = quote_identifier(question.value),
        table = quote_identifier(question.table),
        key = quote_identifier(question.key),
        top = quote_literal(top)
    );
    let (schema, batches): QueryResult = runner.collect(&sql).await?;
    ChartData::from_batches(&schema, &batches, 4).map_err(|e| Failure::new(format!("report: {question_table} '{top}': {e}", question_table = question.table)))
}
