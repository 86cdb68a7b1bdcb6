//! `--log-format json`: every line on stderr is one JSON object, whatever
//! ends the run: one case per exit status of the README's table.

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{
    KEY, REWARDS_OK, Run, Server, Step, closed_port, respond, respond_with, run, spawn_in,
};

/// Parses every stderr line and checks the fields every line has: `time`
/// (RFC 3339, UTC, milliseconds), `level`, `job` and `message`.
#[track_caller]
fn json_lines(stderr: &str) -> Vec<Value> {
    assert!(!stderr.is_empty(), "no log lines");
    stderr
        .lines()
        .map(|line| {
            let object: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}\n{stderr}"));
            let time = object["time"].as_str().unwrap_or_default();
            let b = time.as_bytes();
            assert!(
                b.len() == 24 && b[10] == b'T' && b[19] == b'.' && time.ends_with('Z'),
                "time {time:?}: {line}"
            );
            assert!(
                ["error", "warn", "info", "debug", "trace"]
                    .contains(&object["level"].as_str().unwrap_or_default()),
                "{line}"
            );
            assert!(
                object["job"].is_string() || object["job"].is_null(),
                "{line}"
            );
            assert!(object["message"].is_string(), "{line}");
            object
        })
        .collect()
}

/// The last line, which says how the run ended, with its exit status.
#[track_caller]
fn assert_ends_with(run: &Run, code: i32) -> Vec<Value> {
    run.assert_code(code);
    let lines = json_lines(&run.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["exit_status"], code, "{run}");
    lines
}

fn env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("INTERNAL_API_KEY", KEY.to_owned()),
        ("API_BASE_URL", url.to_owned()),
    ]
}

fn json_run(url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--job", "rewards", "--log-format", "json"];
    args.extend_from_slice(extra);
    let env = env(url);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    run(&args, &env)
}

#[test]
fn every_line_is_json_for_every_exit_status_the_server_decides() {
    let cases: Vec<(Step, &[&str], i32)> = vec![
        (respond(200, REWARDS_OK), &["-v"], 0),
        (
            respond(200, r#"{"success":false,"error":"lock held"}"#),
            &[],
            1,
        ),
        (
            respond_with(502, &[("retry-after", "0")], "<html>bad gateway</html>"),
            &["--retries", "1"],
            69,
        ),
        (
            respond(500, r#"{"error":"boom","details":"db down"}"#),
            &["--retries", "0"],
            70,
        ),
        (respond(429, ""), &["--retries", "0"], 75),
        (respond(404, "<html>not found</html>"), &[], 76),
        (respond(401, r#"{"error":"Unauthorized"}"#), &[], 77),
    ];
    for (step, extra, code) in cases {
        let server = Server::start(vec![step]);
        let run = json_run(&server.url(), extra);
        let lines = assert_ends_with(&run, code);
        let last = lines.last().unwrap();
        let request = &server.requests()[0];
        assert_eq!(last["job"], "rewards");
        assert!(
            !last["message"].as_str().unwrap().starts_with("rewards:"),
            "{run}"
        );
        assert_eq!(
            last["request_id"].as_str(),
            request.header("idempotency-key")
        );
        assert_eq!(last["http_status"], request_status(code), "{run}");
        assert!(
            last["duration_ms"].is_u64() && last["attempt"].is_u64(),
            "{run}"
        );
        let traceparent = request.header("traceparent").unwrap();
        assert_eq!(last["trace_id"].as_str(), Some(&traceparent[3..35]));
        assert_eq!(last["level"], if code == 0 { "info" } else { "error" });
    }
}

/// The status the server answered in each case above.
fn request_status(code: i32) -> u16 {
    match code {
        0 | 1 => 200,
        69 => 502,
        70 => 500,
        75 => 429,
        76 => 404,
        _ => 401,
    }
}

#[test]
fn every_line_is_json_when_nothing_answers_or_the_configuration_is_wrong() {
    let closed = closed_port();
    let run69 = json_run(&format!("http://127.0.0.1:{closed}"), &["--retries", "1"]);
    let lines = assert_ends_with(&run69, 69);
    assert_eq!(lines[0]["level"], "info", "the retry: {run69}");
    assert_eq!(
        (&lines[0]["attempt"], &lines[0]["max_attempts"]),
        (&1.into(), &2.into())
    );
    assert!(lines.last().unwrap()["http_status"].is_null());

    // Configuration errors (78): a missing key, a bad variable.
    let run78 = run(&["--job", "all", "--log-format", "json"], &[]);
    let lines = assert_ends_with(&run78, 78);
    assert_eq!(lines.last().unwrap()["job"], "all");
    assert!(
        lines.last().unwrap()["message"]
            .as_str()
            .unwrap()
            .starts_with("configuration: ")
    );
    let bad = run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("OCD_CRON_LOG_FORMAT", "json"),
            ("OCD_CRON_JITTER", "x"),
        ],
    );
    assert_ends_with(&bad, 78);
}

#[test]
fn usage_errors_are_json_however_json_was_asked_for() {
    for (args, variable) in [
        (
            vec!["--job", "rewards", "--log-format", "json", "--bogus"],
            None,
        ),
        (vec!["--log-format=json", "--job", "everything"], None),
        (vec!["--job", "rewards", "--timeout", "1.5s"], Some("json")),
        (vec!["--log-format", "json"], None),
    ] {
        let mut env = vec![("INTERNAL_API_KEY", KEY)];
        if let Some(value) = variable {
            env.push(("OCD_CRON_LOG_FORMAT", value));
        }
        let run = run(&args, &env);
        let lines = assert_ends_with(&run, 64);
        assert_eq!(lines.len(), 1, "{run}");
        assert!(lines[0]["job"].is_null());
        assert!(
            !lines[0]["message"].as_str().unwrap().starts_with("error:"),
            "{run}"
        );
    }
    // The flag beats the variable, both ways; text stays clap's own.
    let text = run(
        &["--job", "rewards", "--log-format", "text", "--bogus"],
        &[("OCD_CRON_LOG_FORMAT", "json")],
    );
    text.assert_code(64)
        .assert_stderr_contains("error: unexpected argument '--bogus'");
    // The variable alone decides too, text as well as json.
    run(
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", KEY), ("OCD_CRON_LOG_FORMAT", "text")],
    )
    .assert_code(0)
    .assert_stderr_contains(" INFO ] rewards: dry run");
    let json = run(
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", KEY), ("OCD_CRON_LOG_FORMAT", "json")],
    );
    let lines = json_lines(&json.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "dry run, nothing sent"),
        "{lines:?}"
    );
    // A variable that names no format is a configuration error, in text.
    run(
        &["--job", "rewards"],
        &[("INTERNAL_API_KEY", KEY), ("OCD_CRON_LOG_FORMAT", "xml")],
    )
    .assert_code(78)
    .assert_stderr_contains(
        "rewards: configuration: OCD_CRON_LOG_FORMAT 'xml' is neither text nor json",
    );
}

#[test]
fn every_line_is_json_when_stdout_is_full() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let full = File::options().write(true).open("/dev/full").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args([
            "--job",
            "rewards",
            "--output",
            "json",
            "--log-format",
            "json",
        ])
        .env_clear()
        .env("INTERNAL_API_KEY", KEY)
        .env("API_BASE_URL", server.url())
        .current_dir(dir.path())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    crate::common::assert_sound(&output, "stdout on /dev/full");
    assert_eq!(output.status.code(), Some(74));
    let lines = json_lines(&String::from_utf8_lossy(&output.stderr));
    assert!(
        lines.last().unwrap()["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot write to stdout")
    );
}

#[test]
fn every_line_is_json_when_a_signal_stops_the_run() {
    let server = Server::start(vec![Step::Hang]);
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let before = server.requests().len();
        let running = spawn_in(
            dir.path(),
            &[
                "--job",
                "rewards",
                "--log-format",
                "json",
                "--timeout",
                "60s",
            ],
            &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
        );
        server.wait_for_requests(before + 1, Duration::from_secs(20));
        running.signal(signal);
        let run = running.finish();
        let lines = assert_ends_with(&run, code);
        assert!(
            lines.last().unwrap()["message"]
                .as_str()
                .unwrap()
                .starts_with("interrupted by SIG"),
            "{run}"
        );
    }
}

#[test]
fn library_lines_are_json_with_their_module_and_never_show_the_key() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let url = server.url();
    let run = run(
        &["--job", "rewards", "--log-format", "json"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("RUST_LOG", "debug,ureq=debug"),
        ],
    );
    let lines = assert_ends_with(&run, 0);
    let library: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"].as_str().is_some_and(|t| t.starts_with("ureq")))
        .collect();
    assert!(!library.is_empty(), "{run}");
    // Our own lines carry no target.
    assert!(
        lines
            .iter()
            .any(|l| l["target"].is_null() && l["level"] == "debug"),
        "{run}"
    );
}

#[test]
fn under_the_journal_json_lines_keep_their_priority_prefix() {
    use std::os::unix::fs::MetadataExt;
    let server = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let log = File::create(&path).unwrap();
    let meta = log.metadata().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args(["--job", "rewards", "--log-format", "json"])
        .env_clear()
        .env("INTERNAL_API_KEY", KEY)
        .env("API_BASE_URL", server.url())
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .current_dir(dir.path())
        .stderr(log)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(77));
    let text = std::fs::read_to_string(&path).unwrap();
    let object = text.strip_prefix("<3>").unwrap_or_else(|| panic!("{text}"));
    let lines = json_lines(object);
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["exit_status"], 77);
}
