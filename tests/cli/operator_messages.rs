//! What operators read: error lines that name the real cause, `-v` without
//! the HTTP library's internals, `--pending` output a script can use, and a
//! dry run that shows what a real run would send (issue 10).

use crate::common::{self, KEY, Server, respond, respond_with, run_against};

/// `common::run` under a name a `let run` cannot shadow.
fn ocd(args: &[&str], env: &[(&str, &str)]) -> common::Run {
    common::run(args, env)
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("ERROR")).collect()
}

#[test]
fn success_false_shows_the_server_message_in_the_line_and_the_json() {
    let body = r#"{"success": false, "message": "Job disabled by operator"}"#;
    let server = Server::start(vec![respond(200, body)]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(1);
    run.assert_stderr_contains("rewards: job failed: the server reported success: false: Job disabled by operator (processed n/a, errors n/a, HTTP 200)");
    let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
    run.assert_code(1);
    let object: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(object["message"], "Job disabled by operator");
    assert_eq!(object["ok"], false);
}

#[test]
fn a_405_on_the_status_get_is_a_missing_get_handler_not_a_wrong_url() {
    let server = Server::start(vec![respond_with(405, &[("allow", "POST")], "")]);
    let run = run_against(&server, &["--job", "rewards", "--pending"]);
    run.assert_code(76);
    run.assert_stderr_contains("answered HTTP 405; this deployment has no GET handler on the job's route, so --pending cannot ask it for the count");
    run.assert_stderr_lacks("--base-url");
    assert_eq!(server.requests()[0].method, "GET");
}

#[test]
fn a_redirect_to_a_sign_in_page_is_an_auth_failure() {
    let location = "/login?callbackUrl=%2Fapi%2Ftraining%2Fcalculate-pending";
    let server = Server::start(vec![respond_with(307, &[("location", location)], "")]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(77);
    assert!(
        run.stderr.contains(&format!(
            "/api/training/calculate-pending answered HTTP 307 redirecting to the sign-in page {location}: the app's authentication did not accept the API key; check that INTERNAL_API_KEY matches the server's"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1, "not followed, not retried");

    // A redirect elsewhere stays a protocol error about the address.
    let moved = Server::start(vec![respond_with(
        308,
        &[(
            "location",
            "https://app.example/api/training/calculate-pending",
        )],
        "",
    )]);
    let run = run_against(&moved, &["--job", "rewards"]);
    run.assert_code(76);
    run.assert_stderr_contains("set --base-url");
}

#[test]
fn a_503_is_worded_for_a_deploy_as_well_as_a_gateway() {
    let server = Server::start(vec![respond(503, "Service Unavailable")]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "0"]);
    run.assert_code(69);
    run.assert_stderr_contains("answered HTTP 503: Service Unavailable; the OCD app is deploying or overloaded, or the gateway in front of it cannot reach it");
}

#[test]
fn backlog_and_status_checks_are_not_called_job_failures() {
    let server = Server::start(vec![respond(200, r#"{"pendingRewards":42}"#)]);
    let run = run_against(
        &server,
        &["--job", "rewards", "--pending", "--max-pending", "10"],
    );
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("rewards: backlog check: 42 decisions pending, more than --max-pending 10"),
        "{}",
        run.stderr
    );
    run.assert_stderr_lacks("job failed");

    let server = Server::start(vec![respond(500, r#"{"error":"db down"}"#)]);
    let run = run_against(
        &server,
        &["--job", "rewards", "--pending", "--retries", "0"],
    );
    run.assert_code(70);
    run.assert_stderr_contains(
        "answered HTTP 500: db down; the status check failed on the server (no job was run)",
    );
    run.assert_stderr_lacks("job failed");
}

#[test]
fn an_unknown_issuer_is_one_error_line_that_names_ca_cert() {
    let server = Server::start_tls(vec![respond(200, common::REWARDS_OK)]);
    let url = server.localhost_url();
    let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
    let run = ocd(&["--job", "rewards"], &env);
    run.assert_code(69);
    let errors = error_lines(&run.stderr);
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("] rewards: TLS certificate problem with localhost")
            && errors[0].contains(
                "UnknownIssuer; the certificate's issuer is not trusted: for an internal CA, give its PEM bundle with --ca-cert / OCD_CRON_CA_CERT (trace "
            ),
        "{}",
        run.stderr
    );
    run.assert_stderr_lacks("failed to verify TLS certificate");

    // Asked for by name, the library's own line is there.
    let named = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", url.as_str()),
        ("RUST_LOG", "info,rustls_platform_verifier=debug"),
    ];
    let run = ocd(&["--job", "rewards"], &named);
    run.assert_code(69);
    run.assert_stderr_contains("failed to verify TLS certificate");
}

#[test]
fn verbose_shows_our_own_lines_not_the_http_library_internals() {
    let server = Server::start(vec![respond(200, common::REWARDS_OK)]);
    let run = run_against(&server, &["--job", "rewards", "-v"]);
    run.assert_code(0);
    let url = format!("{}/api/training/calculate-pending", server.url());
    assert!(
        run.stderr
            .contains(&format!("rewards: POST {url} (attempt")),
        "{}",
        run.stderr
    );
    run.assert_stderr_contains("x-internal-api-key: (redacted)");
    for internal in ["Connected TcpStream", "******", "Resolved"] {
        assert!(!run.stderr.contains(internal), "{internal}: {}", run.stderr);
    }

    // The internals are one RUST_LOG away.
    let url = server.url();
    let run = ocd(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("RUST_LOG", "debug,ureq=debug"),
        ],
    );
    run.assert_code(0);
    assert!(
        run.stderr.contains("Connected TcpStream") && run.stderr.contains("******"),
        "{}",
        run.stderr
    );
}

#[test]
fn pending_prints_a_bare_count_for_one_job_and_job_count_lines_for_all() {
    let server = Server::start(vec![
        respond(200, r#"{"pendingRewards":42}"#),
        respond(200, r#"{"pendingCount":3}"#),
    ]);
    let run = run_against(&server, &["--job", "rewards", "--pending"]);
    run.assert_code(0);
    assert_eq!(run.stdout, "42\n");
    assert!(
        run.stderr.contains("rewards: 42 pending (HTTP 200, ") && !run.stderr.contains("request"),
        "a GET sends no request id, so the line names none: {}",
        run.stderr
    );

    let server = Server::start(vec![
        respond(200, r#"{"pendingRewards":42}"#),
        respond(200, r#"{"pendingCount":3}"#),
    ]);
    let run = run_against(&server, &["--job", "all", "--pending"]);
    run.assert_code(0);
    assert_eq!(run.stdout, "rewards 42\noutcomes 3\n");
}

#[test]
fn a_dry_run_of_both_jobs_shows_one_idempotency_key_per_job() {
    let env = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", "http://127.0.0.1:9"),
    ];
    let run = ocd(&["--job", "all", "--dry-run"], &env);
    run.assert_code(0);
    // One request after the other, a blank line between them.
    assert!(
        run.stdout
            .starts_with("POST http://127.0.0.1:9/api/training/calculate-pending\n"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("\n\nPOST ").count(), 1, "{}", run.stdout);
    let keys: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("idempotency-key: "))
        .collect();
    assert_eq!(keys.len(), 2, "{}", run.stdout);
    assert_ne!(keys[0], keys[1], "{}", run.stdout);

    let run = ocd(&["--job", "all", "--dry-run", "--output", "json"], &env);
    run.assert_code(0);
    let objects: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    for o in &objects {
        assert_eq!(o["request"]["headers"]["idempotency-key"], o["request_id"]);
    }
    assert_ne!(objects[0]["request_id"], objects[1]["request_id"]);
}

/// `API_BASE_URL=http://host:3000/api` (or a whole endpoint pasted) passes
/// every check and becomes `/api/api/training/…`: the dry run says so, and
/// so does a run, even under -q, before its 404.
#[test]
fn a_base_url_holding_the_route_is_warned_about_in_the_dry_run_and_the_run() {
    let server = Server::start(vec![respond(404, "")]);
    let base = format!("{}/api", server.url());
    let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", base.as_str())];
    let warning = format!(
        "WARN ] rewards: --base-url / API_BASE_URL (from the environment) is {base}, whose path already holds /api, which ocd-cron appends itself: requests go to {base}/api/training/calculate-pending, a 404; set it to {}",
        server.url()
    );
    ocd(&["--job", "rewards", "--dry-run"], &env)
        .assert_code(0)
        .assert_stderr_contains(&warning);
    ocd(&["--job", "rewards", "-q"], &env)
        .assert_code(76)
        .assert_stderr_contains(&warning);
    let pasted = format!("{}/api/training/outcomes", server.url());
    ocd(
        &["--job", "outcomes", "--dry-run", "--base-url", &pasted],
        &[("INTERNAL_API_KEY", KEY)],
    )
    .assert_code(0)
    .assert_stderr_contains("whose path already holds /api/training/outcomes,");
}
