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
