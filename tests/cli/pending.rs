//! `--pending`: a GET for the count of decisions waiting, with the key and
//! without an Idempotency-Key; `--max-pending` turns a backlog into exit 1.

use serde_json::Value;

use crate::common::{KEY, Server, assert_schema, respond, run_against};

#[test]
fn pending_gets_the_count() {
    let server = Server::start(vec![
        respond(
            200,
            r#"{"pendingRewards":42,"message":"42 decisions are ready for reward calculation"}"#,
        ),
        respond(200, r#"{"pendingCount":3}"#),
    ]);
    run_against(&server, &["--job", "all", "--pending"])
        .assert_code(0)
        .assert_stdout_is("rewards 42\noutcomes 3\n");
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.body.is_empty())
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-internal-api-key") == Some(KEY))
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("idempotency-key").is_none())
    );
}

#[test]
fn pending_over_the_limit_exits_1() {
    let server = Server::start(vec![respond(
        200,
        r#"{"pendingCount":30,"message":"30 decisions wait"}"#,
    )]);
    let run = run_against(
        &server,
        &[
            "--job",
            "outcomes",
            "--pending",
            "--max-pending",
            "10",
            "--output",
            "json",
        ],
    );
    run.assert_code(1);
    let o = &run.json()[0];
    assert_schema(o);
    // The count and the server's message are what the alarm is about.
    assert_eq!(o["pending"], 30);
    assert_eq!(o["message"], "30 decisions wait");
    assert!(
        o["error"]
            .as_str()
            .unwrap()
            .contains("30 decisions pending, more than --max-pending 10")
    );
    run_against(
        &server,
        &["--job", "outcomes", "--pending", "--max-pending", "30"],
    )
    .assert_code(0)
    .assert_stdout_is("30\n");
}

/// `n=$(ocd-cron … --pending --max-pending N)` gets the number exactly when
/// it is over N: the exit status is the alarm, stdout still the count.
#[test]
fn the_count_is_printed_over_the_limit_too() {
    let server = Server::start(vec![
        respond(
            200,
            r#"{"pendingRewards":42,"message":"42 decisions are ready"}"#,
        ),
        respond(200, r#"{"pendingRewards":42}"#),
        respond(200, r#"{"pendingCount":3}"#),
    ]);
    run_against(
        &server,
        &["--job", "rewards", "--pending", "--max-pending", "5"],
    )
    .assert_code(1)
    .assert_stdout_is("42\n")
    .assert_stderr_contains("42 decisions pending, more than --max-pending 5");
    run_against(
        &server,
        &["--job", "all", "--pending", "--max-pending", "5"],
    )
    .assert_code(1)
    .assert_stdout_is("rewards 42\noutcomes 3\n");
}

#[test]
fn the_json_record_carries_the_servers_message_within_the_limit() {
    let server = Server::start(vec![respond(
        200,
        r#"{"pendingRewards":4,"message":"4 decisions are ready"}"#,
    )]);
    let run = run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--pending",
            "--max-pending",
            "5",
            "--output",
            "json",
        ],
    );
    run.assert_code(0);
    let o = &run.json()[0];
    assert_eq!(
        (&o["pending"], &o["message"]),
        (&Value::from(4), &Value::from("4 decisions are ready"))
    );
}

#[test]
fn pending_refused_says_the_get_route_must_accept_the_key() {
    let server = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    run_against(&server, &["--job", "rewards", "--pending"])
        .assert_code(77)
        .assert_stderr_contains("GET route accepts the key");
    server.assert_requests(1);
}
