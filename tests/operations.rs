//! What the people who operate ocd-cron rely on: JSON results, `--job all`,
//! `--dry-run`, `--pending`, pings, metrics, and journal-friendly logs.

mod common;

use std::time::Duration;

use common::{
    KEY, REWARDS_OK, Request, Server, Step, closed_port, respond, respond_with, run, run_against,
};
use serde_json::Value;

const OUTCOMES_OK: &str = r#"{"success":true,"processed":7,"errors":0}"#;

/// The JSON objects a run printed, one per stdout line.
fn objects(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Asserts the documented schema: every field present, with its type.
fn assert_schema(object: &Value) {
    let fields = [
        "job",
        "mode",
        "ok",
        "exit_code",
        "http_status",
        "processed",
        "errors",
        "pending",
        "message",
        "error",
        "attempts",
        "duration_ms",
        "request_id",
    ];
    let map = object.as_object().expect("an object");
    for field in fields {
        assert!(map.contains_key(field), "{field} missing from {object}");
    }
    assert!(map["job"].is_string() && map["mode"].is_string() && map["ok"].is_boolean());
    assert!(map["exit_code"].is_u64() && map["attempts"].is_u64() && map["duration_ms"].is_u64());
    for nullable_number in ["http_status", "processed", "errors", "pending"] {
        assert!(
            map[nullable_number].is_null() || map[nullable_number].is_u64(),
            "{nullable_number} in {object}"
        );
    }
    for nullable_string in ["message", "error", "request_id"] {
        assert!(
            map[nullable_string].is_null() || map[nullable_string].is_string(),
            "{nullable_string} in {object}"
        );
    }
    assert_eq!(
        map["ok"].as_bool(),
        Some(map["exit_code"] == 0),
        "ok agrees with exit_code: {object}"
    );
    assert_eq!(
        map["error"].is_null(),
        map["ok"].as_bool().unwrap(),
        "error is null exactly on success: {object}"
    );
}

#[test]
fn json_on_success() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let objects = objects(&run.stdout);
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
    assert!(
        run.stderr.contains("rewards: processed 42"),
        "logs stay on stderr: {}",
        run.stderr
    );
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
        assert_eq!(run.code, i32::from(code), "{says}: {run:#?}");
        let objects = objects(&run.stdout);
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
    assert_eq!(run.code, 78, "{run:#?}");
    let objects = objects(&run.stdout);
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
    assert_eq!(run.stderr.lines().count(), 1, "logged once: {}", run.stderr);
}

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
    assert_eq!(run.code, 70, "{run:#?}");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/api/training/calculate-pending", "/api/training/outcomes"]
    );
    let objects = objects(&run.stdout);
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
fn dry_run_prints_the_request_and_sends_nothing() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job", "all", "--limit", "25", "--dry-run"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let url = server.url();
    for needle in [
        format!("POST {url}/api/training/calculate-pending"),
        format!("POST {url}/api/training/outcomes"),
        "x-internal-api-key: (redacted)".into(),
        "content-type: application/json".into(),
        r#"{"limit":25}"#.into(),
    ] {
        assert!(
            run.stdout.contains(&needle),
            "{needle} missing from\n{}",
            run.stdout
        );
    }
    assert_eq!(server.connections(), 0);

    let run = run_against(
        &server,
        &["--job", "rewards", "--dry-run", "--output", "json"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let o = &objects(&run.stdout)[0];
    assert_schema(o);
    assert_eq!(o["mode"], "dry-run");
    assert_eq!(o["request"]["method"], "POST");
    assert_eq!(o["request"]["headers"]["x-internal-api-key"], "(redacted)");
    assert_eq!(o["request"]["body"], "{}");
    assert_eq!(server.connections(), 0);

    let bad = common::run(
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", "your-secret-key")],
    );
    assert_eq!(bad.code, 78, "{bad:#?}");
}

#[test]
fn pending_gets_the_count() {
    let server = Server::start(vec![
        respond(
            200,
            r#"{"pendingRewards":42,"message":"42 decisions are ready for reward calculation"}"#,
        ),
        respond(200, r#"{"pendingCount":3}"#),
    ]);
    let run = run_against(&server, &["--job", "all", "--pending"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.stdout, "rewards 42\noutcomes 3\n");
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
    assert_eq!(run.code, 1, "{run:#?}");
    let o = &objects(&run.stdout)[0];
    assert_schema(o);
    assert_eq!(o["pending"], Value::Null);
    assert!(
        o["error"]
            .as_str()
            .unwrap()
            .contains("30 decisions pending, more than --max-pending 10")
    );
    let within = run_against(
        &server,
        &["--job", "outcomes", "--pending", "--max-pending", "30"],
    );
    assert_eq!(within.code, 0, "{within:#?}");
}

#[test]
fn pending_refused_says_the_get_route_must_accept_the_key() {
    let server = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    let run = run_against(&server, &["--job", "rewards", "--pending"]);
    assert_eq!(run.code, 77, "{run:#?}");
    assert!(
        run.stderr.contains("GET route accepts the key"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
}

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
    assert_eq!(run.code, 0, "{run:#?}");
    let seen = pings.requests();
    assert_eq!(seen.len(), 2, "start and finish");
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
    assert!(
        !run.stderr.contains("abc-123"),
        "the check id is not logged: {}",
        run.stderr
    );
}

#[test]
fn a_failed_job_pings_its_exit_status() {
    let api = Server::start(vec![respond(500, r#"{"error":"boom"}"#)]);
    let pings = Server::start(vec![respond(200, "OK")]);
    let ping_url = pings.url();
    let run = run_against(
        &api,
        &[
            "--job",
            "rewards",
            "--retries",
            "0",
            "--ping-url",
            &ping_url,
        ],
    );
    assert_eq!(run.code, 70, "{run:#?}");
    let seen = pings.requests();
    assert_eq!(seen.len(), 2);
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
    let run = run(&["--job", "rewards"], &[("OCD_CRON_PING_URL", &ping_url)]);
    assert_eq!(run.code, 78, "{run:#?}");
    let seen = pings.requests();
    assert_eq!(seen.len(), 1, "a finish ping only");
    assert!(seen[0].path.starts_with("/78?rid="), "{}", seen[0].path);
    assert!(seen[0].body_text().contains("INTERNAL_API_KEY is not set"));
}

#[test]
fn a_ping_that_fails_is_a_warning_and_changes_nothing() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let port = closed_port();
    let ping_url = format!("http://127.0.0.1:{port}");
    let run = run_against(&api, &["--job", "rewards", "--ping-url", &ping_url]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains(&format!(
            "WARN ] ping (healthchecks, 127.0.0.1:{port}): start: cannot reach"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the exit status is not affected"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(25),
        "pings are bounded: {:?}",
        run.elapsed
    );
    assert_eq!(api.requests().len(), 1);

    let failing = Server::start(vec![respond(404, "no such check")]);
    let ping_url = failing.url();
    let run = run_against(&api, &["--job", "rewards", "--ping-url", &ping_url]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(failing.requests().len(), 2, "a 404 is not retried");
}

#[test]
fn metrics_file_is_written_per_job() {
    let server = Server::start(vec![
        respond(200, REWARDS_OK),
        respond(200, OUTCOMES_OK),
        respond(502, ""),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd_cron.prom");
    let path = metrics.to_str().unwrap();
    let run = run_against(&server, &["--job", "all", "--metrics-file", path]);
    assert_eq!(run.code, 0, "{run:#?}");
    let first = std::fs::read_to_string(&metrics).unwrap();
    for line in [
        "ocd_cron_last_exit_code{job=\"rewards\"} 0",
        "ocd_cron_last_exit_code{job=\"outcomes\"} 0",
        "ocd_cron_last_processed{job=\"rewards\"} 42",
        "ocd_cron_last_processed{job=\"outcomes\"} 7",
        "ocd_cron_last_item_errors{job=\"rewards\"} 0",
        "# TYPE ocd_cron_last_success_timestamp_seconds gauge",
    ] {
        assert!(
            first.lines().any(|l| l == line),
            "{line} missing from\n{first}"
        );
    }
    let success_line = |text: &str, job: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "ocd_cron_last_success_timestamp_seconds{{job=\"{job}\"}}"
                ))
            })
            .unwrap()
            .to_owned()
    };
    // A failed rewards run replaces only its own series and keeps its last success.
    let run = run_against(
        &server,
        &["--job", "rewards", "--retries", "0", "--metrics-file", path],
    );
    assert_eq!(run.code, 69, "{run:#?}");
    let second = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        second.contains("ocd_cron_last_exit_code{job=\"rewards\"} 69\n"),
        "{second}"
    );
    assert!(
        second.contains("ocd_cron_last_processed{job=\"rewards\"} NaN\n"),
        "{second}"
    );
    assert_eq!(
        success_line(&second, "rewards"),
        success_line(&first, "rewards")
    );
    assert!(
        second.contains("ocd_cron_last_exit_code{job=\"outcomes\"} 0\n"),
        "{second}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn metrics_directory_must_exist() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--metrics-file",
            "/nonexistent-dir/ocd.prom",
        ],
    );
    assert_eq!(run.code, 78, "{run:#?}");
    assert!(
        run.stderr.contains("the directory does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn under_systemd_lines_carry_syslog_priorities_and_no_timestamps() {
    use std::os::unix::fs::MetadataExt;
    let server = Server::start(vec![
        respond_with(500, &[("retry-after", "0")], "{}"),
        respond(200, REWARDS_OK),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("journal");
    let log = std::fs::File::create(&log_path).unwrap();
    let meta = log.metadata().unwrap();
    let journal = format!("{}:{}", meta.dev(), meta.ino());
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args(["--job", "rewards", "--retries", "1"])
        .env_clear()
        .env("INTERNAL_API_KEY", KEY)
        .env("API_BASE_URL", server.url())
        .env("JOURNAL_STREAM", &journal)
        .current_dir(dir.path())
        .stderr(log)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() == 2, "{text}");
    assert!(
        lines[0].starts_with("<4>rewards: attempt 1/2 failed"),
        "{text}"
    );
    assert!(lines[1].starts_with("<6>rewards: processed 42"), "{text}");
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "no timestamps: {text}"
    );

    // The same stream without JOURNAL_STREAM (or with another stream's
    // identity) gets ordinary timestamped lines.
    let other = std::process::Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args(["--job", "rewards", "--dry-run"])
        .env_clear()
        .env("INTERNAL_API_KEY", KEY)
        .env("JOURNAL_STREAM", "1:1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.starts_with('[') && stderr.contains("Z INFO ] rewards: dry run"),
        "{stderr}"
    );
}

#[test]
fn a_job_left_no_time_by_the_one_before_reports_no_attempt() {
    let server = Server::start(vec![Step::Hang]);
    let run = run_against(
        &server,
        &["--job", "all", "--timeout", "1s", "--output", "json"],
    );
    assert_eq!(run.code, 75, "{run:#?}");
    let objects = objects(&run.stdout);
    assert_eq!(objects.len(), 2, "both jobs are reported");
    for o in &objects {
        assert_schema(o);
        assert_eq!(o["exit_code"], 75);
    }
    assert_eq!(objects[0]["attempts"], 1);
    assert!(objects[0]["request_id"].is_string());
    assert_eq!(objects[1]["job"], "outcomes");
    assert_eq!(
        objects[1]["attempts"], 0,
        "the deadline had passed: nothing was sent"
    );
    assert!(objects[1]["request_id"].is_null());
    assert_eq!(server.requests().len(), 1);
}
