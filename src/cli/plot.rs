//! `\plot`: a query result as a braille line chart fitted to the terminal
//! (textplots draws the lines; the y labels, time axis, legend and notes
//! around it are ours).

use std::fmt::Write as _;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use rgb::RGB8;
use textplots::{AxisBuilder, Chart, ColorPlot, LabelBuilder, LabelFormat, LineStyle, Plot, Shape};

use crate::chart_data::{number_label, x_date, x_label, ChartData};
use crate::stats::resample::{finite_range, position};

/// More lines than this cannot be told apart in a terminal.
pub const MAX_SERIES: usize = 6;
/// The smallest chart worth drawing, in characters.
const MIN_COLUMNS: usize = 40;
const MIN_ROWS: usize = 6;
/// Colours of the series, in legend order.
const PALETTE: [RGB8; MAX_SERIES] = [
    RGB8 { r: 86, g: 156, b: 214 },
    RGB8 { r: 230, g: 145, b: 56 },
    RGB8 { r: 106, g: 190, b: 89 },
    RGB8 { r: 220, g: 80, b: 80 },
    RGB8 { r: 176, g: 122, b: 209 },
    RGB8 { r: 220, g: 200, b: 80 },
];

/// The largest chart drawn, whatever the terminal says.
const MAX_COLUMNS: usize = 1000;
const MAX_ROWS: usize = 500;

/// Plots a result in a `columns` × `rows` character area (every line
/// narrower than `columns`, at most `rows` lines); `color` adds ANSI colours.
pub fn plot(schema: &SchemaRef, batches: &[RecordBatch], columns: usize, rows: usize, color: bool) -> Result<String, String> {
    let data = ChartData::from_batches(schema, batches, MAX_SERIES)?;
    render(&data, columns, rows, color)
}

/// Draws `data`; see [`plot`].
pub fn render(data: &ChartData, columns: usize, rows: usize, color: bool) -> Result<String, String> {
    // A huge COLUMNS/LINES would only make a huge picture (and overflow the
    // drawing crate's formatting): the chart stays within MAX_COLUMNS × MAX_ROWS.
    let (columns, rows) = (columns.min(MAX_COLUMNS), rows.min(MAX_ROWS));
    if columns < MIN_COLUMNS || rows < MIN_ROWS {
        return Err(format!("the terminal ({columns}×{rows}) is too small for a chart; it needs {MIN_COLUMNS}×{MIN_ROWS}"));
    }
    let (x0, x1) = data.x_range();
    if x1 <= x0 {
        let only = x_label(data.x_kind, x0, 0.0);
        return Err(format!("one point in time ({} = {only}): a chart needs at least two", data.x_name));
    }
    let (lo, hi) = finite_range(data.series.iter().flat_map(|s| s.values())).ok_or("nothing to plot: every value is NULL")?;
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - lo.abs().max(1.0) * 0.1, hi + hi.abs().max(1.0) * 0.1) };

    let legend = legend(data, columns - 1, color);
    let notes: Vec<String> = data.notes.iter().flat_map(|note| wrap(note, columns - 1)).collect();
    let chart_rows = rows.saturating_sub(1 + legend.len() + notes.len());
    if chart_rows < 3 {
        return Err(format!("the terminal ({columns}×{rows}) is too small for a chart of {} series", data.series.len()));
    }
    let dots_high = 4 * (chart_rows as u32 - 1);
    let y_at = |row: usize| hi - (4 * row) as f64 / dots_high as f64 * (hi - lo);
    let y_labels: Vec<Option<String>> = (0..chart_rows)
        .map(|row| (row % 4 == 0 || row + 1 == chart_rows).then(|| number_label(y_at(row), hi - lo)))
        .collect();
    let label_width = y_labels.iter().flatten().map(|l| l.chars().count()).max().unwrap_or(0);
    // The canvas is dots/2 + 1 characters wide; one column is kept free so a
    // line never touches the terminal's edge (which would wrap it).
    let canvas_columns = columns - 2 - label_width;
    let dots_wide = 2 * (canvas_columns as u32 - 1);
    if dots_wide < 32 {
        return Err(format!("the terminal ({columns} columns) is too narrow for these axis labels"));
    }

    // y as a position between lo and hi (0 to 1), computed in f64: values
    // beyond f32's range, or a range wider than f64's, still draw.
    let (span_x, span_y) = ((x1 - x0) as f32, 1.0f32);
    let lines: Vec<(Vec<(f32, f32)>, RGB8)> = data
        .series
        .iter()
        .zip(PALETTE)
        .flat_map(|(series, colour)| {
            let points = series.points.iter().map(|&(x, y)| ((x - x0) as f32, position(y, lo, hi) as f32));
            segments(points, span_x, dots_wide).into_iter().map(move |segment| (segment, colour))
        })
        .collect();
    let shapes: Vec<(Shape, RGB8)> =
        lines.iter().map(|(points, colour)| (if points.len() == 1 { Shape::Points(points) } else { Shape::Lines(points) }, *colour)).collect();
    let mut chart = Chart::new_with_y_range(dots_wide, dots_high, 0.0, span_x, 0.0, span_y);
    let chart = chart.x_label_format(LabelFormat::None).y_label_format(LabelFormat::None).x_axis_style(LineStyle::None).y_axis_style(LineStyle::None);
    let chart = shapes.iter().fold(chart, |chart, (shape, colour)| if color { chart.linecolorplot(shape, *colour) } else { chart.lineplot(shape) });
    chart.figures();
    let drawn = chart.to_string();

    let mut text = String::new();
    for (line, label) in drawn.lines().take(chart_rows).zip(&y_labels) {
        let _ = writeln!(text, "{} {}", line.trim_end(), label.as_deref().unwrap_or(""));
    }
    let _ = writeln!(text, "{}", x_axis(data, x0, x1, canvas_columns));
    for line in legend.iter().chain(&notes) {
        let _ = writeln!(text, "{line}");
    }
    Ok(text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n")
}

/// Lines between present values, split at gaps, with at most two points
/// per dot column: the smallest and largest of the column, in time order,
/// so that a one-minute spike in a week still shows.
fn segments(points: impl Iterator<Item = (f32, f32)>, span_x: f32, dots_wide: u32) -> Vec<Vec<(f32, f32)>> {
    let column_of = |x: f32| (x / span_x * dots_wide as f32).round() as u32;
    let mut segments: Vec<Vec<(f32, f32)>> = Vec::new();
    let mut column: Vec<(f32, f32)> = Vec::new();
    // Whether the next column continues the last segment (no gap between).
    let mut open = false;
    for (x, y) in points {
        let gap = !y.is_finite();
        if gap || column.last().is_some_and(|last| column_of(last.0) != column_of(x)) {
            flush(&mut column, &mut segments, open);
            open = !gap;
        }
        if !gap {
            column.push((x, y));
        }
    }
    flush(&mut column, &mut segments, open);
    segments
}

/// Ends a dot column: its lowest and highest point join the last segment
/// (or start a new one).
fn flush(column: &mut Vec<(f32, f32)>, segments: &mut Vec<Vec<(f32, f32)>>, open: bool) {
    let by_y = |a: &(f32, f32), b: &(f32, f32)| a.1.total_cmp(&b.1);
    let (Some(low), Some(high)) = (column.iter().copied().min_by(by_y), column.iter().copied().max_by(by_y)) else {
        return;
    };
    if !open || segments.is_empty() {
        segments.push(Vec::new());
    }
    let segment = segments.last_mut().expect("pushed");
    match (low == high, low.0 <= high.0) {
        (true, _) => segment.push(low),
        (false, true) => segment.extend([low, high]),
        (false, false) => segment.extend([high, low]),
    }
    column.clear();
}

/// Time (or number) labels under the canvas, spread over its width.
fn x_axis(data: &ChartData, x0: f64, x1: f64, width: usize) -> String {
    let ticks = (width / 14).max(2);
    let mut line = String::new();
    for tick in 0..ticks {
        let label = x_label(data.x_kind, x0 + (x1 - x0) * tick as f64 / (ticks - 1) as f64, x1 - x0);
        let length = label.chars().count();
        let centre = (width - 1) * tick / (ticks - 1);
        let start = centre.saturating_sub(length / 2).min(width.saturating_sub(length));
        let used = line.chars().count();
        if start >= used + usize::from(used > 0) {
            line.push_str(&" ".repeat(start - used));
            line.push_str(&label);
        }
    }
    line
}

/// `text` in lines of at most `width` characters, broken between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(width).collect();
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    lines
}

/// The x axis' name and each series' colour and name, wrapped to `width`.
fn legend(data: &ChartData, width: usize, color: bool) -> Vec<String> {
    let x_title = match x_date(data.x_kind, data.x_range().0) {
        Some(date) => format!("x: {} ({date})", data.x_name),
        None => format!("x: {}", data.x_name),
    };
    let mut entries = vec![(x_title.chars().count(), x_title)];
    for (series, colour) in data.series.iter().zip(PALETTE) {
        let name: String = series.name.chars().take(width.saturating_sub(3)).collect();
        let mark = if color { format!("\x1b[38;2;{};{};{}m━━\x1b[0m", colour.r, colour.g, colour.b) } else { "━━".to_string() };
        entries.push((name.chars().count() + 3, format!("{mark} {name}")));
    }
    if !color && data.series.len() > 1 {
        let note = "(colours at a terminal)".to_string();
        entries.push((note.chars().count(), note));
    }
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (length, entry) in entries {
        let (length, entry) = if length > width { (width, entry.chars().take(width).collect()) } else { (length, entry) };
        match lines.last_mut() {
            Some((used, line)) if *used + 2 + length <= width => {
                line.push_str("  ");
                line.push_str(&entry);
                *used += 2 + length;
            }
            _ => lines.push((length, entry)),
        }
    }
    lines.into_iter().map(|(_, line)| line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart_data::{Series, XKind};

    fn data(series: usize, points: usize) -> ChartData {
        let series = (0..series)
            .map(|k| Series {
                name: format!("series number {k}"),
                points: (0..points).map(|i| (i as f64 * 60e6, if i % 97 == 5 { f64::NAN } else { (i as f64 / 7.0 + k as f64).sin() * 1e3 })).collect(),
            })
            .collect();
        ChartData { x_name: "ts".into(), x_kind: XKind::Time, series, notes: vec!["a note".into()] }
    }

    #[test]
    fn every_size_fits_its_area() {
        for (series, points) in [(1, 2), (3, 1440), (6, 50_000)] {
            let data = data(series, points);
            for columns in [40, 41, 60, 99, 200] {
                for rows in [6, 7, 12, 25, 60] {
                    for color in [false, true] {
                        let Ok(text) = render(&data, columns, rows, color) else { continue };
                        let plain = strip_ansi(&text);
                        assert!(plain.lines().count() <= rows, "{columns}x{rows}:\n{plain}");
                        assert!(plain.lines().all(|l| l.chars().count() < columns), "{columns}x{rows}:\n{plain}");
                    }
                }
            }
        }
        assert!(render(&data(1, 100), 80, 24, false).unwrap().contains("━━ series number 0"));
        assert!(render(&data(1, 100), 39, 24, false).unwrap_err().contains("too small"));
    }

    #[test]
    fn constant_and_single_point_series() {
        let flat = ChartData { x_name: "t".into(), x_kind: XKind::Number, series: vec![Series { name: "v".into(), points: vec![(1.0, 5.0), (2.0, 5.0)] }], notes: vec![] };
        assert!(render(&flat, 80, 20, false).unwrap().contains("5.0"));
        let one = ChartData { series: vec![Series { name: "v".into(), points: vec![(1.0, 5.0)] }], ..flat };
        assert!(render(&one, 80, 20, false).unwrap_err().contains("at least two"));
    }

    fn strip_ansi(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                out.push(c);
            }
        }
        out
    }
}
