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
