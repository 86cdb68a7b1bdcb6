//! Many runners of one schedule: `--jitter` spreads their requests over a
//! window, and the slot key (`--slot-period`, `OCD_CRON_SCHEDULED_TIME`)
//! makes every runner of one scheduled run send the same
//! `Idempotency-Key`.
//!
//! No assertion here depends on how fast the machine is: a run's request
//! can arrive late on a busy machine, never early, so the tests check the
//! delays each run reports (`jitter_ms` in its JSON log line) and that the
//! server received no request before its run's delay had passed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::common::{KEY, REWARDS_OK, Server, respond, respond_with, run, run_against, spawn_in};

/// The jitter window of the fleet tests: long enough to tell runs apart,
/// short enough for the suite.
const WINDOW_MS: u64 = 2000;
const HOSTS: usize = 20;

/// The JSON log lines of a run.
fn log_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Starts `HOSTS` runs at once against `server`, the i-th with the extra
/// arguments `extra(i)`, and returns for each the delay it reported, and
/// how long after its start the server received its request.
fn fleet(server: &Server, extra: impl Fn(usize) -> Vec<String>) -> Vec<(u64, Duration)> {
    let url = server.url();
    let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = (0..HOSTS)
        .map(|i| {
            let mut args: Vec<String> = ["--job", "rewards", "--log-format", "json", "--jitter"]
                .map(String::from)
                .to_vec();
            args.push(format!("{WINDOW_MS}ms"));
            args.extend(extra(i));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            (Instant::now(), spawn_in(dir.path(), &args, &env))
        })
        .collect();
    let runs: Vec<_> = runs.into_iter().map(|(s, r)| (s, r.finish())).collect();
    let requests = server.assert_requests(HOSTS);
    runs.iter()
        .map(|(started, run)| {
            run.assert_code(0);
            let lines = log_lines(&run.stderr);
            let delay = lines
                .iter()
                .find_map(|l| l["jitter_ms"].as_u64())
                .unwrap_or_else(|| panic!("no jitter_ms\n{run}"));
            let id = lines
                .iter()
                .find_map(|l| l["request_id"].as_str())
                .unwrap_or_else(|| panic!("no request_id\n{run}"));
            let request = requests
                .iter()
                .find(|r| r.header("idempotency-key") == Some(id))
                .expect("the run's request");
            (delay, request.received - *started)
        })
        .collect()
}

/// What every fleet run must show: each delay inside the window, and each
/// request received no sooner than its run's delay (which also bounds how
/// many arrive early in the window).
fn assert_waited(runs: &[(u64, Duration)]) {
    for &(delay, arrived) in runs {
        assert!(delay < WINDOW_MS, "{delay} ms outside the window: {runs:?}");
        assert!(
            arrived >= Duration::from_millis(delay),
            "a request came {arrived:?} after its start, before its delay of {delay} ms: {runs:?}"
        );
    }
}

#[test]
fn a_fleet_with_a_stable_jitter_keeps_one_distinct_offset_per_host() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let seed = |i: usize| vec!["--jitter-seed".to_owned(), format!("host-{i}")];
    let runs = fleet(&server, seed);
    assert_waited(&runs);
    let mut delays: Vec<u64> = runs.iter().map(|(d, _)| *d).collect();
    delays.sort_unstable();
    delays.dedup();
    assert_eq!(delays.len(), HOSTS, "one offset per host: {runs:?}");
    // These 20 names land in every quarter of the window (the offsets are
    // fixed by the names, so this holds on every run).
    let quarters: std::collections::HashSet<u64> =
        delays.iter().map(|d| d * 4 / WINDOW_MS).collect();
    assert_eq!(quarters.len(), 4, "{delays:?}");
    // The same offset on the next run, here a dry run, which only says it.
    for (i, (delay, _)) in runs.iter().enumerate().take(3) {
        assert_eq!(seeded_delay(&server, &format!("host-{i}")), *delay);
    }
}

/// The delay a dry run says a run seeded with `seed` waits in the window.
fn seeded_delay(server: &Server, seed: &str) -> u64 {
    let window = format!("{WINDOW_MS}ms");
    let args = [
        "--job",
        "rewards",
        "--dry-run",
        "--output",
        "json",
        "--jitter",
        &window,
        "--jitter-seed",
        seed,
    ];
    let dry = run_against(server, &args);
    dry.assert_code(0);
    dry.json()[0]["jitter_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("no jitter_ms\n{dry}"))
}

#[test]
fn a_fleet_with_a_random_jitter_spreads_over_the_window() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let runs = fleet(&server, |_| Vec::new());
    assert_waited(&runs);
    // Twenty independent uniform draws all fall within one tenth of the
    // window with probability at most 20 x 0.1^19 = 2e-18: a correct
    // implementation never fails this, one that draws the same delay for
    // every run (or none) always does.
    let min = runs.iter().map(|(d, _)| *d).min().unwrap();
    let max = runs.iter().map(|(d, _)| *d).max().unwrap();
    assert!(max - min >= WINDOW_MS / 10, "{runs:?}");
}

#[test]
fn a_dry_run_shows_the_delay_and_waits_nothing() {
    // A day-long window: waiting any of it would fail the run's time limit.
    let run = run(
        &[
            "--job",
            "all",
            "--dry-run",
            "--jitter",
            "24h",
            "--jitter-seed",
            "web-1",
        ],
        &[("INTERNAL_API_KEY", KEY)],
    );
    run.assert_code(0)
        .assert_stdout_contains(" (--jitter 86400 s)\n\nPOST ")
        .assert_stderr_contains("--jitter 86400 s would wait ");
    // One wait for the invocation, before the first request.
    assert!(run.stdout.starts_with("wait "), "{run}");
    assert_eq!(run.stdout.matches("--jitter").count(), 1, "{run}");
    assert_eq!(run.stderr.matches("would wait").count(), 1, "{run}");
    run.assert_stderr_contains("rewards: dry run, nothing sent; --jitter 86400 s would wait ");
}

#[test]
fn the_jitter_is_not_part_of_the_timeout() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    // A seed whose delay in a 2 s window is over 1.5 s (the dry run says
    // what a run would wait; a seeded delay never changes). The seeds are
    // fixed, so this finds the same one every time.
    let (seed, delay) = (0..20)
        .map(|i| format!("seed-{i}"))
        .map(|seed| {
            let delay = seeded_delay(&server, &seed);
            (seed, delay)
        })
        .find(|&(_, delay)| delay > 1500)
        .expect("a seed whose delay is over 1.5 s");
    // A 1 s deadline, counted from after the wait: were the wait counted,
    // the run would be over before its request.
    let window = format!("{WINDOW_MS}ms");
    let run = run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--timeout",
            "1s",
            "--jitter",
            &window,
            "--jitter-seed",
            &seed,
        ],
    );
    run.assert_code(0)
        .assert_lasted_at_least(Duration::from_millis(delay));
    server.assert_requests(1);
}

#[test]
fn a_signal_during_the_jitter_exits_at_once_with_nothing_sent() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let monitor = Server::start(vec![respond(200, "OK")]);
    let (url, ping) = (api.url(), format!("{}/ping", monitor.url()));
    let dir = tempfile::tempdir().unwrap();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let lock = dir.path().join("lock");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
            .args([
                "--job",
                "rewards",
                "--jitter",
                "24h",
                "--jitter-seed",
                "web-1",
            ])
            .args(["--output", "json", "--ping-url", &ping, "--lock-file"])
            .arg(&lock)
            .env_clear()
            .env("INTERNAL_API_KEY", KEY)
            .env("API_BASE_URL", &url)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The "waiting" line comes once the signal handlers are in place.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        assert!(first.contains("rewards: waiting "), "{first}");
        let waiting = first.split("waiting ").nth(1).unwrap();
        assert!(
            waiting.contains(" s (--jitter 86400 s, --jitter-seed)"),
            "{first}"
        );
        let started = Instant::now();
        let kill = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let mut output = child.wait_with_output().unwrap();
        std::io::Read::read_to_end(&mut stderr, &mut output.stderr).unwrap();
        crate::common::assert_sound(&output, &first);
        assert_eq!(output.status.code(), Some(code), "{first}");
        // Hours of waiting were cut short: the limit only keeps a broken
        // build from hanging the suite.
        assert!(started.elapsed() < Duration::from_secs(30));
        let rest = String::from_utf8_lossy(&output.stderr);
        let name = if code == 143 { "SIGTERM" } else { "SIGINT" };
        assert!(
            rest.contains(&format!(
                "rewards: interrupted by {name} while waiting {}",
                waiting.split(" before the run").next().unwrap()
            )) && rest.contains("before the run; nothing was sent"),
            "{rest}"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let record: Value = serde_json::from_str(stdout.trim()).expect("one JSON record");
        assert_eq!(record["exit_code"], code);
        assert_eq!(record["attempts"], 0);
        assert!(record["request_id"].is_null() && record["trace_id"].is_null());
    }
    // Nothing sent, to the app or the monitor, and the lock, which comes
    // after the wait, never taken (it would have created the file).
    api.assert_connections(0);
    monitor.assert_connections(0);
    assert!(!dir.path().join("lock").exists());
}

#[test]
fn jitter_settings_are_checked_before_anything_is_sent() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    for (args, says) in [
        (vec!["--jitter", "0"], "zero"),
        (vec!["--jitter", "25h"], "maximum of 24h"),
        (vec!["--slot-period", "1500ms"], "whole number of seconds"),
    ] {
        let mut all = vec!["--job", "rewards"];
        all.extend(args);
        run_against(&server, &all)
            .assert_code(64)
            .assert_stderr_contains(says);
    }
    let url = server.url();
    for (name, value, says) in [
        (
            "OCD_CRON_JITTER",
            "soon",
            "--jitter / OCD_CRON_JITTER (from the environment): 'soon' is not a duration",
        ),
        (
            "OCD_CRON_SLOT_PERIOD",
            "500ms",
            "--slot-period / OCD_CRON_SLOT_PERIOD (from the environment): '500ms' must be a whole number of seconds",
        ),
        (
            "OCD_CRON_SCHEDULED_TIME",
            "yesterday",
            "OCD_CRON_SCHEDULED_TIME: 'yesterday' is not an RFC 3339 date and time",
        ),
    ] {
        run(
            &["--job", "rewards"],
            &[
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", &url),
                (name, value),
            ],
        )
        .assert_code(78)
        .assert_stderr_contains(says);
    }
    // A scheduled time past what RFC 3339 writes, a huge one (shown cut
    // short), one that is the key (shown masked), and a huge jitter seed
    // (taken: it only seeds the delay).
    let huge = "2".repeat(120_000);
    for (value, says) in [
        (
            "9999-12-31T23:59:59-23:59",
            "OCD_CRON_SCHEDULED_TIME: '9999-12-31T23:59:59-23:59' is after 9999 in UTC\n",
        ),
        (huge.as_str(), "OCD_CRON_SCHEDULED_TIME: '2222"),
        (
            KEY,
            "OCD_CRON_SCHEDULED_TIME: '(redacted)' is not an RFC 3339",
        ),
    ] {
        let run = run(
            &["--job", "rewards", "--slot-period", "1h"],
            &[
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", &url),
                ("OCD_CRON_SCHEDULED_TIME", value),
            ],
        );
        run.assert_code(78).assert_stderr_contains(says);
        assert!(run.stderr.len() < 2_000, "{}", run.stderr.len());
    }
    server.assert_connections(0);
    let seed = "s".repeat(120_000);
    let dry = run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--dry-run",
            "--jitter",
            "1s",
            "--jitter-seed",
            &seed,
        ],
    );
    dry.assert_code(0);
    assert!(dry.stderr.len() + dry.stdout.len() < 4_000);
    server.assert_connections(0);
}

/// The `Idempotency-Key` each of `times` (as `OCD_CRON_SCHEDULED_TIME`)
/// sends, with `args`.
fn keys(server: &Server, args: &[&str], times: &[&str]) -> Vec<String> {
    let url = server.url();
    let before = server.requests().len();
    for time in times {
        let mut env = vec![("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
        if !time.is_empty() {
            env.push(("OCD_CRON_SCHEDULED_TIME", time));
        }
        run(args, &env).assert_code(0);
    }
    server.requests()[before..]
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect()
}

#[test]
fn runners_of_one_slot_send_one_key_and_the_next_slot_another() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let hourly = ["--job", "rewards", "--slot-period", "1h"];
    let sent = keys(
        &server,
        &hourly,
        &[
            "2026-12-03T14:00:00Z",
            "2026-12-03T14:00:07.250Z",
            "2026-12-03T15:59:59+01:00",
            "2026-12-03T15:00:00Z",
        ],
    );
    let slot = "rewards@2026-12-03T14:00:00Z";
    assert_eq!(sent[..3], [slot, slot, slot]);
    assert_eq!(sent[3], "rewards@2026-12-03T15:00:00Z");
    // The scheduler's time alone names the slot, to the second; each job
    // of --job all has its own key.
    let sent = keys(&server, &["--job", "all"], &["2016-05-19T03:00:00-07:00"]);
    assert_eq!(
        sent,
        [
            "rewards@2016-05-19T10:00:00Z",
            "outcomes@2016-05-19T10:00:00Z"
        ]
    );
    // Without either, a new UUID per run, as before.
    let sent = keys(&server, &["--job", "rewards"], &["", ""]);
    assert_ne!(sent[0], sent[1]);
    assert_eq!(sent[0].len(), 36);
}

#[test]
fn without_a_scheduled_time_the_slot_is_the_start_truncated_to_the_period() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let day = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs() / 86_400;
    let before = day(SystemTime::now());
    let sent = keys(
        &server,
        &["--job", "rewards", "--slot-period", "24h"],
        &[""],
    );
    let after = day(SystemTime::now());
    // The day the run started, at 00:00:00Z: the test's clock brackets it.
    let expected: Vec<String> = (before..=after)
        .map(|d| {
            let date = Command::new("date")
                .args([
                    "-u",
                    "-d",
                    &format!("@{}", d * 86_400),
                    "+%Y-%m-%dT%H:%M:%SZ",
                ])
                .output()
                .unwrap();
            format!("rewards@{}", String::from_utf8_lossy(&date.stdout).trim())
        })
        .collect();
    assert!(expected.contains(&sent[0]), "{sent:?} not in {expected:?}");
}

#[test]
fn the_slot_key_is_kept_across_retries_and_reported_but_not_a_metric_label() {
    let server = Server::start(vec![
        respond_with(503, &[("retry-after", "0")], ""),
        respond(200, REWARDS_OK),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd.prom");
    let url = server.url();
    let run = run(
        &[
            "--job",
            "rewards",
            "--output",
            "json",
            "--metrics-file",
            metrics.to_str().unwrap(),
        ],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("OCD_CRON_SLOT_PERIOD", "15m"),
            ("OCD_CRON_SCHEDULED_TIME", "2026-12-03T14:29:00Z"),
        ],
    );
    run.assert_code(0);
    let slot = "rewards@2026-12-03T14:15:00Z";
    let requests = server.assert_requests(2);
    assert!(
        requests
            .iter()
            .all(|r| r.header("idempotency-key") == Some(slot))
    );
    assert_eq!(run.json()[0]["request_id"], slot);
    run.assert_stderr_contains(&format!("request {slot}, trace "));
    // A new slot every period would be a new series every period.
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(!text.contains("2026-12-03"), "{text}");
}
