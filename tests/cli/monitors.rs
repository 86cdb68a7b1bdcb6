//! Every supported monitor, against a loopback stand-in each: the exact
//! method, path, query and body of each ping on success, job failure,
//! configuration error, and with a monitor that is down or slow; plus
//! several monitors at once, the dry run, and what is never sent or logged.

use std::time::Duration;

use crate::common::{
    self, ClosedPort, KEY, REWARDS_OK, Request, Server, Step, closed_port, respond, run,
    run_against,
};

/// The secret part of each stand-in's URL; none may appear in any log.
const SECRETS: [&str; 6] = [
    "HC-UUID-SECRET",
    "CRONITOR-API-KEY",
    "SENTRYPUBKEY",
    "KUMATOKEN",
    "BETTERTOKEN",
    "SNITCHTOKEN",
];

/// Six stand-in monitors, one per kind, in the order of [`SECRETS`].
struct Monitors {
    hc: Server,
    cronitor: Server,
    sentry: Server,
    kuma: Server,
    better: Server,
    snitch: Server,
}

impl Monitors {
    fn start(step: Step) -> Monitors {
        let server = || Server::start(vec![step.clone()]);
        Monitors {
            hc: server(),
            cronitor: server(),
            sentry: server(),
            kuma: server(),
            better: server(),
            snitch: server(),
        }
    }

    /// The URL each monitor's page would show, on loopback: the hosted
    /// services named with a `<kind>+` prefix, self-hosted Sentry and Uptime
    /// Kuma recognised by their paths.
    fn urls(&self) -> Vec<String> {
        urls([
            &self.hc.url(),
            &self.cronitor.url(),
            &self.sentry.url(),
            &self.kuma.url(),
            &self.better.url(),
            &self.snitch.url(),
        ])
    }

    fn all(&self) -> [&Server; 6] {
        [
            &self.hc,
            &self.cronitor,
            &self.sentry,
            &self.kuma,
            &self.better,
            &self.snitch,
        ]
    }
}

fn urls(origins: [&str; 6]) -> Vec<String> {
    let [hc, cronitor, sentry, kuma, better, snitch] = origins;
    vec![
        format!("{hc}/ping/HC-UUID-SECRET"),
        format!("cronitor+{cronitor}/p/CRONITOR-API-KEY/rewards"),
        format!("{sentry}/api/42/cron/rewards/SENTRYPUBKEY/?environment=production"),
        format!("{kuma}/api/push/KUMATOKEN?status=up&msg=OK&ping="),
        format!("betterstack+{better}/api/v1/heartbeat/BETTERTOKEN"),
        format!("deadmanssnitch+{snitch}/SNITCHTOKEN"),
    ]
}

/// `--ping-url` once per URL.
fn flags(urls: &[String]) -> Vec<&str> {
    urls.iter()
        .flat_map(|u| ["--ping-url", u.as_str()])
        .collect()
}

/// Path and decoded query parameters of a recorded request.
fn split(request: &Request) -> (String, Vec<(String, String)>) {
    let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect();
    (path.to_owned(), params)
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("a %XX escape"));
            i += 3;
        } else {
            assert_ne!(bytes[i], b' ', "an unencoded space in {text}");
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 once decoded")
}

fn names(params: &[(String, String)]) -> Vec<&str> {
    params.iter().map(|(n, _)| n.as_str()).collect()
}

fn value<'p>(params: &'p [(String, String)], name: &str) -> &'p str {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {params:?}"))
}

fn metrics(params: &[(String, String)]) -> Vec<&str> {
    params
        .iter()
        .filter(|(n, _)| n == "metric")
        .map(|(_, v)| v.as_str())
        .collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

/// Nothing the API key or a monitor's secret reaches: not a monitor's
/// request, not the log.
fn assert_nothing_leaks(monitors: &Monitors, stderr: &str) {
    for server in monitors.all() {
        for request in server.requests() {
            assert!(
                request.header("x-internal-api-key").is_none(),
                "{request:?}"
            );
            assert!(!format!("{request:?}").contains(KEY), "{request:?}");
            assert_eq!(
                request.header("user-agent"),
                Some(concat!("ocd-cron/", env!("CARGO_PKG_VERSION")))
            );
        }
    }
    for secret in SECRETS {
        assert!(!stderr.contains(secret), "{secret} logged:\n{stderr}");
    }
}

/// The log line of the job, which is also the summary monitors get.
fn summary_line(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains("INFO ] rewards: ") || l.contains("ERROR] rewards: "))
        .unwrap_or_else(|| panic!("no job line in {stderr}"));
    line.split_once("] ").unwrap().1.to_owned()
}

/// A message with everything a query value must encode.
const HOSTILE_OK: &str =
    r#"{"success":true,"processed":42,"errors":0,"message":"42 done & 0 failed #1 100% ✓ a+b=c"}"#;

#[test]
fn each_monitor_gets_its_own_start_and_finish_on_success() {
    let api = Server::start(vec![respond(200, HOSTILE_OK)]);
    let monitors = Monitors::start(respond(200, "OK"));
    let urls = monitors.urls();
    let mut args = vec!["--job", "rewards", "-v"];
    args.extend(flags(&urls));
    let run = run_against(&api, &args);
    run.assert_code(0);
    let id = api.requests()[0]
        .header("idempotency-key")
        .unwrap()
        .to_owned();
    let summary = summary_line(&run.stderr);
    assert!(
        summary.contains("42 done & 0 failed #1 100% ✓ a+b=c"),
        "{summary}"
    );

    let hc = monitors.hc.requests();
    assert_eq!(hc.len(), 2);
    assert_eq!(hc[0].method, "GET");
    assert_eq!(hc[0].path, format!("/ping/HC-UUID-SECRET/start?rid={id}"));
    assert_eq!(hc[0].body_text(), "");
    assert_eq!(hc[1].method, "POST");
    assert_eq!(hc[1].path, format!("/ping/HC-UUID-SECRET/0?rid={id}"));
    assert_eq!(hc[1].body_text(), summary);
    assert_eq!(
        hc[1].header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let cronitor = monitors.cronitor.requests();
    assert_eq!(cronitor.len(), 2);
    let (path, start) = split(&cronitor[0]);
    assert_eq!(
        (cronitor[0].method.as_str(), path.as_str()),
        ("GET", "/p/CRONITOR-API-KEY/rewards")
    );
    assert_eq!(
        start,
        [
            ("state".into(), "run".into()),
            ("series".into(), id.clone())
        ]
    );
    let (path, finish) = split(&cronitor[1]);
    assert_eq!(
        (cronitor[1].method.as_str(), path.as_str()),
        ("GET", "/p/CRONITOR-API-KEY/rewards")
    );
    assert_eq!(
        names(&finish),
        [
            "state",
            "series",
            "status_code",
            "message",
            "metric",
            "metric",
            "metric",
            "host"
        ]
    );
    assert_eq!(value(&finish, "state"), "complete");
    assert_eq!(value(&finish, "series"), id);
    assert_eq!(value(&finish, "status_code"), "0");
    assert_eq!(value(&finish, "message"), summary);
    assert_eq!(value(&finish, "host"), hostname());
    let metrics = metrics(&finish);
    let seconds: f64 = metrics[0]
        .strip_prefix("duration:")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (0.0..run.elapsed.as_secs_f64()).contains(&seconds),
        "{seconds}"
    );
    assert_eq!(metrics[1..], ["count:42", "error_count:0"]);
    assert_eq!(cronitor[1].body_text(), "");

    let sentry = monitors.sentry.requests();
    assert_eq!(sentry.len(), 2);
    let (path, start) = split(&sentry[0]);
    assert_eq!(
        path, "/api/42/cron/rewards/SENTRYPUBKEY/",
        "the trailing slash is kept"
    );
    assert_eq!(
        start,
        [
            ("environment".into(), "production".into()),
            ("status".into(), "in_progress".into()),
            ("check_in_id".into(), id.clone()),
        ]
    );
    let (path, finish) = split(&sentry[1]);
    assert_eq!(
        (sentry[1].method.as_str(), path.as_str()),
        ("GET", "/api/42/cron/rewards/SENTRYPUBKEY/")
    );
    assert_eq!(
        names(&finish),
        ["environment", "status", "check_in_id", "duration"]
    );
    assert_eq!(value(&finish, "status"), "ok");
    assert_eq!(value(&finish, "check_in_id"), id);
    let seconds: f64 = value(&finish, "duration").parse().unwrap();
    assert!(
        (0.0..run.elapsed.as_secs_f64()).contains(&seconds),
        "{seconds}"
    );

    let kuma = monitors.kuma.requests();
    assert_eq!(kuma.len(), 1, "Uptime Kuma has no start");
    let (path, finish) = split(&kuma[0]);
    assert_eq!(
        (kuma[0].method.as_str(), path.as_str()),
        ("GET", "/api/push/KUMATOKEN")
    );
    assert_eq!(
        names(&finish),
        ["status", "msg", "ping"],
        "the pasted query is replaced"
    );
    assert_eq!(value(&finish, "status"), "up");
    assert_eq!(value(&finish, "msg"), summary);
    let ms: u128 = value(&finish, "ping").parse().unwrap();
    assert!(ms <= run.elapsed.as_millis(), "{ms}");

    let better = monitors.better.requests();
    assert_eq!(better.len(), 1, "Better Stack has no start");
    assert_eq!(
        (
            better[0].method.as_str(),
            better[0].path.as_str(),
            better[0].body_text()
        ),
        ("GET", "/api/v1/heartbeat/BETTERTOKEN", String::new())
    );

    let snitch = monitors.snitch.requests();
    assert_eq!(snitch.len(), 1, "Dead Man's Snitch has no start");
    let (path, finish) = split(&snitch[0]);
    assert_eq!(
        (snitch[0].method.as_str(), path.as_str()),
        ("GET", "/SNITCHTOKEN")
    );
    assert_eq!(
        finish,
        [("s".into(), "0".into()), ("m".into(), summary.clone())]
    );

    assert_nothing_leaks(&monitors, &run.stderr);
    // -v shows which monitors were told, by kind and address, secrets masked.
    let cronitor_port = monitors.cronitor.port();
    assert!(
        run.stderr.contains(&format!(
            "ping (cronitor, 127.0.0.1:{cronitor_port}): finish accepted (GET http://127.0.0.1:{cronitor_port}/p/(redacted)/rewards)"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failed_job_is_a_failure_to_every_monitor_with_its_counts() {
    let failed = r#"{"success":false,"processed":3,"errors":2,"error":"database locked"}"#;
    let api = Server::start(vec![respond(200, failed)]);
    let monitors = Monitors::start(respond(200, "OK"));
    // The list form of the variable: commas, spaces, a newline.
    let list = monitors.urls().join(", \n");
    let url = api.url();
    let run = run(
        &["--job", "rewards", "--retries", "0"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("OCD_CRON_PING_URL", &list),
            // The HTTP library's own logging must not show a secret either.
            ("RUST_LOG", "trace"),
        ],
    );
    run.assert_code(1);
    let summary = summary_line(&run.stderr);
    assert!(summary.contains("database locked"), "{summary}");

    let hc = monitors.hc.requests();
    assert_eq!(hc.len(), 2);
    assert_eq!(hc[1].method, "POST");
    assert!(
        hc[1].path.starts_with("/ping/HC-UUID-SECRET/1?rid="),
        "{}",
        hc[1].path
    );
    assert_eq!(hc[1].body_text(), summary);

    let (_, finish) = split(&monitors.cronitor.requests()[1]);
    assert_eq!(value(&finish, "state"), "fail");
    assert_eq!(value(&finish, "status_code"), "1");
    assert_eq!(value(&finish, "message"), summary);
    assert_eq!(metrics(&finish)[1..], ["count:3", "error_count:2"]);

    let (_, finish) = split(&monitors.sentry.requests()[1]);
    assert_eq!(value(&finish, "status"), "error");

    let (_, finish) = split(&monitors.kuma.requests()[0]);
    assert_eq!(value(&finish, "status"), "down");
    assert_eq!(value(&finish, "msg"), summary);

    let better = monitors.better.requests();
    assert_eq!(better.len(), 1);
    assert_eq!(
        (better[0].method.as_str(), better[0].path.as_str()),
        ("POST", "/api/v1/heartbeat/BETTERTOKEN/1")
    );
    assert_eq!(better[0].body_text(), summary);

    let (_, finish) = split(&monitors.snitch.requests()[0]);
    assert_eq!(
        finish,
        [("s".into(), "1".into()), ("m".into(), summary.clone())]
    );

    assert_nothing_leaks(&monitors, &run.stderr);
}

#[test]
fn a_configuration_error_is_reported_to_every_usable_monitor() {
    let monitors = Monitors::start(respond(200, "OK"));
    let mut list = monitors.urls();
    list.push("pingdom+https://example.com/SNITCHTOKEN".into());
    let list = list.join(" ");
    let run = run(
        &["--job", "rewards"],
        &[("INTERNAL_API_KEY", KEY), ("OCD_CRON_PING_URL", &list)],
    );
    run.assert_code(78);
    let error = "--ping-url / OCD_CRON_PING_URL (from the environment), entry 7 of 7, names the monitor kind 'pingdom', which is not one of: healthchecks, cronitor, sentry, uptime-kuma, betterstack, deadmanssnitch";
    assert!(run.stderr.contains(error), "{}", run.stderr);

    let hc = monitors.hc.requests();
    assert_eq!(hc.len(), 1, "a finish only");
    assert!(
        hc[0].path.starts_with("/ping/HC-UUID-SECRET/78?rid="),
        "{}",
        hc[0].path
    );
    assert!(hc[0].body_text().contains(error), "{}", hc[0].body_text());

    let cronitor = monitors.cronitor.requests();
    assert_eq!(cronitor.len(), 1);
    let (_, finish) = split(&cronitor[0]);
    assert_eq!(value(&finish, "state"), "fail");
    assert_eq!(value(&finish, "status_code"), "78");
    assert_eq!(metrics(&finish).len(), 1, "no counts: no job ran");

    let sentry = monitors.sentry.requests();
    assert_eq!(sentry.len(), 1);
    assert_eq!(value(&split(&sentry[0]).1, "status"), "error");
    // Sentry wants a UUID for the check-in, also when there was no start.
    assert_eq!(value(&split(&sentry[0]).1, "check_in_id").len(), 36);

    assert_eq!(
        value(&split(&monitors.kuma.requests()[0]).1, "status"),
        "down"
    );
    assert_eq!(
        monitors.better.requests()[0].path,
        "/api/v1/heartbeat/BETTERTOKEN/78"
    );
    assert_eq!(value(&split(&monitors.snitch.requests()[0]).1, "s"), "78");
    assert_nothing_leaks(&monitors, &run.stderr);
}

#[test]
fn dead_monitors_are_warnings_and_cost_one_ping_time_not_six() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    // Kept until the run ends: nothing else may take these ports meanwhile.
    let closed: Vec<ClosedPort> = (0..6).map(|_| closed_port()).collect();
    let ports: Vec<u16> = closed.iter().map(ClosedPort::port).collect();
    let origins: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let urls = urls([
        &origins[0],
        &origins[1],
        &origins[2],
        &origins[3],
        &origins[4],
        &origins[5],
    ]);
    // A short limit, so that the test does not wait the default 10 s.
    let mut args = vec!["--job", "rewards", "--ping-timeout", "2s"];
    args.extend(flags(&urls));
    let run = run_against(&api, &args);
    run.assert_code(0);
    api.assert_requests(1); // the job ran all the same
    // Each dead ping takes at least 0.75 s (a second attempt 1 s ± 25 %
    // later; the third would come 2 s ± 25 % after that, past the 2 s
    // limit): one after another, the 9 of them would take over 6.75 s. At
    // once, the start and the finish pings take at most 2 s each.
    assert!(
        run.elapsed < Duration::from_millis(6500),
        "pings run at once: {:?}",
        run.elapsed
    );
    for (kind, port, event, shown) in [
        (
            "healthchecks",
            ports[0],
            "start",
            "/(redacted)/(redacted)/start",
        ),
        (
            "healthchecks",
            ports[0],
            "finish",
            "/(redacted)/(redacted)/0",
        ),
        ("cronitor", ports[1], "start", "/p/(redacted)/rewards"),
        ("cronitor", ports[1], "finish", "/p/(redacted)/rewards"),
        (
            "sentry",
            ports[2],
            "start",
            "/api/42/cron/rewards/(redacted)/",
        ),
        (
            "sentry",
            ports[2],
            "finish",
            "/api/42/cron/rewards/(redacted)/",
        ),
        ("uptime-kuma", ports[3], "finish", "/api/push/(redacted)"),
        (
            "betterstack",
            ports[4],
            "finish",
            "/api/v1/heartbeat/(redacted)",
        ),
        ("deadmanssnitch", ports[5], "finish", "/(redacted)"),
    ] {
        let line = format!(
            "WARN ] ping ({kind}, 127.0.0.1:{port}): {event}: cannot reach http://127.0.0.1:{port}{shown}: connection refused; the exit status is not affected"
        );
        assert!(run.stderr.contains(&line), "{line}\n{}", run.stderr);
    }
    assert!(
        !run.stderr.contains("--base-url"),
        "not the API's hint: {}",
        run.stderr
    );
    for secret in SECRETS {
        assert!(!run.stderr.contains(secret), "{secret}: {}", run.stderr);
    }
}

#[test]
fn a_monitor_that_never_answers_is_cut_off_at_the_ping_time_limit() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let slow = Server::start(vec![Step::Hang]);
    let fine = Server::start(vec![respond(200, "OK")]);
    let slow_url = format!("{}/api/push/KUMATOKEN", slow.url());
    let fine_url = format!("deadmanssnitch+{}/SNITCHTOKEN", fine.url());
    let run = run_against(
        &api,
        &[
            "--job",
            "rewards",
            "--ping-url",
            &slow_url,
            "--ping-url",
            &fine_url,
            "--ping-timeout",
            "2s",
        ],
    );
    run.assert_code(0);
    api.assert_requests(1); // the job ran all the same
    assert!(
        run.elapsed >= Duration::from_millis(1900) && run.elapsed < Duration::from_secs(7),
        "bounded by the 2 s ping time limit: {:?}",
        run.elapsed
    );
    let line = format!(
        "WARN ] ping (uptime-kuma, 127.0.0.1:{port}): finish: no answer from http://127.0.0.1:{port}/api/push/(redacted) within the ping time limit (2 s); the exit status is not affected",
        port = slow.port()
    );
    assert!(run.stderr.contains(&line), "{line}\n{}", run.stderr);
    assert_eq!(
        slow.requests().len(),
        1,
        "the one attempt used the whole limit"
    );
    assert_eq!(
        fine.requests().len(),
        1,
        "the other monitor is told all the same"
    );
}

#[test]
fn flags_replace_the_variable_and_pending_or_dry_runs_ping_nobody() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let flagged = Server::start(vec![respond(200, "OK")]);
    let listed = Server::start(vec![respond(200, "OK")]);
    let url = api.url();
    let flag_url = format!("{}/api/push/KUMATOKEN", flagged.url());
    let env_url = format!("{}/ping/HC-UUID-SECRET", listed.url());
    let env = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", url.as_str()),
        ("OCD_CRON_PING_URL", env_url.as_str()),
    ];
    let flagged_run = run(&["--job", "rewards", "--ping-url", &flag_url], &env);
    flagged_run.assert_code(0);
    assert_eq!(flagged.requests().len(), 1);
    assert_eq!(listed.requests().len(), 0, "the flag replaces the variable");

    let pending = Server::start(vec![respond(200, r#"{"pendingRewards":3}"#)]);
    let pending_url = pending.url();
    let pending_run = run(
        &["--job", "rewards", "--pending"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", pending_url.as_str()),
            ("OCD_CRON_PING_URL", env_url.as_str()),
        ],
    );
    pending_run.assert_code(0);
    let dry_run = run(&["--job", "all", "--dry-run"], &env);
    dry_run.assert_code(0);
    assert_eq!(
        listed.requests().len(),
        0,
        "--pending and --dry-run send no pings"
    );
}

#[test]
fn dry_run_shows_each_monitor_and_its_pings_with_secrets_masked() {
    let monitors = Monitors::start(respond(200, "OK"));
    let urls = monitors.urls();
    let mut args = vec!["--job", "rewards", "--dry-run"];
    args.extend(flags(&urls));
    let env = [("INTERNAL_API_KEY", KEY)];
    let text = run(&args, &env);
    text.assert_code(0);
    let port = monitors.cronitor.port();
    for line in [
        format!("ping cronitor (127.0.0.1:{port})"),
        format!("start: GET http://127.0.0.1:{port}/p/(redacted)/rewards?state=run&series="),
        format!(
            "finish, failure: GET http://127.0.0.1:{port}/p/(redacted)/rewards?state=fail&series="
        ),
        format!("ping uptime-kuma (127.0.0.1:{})", monitors.kuma.port()),
        "start: none".into(),
        format!(
            "finish, failure: POST http://127.0.0.1:{}/api/v1/heartbeat/(redacted)/1",
            monitors.better.port()
        ),
        "  rewards: dry run, nothing sent".into(),
        format!(
            "finish, success: GET http://127.0.0.1:{}/api/42/cron/rewards/(redacted)/?environment=production&status=ok&check_in_id=",
            monitors.sentry.port()
        ),
    ] {
        assert!(text.stdout.contains(&line), "{line}\n{}", text.stdout);
    }

    args.extend(["--output", "json"]);
    let json = run(&args, &env);
    json.assert_code(0);
    let object: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    let pings = object["pings"].as_array().unwrap();
    let kinds: Vec<&str> = pings.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "healthchecks",
            "cronitor",
            "sentry",
            "uptime-kuma",
            "betterstack",
            "deadmanssnitch"
        ]
    );
    assert_eq!(pings[3]["start"], serde_json::Value::Null);
    assert_eq!(pings[0]["finish_success"]["method"], "POST");
    let hc = pings[0]["start"]["url"].as_str().unwrap();
    assert!(
        hc.starts_with(&format!(
            "http://127.0.0.1:{}/(redacted)/(redacted)/start?rid=",
            monitors.hc.port()
        )),
        "{hc}"
    );

    for output in [&text.stdout, &json.stdout, &text.stderr, &json.stderr] {
        for secret in SECRETS {
            assert!(!output.contains(secret), "{secret}: {output}");
        }
    }
    for server in monitors.all() {
        assert!(server.requests().is_empty(), "a dry run sends nothing");
    }
}

#[test]
fn an_interrupted_run_sends_starts_but_no_finish() {
    let api = Server::start(vec![Step::Hang]);
    let monitors = Monitors::start(respond(200, "OK"));
    let urls = monitors.urls();
    let url = api.url();
    let mut args = vec!["--job", "rewards"];
    args.extend(flags(&urls));
    let dir = tempfile::tempdir().unwrap();
    let running = common::spawn_in(
        dir.path(),
        &args,
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    // The job request arrives after every start ping has ended.
    api.wait_for_requests(1, Duration::from_secs(20));
    running.signal("TERM");
    let run = running.finish();
    run.assert_code(143);
    let counts: Vec<usize> = monitors.all().iter().map(|s| s.requests().len()).collect();
    assert_eq!(counts, [1, 1, 1, 0, 0, 0], "starts only, no finish");
}

/// A signal while a monitor holds a ping is not swallowed: the invocation
/// stops at once and says what it was doing. During the start ping no job
/// is sent and the status is 128 + the signal; during the finish ping the
/// job is over and reported, and the status stays the job's.
#[test]
fn a_signal_during_a_ping_stops_the_invocation() {
    let dir = tempfile::tempdir().unwrap();
    for (during, steps, api_requests, code) in [
        ("start", vec![Step::Hang], 0, 143),
        ("finish", vec![respond(200, "OK"), Step::Hang], 1, 0),
    ] {
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        let monitor = Server::start(steps.clone());
        let (api_url, ping_url) = (api.url(), monitor.url());
        let running = common::spawn_in(
            dir.path(),
            &[
                "--job",
                "rewards",
                "--output",
                "json",
                "--ping-url",
                &ping_url,
            ],
            &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &api_url)],
        );
        monitor.wait_for_requests(steps.len(), Duration::from_secs(20));
        running.signal("TERM");
        let run = running.finish();
        // What it was waiting for: the monitor, named by its address.
        run.assert_code(code)
            .assert_stderr_contains(&format!(
                "interrupted by SIGTERM while waiting for {ping_url}/{}",
                if during == "start" { "start" } else { "0" }
            ))
            // Well inside the ping's own 10 s limit: the signal cut it short.
            .assert_ended_within(Duration::from_secs(8));
        api.assert_requests(api_requests);
        let json = run.json();
        assert_eq!(json.len(), 1, "one JSON line for the job: {run}");
        assert_eq!(json[0]["ok"], api_requests == 1, "{run}");
    }
}
