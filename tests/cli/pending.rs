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
    let server = Server::start(vec![respond(200, r#"{"pendingCount":30}"#)]);
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
    assert_eq!(o["pending"], Value::Null);
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
    .assert_code(0);
}

#[test]
fn pending_refused_says_the_get_route_must_accept_the_key() {
    let server = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    run_against(&server, &["--job", "rewards", "--pending"])
        .assert_code(77)
        .assert_stderr_contains("GET route accepts the key");
    server.assert_requests(1);
}
