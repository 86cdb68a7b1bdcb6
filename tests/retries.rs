//! Retries and the deadline: what is retried, how often, how long it waits,
//! and that nothing outlives `--timeout`.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{REWARDS_OK, Server, Step, respond, respond_with, run_against};

#[test]
fn retry_after_then_success_reuses_the_idempotency_key() {
    let server = Server::start(vec![
        respond_with(503, &[("retry-after", "1")], "deploying"),
        respond(200, REWARDS_OK),
    ]);
    let run = run_against(&server, &["--job", "rewards"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let keys: HashSet<_> = requests
        .iter()
        .map(|r| r.header("idempotency-key"))
        .collect();
    assert_eq!(keys.len(), 1, "same Idempotency-Key on every attempt");
    assert!(run.stderr.contains("attempt 1/3 failed"), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 503: deploying"), "{}", run.stderr);
    assert!(
        run.stderr.contains("retrying in 1 s"),
        "waits what Retry-After says: {}",
        run.stderr
    );
    assert!(run.stderr.contains("attempt 2/3"), "{}", run.stderr);
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "waited Retry-After: {:?}",
        run.elapsed
    );
}

#[test]
fn retries_count_is_respected() {
    let server = Server::start(vec![respond_with(503, &[("retry-after", "0")], "")]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "4"]);
    assert_eq!(run.code, 69, "{run:#?}");
    assert_eq!(server.requests().len(), 5);
    let run = run_against(&server, &["--job", "rewards", "--retries", "0"]);
    assert_eq!(run.code, 69, "{run:#?}");
    assert_eq!(server.requests().len(), 6);
}

#[test]
fn a_wait_past_the_deadline_is_not_started() {
    let server = Server::start(vec![respond_with(429, &[("retry-after", "3600")], "")]);
    let run = run_against(&server, &["--job", "rewards", "--timeout", "3s"]);
    assert_eq!(run.code, 75, "{run:#?}");
    assert_eq!(server.requests().len(), 1);
    assert!(
        run.stderr
            .contains("not retrying, waiting 3600 s would pass the --timeout deadline"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(3),
        "did not wait: {:?}",
        run.elapsed
    );
}

#[test]
fn the_last_failure_sets_the_code_when_time_runs_out_between_attempts() {
    let server = Server::start(vec![respond_with(502, &[("retry-after", "30")], "")]);
    let run = run_against(&server, &["--job", "rewards", "--timeout", "5s"]);
    assert_eq!(run.code, 69, "the 502's code, not the deadline's: {run:#?}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_trickling_body_is_cut_off_at_the_deadline() {
    let server = Server::start(vec![Step::Trickle {
        length: 1000,
        every: Duration::from_millis(100),
    }]);
    let run = run_against(&server, &["--job", "rewards", "--timeout", "1500ms"]);
    assert_eq!(run.code, 75, "{run:#?}");
    assert!(
        run.elapsed >= Duration::from_millis(1500),
        "{:?}",
        run.elapsed
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "cut off at the deadline: {:?}",
        run.elapsed
    );
}

#[test]
fn a_connection_closed_without_answer_is_retried() {
    let server = Server::start(vec![Step::Close, respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job", "rewards"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(server.requests().len(), 2);
    assert!(
        run.stderr.contains("attempt 1/3 failed: cannot reach"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_connection_reset_is_retried_then_unavailable() {
    let server = Server::start(vec![Step::Reset]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "1"]);
    assert_eq!(run.code, 69, "{run:#?}");
    assert_eq!(server.requests().len(), 2);
    assert!(
        run.stderr.contains("connection reset by the server"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_body_cut_short_is_retried_then_unavailable() {
    let server = Server::start(vec![Step::CutShort {
        length: 100,
        sent: 10,
    }]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "1"]);
    assert_eq!(run.code, 69, "{run:#?}");
    assert_eq!(server.requests().len(), 2);
    assert!(
        run.stderr
            .contains("closed the connection before the answer was complete"),
        "{}",
        run.stderr
    );
}

#[test]
fn permanent_failures_are_not_retried() {
    for (status, code) in [(400, 76), (401, 77), (404, 76), (405, 76), (501, 70)] {
        let server = Server::start(vec![respond(status, "{}")]);
        let run = run_against(&server, &["--job", "rewards"]);
        assert_eq!(run.code, code, "{status}: {run:#?}");
        assert_eq!(server.requests().len(), 1, "{status} is not retried");
    }
}
