//! W3C trace context: `traceparent` on every request to the app, a child
//! of `TRACEPARENT` when it is set, a new trace when not; never on a ping.

use crate::common::{KEY, OUTCOMES_OK, REWARDS_OK, Server, respond, respond_with, run};

const PARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Splits a `traceparent` the server received, checking it as the W3C
/// specification defines version 00: `00-<32 hex>-<16 hex>-<2 hex>`,
/// lower-case, neither id all zeros. Returns (trace id, parent id, flags).
#[track_caller]
fn well_formed(value: &str) -> (String, String, String) {
    let fields: Vec<&str> = value.split('-').collect();
    assert_eq!(fields.len(), 4, "{value}");
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    assert_eq!(fields[0], "00", "{value}");
    assert!(hex(fields[1], 32) && fields[1] != "0".repeat(32), "{value}");
    assert!(hex(fields[2], 16) && fields[2] != "0".repeat(16), "{value}");
    assert!(hex(fields[3], 2), "{value}");
    (fields[1].into(), fields[2].into(), fields[3].into())
}

fn traced(server: &Server, args: &[&str], extra: &[(&str, &str)]) -> crate::common::Run {
    let url = server.url();
    let mut env = vec![("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
    env.extend_from_slice(extra);
    run(args, &env)
}

#[test]
fn each_request_is_a_child_span_of_traceparent() {
    let server = Server::start(vec![
        respond_with(503, &[("retry-after", "0")], ""),
        respond(200, REWARDS_OK),
        respond(200, OUTCOMES_OK),
    ]);
    let run = traced(
        &server,
        &["--job", "all", "--output", "json"],
        &[
            ("TRACEPARENT", PARENT),
            ("TRACESTATE", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        ],
    );
    run.assert_code(0);
    let requests = server.assert_requests(3);
    let spans: Vec<(String, String, String)> = requests
        .iter()
        .map(|r| well_formed(r.header("traceparent").expect("a traceparent")))
        .collect();
    for (trace, parent, flags) in &spans {
        assert_eq!(trace, PARENT_TRACE);
        assert_ne!(parent, "00f067aa0ba902b7", "a span of its own");
        assert_eq!(flags, "01", "the parent's sampled flag");
    }
    for r in &requests {
        assert_eq!(
            r.header("tracestate"),
            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        );
    }
    // The retry is the same request; the second job another span.
    assert_eq!(spans[0], spans[1]);
    assert_ne!(spans[1].1, spans[2].1);
    for o in run.json() {
        assert_eq!(o["trace_id"], PARENT_TRACE);
    }
    assert_eq!(
        run.stderr
            .matches(&format!("trace {PARENT_TRACE})"))
            .count(),
        2,
        "{run}"
    );
}

#[test]
fn without_a_parent_each_run_starts_a_sampled_trace_of_its_own() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let mut traces = Vec::new();
    for _ in 0..2 {
        let run = traced(&server, &["--job", "rewards", "--output", "json"], &[]);
        run.assert_code(0);
        let request = server.requests().pop().unwrap();
        let (trace, _, flags) = well_formed(request.header("traceparent").unwrap());
        assert_eq!(flags, "01");
        assert_eq!(request.header("tracestate"), None);
        assert_eq!(run.json()[0]["trace_id"], trace.as_str());
        run.assert_stderr_contains(&format!(", trace {trace}): Processed 42"));
        traces.push(trace);
    }
    assert_ne!(traces[0], traces[1]);
}

#[test]
fn an_invalid_traceparent_is_ignored_with_a_debug_line() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    for invalid in [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ] {
        let quiet = traced(
            &server,
            &["--job", "rewards"],
            &[("TRACEPARENT", invalid), ("TRACESTATE", "a=1")],
        );
        quiet.assert_code(0).assert_stderr_lines(1);
        let request = server.requests().pop().unwrap();
        let (trace, _, flags) = well_formed(request.header("traceparent").unwrap());
        assert_ne!(trace, PARENT_TRACE, "{invalid}");
        assert_eq!(flags, "01");
        assert_eq!(
            request.header("tracestate"),
            None,
            "dropped with its parent"
        );
        traced(
            &server,
            &["--job", "rewards", "-v"],
            &[("TRACEPARENT", invalid)],
        )
        .assert_code(0)
        .assert_stderr_contains(&format!(
            "DEBUG] rewards: TRACEPARENT \"{invalid}\" ignored ("
        ));
    }
    // Empty is unset: nothing to ignore.
    traced(&server, &["--job", "rewards", "-v"], &[("TRACEPARENT", "")])
        .assert_code(0)
        .assert_stderr_lacks("TRACEPARENT");
    // A later version is read as far as version 00 goes, and sent as 00.
    let future = format!("cc-{PARENT_TRACE}-00f067aa0ba902b7-01-later");
    traced(&server, &["--job", "rewards"], &[("TRACEPARENT", &future)]).assert_code(0);
    let request = server.requests().pop().unwrap();
    assert_eq!(
        well_formed(request.header("traceparent").unwrap()).0,
        PARENT_TRACE
    );
}

#[test]
fn monitors_never_get_trace_headers() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let monitor = Server::start(vec![respond(200, "OK")]);
    let ping = format!("{}/ping/0f7a1c2e-9b1d-4e7a", monitor.url());
    let run = traced(
        &api,
        &["--job", "rewards", "--ping-url", &ping],
        &[("TRACEPARENT", PARENT), ("TRACESTATE", "congo=1")],
    );
    run.assert_code(0);
    assert!(api.requests()[0].header("traceparent").is_some());
    let pings = monitor.assert_requests(2); // start and finish
    for p in pings {
        assert_eq!(p.header("traceparent"), None, "{}", p.path);
        assert_eq!(p.header("tracestate"), None, "{}", p.path);
    }
}

#[test]
fn the_dry_run_shows_the_traceparent_it_would_send() {
    let run = run(
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", KEY), ("TRACEPARENT", PARENT)],
    );
    run.assert_code(0);
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("traceparent: "))
        .unwrap_or_else(|| panic!("{run}"));
    assert_eq!(well_formed(line).0, PARENT_TRACE);
}

#[test]
fn a_hostile_trace_context_is_dropped_and_never_floods_the_log() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    // tracestate the W3C rules refuse: too long, a line break (a header
    // injection), bytes beyond ASCII. The parent stays, the state goes.
    let long = format!("a={}", "b".repeat(600));
    for state in [long.as_str(), "a=1\r\nx-evil: 1", "a=é"] {
        traced(
            &server,
            &["--job", "rewards"],
            &[("TRACEPARENT", PARENT), ("TRACESTATE", state)],
        )
        .assert_code(0);
        let request = server.requests().pop().unwrap();
        assert_eq!(
            well_formed(request.header("traceparent").unwrap()).0,
            PARENT_TRACE
        );
        assert_eq!(request.header("tracestate"), None, "{state:?}");
        assert_eq!(request.header("x-evil"), None);
    }
    // A huge traceparent: ignored, and its debug line cut short.
    let huge = "0".repeat(100_000);
    let run = traced(
        &server,
        &["--job", "rewards", "-v"],
        &[("TRACEPARENT", &huge)],
    );
    run.assert_code(0)
        .assert_stderr_contains("DEBUG] rewards: TRACEPARENT \"0000");
    assert!(run.stderr.len() < 10_000, "{}", run.stderr.len());
    let request = server.requests().pop().unwrap();
    assert_ne!(
        well_formed(request.header("traceparent").unwrap()).0,
        huge[..32]
    );
}
