//! Hostile input from servers and flags (issue 9, sections 1, 4, 5, 7):
//! absurd waits and durations end in a documented status, never a crash;
//! a key echoed back is never shown; wrong-typed contract fields fail
//! closed; proxies behave as curl's do. Every run here also fails if the
//! binary dies by a signal or panics (see `common::run`).

use std::time::Duration;

use crate::common::{REWARDS_OK, Server, respond, respond_with, run_against};

/// A wait no clock can add to the current time.
const HUGE_SECONDS: &str = "18446744073709551615";
/// The last second IMF-fixdate can name.
const FAR_DATE: &str = "Fri, 31 Dec 9999 23:59:59 GMT";

// ---- 1. No panic from any input -------------------------------------------

#[test]
fn an_api_asking_for_a_wait_past_the_deadline_is_not_retried() {
    for (status, retry_after, code) in [
        (503, HUGE_SECONDS, 69),
        (503, FAR_DATE, 69),
        (429, HUGE_SECONDS, 75),
        (429, "123456789012345678901234567890", 75),
        (500, FAR_DATE, 70),
    ] {
        let server = Server::start(vec![respond_with(
            status,
            &[("retry-after", retry_after)],
            r#"{"error":"busy"}"#,
        )]);
        let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
        run.assert_code(code)
            .assert_stderr_contains(
                "would pass the --timeout deadline (the server asked for it in Retry-After)",
            )
            .assert_ended_within(Duration::from_secs(10));
        server.assert_requests(1);
        let objects = run.json();
        assert_eq!(objects.len(), 1, "{run}");
        assert_eq!(objects[0]["exit_code"], code);
        assert_eq!(objects[0]["attempts"], 1);
    }
}

#[test]
fn a_monitor_asking_for_a_huge_wait_is_retried_soon_and_the_run_completes() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    for retry_after in [HUGE_SECONDS, FAR_DATE] {
        let pings = Server::start(vec![
            respond_with(503, &[("retry-after", retry_after)], "slow down"),
            respond(200, "OK"),
        ]);
        let ping_url = format!("{}/check-id", pings.url());
        let run = run_against(
            &api,
            &[
                "--job",
                "rewards",
                "--ping-url",
                &ping_url,
                "--output",
                "json",
            ],
        );
        run.assert_code(0)
            .assert_ended_within(Duration::from_secs(8))
            .assert_stderr_lacks("check-id");
        // Start (refused, then accepted after the clamped wait) and finish.
        let seen = pings.assert_requests(3);
        assert!(
            seen[1].path.starts_with("/check-id/start?rid="),
            "{}",
            seen[1].path
        );
        assert!(
            seen[2].path.starts_with("/check-id/0?rid="),
            "{}",
            seen[2].path
        );
        assert_eq!(run.json()[0]["exit_code"], 0);
    }
}

#[test]
fn durations_beyond_a_day_are_usage_errors_naming_the_flag_and_the_maximum() {
    for (flag, value) in [
        ("--timeout", "18446744073709551615"),
        ("--timeout", "25h"),
        ("--timeout", "86400001ms"),
        ("--connect-timeout", "5124095576030431h"),
        ("--connect-timeout", "99999999999999999999999"),
        ("--connect-timeout", "1441m"),
    ] {
        let server = Server::start(vec![respond(200, REWARDS_OK)]);
        let run = run_against(&server, &["--job", "rewards", flag, value]);
        run.assert_code(64)
            .assert_stderr_contains(&format!("invalid value '{value}' for '{flag} <DURATION>'"))
            .assert_stderr_contains("longer than the maximum of 24h");
        assert_eq!(
            run.stderr.lines().next().map(|l| l.contains(flag)),
            Some(true),
            "the first line names the flag\n{run}"
        );
        server.assert_connections(0);
    }
    // The maximum itself is accepted.
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--timeout",
            "24h",
            "--connect-timeout",
            "24h",
        ],
    )
    .assert_code(0);
}

#[test]
fn a_huge_retry_after_on_the_last_attempt_ends_with_the_servers_status() {
    let server = Server::start(vec![respond_with(
        503,
        &[("retry-after", HUGE_SECONDS)],
        "",
    )]);
    run_against(&server, &["--job", "rewards", "--retries", "0"]).assert_code(69);
    server.assert_requests(1);
}
