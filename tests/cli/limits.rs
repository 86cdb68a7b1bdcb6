//! Limits a service manager or a shell sets (tasks, file size) and nowhere
//! to write: the run degrades or fails with its documented status, never
//! dies of a signal or a panic.

use std::fs::File;
use std::process::Stdio;

use crate::common::run_adjusted;

/// A writer whose every write fails (ENOSPC).
fn full() -> Stdio {
    Stdio::from(File::options().write(true).open("/dev/full").unwrap())
}

#[test]
fn help_and_version_with_nowhere_to_write_exit_74() {
    for flag in ["--help", "-h", "--version", "-V"] {
        let run = run_adjusted(&[flag], &[], |command| {
            command.stdout(full()).stderr(full());
        });
        run.assert_code(74);
    }
}

#[test]
fn runs_with_nowhere_to_write_keep_their_status() {
    let key = [("INTERNAL_API_KEY", crate::common::KEY)];
    let closed = crate::common::closed_port();
    let base = format!("http://127.0.0.1:{closed}");
    for (args, code) in [
        (vec!["--job", "rewards", "--dry-run"], 74),
        (vec!["--job", "nope"], 64),
        (
            vec!["--job", "rewards", "--retries", "0", "--base-url", &base],
            69,
        ),
        (
            vec![
                "--job",
                "all",
                "--output",
                "json",
                "--retries",
                "0",
                "--base-url",
                &base,
            ],
            69,
        ),
    ] {
        let run = run_adjusted(&args, &key, |command| {
            command.stdout(full()).stderr(full());
        });
        run.assert_code(code);
    }
}
