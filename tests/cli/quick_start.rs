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
