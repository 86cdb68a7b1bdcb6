//! The key stays where it belongs: not on another host, not in any log.

mod common;

use common::{KEY, REWARDS_OK, Server, respond, respond_with, run};

#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let target = Server::start(vec![respond(200, REWARDS_OK)]);
    for status in [302, 307, 308, 301] {
        let location = format!(
            "{}/api/training/calculate-pending",
            target.url().replace("127.0.0.1", "localhost")
        );
        let server = Server::start(vec![respond_with(status, &[("location", &location)], "")]);
        let url = server.url();
        let run = run(
            &["--job", "rewards"],
            &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
        );
        assert_eq!(run.code, 76, "{status}: {run:#?}");
        assert!(
            run.stderr
                .contains(&format!("answered HTTP {status} redirecting to {location}")),
            "{}",
            run.stderr
        );
        assert_eq!(server.requests().len(), 1);
    }
    assert_eq!(
        target.connections(),
        0,
        "the redirect target received nothing"
    );
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
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains("DEBUG"),
        "trace logging was on: {}",
        run.stderr
    );
    // Not even the header's name from ureq: its header log redacts it, and
    // its byte dumps (where the key would sit split across rows) are
    // dropped. Our own debug line names the header, its value redacted.
    let ours = "x-internal-api-key: (redacted)";
    assert!(run.stderr.contains(ours), "{}", run.stderr);
    assert!(
        !run.stderr.replace(ours, "").contains("x-internal-"),
        "{}",
        run.stderr
    );
    assert!(!common::leaks(&run.stderr), "{}", run.stderr);
}

#[test]
fn server_text_cannot_forge_log_lines_or_drive_the_terminal() {
    let server = Server::start(vec![respond(
        400,
        "{\"error\":\"bad\\u001b[2J\\u001b]0;owned\\u0007\\r\\n[2026-01-01T00:00:00Z INFO] rewards: processed 999\"}",
    )]);
    let url = server.url();
    let run = run(
        &["--job", "rewards"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    assert_eq!(run.code, 76, "{run:#?}");
    assert!(
        !run.stderr.contains('\x1b') && !run.stderr.contains('\r') && !run.stderr.contains('\x07'),
        "{:?}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
}
