//! `--job all`: both jobs, in order, each with its own request, under one
//! deadline; the exit status is the first failure's.

use crate::common::{OUTCOMES_OK, Server, Step, assert_schema, respond, run_against};

#[test]
fn job_all_runs_both_and_reports_the_first_failure() {
    let server = Server::start(vec![
        respond(500, r#"{"error":"db down"}"#),
        respond(200, OUTCOMES_OK),
    ]);
    let run = run_against(
        &server,
        &["--job", "all", "--retries", "0", "--output", "json"],
    );
    run.assert_code(70);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/api/training/calculate-pending", "/api/training/outcomes"]
    );
    let objects = run.json();
    assert_eq!(objects.len(), 2);
    assert_eq!(
        (objects[0]["job"].as_str(), objects[0]["exit_code"].as_u64()),
        (Some("rewards"), Some(70))
    );
    assert_eq!(
        (objects[1]["job"].as_str(), objects[1]["exit_code"].as_u64()),
        (Some("outcomes"), Some(0))
    );
    let keys: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_ne!(keys[0], keys[1], "each job's request has its own key");
}

#[test]
fn a_job_left_no_time_by_the_one_before_reports_no_attempt() {
    let server = Server::start(vec![Step::Hang]);
    let run = run_against(
        &server,
        &["--job", "all", "--timeout", "1s", "--output", "json"],
    );
    run.assert_code(75);
    let objects = run.json();
    assert_eq!(objects.len(), 2, "both jobs are reported");
    for o in &objects {
        assert_schema(o);
        assert_eq!(o["exit_code"], 75);
    }
    assert_eq!(objects[0]["attempts"], 1);
    assert!(objects[0]["request_id"].is_string());
    assert!(objects[0]["trace_id"].is_string());
    assert_eq!(objects[1]["job"], "outcomes");
    assert_eq!(
        objects[1]["attempts"], 0,
        "the deadline had passed: nothing was sent"
    );
    assert!(objects[1]["request_id"].is_null());
    assert!(objects[1]["trace_id"].is_null(), "no trace was sent");
    server.assert_requests(1);
}
