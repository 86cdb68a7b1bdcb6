//! `--dry-run`: the request that would be sent, key redacted, and nothing
//! sent; the configuration is still checked.

use crate::common::{self, REWARDS_OK, Server, assert_schema, respond, run_against};

#[test]
fn dry_run_prints_the_request_and_sends_nothing() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job", "all", "--limit", "25", "--dry-run"]);
    run.assert_code(0);
    let url = server.url();
    for needle in [
        format!("POST {url}/api/training/calculate-pending"),
        format!("POST {url}/api/training/outcomes"),
        "x-internal-api-key: (redacted)".into(),
        "content-type: application/json".into(),
        r#"{"limit":25}"#.into(),
    ] {
        run.assert_stdout_contains(&needle);
    }
    server.assert_connections(0);

    let run = run_against(
        &server,
        &["--job", "rewards", "--dry-run", "--output", "json"],
    );
    run.assert_code(0);
    let o = &run.json()[0];
    assert_schema(o);
    assert_eq!(o["mode"], "dry-run");
    assert_eq!(o["request"]["method"], "POST");
    assert_eq!(o["request"]["headers"]["x-internal-api-key"], "(redacted)");
    assert_eq!(o["request"]["body"], "{}");
    server.assert_connections(0);

    // A placeholder key is refused before anything would be sent.
    common::run(
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", "your-secret-key")],
    )
    .assert_code(78);
}

#[test]
fn a_monitor_slug_named_like_the_route_does_not_mask_the_route() {
    // healthchecks' /ping/<ping key>/<slug>: the dry run masks both where
    // they stand in the monitor's URL, but a slug of lowercase words is no
    // issued secret, and the job's own route must stay readable.
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--dry-run",
            "--ping-url",
            "https://hc-ping.com/ping/Xk2v9QwErTy7uIoPaS1dFg/calculate-pending",
        ],
    );
    run.assert_code(0);
    run.assert_stdout_contains(&format!(
        "POST {}/api/training/calculate-pending",
        server.url()
    ));
    run.assert_stdout_contains("GET https://hc-ping.com/(redacted)/(redacted)/(redacted)/start");
    assert!(
        !run.stdout.contains("Xk2v9QwErTy7uIoPaS1dFg"),
        "{}",
        run.stdout
    );
    server.assert_connections(0);
}
