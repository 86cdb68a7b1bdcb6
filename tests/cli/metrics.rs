//! `--metrics-file`: a Prometheus textfile with each job's series, replaced
//! atomically and per job.

use crate::common::{OUTCOMES_OK, REWARDS_OK, Server, respond, run_against};

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
    run_against(&server, &["--job", "all", "--metrics-file", path]).assert_code(0);
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
    run_against(
        &server,
        &["--job", "rewards", "--retries", "0", "--metrics-file", path],
    )
    .assert_code(69);
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
    run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--metrics-file",
            "/nonexistent-dir/ocd.prom",
        ],
    )
    .assert_code(78)
    .assert_stderr_contains("the directory does not exist");
    server.assert_connections(0);
}

#[test]
fn a_pending_check_writes_no_metrics() {
    // A health check is not a run of the job: its series stay as they were.
    let server = Server::start(vec![respond(200, r#"{"pendingRewards":3}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd_cron.prom");
    run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--pending",
            "--metrics-file",
            metrics.to_str().unwrap(),
        ],
    )
    .assert_code(0);
    server.assert_connections(1);
    assert!(!metrics.exists(), "a metrics file was written");
}
