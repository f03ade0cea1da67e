//! The fused diff + join + Pearson path (`perfcorr::fused`) gives DataFusion's
//! own answer (to 1e-12) whatever the row order, and takes the pass it
//! should: streaming for rows in time order per series (sorted by series then
//! time, or by time then series) across several partitions of a Parquet file;
//! buffered (sort per series) for shuffled rows; a series' rows at the same
//! time in the files' order; DataFusion's plan for repeated timestamps while
//! pairs are kept (over the buffered points when the sorting pass found the
//! repeat) or in the app's series; no fusion for query shapes with another
//! meaning.

use std::sync::Arc;

use perfcorr::datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use perfcorr::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use perfcorr::datafusion::parquet::arrow::ArrowWriter;
use perfcorr::datafusion::parquet::file::properties::WriterProperties;
use perfcorr::datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::common::{assert_rows_close, rows, Cell};

const VIEWS: usize = 40;
const POINTS: i64 = 300;
const MINUTE: i64 = 60_000_000;

/// The seed's question over `views(view, region, ts, v)` and `app(ts, v)`.
pub(crate) const QUESTION: &str = "
    WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
         s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
    SELECT view, pearson_n(d, d_app) AS n, pearson_r(d, d_app) AS r, pearson_p(d, d_app) AS p
    FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Order {
    SeriesThenTime,
    TimeThenSeries,
    Shuffled,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum TimeType {
    Timestamp,
    Int64,
}

/// A small deterministic incident: noisy series, the app following views
/// 3 and 7; gaps (some series miss minutes, the app misses some, series run
/// past the app's end, one series has no minute in common with the app),
/// NULL values on both sides.
pub(crate) struct Incident {
    pub(crate) views: Vec<(String, String, i64, Option<f64>)>,
    pub(crate) app: Vec<(i64, Option<f64>)>,
}

fn noise(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

pub(crate) fn incident(order: Order) -> Incident {
    incident_with(order, true)
}

/// [`incident`], with views on every minute of the app when not `gaps`
/// (half of them, the others still missing some).
fn incident_with(order: Order, gaps: bool) -> Incident {
    let mut views = Vec::new();
    for v in 0..VIEWS {
        for t in 0..POINTS + 5 {
            let seed = (v as u64) * 1_000_003 + t as u64;
            if (t + v as i64) % 17 == 0 && (gaps || v % 2 == 1) {
                continue; // a missing minute
            }
            let value = if (t * 7 + v as i64) % 53 == 0 { None } else { Some(100.0 + 10.0 * noise(seed) + t as f64 * 0.1) };
            views.push((format!("views/{v:02}"), format!("region-{}", v % 3), t * MINUTE, value));
        }
    }
    // A view with no minute in common with the app: the inner join drops it.
    for t in POINTS + 10..POINTS + 20 {
        views.push(("views/late".to_string(), "region-0".to_string(), t * MINUTE, Some(t as f64)));
    }
    let app = (0..POINTS)
        .filter(|t| t % 29 != 5)
        .map(|t| {
            let driven = noise(3 * 1_000_003 + t as u64) + noise(7 * 1_000_003 + t as u64);
            (t * MINUTE, if t % 41 == 8 { None } else { Some(200.0 + 5.0 * driven + noise(99 + t as u64)) })
        })
        .collect();
    match order {
        Order::SeriesThenTime => {}
        Order::TimeThenSeries => views.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0))),
        Order::Shuffled => views.sort_by_key(|row| (noise(row.2 as u64 ^ row.0.len() as u64 * 31 + row.0.as_bytes()[7] as u64) * 1e9) as i64),
    }
    Incident { views, app }
}

fn time_column(values: impl Iterator<Item = i64>, time: TimeType) -> (ArrayRef, DataType) {
    match time {
        TimeType::Timestamp => (
            Arc::new(TimestampMicrosecondArray::from_iter_values(values)),
            DataType::Timestamp(TimeUnit::Microsecond, None),
        ),
        TimeType::Int64 => (Arc::new(Int64Array::from_iter_values(values)), DataType::Int64),
    }
}

pub(crate) fn views_batch(incident: &Incident, time: TimeType) -> RecordBatch {
    let (ts, ts_type) = time_column(incident.views.iter().map(|r| r.2), time);
    let schema = Schema::new(vec![
        Field::new("view", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("ts", ts_type, false),
        Field::new("v", DataType::Float64, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(incident.views.iter().map(|r| &r.0))),
        Arc::new(StringArray::from_iter_values(incident.views.iter().map(|r| &r.1))),
        ts,
        Arc::new(incident.views.iter().map(|r| r.3).collect::<Float64Array>()),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

pub(crate) fn app_batch(app: &[(i64, Option<f64>)], time: TimeType) -> RecordBatch {
    let (ts, ts_type) = time_column(app.iter().map(|r| r.0), time);
    let schema = Schema::new(vec![Field::new("ts", ts_type, false), Field::new("v", DataType::Float64, true)]);
    let values: ArrayRef = Arc::new(app.iter().map(|r| r.1).collect::<Float64Array>());
    RecordBatch::try_new(Arc::new(schema), vec![ts, values]).unwrap()
}

/// Writes Parquet in row groups of 700 rows, so that a scan split into four
/// byte ranges gives each partition a contiguous run of rows.
pub(crate) fn write_parquet(dir: &std::path::Path, name: &str, batch: &RecordBatch) {
    let file = std::fs::File::create(dir.join(format!("{name}.parquet"))).unwrap();
    let properties = WriterProperties::builder().set_max_row_group_row_count(Some(700)).build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

pub(crate) fn config() -> SessionConfig {
    let mut config = perfcorr::session_config().with_target_partitions(4);
    config.options_mut().optimizer.repartition_file_min_size = 0;
    config
}

/// The fused session and DataFusion's own, both over the same files.
pub(crate) async fn sessions(incident: &Incident, time: TimeType) -> (SessionContext, SessionContext, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(dir.path(), "views", &views_batch(incident, time));
    write_parquet(dir.path(), "app", &app_batch(&incident.app, time));
    let fused = perfcorr::session_with_config(config());
    let plain = perfcorr::session_without_fusion(config());
    for ctx in [&fused, &plain] {
        register(ctx, dir.path()).await;
    }
    (fused, plain, dir)
}

/// Registers `views` and `app` from `dir`: `NAME.parquet`, or the folder
/// `NAME/` of several files.
pub(crate) async fn register(ctx: &SessionContext, dir: &std::path::Path) {
    for name in ["views", "app"] {
        let folder = dir.join(name);
        let path = if folder.is_dir() { format!("{}/", folder.display()) } else { format!("{}.parquet", folder.display()) };
        ctx.register_parquet(name, &path, ParquetReadOptions::default()).await.unwrap();
    }
}

/// The text of `EXPLAIN ANALYZE sql` (plan with metrics).
pub(crate) async fn analyzed_plan(ctx: &SessionContext, sql: &str) -> String {
    let explained = rows(ctx, &format!("EXPLAIN ANALYZE {sql}")).await;
    explained.iter().map(|row| row[1].text().to_string()).collect::<Vec<_>>().join("\n")
}

/// Which pass of the fused operator answered, if it was used.
#[derive(Debug, PartialEq)]
pub(crate) enum Path {
    NotFused,
    Streamed,
    Buffered,
    Fallback,
}

/// Asserts the fused session agrees with DataFusion's plan and returns
/// which path ran.
pub(crate) async fn check(fused: &SessionContext, plain: &SessionContext, sql: &str, what: &str) -> Path {
    check_rows(fused, plain, sql, what, false).await
}

/// [`check`], an empty answer allowed (`may_be_empty`) or not.
pub(crate) async fn check_rows(fused: &SessionContext, plain: &SessionContext, sql: &str, what: &str, may_be_empty: bool) -> Path {
    let expected = rows(plain, sql).await;
    assert!(may_be_empty || !expected.is_empty(), "{what}: empty result");
    assert_rows_close(&rows(fused, sql).await, &expected, what);
    path(&analyzed_plan(fused, sql).await, what)
}

/// Which path an analyzed plan took.
fn path(plan: &str, what: &str) -> Path {
    match (plan.contains("DiffCorrelateExec"), plan.contains("buffered=1"), plan.contains("fallback=1")) {
        (false, _, _) => Path::NotFused,
        (true, false, false) => Path::Streamed,
        (true, true, false) => Path::Buffered,
        (true, false, true) => Path::Fallback,
        (true, true, true) => panic!("{what}: two passes answered:\n{plan}"),
    }
}

#[tokio::test]
async fn streams_rows_in_time_order_per_series_whatever_the_file_order() {
    for (order, label) in [(Order::SeriesThenTime, "sorted by view, ts"), (Order::TimeThenSeries, "sorted by ts, view")] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        assert_eq!(check(&fused, &plain, QUESTION, label).await, Path::Streamed, "{label}");
        let plan = analyzed_plan(&fused, QUESTION).await;
        assert!(plan.contains("partitions=4") || plan.contains("4 groups"), "{label}: scan split in four:\n{plan}");
    }
}

#[tokio::test]
async fn shuffled_rows_are_sorted_per_series() {
    let (fused, plain, _dir) = sessions(&incident(Order::Shuffled), TimeType::Timestamp).await;
    assert_eq!(check(&fused, &plain, QUESTION, "shuffled").await, Path::Buffered);
}

#[tokio::test]
async fn repeated_timestamps_of_the_app_fall_back() {
    let mut with_repeats = incident(Order::SeriesThenTime);
    let repeated = with_repeats.app[10];
    with_repeats.app.insert(11, repeated);
    let (fused, plain, _dir) = sessions(&with_repeats, TimeType::Timestamp).await;
    assert_eq!(check(&fused, &plain, QUESTION, "app repeats a minute").await, Path::Fallback);
    // A left join's count(*) then counts a series row twice: the same.
    let counted = QUESTION.replace("JOIN a USING", "LEFT JOIN a USING").replace("AS p\n", "AS p, count(*) AS rows\n");
    assert!(counted.contains("count(*)"), "{counted}");
    assert_eq!(check(&fused, &plain, &counted, "app repeats a minute, left join, count(*)").await, Path::Fallback);
}

/// DataFusion's answer to `sql` (a question over `views`) with the rows of
/// a series at the same time in the files' order (`reversed`: the opposite
/// order): one partition, the window and the ordered aggregates
/// (`… d_app[, 3] ORDER BY ts)`) told each row's position in the file.
async fn in_file_order(dir: &tempfile::TempDir, sql: &str, reversed: bool) -> Vec<Vec<Cell>> {
    let ordered = perfcorr::session_without_fusion(perfcorr::session_config().with_target_partitions(1));
    register(&ordered, dir.path()).await;
    // The ordered aggregates take one key: time and position in one number
    // (exact in Float64 at the tests' times and row counts).
    let (then, sign) = if reversed { ("ts, seq DESC)", '-') } else { ("ts, seq)", '+') };
    let key = format!("AS d, arrow_cast(ts, 'Int64') * 100000 {sign} seq AS key FROM (SELECT *, row_number() OVER () AS seq FROM views))");
    let told = sql
        .replace("AS d FROM views)", &key)
        .replace("PARTITION BY view ORDER BY ts)", &format!("PARTITION BY view ORDER BY {then}"))
        .replace("d_app ORDER BY ts)", "d_app ORDER BY key)")
        .replace("d_app, 3 ORDER BY ts)", "d_app, 3 ORDER BY key)");
    assert_eq!(told.matches("seq").count(), 3, "the question reads views and orders one window:\n{sql}");
    rows(&ordered, &told).await
}

/// A view repeating a minute with another value: the SQL leaves the order
/// of the two rows open (DataFusion's plan takes them in whatever order its
/// sort ends with); the operator takes them in the files' order, whatever
/// the pass, and reads the series at most twice. Copies next to the row,
/// before it, at partition seams, at the end of the file; rows in every
/// order; `diff(v, 2)`; the statistics that keep every pair (Spearman, the
/// lag search, n_eff), which see the tied pairs in that order too.
#[tokio::test]
async fn repeated_timestamps_are_taken_in_file_order() {
    let lag_two = QUESTION.replace("diff(v)", "diff(v, 2)");
    let questions = [(QUESTION, "diff(v)"), (lag_two.as_str(), "diff(v, 2)"), (PAIRS_QUESTION, "pairs kept")];
    for order in [Order::SeriesThenTime, Order::TimeThenSeries, Order::Shuffled] {
        let base = incident(order);
        // Row `i` again with another value (`k`-th copy).
        let copy = |i: usize, k: usize| {
            let mut row = base.views[i].clone();
            row.3 = row.3.map(|v| v + 5.0 * k as f64 + (i % 7) as f64);
            row
        };
        // Every 37th row and the 20 around every row group's end (where the
        // scan's partitions meet) again with another value, right after it;
        // every other one also before it; one more copy last.
        let seams = (700..base.views.len()).step_by(700).flat_map(|end| end - 10..end + 10);
        let mut at: Vec<usize> = (0..base.views.len()).step_by(37).chain(seams).collect();
        at.sort_unstable();
        at.dedup();
        let mut views = base.views.clone();
        for &i in at.iter().rev() {
            views.insert(i + 1, copy(i, 1));
            if i % 2 == 0 {
                views.insert(i, copy(i, 2));
            }
        }
        views.push(copy(100, 3));
        let repeats = Incident { views, app: base.app.clone() };
        let (fused, _, dir) = sessions(&repeats, TimeType::Timestamp).await;
        let rows_in_file = repeats.views.len();
        for (sql, what) in questions {
            let plan = analyzed_plan(&fused, sql).await;
            assert_eq!(path(&plan, what), Path::Buffered, "{what}: the copy at the end is out of order");
            assert!(series_rows(&plan) as f64 <= 2.0005 * rows_in_file as f64, "{what}: read twice at most:\n{plan}");
            let got = rows(&fused, sql).await;
            assert_rows_close(&got, &in_file_order(&dir, sql, false).await, what);
            assert!(got != in_file_order(&dir, sql, true).await, "{what}: the other order's answer differs");
        }
        // Without the late copy, rows in time order per series stream.
        let mut in_order = repeats.views.clone();
        in_order.pop();
        let in_order = Incident { views: in_order, app: base.app.clone() };
        let (fused, _, dir) = sessions(&in_order, TimeType::Int64).await;
        for (sql, what) in [(QUESTION, "no late copy"), (PAIRS_QUESTION, "no late copy, pairs kept")] {
            let expected = if order == Order::Shuffled { Path::Buffered } else { Path::Streamed };
            assert_eq!(path(&analyzed_plan(&fused, sql).await, what), expected);
            assert_rows_close(&rows(&fused, sql).await, &in_file_order(&dir, sql, false).await, what);
        }
    }
}

/// `views` in nine files, a series' rows at the same time on both sides
/// of a file's end (rows in time order, so every file holds every view):
/// taken in the order of the files' paths (the order of the scan), not the
/// order they were written in.
#[tokio::test]
async fn repeated_timestamps_across_files_follow_the_paths() {
    let base = incident(Order::TimeThenSeries);
    let copy = |row: &(String, String, i64, Option<f64>)| (row.0.clone(), row.1.clone(), row.2, row.3.map(|v| v + 7.0));
    // Nine files: more than the session's partitions, so that a scan that
    // let idle partitions take the next file would mix their order.
    let size = base.views.len().div_ceil(9);
    let mut parts: Vec<Vec<_>> = base.views.chunks(size).map(|chunk| chunk.to_vec()).collect();
    for k in 1..parts.len() {
        // The next file starts with copies of the last rows before its start.
        let copies: Vec<_> = parts[k - 1][parts[k - 1].len() - 5..].iter().map(copy).collect();
        parts[k].splice(0..0, copies);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("views")).unwrap();
    // Written last to first: the paths, not the files' ages, give the order.
    for (k, part) in parts.iter().enumerate().rev() {
        let incident = Incident { views: part.clone(), app: Vec::new() };
        write_parquet(&dir.path().join("views"), &format!("part-{k:02}"), &views_batch(&incident, TimeType::Timestamp));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    write_parquet(dir.path(), "app", &app_batch(&base.app, TimeType::Timestamp));
    let fused = perfcorr::session_with_config(config());
    register(&fused, dir.path()).await;
    for (sql, what) in [(QUESTION, "across files"), (PAIRS_QUESTION, "across files, pairs kept")] {
        assert_eq!(path(&analyzed_plan(&fused, sql).await, what), Path::Streamed);
        let got = rows(&fused, sql).await;
        assert_rows_close(&got, &in_file_order(&dir, sql, false).await, what);
        assert!(got != in_file_order(&dir, sql, true).await, "{what}: the other order's answer differs");
    }
}

/// The seed's question with the statistics that keep every pair of a series.
const PAIRS_QUESTION: &str = "
    WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
         s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
    SELECT view, spearman_r(d, d_app) AS rho, xcorr_lag(d, d_app, 3 ORDER BY ts) AS lag,
           xcorr_r(d, d_app, 3 ORDER BY ts) AS lag_r, pearson_n_eff(d, d_app ORDER BY ts) AS n_eff,
           pearson_n(d, d_app) AS n
    FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";

/// The series rows the operator's own passes read (EXPLAIN ANALYZE prints
/// counts as `812`, `19.49 K`, `10.10 M`: to four digits).
fn series_rows(plan: &str) -> usize {
    let text = plan.split("series_rows=").nth(1).unwrap_or_else(|| panic!("no series_rows in\n{plan}"));
    let number: String = text.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let scale = match text[number.len()..].trim_start().chars().next() {
        Some('K') => 1e3,
        Some('M') => 1e6,
        Some('B') => 1e9,
        _ => 1.0,
    };
    (number.parse::<f64>().unwrap() * scale).round() as usize
}

/// A repeated timestamp that comes out of order at the end of the file: the
/// streaming pass reads everything before it stops, the sorting pass reads
/// everything again and answers, the tied rows in the files' order — with
/// pairs kept or not, a filter on `d` (NULL told from NaN), before `diff`
/// or on an expression — so the series is read twice.
#[tokio::test]
async fn late_repeats_are_sorted_in_file_order() {
    let pairs = "
        WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
             s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
        SELECT view, spearman_r(d, d_app) AS rho, xcorr_lag(d, d_app, 3 ORDER BY ts) AS lag, pearson_n(d, d_app) AS n
        FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";
    for time in [TimeType::Timestamp, TimeType::Int64] {
        // A row exported twice, the copy last; a NULL-valued row too: the
        // same pairs in either order, DataFusion's answer.
        let mut late = incident(Order::SeriesThenTime);
        let null_row = late.views.iter().position(|row| row.3.is_none()).unwrap();
        late.views.extend([late.views[100].clone(), late.views[null_row].clone()]);
        let rows = late.views.len();
        let (fused, plain, _dir) = sessions(&late, time).await;
        assert_eq!(check(&fused, &plain, pairs, "late duplicate, pairs kept").await, Path::Buffered);
        let read = series_rows(&analyzed_plan(&fused, pairs).await);
        assert!(read as f64 <= 2.0005 * rows as f64 && read > rows, "{read} rows read of {rows}");
        let filtered = pairs.replace("GROUP BY view", "WHERE d IS NOT NULL AND d > -1e9 GROUP BY view");
        assert_eq!(check(&fused, &plain, &filtered, "late duplicate, filter on d").await, Path::Buffered);
        let regions = pairs.replace("FROM views)", "FROM views WHERE region <> 'region-1')");
        assert_eq!(check(&fused, &plain, &regions, "late duplicate, a region left out").await, Path::Buffered);
        let doubled = pairs.replace("diff(v) OVER (PARTITION BY", "diff(v * 2) OVER (PARTITION BY");
        assert_eq!(check(&fused, &plain, &doubled, "late duplicate, diff of an expression").await, Path::Buffered);
        assert_eq!(check(&fused, &plain, QUESTION, "late duplicate").await, Path::Buffered);
    }

    // The copy with another value, last: the two rows in the files' order.
    let incident = incident(Order::SeriesThenTime);
    let mut other = incident.views[100].clone();
    other.3 = Some(other.3.unwrap() + 5.0);
    let mut views = incident.views.clone();
    views.push(other);
    let late = Incident { views, app: incident.app.clone() };
    let (fused, _plain, dir) = sessions(&late, TimeType::Timestamp).await;
    for (sql, what) in [(QUESTION, "late repeat"), (PAIRS_QUESTION, "late repeat, pairs kept")] {
        assert_eq!(path(&analyzed_plan(&fused, sql).await, what), Path::Buffered);
        let got = rows(&fused, sql).await;
        assert_rows_close(&got, &in_file_order(&dir, sql, false).await, what);
        assert!(got != in_file_order(&dir, sql, true).await, "{what}: the other order's answer differs");
    }
}

/// Rows exported twice (the same series, time and value) give the same
/// differences and pairs in either order: the operator takes them, sorted or
/// not, with DataFusion's answer.
#[tokio::test]
async fn duplicate_rows_are_fused() {
    let pairs = "
        WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
             s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
        SELECT view, pearson_r(d, d_app) AS r, spearman_r(d, d_app) AS rho FROM s JOIN a USING (ts)
        GROUP BY view ORDER BY view";
    for (order, pass) in [(Order::SeriesThenTime, Path::Streamed), (Order::TimeThenSeries, Path::Streamed), (Order::Shuffled, Path::Buffered)] {
        let mut doubled = incident(order);
        // Every 37th row again, next to itself or (shuffled) at the end; a
        // NULL-valued one among them.
        let null_row = doubled.views.iter().position(|row| row.3.is_none()).unwrap();
        let mut at: Vec<usize> = (0..doubled.views.len()).step_by(37).chain([null_row]).collect();
        at.sort_unstable();
        for &i in at.iter().rev() {
            let row = doubled.views[i].clone();
            match order {
                Order::Shuffled => doubled.views.push(row),
                _ => doubled.views.insert(i + 1, row),
            }
        }
        let (fused, plain, _dir) = sessions(&doubled, TimeType::Timestamp).await;
        assert_eq!(check(&fused, &plain, QUESTION, "duplicate rows").await, pass);
        assert_eq!(check(&fused, &plain, pairs, "duplicate rows, Spearman").await, pass);
        let lag_two = QUESTION.replace("diff(v)", "diff(v, 2)");
        assert_eq!(check(&fused, &plain, &lag_two, "duplicate rows, diff(v, 2)").await, Path::Buffered);
    }
}

#[tokio::test]
async fn other_meanings_are_not_fused() {
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let cases = [
        (
            "grouped by other columns than partitioned by",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT region, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT region, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts) GROUP BY region ORDER BY region",
        ),
        (
            "descending time",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts DESC) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts DESC) AS d FROM views)
             SELECT view, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view",
        ),
        (
            "a left join keeping the app whole (a NULL key; the series kept whole: fused_spellings.rs)",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT view, pearson_r(d, d_app) AS r FROM a LEFT JOIN s USING (ts) GROUP BY view ORDER BY view NULLS FIRST",
        ),
    ];
    for (what, sql) in cases {
        assert_eq!(check(&fused, &plain, sql, what).await, Path::NotFused, "{what}");
    }
    // Filters reading a series' difference and the time run on the pairs
    // (more in fused_filter_clause.rs).
    let on_the_pairs = [
        (
            "a filter comparing the series' difference with the time",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT view, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts)
             WHERE d > date_part('minute', s.ts) / 10 GROUP BY view ORDER BY view",
        ),
        (
            "a filter on time or on a difference",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT view, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts)
             WHERE s.ts >= TIMESTAMP '1970-01-01 01:40:00' OR d > 0 GROUP BY view ORDER BY view",
        ),
    ];
    for (what, sql) in on_the_pairs {
        assert_eq!(check(&fused, &plain, sql, what).await, Path::Streamed, "{what}");
    }
}

/// Filters on the pairs' time, wherever they are written, keep the fused
/// path: the differences are those of the whole series, and only the pairs
/// whose time passes count (as after DataFusion's window, join and filter).
#[tokio::test]
async fn filters_on_time_are_fused() {
    let ctes = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                     s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)";
    let question = |filter: &str| {
        format!("{ctes} SELECT view, pearson_n(d, d_app) AS n, pearson_r(d, d_app) AS r, pearson_p(d, d_app) AS p
                 FROM s JOIN a USING (ts) {filter} GROUP BY view ORDER BY view")
    };
    let from = "TIMESTAMP '1970-01-01 01:40:00'";
    let to = "TIMESTAMP '1970-01-01 03:20:00'";
    let cases = [
        ("after the join, on the series' time", question(&format!("WHERE s.ts >= {from}"))),
        ("after the join, on the app's time", question(&format!("WHERE a.ts BETWEEN {from} AND {to}"))),
        ("after the join, both sides, two bounds", question(&format!("WHERE s.ts > {from} AND a.ts < {to}"))),
        ("a window leaving some views no pair", question("WHERE s.ts > TIMESTAMP '1970-01-01 04:55:00'")),
        (
            "above the series' diff only",
            format!(
                "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                      s AS (SELECT * FROM (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views) WHERE ts < {to})
                 SELECT view, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
            ),
        ),
        (
            "ON, subqueries, HAVING and LIMIT",
            format!(
                "SELECT s.view, pearson_r(s.d, a.d_app) AS r, pearson_n(s.d, a.d_app) AS n
                 FROM (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views) s
                 JOIN (SELECT ts AS t, diff(v) OVER (ORDER BY ts) AS d_app FROM app) a ON s.ts = a.t
                 WHERE a.t >= {from} AND date_part('minute', s.ts) <> 7
                 GROUP BY s.view HAVING pearson_n(s.d, a.d_app) > 10 ORDER BY r DESC, s.view LIMIT 12"
            ),
        ),
        ("a key filter besides the time", question(&format!("WHERE view <> 'views/03' AND s.ts >= {from}"))),
        // The app's difference is a property of the app's rows, as its time is.
        ("the app's difference after the join", question("WHERE d_app > 0")),
        ("the app's difference and time", question(&format!("WHERE abs(a.d_app) < 3 AND s.ts >= {from}"))),
        // The series' difference: the operator keeps the pairs and picks.
        ("the series' difference after the join", question("WHERE d > 0")),
        ("the series' difference, not NULL", question("WHERE s.d IS NOT NULL")),
        ("the series' difference leaving some views no pair", question("WHERE d > 6.5")),
        ("both differences and time, separately", question(&format!("WHERE abs(s.d) BETWEEN 0.5 AND 4 AND d_app < 1 AND s.ts >= {from}"))),
        ("NULL as 0", question("WHERE coalesce(d, 0) <= 1")),
        // Both differences in one condition: a filter on each pair.
        ("the two differences compared", question("WHERE d > d_app")),
        ("the two differences in an expression", question(&format!("WHERE abs(s.d - a.d_app) < 2 AND coalesce(d_app, 0) > -3 AND s.ts >= {from}"))),
        (
            "the two differences compared, with every pair statistic",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT view, pearson_r(d, d_app) AS r, spearman_r(d, d_app) AS rho, xcorr_lag(d, d_app, 2 ORDER BY s.ts) AS lag,
                    pearson_n_eff(d, d_app ORDER BY s.ts) AS n_eff
             FROM s JOIN a USING (ts) WHERE s.d < a.d_app + 1 GROUP BY view ORDER BY view"
                .to_string(),
        ),
        ("only NULL differences", question("WHERE d IS NULL")),
        (
            "the series' difference above its diff, with every pair statistic",
            format!(
                "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                      s AS (SELECT * FROM (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views) WHERE d < 1.5)
                 SELECT view, pearson_r(d, d_app) AS r, spearman_r(d, d_app) AS rho, spearman_p(d, d_app) AS rho_p,
                        xcorr_lag(d, d_app, 2 ORDER BY s.ts) AS lag, xcorr_r(d, d_app, 2 ORDER BY s.ts) AS lag_r,
                        pearson_n_eff(d, d_app ORDER BY s.ts) AS n_eff, pearson_p_eff(d, d_app ORDER BY s.ts) AS p_eff
                 FROM s JOIN a USING (ts) WHERE s.ts < {to} GROUP BY view ORDER BY view"
            ),
        ),
        (
            // Spearman reads the complete pairs, not their order: the
            // failing pairs are made missing in place.
            "the series' difference and time after the join, with Spearman",
            format!(
                "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                      s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
                 SELECT view, pearson_r(d, d_app) AS r, pearson_n(d, d_app) AS n, spearman_r(d, d_app) AS rho,
                        spearman_p(d_app, d) AS rho_p
                 FROM s JOIN a USING (ts) WHERE (d > 0.5 OR d IS NULL) AND s.ts >= {from} GROUP BY view ORDER BY view"
            ),
        ),
        (
            "the app's difference above its diff, with Spearman and the lag",
            format!(
                "WITH a AS (SELECT * FROM (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app) WHERE d_app IS NOT NULL AND d_app < 2),
                      s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
                 SELECT view, pearson_r(d, d_app) AS r, spearman_r(d, d_app) AS rho, xcorr_lag(d, d_app, 2 ORDER BY s.ts) AS lag,
                        xcorr_r(d, d_app, 2 ORDER BY s.ts) AS lag_r
                 FROM s JOIN a USING (ts) GROUP BY view ORDER BY view"
            ),
        ),
    ];
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        let expected_pass = if order == Order::Shuffled { Path::Buffered } else { Path::Streamed };
        for (what, sql) in &cases {
            assert_eq!(check(&fused, &plain, sql, what).await, expected_pass, "{what}");
        }
    }
    // A NaN value makes a NaN difference, which `d > 0` passes (Arrow's total
    // order) and a NULL one does not: the operator cannot tell them apart.
    let mut with_nan = incident(Order::SeriesThenTime);
    with_nan.views[50].3 = Some(f64::NAN);
    with_nan.views[90].3 = Some(f64::INFINITY);
    let (fused, plain, _dir) = sessions(&with_nan, TimeType::Timestamp).await;
    assert_eq!(check(&fused, &plain, &question("WHERE d > 0"), "NaN values, d > 0").await, Path::Fallback);
    assert_eq!(check(&fused, &plain, &question("WHERE d < 0"), "NaN values, d < 0: NULL and NaN fail alike").await, Path::Streamed);
    // Both differences read: NULL and NaN must be told apart on both sides.
    assert_eq!(check(&fused, &plain, &question("WHERE d < d_app"), "NaN values, d < d_app").await, Path::Fallback);
    let mut app_nan = incident(Order::SeriesThenTime);
    app_nan.app[30].1 = Some(f64::NAN);
    let (fused, plain, _dir) = sessions(&app_nan, TimeType::Timestamp).await;
    assert_eq!(check(&fused, &plain, &question("WHERE d < d_app"), "a NaN in the app, d < d_app").await, Path::Fallback);
    assert_eq!(check(&fused, &plain, &question("WHERE d < 0"), "a NaN in the app, d < 0").await, Path::Streamed);
}

/// `diff(x, k)` with other periods, on either side: the reference is
/// differenced over k rows, a series with k ≠ 1 in the sorting pass.
#[tokio::test]
async fn other_periods_are_fused() {
    let question = |series: i64, reference: i64| {
        format!(
            "WITH a AS (SELECT ts, diff(v, {reference}) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v, {series}) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT view, pearson_n(d, d_app) AS n, pearson_r(d, d_app) AS r FROM s JOIN a USING (ts)
             WHERE s.ts >= TIMESTAMP '1970-01-01 00:30:00' GROUP BY view ORDER BY view"
        )
    };
    for order in [Order::SeriesThenTime, Order::Shuffled] {
        let (fused, plain, _dir) = sessions(&incident(order), TimeType::Timestamp).await;
        for (series, reference) in [(2, 1), (1, 3), (-1, -1), (5, 2), (0, 1)] {
            let expected = if series == 1 && order == Order::SeriesThenTime { Path::Streamed } else { Path::Buffered };
            let what = format!("diff periods {series} (series) / {reference} (app)");
            assert_eq!(check(&fused, &plain, &question(series, reference), &what).await, expected, "{what}");
        }
    }
}

#[tokio::test]
async fn in_memory_tables_are_streamed_too() {
    let incident = incident(Order::SeriesThenTime);
    let fused = perfcorr::session_with_config(config());
    let plain = perfcorr::session_without_fusion(config());
    for ctx in [&fused, &plain] {
        ctx.register_batch("views", views_batch(&incident, TimeType::Timestamp)).unwrap();
        ctx.register_batch("app", app_batch(&incident.app, TimeType::Timestamp)).unwrap();
    }
    assert_eq!(check(&fused, &plain, QUESTION, "in-memory tables").await, Path::Streamed);
}

/// Several pairs in one aggregate — two metrics per series, two targets,
/// three pairs, two keys — are one fused pass per pair, joined on the keys.
#[tokio::test]
async fn several_pairs_are_fused_one_pass_each() {
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let cases = [
        (
            Path::Streamed,
            "two metrics of each series",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d,
                               diff(v * v) OVER (PARTITION BY view ORDER BY ts) AS d2 FROM views)
             SELECT view, pearson_r(d, d_app) AS r, pearson_p(d, d_app) AS p, pearson_r(d2, d_app) AS r2, pearson_n(d2, d_app) AS n2
             FROM s JOIN a USING (ts) GROUP BY view ORDER BY r2 DESC, view",
        ),
        (
            Path::Streamed,
            "two targets, a time window after the join, columns interleaved",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app, diff(abs(v)) OVER (ORDER BY ts) AS d_abs FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT pearson_r(d_abs, d) AS r_abs, view, pearson_r(d, d_app) AS r, pearson_n(d, d_abs) AS n_abs
             FROM s JOIN a USING (ts) WHERE s.ts >= TIMESTAMP '1970-01-01 00:30:00' GROUP BY view ORDER BY view",
        ),
        (
            // diff(v, 2) of each series is taken in the sorting pass.
            Path::Buffered,
            "three pairs and two keys",
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT region, view, ts, diff(v) OVER (PARTITION BY view, region ORDER BY ts) AS d,
                               diff(v, 2) OVER (PARTITION BY view, region ORDER BY ts) AS d2,
                               diff(-v) OVER (PARTITION BY view, region ORDER BY ts) AS dn FROM views)
             SELECT region, view, pearson_r(d, d_app) AS r, pearson_r(d2, d_app) AS r2, pearson_r(dn, d_app) AS rn
             FROM s JOIN a USING (ts) GROUP BY region, view HAVING pearson_r(d, d_app) IS NOT NULL ORDER BY region, view",
        ),
    ];
    for (path, what, sql) in cases {
        assert_eq!(check(&fused, &plain, sql, what).await, path, "{what}");
        let plan = analyzed_plan(&fused, sql).await;
        assert!(plan.matches("DiffCorrelateExec").count() >= 2, "{what}: one fused operator per pair:\n{plan}");
    }
    // A part that is not the fused shape keeps DataFusion's plan for all.
    let mixed = "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                      s AS (SELECT view, ts, v, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
                 SELECT view, pearson_r(d, d_app) AS r, pearson_r(v, d_app) AS r_level FROM s JOIN a USING (ts) GROUP BY view ORDER BY view";
    assert_eq!(check(&fused, &plain, mixed, "a pair of a level and a difference").await, Path::NotFused);
}

/// `rank_correlations` computes Spearman and the lag only when they are
/// read; without them its Pearson part is the fused pass, with the same
/// values and order as the full call.
#[tokio::test]
async fn rank_correlations_without_spearman_or_lag_is_fused() {
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let call = "rank_correlations('views', 'view', 'v', 'app', 'v')";
    let narrow = format!("SELECT series, r, p, n, q, ci_low FROM {call}");
    assert_eq!(check(&fused, &plain, &narrow, "r, p, n, q, ci_low").await, Path::Streamed);
    let full = format!("SELECT * FROM {call}");
    assert_eq!(check(&fused, &plain, &full, "every column").await, Path::Streamed);
    let from_full: Vec<Vec<Cell>> =
        rows(&plain, &full).await.into_iter().map(|row| [0, 1, 2, 4, 5, 6].map(|i| row[i].clone()).to_vec()).collect();
    assert_rows_close(&rows(&fused, &narrow).await, &from_full, "narrow call vs the full one");
    let lag_only = format!("SELECT series, best_lag FROM {call} WHERE n > 10");
    assert_eq!(check(&fused, &plain, &lag_only, "the lag alone").await, Path::Streamed);
}

/// Spearman, the lead/lag search and n_eff need every pair of a series: the
/// operator keeps them (streaming or buffered) and gives DataFusion's answer,
/// arguments in either order, the ordered ones ORDER BY either side's time.
#[tokio::test]
async fn pair_statistics_are_fused() {
    let sql = |periods: &str| {
        format!(
            "WITH a AS (SELECT ts, diff(v{periods}) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v{periods}) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT s.view, pearson_r(d, d_app) AS r, spearman_r(d, d_app) AS rho, spearman_p(d_app, d) AS rho_p,
                    xcorr_lag(d, d_app, 3 ORDER BY s.ts) AS lag, xcorr_r(d, d_app, 3 ORDER BY s.ts) AS lag_r,
                    xcorr_lag(d_app, d, 4 ORDER BY a.ts) AS lag_swapped, xcorr_r(d_app, d, 4 ORDER BY a.ts) AS lag_r_swapped,
                    pearson_n_eff(d, d_app ORDER BY s.ts) AS n_eff, pearson_p_eff(d_app, d ORDER BY a.ts) AS p_eff
             FROM s JOIN a ON s.ts = a.ts GROUP BY s.view ORDER BY s.view"
        )
    };
    let cases = [
        (Order::SeriesThenTime, true, "", Path::Streamed, "gaps, sorted by view"),
        (Order::TimeThenSeries, false, "", Path::Streamed, "half the views on the whole grid, sorted by time"),
        (Order::Shuffled, true, "", Path::Buffered, "shuffled"),
        (Order::SeriesThenTime, false, ", 2", Path::Buffered, "diff over 2 rows"),
    ];
    for (order, gaps, periods, path, what) in cases {
        let (fused, plain, _dir) = sessions(&incident_with(order, gaps), TimeType::Timestamp).await;
        assert_eq!(check(&fused, &plain, &sql(periods), what).await, path, "{what}");
    }
    let (fused, plain, _dir) = sessions(&incident(Order::SeriesThenTime), TimeType::Timestamp).await;
    let other_orders = [
        ("ORDER BY s.ts DESC", "descending time"),
        ("ORDER BY d", "ordered by a difference"),
    ];
    for (order, what) in other_orders {
        let sql = format!(
            "WITH a AS (SELECT ts, diff(v) OVER (ORDER BY ts) AS d_app FROM app),
                  s AS (SELECT view, ts, diff(v) OVER (PARTITION BY view ORDER BY ts) AS d FROM views)
             SELECT s.view, xcorr_lag(d, d_app, 2 {order}) AS lag FROM s JOIN a USING (ts) GROUP BY s.view ORDER BY s.view"
        );
        assert_eq!(check(&fused, &plain, &sql, what).await, Path::NotFused, "{what}");
    }
}
