//! Retries and the deadline: what is retried, how often, how long it waits,
//! and that nothing outlives `--timeout`.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::{REWARDS_OK, Server, Step, respond, respond_with, run_against};

#[test]
fn retry_after_then_success_reuses_the_idempotency_key() {
    let server = Server::start(vec![
        respond_with(503, &[("retry-after", "1")], "deploying"),
        respond(200, REWARDS_OK),
    ]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(0);
    let requests = server.assert_requests(2);
    let keys: HashSet<_> = requests
        .iter()
        .map(|r| r.header("idempotency-key"))
        .collect();
    assert_eq!(keys.len(), 1, "same Idempotency-Key on every attempt");
    run.assert_stderr_contains("attempt 1/3 failed")
        .assert_stderr_contains("HTTP 503: deploying")
        .assert_stderr_contains("retrying in 1 s") // waits what Retry-After says
        .assert_stderr_contains("attempt 2/3")
        .assert_lasted_at_least(Duration::from_secs(1)); // waited Retry-After
}

/// Cron mails any output: a run that succeeds after a retry says nothing
/// under -q, and one that fails says why.
#[test]
fn quiet_is_silent_after_a_retry_that_succeeds() {
    let server = Server::start(vec![
        respond_with(503, &[("retry-after", "0")], "deploying"),
        respond(200, REWARDS_OK),
        respond_with(503, &[("retry-after", "0")], "deploying"),
    ]);
    let run = run_against(&server, &["--job", "rewards", "-q"]);
    run.assert_code(0);
    assert_eq!(run.stderr, "", "-q after a retry");
    server.assert_requests(2);
    run_against(&server, &["--job", "rewards", "-q", "--retries", "0"])
        .assert_code(69)
        .assert_stderr_contains("ERROR] rewards: ")
        .assert_stderr_contains("HTTP 503: deploying");
}

#[test]
fn retries_count_is_respected() {
    let server = Server::start(vec![respond_with(503, &[("retry-after", "0")], "")]);
    run_against(&server, &["--job", "rewards", "--retries", "4"]).assert_code(69);
    server.assert_requests(5);
    run_against(&server, &["--job", "rewards", "--retries", "0"]).assert_code(69);
    server.assert_requests(6);
}

#[test]
fn a_wait_past_the_deadline_is_not_started() {
    let server = Server::start(vec![respond_with(429, &[("retry-after", "3600")], "")]);
    let run = run_against(&server, &["--job", "rewards", "--timeout", "3s"]);
    run.assert_code(75);
    server.assert_requests(1);
    run.assert_stderr_contains("not retrying, waiting 3600 s would pass the --timeout deadline")
        .assert_ended_within(Duration::from_secs(3)); // did not wait
}

#[test]
fn the_last_failure_sets_the_code_when_time_runs_out_between_attempts() {
    let server = Server::start(vec![respond_with(502, &[("retry-after", "30")], "")]);
    run_against(&server, &["--job", "rewards", "--timeout", "5s"]).assert_code(69); // the 502's code, not the deadline's
    server.assert_requests(1);
}

#[test]
fn a_trickling_body_is_cut_off_at_the_deadline() {
    let server = Server::start(vec![Step::Trickle {
        length: 1000,
        every: Duration::from_millis(100),
    }]);
    run_against(&server, &["--job", "rewards", "--timeout", "1500ms"])
        .assert_code(75)
        .assert_lasted_at_least(Duration::from_millis(1500))
        .assert_ended_within(Duration::from_secs(10)); // cut off at the deadline
}

#[test]
fn a_connection_closed_without_answer_is_retried() {
    let server = Server::start(vec![Step::Close, respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(0);
    server.assert_requests(2);
    run.assert_stderr_contains("attempt 1/3 failed: cannot reach");
}

#[test]
fn a_connection_reset_is_retried_then_unavailable() {
    let server = Server::start(vec![Step::Reset]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "1"]);
    run.assert_code(69);
    server.assert_requests(2);
    run.assert_stderr_contains("connection reset by the server");
}

#[test]
fn a_body_cut_short_is_retried_then_unavailable() {
    let server = Server::start(vec![Step::CutShort {
        length: 100,
        sent: 10,
    }]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "1"]);
    run.assert_code(69);
    server.assert_requests(2);
    run.assert_stderr_contains("closed the connection before the answer was complete")
        .assert_stderr_lacks("speaks http"); // the https hint is for https only
}

#[test]
fn permanent_failures_are_not_retried() {
    for (status, code) in [(400, 76), (401, 77), (404, 76), (405, 76), (501, 70)] {
        let server = Server::start(vec![respond(status, "{}")]);
        run_against(&server, &["--job", "rewards"]).assert_code(code);
        server.assert_requests(1); // not retried
    }
}
