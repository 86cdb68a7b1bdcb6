//! The README's quick start: the stand-in (`examples/mock_api.rs --run`)
//! listens, runs the main job against itself, stops, and exits with the
//! job's status, with nothing left listening, twice in a row.
//!
//! The README writes `cargo run --example mock_api -- --run cargo run --
//! --job=rewards`; here both programs are the binaries cargo has built (a
//! nested `cargo run` of the main binary would only add a build).

use crate::common::repo_file;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The stand-in's binary: `cargo test` builds the examples next to the
/// binaries (`cargo test --test quick_start` alone does not).
fn mock_api() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ocd-cron"));
    let mock = bin.parent().unwrap().join("examples").join("mock_api");
    assert!(
        mock.exists(),
        "{} is missing: run the whole `cargo test`, or `cargo build --example mock_api` first",
        mock.display()
    );
    mock
}

struct Demo {
    code: i32,
    stderr: String,
    port: u16,
}

/// `mock_api ARGS --run ocd-cron JOB_ARGS` in an empty directory, with an
/// environment that has no key (the stand-in provides it).
fn demo(mock_args: &[&str], job_args: &[&str]) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(mock_api())
        .args(mock_args)
        .args(["--run", "--", env!("CARGO_BIN_EXE_ocd-cron")])
        .args(job_args)
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("start mock_api");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let port = stderr
        .split("listening on http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no listening line: {stderr}"));
    Demo {
        code: output.status.code().unwrap_or(-1),
        stderr,
        port,
    }
}

#[test]
fn the_quick_start_runs_the_job_without_a_race_and_leaves_nothing_listening() {
    for round in 1..=2 {
        let run = demo(&[], &["--job=rewards"]);
        assert_eq!(run.code, 0, "round {round}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("rewards: processed 42, errors 0 (HTTP 200, ")
                && run.stderr.contains("attempt 1/3"),
            "round {round}: first attempt succeeds: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
        assert!(
            TcpStream::connect(("127.0.0.1", run.port)).is_err(),
            "round {round}: port {} still accepts after the stand-in exited",
            run.port
        );
    }
}

#[test]
fn the_stand_in_exits_with_the_commands_status() {
    let refused = demo(&["--fail", "401"], &["--job=rewards"]);
    assert_eq!(refused.code, 77, "{}", refused.stderr);
    let failed = demo(&["--fail", "success-false"], &["--job=outcomes"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
}

/// `mock_api MOCK_ARGS --run /bin/sh -c SCRIPT`, with `$OCD` the binary.
fn demo_script(mock_args: &[&str], script: &str) -> Demo {
    let output = Command::new(mock_api())
        .args(mock_args)
        .args(["--run", "/bin/sh", "-c", script])
        .env_clear()
        .env("OCD", env!("CARGO_BIN_EXE_ocd-cron"))
        .stdin(Stdio::null())
        .output()
        .expect("start mock_api");
    Demo {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        port: 0,
    }
}

#[test]
fn the_stand_ins_401_refuses_the_pending_get_too() {
    let refused = demo(&["--fail", "401"], &["--job=all", "--pending"]);
    assert_eq!(refused.code, 77, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("mock_api: GET /api/training/calculate-pending -> 401"),
        "{}",
        refused.stderr
    );
    // --fail-times counts the GET as well.
    let once = demo(
        &["--fail", "401", "--fail-times", "1"],
        &["--job=all", "--pending"],
    );
    assert_eq!(once.code, 77, "{}", once.stderr);
    assert!(
        once.stderr.contains("outcomes: 7 pending"),
        "{}",
        once.stderr
    );
}

/// A slow answer holds up only its own connection: the GET of a second
/// run is answered while the first run's POST is still being slept on.
#[test]
fn the_stand_ins_slow_mode_serves_other_connections_meanwhile() {
    let run = demo_script(
        &["--fail", "slow"],
        r#""$OCD" --job=rewards --timeout=1s; echo "first: $?" >&2; "$OCD" --job=rewards --pending --timeout=5s"#,
    );
    assert!(run.stderr.contains("first: 75"), "{}", run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("rewards: 42 pending"), "{}", run.stderr);
}

#[test]
fn the_stand_ins_log_line_for_an_html_page_is_one_line() {
    let run = demo(&["--fail", "502"], &["--job=rewards", "--retries=0"]);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("mock_api: POST /api/training/calculate-pending -> 502 502 Bad Gateway\n"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("<html>"), "{}", run.stderr);
}

/// The app's Node server answers a TLS hello with 400 in plain HTTP, and so
/// does the stand-in: ocd-cron says the port speaks http, at once.
#[test]
fn https_to_the_stand_ins_http_port_says_so_and_is_not_retried() {
    let run = demo_script(
        &[],
        r#"exec "$OCD" --job=rewards --base-url="https${API_BASE_URL#http}""#,
    );
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(
        run.stderr.contains("this port speaks http, not https"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("a TLS hello on this http port").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn the_stand_in_lists_its_failure_modes() {
    let output = Command::new(mock_api()).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for mode in [
        "500",
        "502",
        "503",
        "429",
        "401",
        "slow",
        "item-errors",
        "success-false",
        "--fail-times",
        "--run",
    ] {
        assert!(help.contains(&format!("  {mode} ")), "{mode}: {help}");
    }
    let bad = Command::new(mock_api())
        .args(["--fail", "teapot"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(64));
}

#[test]
fn the_readme_shows_this_command_and_every_failure_mode() {
    let readme = repo_file("README.md");
    assert!(
        readme.contains("\ncargo run --example mock_api -- --run cargo run -- --job=rewards\n"),
        "the README's quick start is the command tested here"
    );
    let output = Command::new(mock_api()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let modes: Vec<&str> = help
        .split_once("--fail MODE")
        .unwrap()
        .1
        .split_once("--fail-times")
        .unwrap()
        .0
        .lines()
        // A mode starts its line at column 20; its explanation's next
        // lines are indented further.
        .filter_map(|l| l.strip_prefix(&" ".repeat(20)))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(modes.len() >= 8, "{modes:?}");
    for mode in modes {
        assert!(
            readme.contains(&format!("| `{mode}` |")),
            "README's table lacks --fail {mode}"
        );
    }
}
