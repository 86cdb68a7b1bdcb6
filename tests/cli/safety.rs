//! The key stays where it belongs: not on another host, not in any log.

use crate::common::{KEY, REWARDS_OK, Server, leaks, respond, respond_with, run, run_against};

#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let target = Server::start(vec![respond(200, REWARDS_OK)]);
    for status in [302, 307, 308, 301] {
        let location = format!(
            "{}/api/training/calculate-pending",
            target.url().replace("127.0.0.1", "localhost")
        );
        let server = Server::start(vec![respond_with(status, &[("location", &location)], "")]);
        run_against(&server, &["--job", "rewards"])
            .assert_code(76)
            .assert_stderr_contains(&format!("answered HTTP {status} redirecting to {location}"));
        server.assert_requests(1);
    }
    target.assert_connections(0); // the redirect target received nothing
}

#[test]
fn the_key_never_appears_even_at_trace_level() {
    let server = Server::start(vec![respond(500, "{}"), respond(200, REWARDS_OK)]);
    let url = server.url();
    // `run` itself fails the test if the key is in stdout or stderr.
    let run = run(
        &["--job", "rewards", "-v"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            // ureq is named: the HTTP library is quiet unless asked for.
            ("RUST_LOG", "trace,ureq=trace,ureq_proto::util=trace"),
        ],
    );
    // Not even the header's name from ureq: its header log redacts it, and
    // its byte dumps (where the key would sit split across rows) are
    // dropped. Our own debug line names the header, its value redacted.
    let ours = "x-internal-api-key: (redacted)";
    run.assert_code(0)
        .assert_stderr_contains("DEBUG") // trace logging was on
        .assert_stderr_contains(ours);
    assert!(
        !run.stderr.replace(ours, "").contains("x-internal-"),
        "{}",
        run.stderr
    );
    assert!(!leaks(&run.stderr), "{}", run.stderr);
}

#[test]
fn server_text_cannot_forge_log_lines_or_drive_the_terminal() {
    let server = Server::start(vec![respond(
        400,
        "{\"error\":\"bad\\u001b[2J\\u001b]0;owned\\u0007\\r\\n[2026-01-01T00:00:00Z INFO] rewards: processed 999\"}",
    )]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(76);
    // Printed with {:?}: the run itself would drive the terminal.
    assert!(
        !run.stderr.contains('\x1b') && !run.stderr.contains('\r') && !run.stderr.contains('\x07'),
        "{:?}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
}
