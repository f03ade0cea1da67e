//! The interactive prompt driven through a pseudo-terminal: a query, `\d`,
//! a multi-line statement, a bad statement followed by a good one, Ctrl-C on
//! an unfinished line and on a running query, `\q`.

use rexpect::session::spawn_command;

#[test]
fn interactive_session() {
    let home = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_perfcorr"));
    command.env("HOME", home.path()).env("TERM", "xterm");
    let mut session = spawn_command(command, Some(30_000)).unwrap();
    session.exp_string("bundled sample incident").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("SELECT 40 + 2 AS answer;").unwrap();
    session.exp_string("| 42     |").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("\\d").unwrap();
    session.exp_string("| views      | 230400 |").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("SELECT layer").unwrap();
    session.exp_string("-> ").unwrap();
    session.send_line("FROM layers GROUP BY layer ORDER BY layer LIMIT 1;").unwrap();
    session.exp_string("| Elasticsearch |").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("SELEC nonsense;").unwrap();
    session.exp_string("error: ").unwrap();
    session.exp_string("perfcorr> ").unwrap();
    session.send_line("\\bogus").unwrap();
    session.exp_string("unknown command \\bogus").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("SELECT 'still here' AS status;").unwrap();
    session.exp_string("| still here |").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    // Ctrl-C drops an unfinished statement ...
    session.send_line("SELECT 1").unwrap();
    session.exp_string("-> ").unwrap();
    session.send_control('c').unwrap();
    session.exp_string("perfcorr> ").unwrap();
    // ... and cancels a running query, keeping the session.
    session.send_line("SELECT sum(value) FROM generate_series(1, 100000000000);").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    session.send_control('c').unwrap();
    session.exp_string("query cancelled").unwrap();
    session.exp_string("perfcorr> ").unwrap();
    session.send_line("SELECT 'after cancel' AS status;").unwrap();
    session.exp_string("| after cancel |").unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("\\q").unwrap();
    session.exp_eof().unwrap();
    assert!(home.path().join(".perfcorr_history").exists(), "history saved in HOME");
}

/// Characters on a screen line: rexpect hands over each byte as a char, so
/// UTF-8 text is decoded again first.
fn width(line: &str) -> usize {
    let bytes: Vec<u8> = line.trim_end().chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).chars().count()
}

/// A prompt on a terminal 60 columns wide: tables (`\functions`, a long text
/// cell) fit it, and long generated SQL gets an error, not the session's end.
#[test]
fn prompt_fits_the_terminal_and_survives_long_sql() {
    let home = tempfile::tempdir().unwrap();
    let long = home.path().join("long.sql");
    std::fs::write(&long, format!("SELECT {} AS s;\n", vec!["1"; 10_000].join(" + "))).unwrap();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("stty cols 60 rows 40; exec {}", env!("CARGO_BIN_EXE_perfcorr")))
        .env("HOME", home.path())
        .env("TERM", "xterm");
    let mut session = spawn_command(command, Some(30_000)).unwrap();
    session.exp_string("perfcorr> ").unwrap();

    session.send_line("\\functions").unwrap();
    let listing = session.exp_string("perfcorr> ").unwrap();
    let table: Vec<&str> = listing.lines().map(str::trim_end).filter(|l| l.starts_with('|') || l.starts_with('+')).collect();
    assert!(table.len() > 20, "{listing}");
    for line in &table {
        assert!(width(line) <= 60, "wider than the terminal: {line:?}");
    }
    assert!(listing.contains("pearson_r"), "{listing}");

    session.send_line("SELECT repeat('word ', 40) AS long_text, 1 AS n;").unwrap();
    let result = session.exp_string("perfcorr> ").unwrap();
    assert!(result.lines().filter(|l| l.starts_with('|')).count() > 2, "the long cell wraps: {result}");
    assert!(result.lines().filter(|l| l.starts_with('|') || l.starts_with('+')).all(|l| width(l) <= 60), "{result}");

    session.send_line(&format!("\\i {}", long.display())).unwrap();
    session.exp_string("expression nested more than").unwrap();
    session.exp_string("perfcorr> ").unwrap();
    session.send_line("SELECT 'still here' AS status;").unwrap();
    session.exp_string("| still here |").unwrap();
    session.exp_string("perfcorr> ").unwrap();
    session.send_line("\\q").unwrap();
    session.exp_eof().unwrap();
}
