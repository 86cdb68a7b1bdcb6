//! `--ping-url` (healthchecks.io style): a start ping and a finish ping
//! carrying the exit status, tied by one rid, never carrying the key, and
//! never changing the exit status when the ping itself fails.

use std::time::Duration;

use crate::common::{
    KEY, REWARDS_OK, Request, Server, Step, closed_port, respond, respond_with, run, run_against,
};

fn query_rid(request: &Request) -> String {
    request
        .path
        .split_once("?rid=")
        .expect("a rid parameter")
        .1
        .to_owned()
}

#[test]
fn pings_bracket_the_run_with_one_rid_and_no_key() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let pings = Server::start(vec![respond(200, "OK")]);
    let ping_url = format!("{}/ping/abc-123", pings.url());
    let run = run_against(&api, &["--job", "rewards", "--ping-url", &ping_url]);
    run.assert_code(0);
    let seen = pings.assert_requests(2); // start and finish
    assert_eq!(seen[0].method, "GET");
    assert!(
        seen[0].path.starts_with("/ping/abc-123/start?rid="),
        "{}",
        seen[0].path
    );
    assert_eq!(seen[1].method, "POST");
    assert!(
        seen[1].path.starts_with("/ping/abc-123/0?rid="),
        "{}",
        seen[1].path
    );
    let rid = query_rid(&seen[0]);
    assert_eq!(query_rid(&seen[1]), rid);
    assert_eq!(
        api.requests()[0].header("idempotency-key"),
        Some(rid.as_str()),
        "the rid is the run's request id"
    );
    assert!(
        seen[1]
            .body_text()
            .contains("rewards: processed 42, errors 0"),
        "{}",
        seen[1].body_text()
    );
    assert!(
        seen.iter()
            .all(|r| r.header("x-internal-api-key").is_none()),
        "the key never goes to the ping URL"
    );
    run.assert_stderr_lacks("abc-123"); // the check id is not logged
}

#[test]
fn a_failed_job_pings_its_exit_status() {
    let api = Server::start(vec![respond(500, r#"{"error":"boom"}"#)]);
    let pings = Server::start(vec![respond(200, "OK")]);
    let ping_url = pings.url();
    run_against(
        &api,
        &[
            "--job",
            "rewards",
            "--retries",
            "0",
            "--ping-url",
            &ping_url,
        ],
    )
    .assert_code(70);
    let seen = pings.assert_requests(2);
    assert!(seen[1].path.starts_with("/70?rid="), "{}", seen[1].path);
    assert!(
        seen[1].body_text().contains("HTTP 500: boom"),
        "{}",
        seen[1].body_text()
    );
}

#[test]
fn a_configuration_error_is_pinged_when_the_ping_url_works() {
    let pings = Server::start(vec![respond(200, "OK")]);
    let ping_url = pings.url();
    run(&["--job", "rewards"], &[("OCD_CRON_PING_URL", &ping_url)]).assert_code(78);
    let seen = pings.assert_requests(1); // a finish ping only
    assert!(seen[0].path.starts_with("/78?rid="), "{}", seen[0].path);
    assert!(seen[0].body_text().contains("INTERNAL_API_KEY is not set"));
}

/// The ping of a refused configuration keeps to the configured time limit,
/// and to the default when the limit is the setting refused.
#[test]
fn a_configuration_error_is_pinged_within_the_ping_timeout() {
    let hanging = Server::start(vec![Step::Hang]);
    let ping_url = hanging.url();
    run(
        &["--job", "rewards"],
        &[
            ("OCD_CRON_PING_URL", &ping_url),
            ("OCD_CRON_PING_TIMEOUT", "1s"),
        ],
    )
    .assert_code(78)
    .assert_stderr_contains(&format!(
        "finish: no answer from {ping_url}/78 within the ping time limit (1 s); the exit status is not affected"
    ))
    .assert_lasted_at_least(Duration::from_millis(900))
    .assert_ended_within(Duration::from_secs(6));
    hanging.assert_requests(1);

    let pings = Server::start(vec![respond(200, "OK")]);
    let ping_url = pings.url();
    run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("OCD_CRON_PING_URL", &ping_url),
            ("OCD_CRON_PING_TIMEOUT", "2m"),
        ],
    )
    .assert_code(78)
    .assert_stderr_contains(
        "--ping-timeout / OCD_CRON_PING_TIMEOUT (from the environment): '2m' is longer than the maximum of 1m",
    );
    let seen = pings.assert_requests(1);
    assert!(seen[0].path.starts_with("/78?rid="), "{}", seen[0].path);
}

/// A flag over the maximum is a usage error naming it, before anything
/// is sent; the maximum itself is accepted.
#[test]
fn a_ping_timeout_over_a_minute_is_a_usage_error() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let pings = Server::start(vec![respond(200, "OK"), respond(200, "OK")]);
    let ping_url = pings.url();
    for value in ["61s", "60001ms", "0"] {
        run_against(
            &api,
            &[
                "--job",
                "rewards",
                "--ping-url",
                &ping_url,
                "--ping-timeout",
                value,
            ],
        )
        .assert_code(64)
        .assert_stderr_contains(&format!(
            "invalid value '{value}' for '--ping-timeout <DURATION>'"
        ));
    }
    api.assert_connections(0);
    pings.assert_connections(0);
    run_against(
        &api,
        &[
            "--job",
            "rewards",
            "--ping-url",
            &ping_url,
            "--ping-timeout",
            "1m",
        ],
    )
    .assert_code(0);
    pings.assert_requests(2);
}

#[test]
fn a_configuration_error_in_a_dry_run_or_check_is_not_pinged() {
    // Neither is a run of the job, so the monitor hears of neither.
    let pings = Server::start(vec![respond(200, "OK"), respond(200, "OK")]);
    let ping_url = pings.url();
    for mode in ["--dry-run", "--pending"] {
        run(
            &["--job", "rewards", mode],
            &[("OCD_CRON_PING_URL", &ping_url)],
        )
        .assert_code(78)
        .assert_stderr_contains("INTERNAL_API_KEY is not set");
    }
    pings.assert_connections(0);
}

#[test]
fn a_ping_that_fails_is_a_warning_and_changes_nothing() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let port = closed_port();
    let ping_url = format!("http://127.0.0.1:{port}");
    // A short limit: the dead monitor's retries stop at 2 s instead of
    // taking 3 s, for the start and again for the finish.
    run_against(
        &api,
        &[
            "--job",
            "rewards",
            "--ping-url",
            &ping_url,
            "--ping-timeout",
            "2s",
        ],
    )
    .assert_code(0)
    .assert_stderr_contains(&format!(
        "WARN ] ping (healthchecks, 127.0.0.1:{port}): start: cannot reach"
    ))
    .assert_stderr_contains("the exit status is not affected")
    .assert_ended_within(Duration::from_secs(9)); // pings are bounded: 2 s each
    api.assert_requests(1);

    let failing = Server::start(vec![respond(404, "no such check")]);
    let ping_url = failing.url();
    run_against(&api, &["--job", "rewards", "--ping-url", &ping_url])
        .assert_code(0)
        .assert_stderr_contains(&format!(
            "start: {ping_url}/start answered HTTP 404: no such check; check the URL against the one the monitor's page shows; the exit status is not affected"
        ));
    failing.assert_requests(2); // a 404 is not retried
    api.assert_requests(2); // the job ran both times

    // A monitor that is busy is not told to check its URL.
    let busy = Server::start(vec![respond_with(429, &[("retry-after", "0")], "")]);
    let ping_url = busy.url();
    run_against(&api, &["--job", "rewards", "--ping-url", &ping_url])
        .assert_code(0)
        .assert_stderr_contains("answered HTTP 429; the monitor asked to come back later")
        .assert_stderr_lacks("check the URL");
}
