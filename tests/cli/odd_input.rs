//! Odd but legal input, read as the standards mean it: numbers at the edge
//! of JSON's format, interim responses with header fields, deep JSON the
//! contract does not read, settings that are not UTF-8, URLs with
//! non-ASCII paths or zone ids.

use crate::common::{Server, respond, run_against};

#[test]
fn a_count_that_is_not_a_whole_number_is_refused_however_it_is_written() {
    for count in [
        "1e-400",
        "5E-324",
        "0.1e-300",
        "1.0000000000000000001",
        "-1e-400",
        "1e20",
    ] {
        let body = format!(r#"{{"success":true,"processed":3,"errors":{count}}}"#);
        let server = Server::start(vec![respond(200, &body)]);
        run_against(&server, &["--job", "rewards"])
            .assert_code(76)
            .assert_stderr_contains(&format!(r#"with "errors": {count}, which is not a count"#));
        let body = format!(r#"{{"pendingRewards":{count}}}"#);
        let server = Server::start(vec![respond(200, &body)]);
        run_against(&server, &["--job", "rewards", "--pending"]).assert_code(76);
    }
}

#[test]
fn a_whole_number_is_a_count_however_it_is_written() {
    for (count, shown) in [("3e0", 3), ("0.3e1", 3), ("30E-1", 3), ("-0", 0)] {
        let body = format!(r#"{{"pendingCount":{count}}}"#);
        let server = Server::start(vec![respond(200, &body)]);
        run_against(&server, &["--job", "outcomes", "--pending"])
            .assert_code(0)
            .assert_stdout_is(&format!("{shown}\n"));
    }
}

#[test]
fn fields_the_contract_does_not_read_may_nest_deeply() {
    let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for depth in [129, 300, 900] {
        let body = format!(
            r#"{{"success":true,"debug":{{"trace":{}}},"processed":5,"errors":0}}"#,
            deep(depth)
        );
        assert!(body.len() < 2048);
        let server = Server::start(vec![respond(200, &body)]);
        run_against(&server, &["--job", "rewards"])
            .assert_code(0)
            .assert_stderr_contains("processed 5, errors 0");
    }
}

/// `100 Continue` with header fields, then the answer, as some servers and
/// proxies send it: skipped, as curl and Python skip it (RFC 9110 §15.2).
#[test]
fn interim_responses_with_header_fields_are_skipped() {
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        crate::common::REWARDS_OK.len(),
        crate::common::REWARDS_OK
    );
    let interims: [&[&str]; 6] = [
        &["HTTP/1.1 100 Continue\r\nServer: x\r\n\r\n"],
        &["HTTP/1.1 100 Continue\r\nDate: Thu, 03 Dec 2026 10:00:00 GMT\r\nVia: 1.1 proxy\r\n\r\n"],
        &[
            "HTTP/1.1 100\r\nServer: x\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\n",
        ],
        &[
            "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
            "HTTP/1.1 100 Continue\r\nServer: x\r\n\r\n",
        ],
        // Arriving in pieces, the head cut inside its fields.
        &["HTTP/1.1 10", "0 Continue\r\nSer", "ver: x\r\n", "\r\n"],
        &["HTTP/1.1 100 Continue\nServer: x\n\n"],
    ];
    for interim in interims {
        let mut pieces: Vec<Vec<u8>> = interim.iter().map(|p| p.as_bytes().to_vec()).collect();
        pieces.push(answer.clone().into_bytes());
        let server = Server::start(vec![crate::common::Step::Raw(pieces)]);
        run_against(&server, &["--job", "rewards"])
            .assert_code(0)
            .assert_stderr_contains("processed 42, errors 0 (HTTP 200");
        server.assert_requests(1);
    }
    // Over TLS too (the filter sits above it).
    let mut pieces = vec![b"HTTP/1.1 100 Continue\r\nServer: x\r\n\r\n".to_vec()];
    pieces.push(answer.into_bytes());
    let server = Server::start_tls(vec![crate::common::Step::Raw(pieces)]);
    let url = server.localhost_url();
    let ca = crate::common::test_ca();
    crate::common::run(
        &["--job", "rewards", "--base-url", &url, "--ca-cert", &ca],
        &[("INTERNAL_API_KEY", crate::common::KEY)],
    )
    .assert_code(0);
}

#[test]
fn a_final_answer_that_only_looks_interim_is_still_refused() {
    for raw in [
        "HTTP/1.1 100 Continue\r\nServer: x\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        "HTTP/1.1 1000 What\r\n\r\n",
    ] {
        let server = Server::start(vec![crate::common::Step::Raw(vec![
            raw.as_bytes().to_vec(),
        ])]);
        let run = run_against(&server, &["--job", "rewards", "--retries", "0"]);
        assert_ne!(run.code, 0, "{run}");
    }
}
