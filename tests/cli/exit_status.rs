//! One test (at least) per row of the exit-status table: the exact code,
//! the message, and what the server saw.

use std::time::Duration;

use crate::common::{KEY, Server, Step, closed_port, respond, respond_with, run, run_against};

#[test]
fn ok_0_when_the_job_ran() {
    let server = Server::start(vec![respond(
        200,
        r#"{"success":true,"processed":3,"errors":0}"#,
    )]);
    run_against(&server, &["--job", "rewards"]).assert_code(0);
    server.assert_requests(1);
}

#[test]
fn job_failed_1_on_success_false() {
    let server = Server::start(vec![respond(
        200,
        r#"{"success":false,"processed":0,"errors":0,"error":"lock held"}"#,
    )]);
    run_against(&server, &["--job", "rewards"])
        .assert_code(1)
        .assert_stderr_contains("the server reported success: false: lock held");
    server.assert_requests(1); // a completed run is not retried
}

#[test]
fn job_failed_1_on_item_errors_above_the_limit_and_0_within_it() {
    let body = r#"{"success":true,"processed":7,"errors":2}"#;
    let server = Server::start(vec![respond(200, body)]);
    run_against(&server, &["--job", "outcomes"])
        .assert_code(1)
        .assert_stderr_contains("2 decisions failed inside the run, more than --max-item-errors 0");
    run_against(&server, &["--job", "outcomes", "--max-item-errors", "2"]).assert_code(0);
    server.assert_requests(2);
}

#[test]
fn usage_64_sends_nothing() {
    let server = Server::start(vec![respond(200, "{}")]);
    for (args, says) in [
        (vec!["--job", "rewards", "--bogus"], "--bogus"),
        (vec![], "--job"),
        (vec!["--job", "everything"], "everything"),
        (vec!["--job", "rewards", "--limit", "0"], "--limit"),
        (
            vec!["--job", "rewards", "--pending", "--limit", "5"],
            "'--pending' cannot be used with '--limit <N>'",
        ),
        (
            vec!["--job", "rewards", "--timeout", "1.5s"],
            "use a smaller unit",
        ),
        (
            vec!["--job", "rewards", "--timeout", "soon"],
            "not a duration",
        ),
        (vec!["--job", "rewards", "--timeout", "0"], "zero"),
        (vec!["--job", "rewards", "-q", "-v"], "cannot be used with"),
    ] {
        run_against(&server, &args)
            .assert_code(64)
            .assert_stderr_contains(says);
    }
    server.assert_connections(0);
}

#[test]
fn unavailable_69_when_nothing_listens() {
    let closed = closed_port();
    // Over https too: a refused connection is not a TLS failure.
    for scheme in ["http", "https"] {
        let url = format!("{scheme}://127.0.0.1:{closed}");
        run(
            &["--job", "rewards", "--retries", "1"],
            &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
        )
        .assert_code(69)
        .assert_stderr_contains(&format!(
            "cannot reach {url}/api/training/calculate-pending: connection refused"
        ))
        .assert_stderr_lacks("TLS")
        .assert_stderr_contains("attempt 1/2 failed"); // one retry
    }
}

#[test]
fn unavailable_69_on_a_gateway_error_after_retries() {
    let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
    let server = Server::start(vec![respond_with(
        502,
        &[("content-type", "text/html"), ("retry-after", "0")],
        nginx,
    )]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "2"]);
    run.assert_code(69);
    server.assert_requests(3);
    run.assert_stderr_contains("answered HTTP 502: 502 Bad Gateway; the gateway");
}

#[test]
fn server_error_70_after_retries() {
    let server = Server::start(vec![respond_with(
        500,
        &[("retry-after", "0")],
        r#"{"error":"Failed to calculate pending rewards","details":"Error: connect ECONNREFUSED 127.0.0.1:5432"}"#,
    )]);
    let run = run_against(&server, &["--job", "rewards", "--retries", "1"]);
    run.assert_code(70);
    server.assert_requests(2);
    run.assert_stderr_contains(
        "HTTP 500: Failed to calculate pending rewards (Error: connect ECONNREFUSED 127.0.0.1:5432)",
    );
}

#[test]
fn temporary_75_when_the_server_never_answers() {
    let server = Server::start(vec![Step::Hang]);
    let run = run_against(&server, &["--job", "rewards", "--timeout", "1s"]);
    run.assert_code(75)
        .assert_stderr_contains("within the 1 s deadline (--timeout)");
    server.assert_requests(1);
    run.assert_ended_within(Duration::from_secs(10)); // ended at the deadline
}

#[test]
fn temporary_75_on_rate_limit_after_retries() {
    let server = Server::start(vec![respond_with(429, &[("retry-after", "0")], "")]);
    run_against(&server, &["--job", "outcomes", "--retries", "1"]).assert_code(75);
    server.assert_requests(2);
}

#[test]
fn protocol_76_on_not_found_without_retry() {
    let server = Server::start(vec![respond(
        404,
        "<!DOCTYPE html><html><body>This page could not be found.</body></html>",
    )]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(76);
    server.assert_requests(1);
    run.assert_stderr_contains("HTTP 404: This page could not be found.; check --base-url");
}

#[test]
fn protocol_76_on_a_2xx_that_is_not_json() {
    let server = Server::start(vec![respond(200, "<html>welcome</html>")]);
    run_against(&server, &["--job", "rewards"])
        .assert_code(76)
        .assert_stderr_contains("a body that is not a JSON object");
}

#[test]
fn auth_77_on_401_without_retry() {
    let server = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(77);
    server.assert_requests(1);
    run.assert_stderr_contains(
        "HTTP 401: Unauthorized: the API key was refused; check that INTERNAL_API_KEY matches",
    );
}

#[test]
fn an_oversized_error_page_keeps_its_status() {
    // Over the body limit, an error page is dropped but its status stands:
    // a refused key is still 77, not a protocol error about the size.
    let page = "x".repeat(2 * 1024 * 1024);
    let server = Server::start(vec![respond(401, &page)]);
    run_against(&server, &["--job", "rewards"])
        .assert_code(77)
        .assert_stderr_contains("HTTP 401")
        .assert_stderr_lacks("a body over 1 MiB");
}

#[test]
fn auth_77_on_403() {
    let server = Server::start(vec![respond(403, "")]);
    run_against(&server, &["--job", "rewards"]).assert_code(77);
}

#[test]
fn config_78_sends_nothing() {
    let server = Server::start(vec![respond(200, "{}")]);
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.env");
    let missing = missing.to_str().unwrap();
    for (env, args, says) in [
        (
            vec![("API_BASE_URL", url.as_str())],
            vec![],
            "INTERNAL_API_KEY is not set",
        ),
        (
            vec![("API_BASE_URL", &url), ("INTERNAL_API_KEY", "")],
            vec![],
            "is empty",
        ),
        (
            vec![
                ("API_BASE_URL", &url),
                ("INTERNAL_API_KEY", "a\r\nx-evil: 1"),
            ],
            vec![],
            "not visible ASCII",
        ),
        (
            vec![
                ("API_BASE_URL", &url),
                ("INTERNAL_API_KEY", "your-secret-api-key-here"),
            ],
            vec![],
            "placeholder",
        ),
        (
            vec![
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", "localhost:3000"),
            ],
            vec![],
            "API_BASE_URL (from the environment) is not an absolute URL",
        ),
        (
            vec![("INTERNAL_API_KEY", KEY)],
            vec!["--base-url", "http://user:pw@127.0.0.1:1"],
            "credentials",
        ),
        (
            vec![("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
            vec!["--env-file", missing],
            "missing.env cannot be read",
        ),
        (
            vec![
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", &url),
                ("http_proxy", "http://[bad"),
            ],
            vec![],
            "http_proxy is not a valid proxy URL",
        ),
    ] {
        let mut argv = vec!["--job", "rewards"];
        argv.extend(args.iter().copied());
        let run = run(&argv, &env);
        assert_eq!(run.code, 78, "{env:?} {args:?}: {run:#?}");
        run.assert_stderr_contains(says).assert_stderr_lines(1);
    }
    server.assert_connections(0); // nothing is sent with a bad config
}

#[test]
fn config_78_on_an_env_file_whose_expansion_never_ends_names_the_line_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.env");
    std::fs::write(
        &file,
        format!("API_BASE_URL=http://127.0.0.1:1\nINTERNAL_API_KEY=\"{KEY}$INTERNAL_API_KEY\"\n"),
    )
    .unwrap();
    run(
        &["--job", "rewards", "--env-file", file.to_str().unwrap()],
        &[],
    )
    .assert_code(78)
    .assert_stderr_contains("bad.env line 2: the $ expansion of INTERNAL_API_KEY never ends");
}
