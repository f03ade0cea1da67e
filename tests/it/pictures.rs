//! Pictures (issue 11): the HTML report rendered in headless Chromium (loads
//! without console errors, every chart has ink), `\plot` at a prompt of a
//! fixed size and in batch mode, and bad input for both.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use predicates::str::contains;
use rexpect::session::spawn_command;

fn perfcorr() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_perfcorr"));
    command.env("HOME", std::env::temp_dir()).env_remove("COLUMNS").env_remove("LINES");
    command
}

/// Chromium, or None (a skip) outside CI; in CI (`CI` set) a missing browser fails.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "chromium is missing (CI must install it: see .ci/run)");
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Screenshots `page` at `width`×`height`; returns its RGBA pixels,
/// its width, and Chromium's log.
fn screenshot(browser: &Path, page: &Path, (width, height): (u32, u32)) -> (Vec<u8>, usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("shot.png");
    let output = Process::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success() && png.exists(), "chromium failed: {log}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(info.buffer_size());
    let pixels = match info.color_type {
        png::ColorType::Rgba => pixels,
        png::ColorType::Rgb => pixels.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        other => panic!("screenshot colour type {other:?}"),
    };
    (pixels, info.width as usize, log)
}

/// The `<svg …>…</svg>` elements of `html`, with their width and height.
fn svgs(html: &str) -> Vec<(String, u32, u32)> {
    let attribute = |svg: &str, name: &str| -> u32 {
        let start = svg.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    html.match_indices("<svg")
        .map(|(start, _)| {
            let end = start + html[start..].find("</svg>").unwrap() + "</svg>".len();
            let svg = html[start..end].to_string();
            let (w, h) = (attribute(&svg, "width"), attribute(&svg, "height"));
            (svg, w, h)
        })
        .collect()
}

#[test]
fn report_renders_in_a_browser_with_every_chart_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    perfcorr().args(["report", "--window", "2026-11-19 19:00..2026-11-19 21:20", "--out"]).arg(&report).assert().success();
    let html = std::fs::read_to_string(&report).unwrap().replace("&#x2f;", "/");
    for question in ["Which layer?", "response time?</h2>", "traffic?</h2>"] {
        assert!(html.contains(question), "{question}");
    }
    for top in ["<strong>SQL</strong>", "<strong>apps/data</strong>", "<strong>endpoints/sparkline</strong>"] {
        assert!(html.contains(top), "top series {top}");
    }
    assert!(html.contains("21 of 160 series pass p &lt; 0.05; 1 pass q &lt; 0.05"), "the honest-statistics note");
    for outside in ["<script", "<link", "src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(outside), "self-contained: found {outside}");
    }
    let charts = svgs(&html);
    assert_eq!(charts.len(), 9, "three charts per question");

    let Some(browser) = chromium() else { return };
    let (pixels, width, log) = screenshot(&browser, &report, (1200, 3000));
    for line in log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")) {
        panic!("console message while loading the report: {line}");
    }
    let ink = pixels.chunks(4).filter(|p| p[0] < 200 || p[1] < 200 || p[2] < 200).count();
    assert!(ink > pixels.len() / 4 / 50, "the page is not blank ({ink} dark pixels of {width} wide)");

    // Every chart on its own at a known place of one page: each region must
    // have ink, and coloured ink (the series' lines or points, not only axes).
    let (page_width, mut top) = (charts.iter().map(|c| c.1).max().unwrap(), 0);
    let mut page = String::from("<!DOCTYPE html><html><body style=\"margin:0;background:#fff\">");
    let mut regions = Vec::new();
    for (svg, w, h) in &charts {
        page.push_str(&format!("<div style=\"position:absolute;left:0;top:{top}px;width:{w}px;height:{h}px\">{svg}</div>"));
        regions.push((top, *w, *h));
        top += h + 20;
    }
    page.push_str("</body></html>");
    let page_path = dir.path().join("charts.html");
    std::fs::write(&page_path, page).unwrap();
    let (pixels, width, _) = screenshot(&browser, &page_path, (page_width, top));
    for (k, (y0, w, h)) in regions.into_iter().enumerate() {
        let (mut dark, mut coloured) = (0, 0);
        for y in y0 as usize..(y0 + h) as usize {
            for x in 0..w as usize {
                let p = &pixels[(y * width + x) * 4..][..3];
                let (max, min) = (*p.iter().max().unwrap() as i32, *p.iter().min().unwrap() as i32);
                dark += usize::from(min < 230);
                coloured += usize::from(max - min > 60);
            }
        }
        let area = (w * h) as usize;
        assert!(dark > area / 100, "chart {k}: only {dark} non-background pixels of {area}");
        assert!(coloured > area / 400, "chart {k}: only {coloured} coloured pixels of {area}");
    }
}

#[test]
fn report_names_a_missing_table_and_a_bad_window() {
    let dir = tempfile::tempdir().unwrap();
    perfcorr().args(["generate", "--views", "3", "--points", "30", "--format", "csv", "--out"]).arg(dir.path()).assert().success();
    std::fs::remove_file(dir.path().join("app.csv")).unwrap();
    // Written elsewhere: perfcorr refuses to write into a data folder.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("r.html");
    perfcorr()
        .args(["report", "--data"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("report: no table 'app' in the loaded data"));
    assert!(!out.exists());
    perfcorr().args(["report", "--window", "yesterday", "--out"]).arg(&out).assert().failure().stderr(contains("--window 'yesterday': use START..END"));
    perfcorr().args(["-q", "-c"]).arg(format!("\\report {}", out.display())).assert().success();
    assert!(std::fs::read_to_string(&out).unwrap().contains("endpoints/sparkline"), "\\report writes the same page");
}

#[test]
fn plot_in_batch_mode_fits_columns_and_lines_and_rejects_bad_input() {
    let output = perfcorr().env("COLUMNS", "80").env("LINES", "20").args(["-q", "-c", "\\plot SELECT ts, layer, ms FROM layers WHERE layer IN ('SQL', 'Redis')"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.lines().count() <= 19, "{text}");
    assert!(text.lines().all(|l| l.chars().count() < 80), "{text}");
    assert!(text.contains("━━ SQL") && text.contains("━━ Redis") && text.contains("x: ts (2026-11-19)"), "{text}");
    assert!(text.contains("00:00") && text.contains("23:59"), "time labels: {text}");

    // The default area without a terminal is 100×25; \plot alone plots the last result.
    let output = perfcorr().args(["-q", "-c", "SELECT ts, response_ms FROM app", "-c", "\\plot"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let chart: Vec<&str> = text.lines().skip_while(|l| !l.contains('⠀')).collect();
    assert!(chart.len() <= 24 && chart.len() > 15 && chart.iter().all(|l| l.chars().count() < 100), "{text}");

    for (sql, message) in [
        ("\\plot", "no result yet; run a query first"),
        ("\\plot SELECT 'a' AS name", "needs a time (timestamp, date or numeric) column, got name Utf8"),
        ("\\plot SELECT ts FROM app", "needs a numeric column besides the x axis 'ts'"),
        ("\\plot SELECT 1 AS x, 2 AS y", "one point in time (x = 1"),
        ("\\plot SELECT ts, CAST(NULL AS DOUBLE) AS v FROM app", "every value is NULL"),
        ("\\plot SELECT ts, response_ms FROM app WHERE false", "the result has no rows"),
    ] {
        perfcorr().args(["-q", "-c", sql]).assert().failure().stderr(contains(message)).stderr(contains("panicked").not());
    }
    // 10,000 series: the six with the largest variance, and a note.
    let output = perfcorr()
        .args(["-q", "-c", "\\plot SELECT t / 10000 AS t, 'k' || (t % 10000) AS key, (t % 10000) * (t / 10000) AS v FROM generate_series(0, 29999) AS g(t)"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(text.contains("showing the 6 of 10000 series with the largest variance"), "{text}");
    assert!(text.contains("━━ k9999"), "the most variable series is shown: {text}");
}

use predicates::prelude::PredicateBooleanExt;

/// Characters on a screen line with ANSI colours left out: rexpect hands over
/// each byte as a char, so UTF-8 text is decoded again first.
fn visible_width(line: &str) -> usize {
    let bytes: Vec<u8> = line.trim_end().chars().map(|c| c as u32 as u8).collect();
    let text = String::from_utf8_lossy(&bytes);
    let mut width = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else if c != '\r' {
            width += 1;
        }
    }
    width
}

#[test]
fn plot_at_the_prompt_fits_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut command = Process::new("sh");
    command.arg("-c").arg(format!("stty cols 60 rows 20; exec {}", env!("CARGO_BIN_EXE_perfcorr"))).env("HOME", home.path()).env("TERM", "xterm");
    let mut session = spawn_command(command, Some(30_000)).unwrap();
    session.exp_string("perfcorr> ").unwrap();
    for (command, legend) in [("\\plot SELECT ts, response_ms FROM app", "response_ms"), ("SELECT ts, layer, ms FROM layers LIMIT 40;", "x: ts (2026-11-19)")] {
        session.send_line(command).unwrap();
        if !command.starts_with('\\') {
            session.exp_string("perfcorr> ").unwrap();
            session.send_line("\\plot").unwrap();
        }
        let screen = session.exp_string("perfcorr> ").unwrap();
        // The chart's lines, then the row the prompt is drawn on.
        let lines: Vec<&str> = screen.lines().filter(|l| !l.contains("\\plot")).collect();
        assert!(lines.len() <= 20, "taller than the terminal ({} lines): {lines:#?}", lines.len());
        assert!(lines.iter().all(|l| visible_width(l) <= 59), "wider than the terminal: {screen}");
        assert!(screen.contains(legend) && screen.contains("\u{1b}[38;2;"), "legend in colour: {screen}");
    }
    session.send_line("\\q").unwrap();
    session.exp_eof().unwrap();
}
