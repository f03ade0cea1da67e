//! The report's charts, drawn with plotters' SVG backend into strings: a
//! series against the app's response time on a shared time axis (stacked
//! panels, the incident window shaded), and a scatter of the differences.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::chart_data::{x_label, Series, XKind};
use crate::stats::resample::finite_range;

/// Colours: the suspect series, the app, the window's shade.
pub const SERIES_COLOUR: RGBColor = RGBColor(31, 119, 180);
pub const APP_COLOUR: RGBColor = RGBColor(214, 96, 39);
const WINDOW_SHADE: RGBColor = RGBColor(255, 214, 170);
const FONT: &str = "sans-serif";

/// One panel of a time chart.
pub struct Panel<'a> {
    pub title: String,
    pub series: &'a Series,
    pub colour: RGBColor,
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("drawing a chart: {e}")
}

/// A range with a little room, never empty.
fn padded(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = finite_range(values).unwrap_or((0.0, 1.0));
    let room = if hi > lo { (hi - lo) * 0.05 } else { lo.abs().max(1.0) * 0.1 };
    (lo - room, hi + room)
}

/// Stacked panels over `x_range` (µs), `window` (µs) shaded in each.
pub fn time_panels(panels: &[Panel], x_range: (f64, f64), window: Option<(f64, f64)>, size: (u32, u32)) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        for (area, panel) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
            time_panel(area, panel, x_range, window)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

fn time_panel(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel, (x0, x1): (f64, f64), window: Option<(f64, f64)>) -> Result<(), String> {
    let (lo, hi) = padded(panel.series.values());
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 15))
        .margin(8)
        .x_label_area_size(22)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, lo..hi)
        .map_err(failed)?;
    if let Some((start, end)) = window {
        let (start, end) = (start.clamp(x0, x1), end.clamp(x0, x1));
        chart.draw_series(std::iter::once(Rectangle::new([(start, lo), (end, hi)], WINDOW_SHADE.mix(0.6).filled()))).map_err(failed)?;
    }
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(5)
        .x_label_formatter(&|x| x_label(XKind::Time, *x, x1 - x0))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(failed)?;
    for segment in panel.series.points.split(|p| !p.1.is_finite()).filter(|s| !s.is_empty()) {
        chart.draw_series(LineSeries::new(segment.iter().copied(), panel.colour.stroke_width(1))).map_err(failed)?;
    }
    Ok(())
}

/// A scatter of `(x, y)` pairs with the least-squares line, titled `title`.
pub fn scatter(points: &[(f64, f64)], title: &str, labels: (&str, &str), size: (u32, u32)) -> Result<String, String> {
    let points: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let (x_lo, x_hi) = padded(points.iter().map(|p| p.0));
    let (y_lo, y_hi) = padded(points.iter().map(|p| p.1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc(labels.0)
            .y_desc(labels.1)
            .x_labels(6)
            .y_labels(6)
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(failed)?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, SERIES_COLOUR.mix(0.45).filled()))).map_err(failed)?;
        if let Some((slope, intercept)) = least_squares(&points) {
            let line = [(x_lo, intercept + slope * x_lo), (x_hi, intercept + slope * x_hi)];
            chart.draw_series(LineSeries::new(line, APP_COLOUR.stroke_width(2))).map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Slope and intercept of y on x, if x varies.
fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| (sxy / sxx, my - sxy / sxx * mx))
}
