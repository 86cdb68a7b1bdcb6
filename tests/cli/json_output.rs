//! `--output json`: one object per job on stdout, in the documented schema,
//! for a success, for every failure class, and for a configuration error.

use crate::common::{
    REWARDS_OK, Server, Step, assert_schema, respond, respond_with, run, run_against,
};

#[test]
fn json_on_success() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
    run.assert_code(0);
    let objects = run.json();
    assert_eq!(objects.len(), 1);
    let o = &objects[0];
    assert_schema(o);
    assert_eq!(o["job"], "rewards");
    assert_eq!(o["mode"], "run");
    assert_eq!(o["http_status"], 200);
    assert_eq!(o["processed"], 42);
    assert_eq!(o["errors"], 0);
    assert_eq!(o["message"], "Processed 42 decisions, 0 errors");
    assert_eq!(o["attempts"], 1);
    assert_eq!(
        o["request_id"].as_str(),
        server.requests()[0].header("idempotency-key")
    );
    run.assert_stderr_contains("rewards: processed 42"); // logs stay on stderr
}

#[test]
fn json_for_every_failure_class() {
    // (what the server does, extra flags, exit status, HTTP status seen, error text)
    type Case = (Step, &'static [&'static str], u8, Option<u64>, &'static str);
    let cases: Vec<Case> = vec![
        (
            respond(200, r#"{"success":false,"processed":1,"errors":4}"#),
            &[],
            1,
            Some(200),
            "success: false",
        ),
        (
            respond_with(502, &[("retry-after", "0")], "bad gateway"),
            &["--retries", "1"],
            69,
            Some(502),
            "HTTP 502",
        ),
        (
            respond(500, r#"{"error":"boom"}"#),
            &["--retries", "0"],
            70,
            Some(500),
            "HTTP 500: boom",
        ),
        (
            respond(429, ""),
            &["--retries", "0"],
            75,
            Some(429),
            "HTTP 429",
        ),
        (Step::Hang, &["--timeout", "1s"], 75, None, "deadline"),
        (respond(404, "nope"), &[], 76, Some(404), "HTTP 404"),
        (
            respond(401, r#"{"error":"Unauthorized"}"#),
            &[],
            77,
            Some(401),
            "API key was refused",
        ),
    ];
    for (step, extra, code, status, says) in cases {
        let server = Server::start(vec![step]);
        let mut args = vec!["--job", "outcomes", "--output", "json"];
        args.extend_from_slice(extra);
        let run = run_against(&server, &args);
        run.assert_code(i32::from(code));
        let objects = run.json();
        assert_eq!(objects.len(), 1, "{says}: {}", run.stdout);
        let o = &objects[0];
        assert_schema(o);
        assert_eq!(o["exit_code"], code);
        assert_eq!(o["http_status"].as_u64(), status, "{says}");
        assert!(o["error"].as_str().unwrap().contains(says), "{says}: {o}");
        assert!(o["request_id"].is_string());
        assert_eq!(
            o["attempts"].as_u64(),
            Some(server.requests().len() as u64),
            "{says}"
        );
    }
}

#[test]
fn json_for_a_configuration_error_covers_every_selected_job() {
    let run = run(
        &["--job", "all", "--output", "json"],
        &[("API_BASE_URL", "http://127.0.0.1:1")],
    );
    run.assert_code(78);
    let objects = run.json();
    assert_eq!(objects.len(), 2);
    for (o, job) in objects.iter().zip(["rewards", "outcomes"]) {
        assert_schema(o);
        assert_eq!(o["job"], job);
        assert_eq!(o["exit_code"], 78);
        assert_eq!(o["attempts"], 0);
        assert!(o["request_id"].is_null());
        assert!(
            o["error"]
                .as_str()
                .unwrap()
                .contains("INTERNAL_API_KEY is not set")
        );
    }
    run.assert_stderr_lines(1); // logged once
}
