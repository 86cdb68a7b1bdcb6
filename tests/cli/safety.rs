//! Secrets stay where they belong: the key not on another host, and no
//! secret (the key, a monitor's token, a proxy's credentials) in any log.

use crate::common::{
    KEY, MONITOR_TOKEN, PROXY_PASSWORD, PROXY_USER, REWARDS_OK, Server, Step, leaks,
    percent_decoded, respond, respond_with, run, run_against,
};

/// The most output a run gives: every level, the HTTP library's lines
/// included, as text and as JSON.
const LOUDEST: [&[&str]; 2] = [&["-v"], &["-v", "--log-format", "json"]];
const RUST_LOG: (&str, &str) = ("RUST_LOG", "trace,ureq=trace");

/// `text` with every byte percent-encoded.
fn all_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Asserts that `output` shows none of `secrets`, plainly or
/// percent-encoded (`run` checks this too; said here so that the test reads
/// whole).
#[track_caller]
fn assert_hidden(output: &str, secrets: &[&str]) {
    let decoded = percent_decoded(output);
    for secret in secrets {
        assert!(
            !output.contains(secret) && !decoded.contains(secret),
            "{secret} shown:\n{output}"
        );
    }
}

#[test]
fn a_monitor_token_echoed_percent_encoded_is_not_printed() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    // One byte encoded, and every byte: ureq and servers encode either way.
    let one = MONITOR_TOKEN.replacen('-', "%2D", 1);
    let body = format!("no check {one} or {} here", all_encoded(MONITOR_TOKEN));
    let monitor = Server::start(vec![respond(404, &body)]);
    let (api_url, ping_url) = (api.url(), format!("{}/{MONITOR_TOKEN}", monitor.url()));
    for loudest in LOUDEST {
        let mut args = vec!["--job", "rewards", "--ping-url", &ping_url];
        args.extend_from_slice(loudest);
        let run = run(
            &args,
            &[
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", &api_url),
                RUST_LOG,
            ],
        );
        // The body is shown, the token masked where it stood.
        run.assert_code(0)
            .assert_stderr_contains("answered HTTP 404: no check (redacted) or (redacted) here");
        assert_hidden(&run.stderr, &[MONITOR_TOKEN]);
        assert_hidden(&run.stdout, &[MONITOR_TOKEN]);
    }
    // The token was sent: the masking is not for want of a token.
    let seen = monitor.assert_requests(4);
    assert!(seen[0].path.starts_with(&format!("/{MONITOR_TOKEN}/start")));
}

#[test]
fn proxy_credentials_echoed_back_are_not_printed() {
    // The password is percent-encoded in the proxy URL, as it must be.
    let encoded_password = PROXY_PASSWORD
        .replace('/', "%2F")
        .replace(':', "%3A")
        .replace('@', "%40");
    let body = format!(
        "{{\"error\":\"who is {PROXY_USER}:{PROXY_PASSWORD}, or {PROXY_USER}:{encoded_password}, or {}?\"}}",
        all_encoded(PROXY_PASSWORD)
    );
    for loudest in LOUDEST {
        let proxy = Server::start(vec![Step::Tunnel(Box::new(respond(500, &body)))]);
        let proxy_url = format!(
            "http://{PROXY_USER}:{encoded_password}@127.0.0.1:{}",
            proxy.port()
        );
        let mut args = vec!["--job", "rewards", "--retries", "0"];
        args.extend_from_slice(loudest);
        let run = run(
            &args,
            &[
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", "http://ocd.internal:3000"),
                ("http_proxy", &proxy_url),
                RUST_LOG,
            ],
        );
        // The body is shown, each credential masked where it stood.
        run.assert_code(70).assert_stderr_contains(
            "who is (redacted):(redacted), or (redacted):(redacted), or (redacted)?",
        );
        assert_hidden(&run.stderr, &[PROXY_USER, PROXY_PASSWORD]);
        assert_hidden(&run.stdout, &[PROXY_USER, PROXY_PASSWORD]);
        // The credentials were in use: the masking is not for want of them.
        let seen = proxy.assert_requests(2);
        assert_eq!(seen[0].method, "CONNECT");
        assert!(seen[0].header("proxy-authorization").is_some(), "{seen:?}");
    }
}

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
