//! Hostile input from servers and flags (issue 9, sections 1, 4, 5, 7):
//! absurd waits and durations end in a documented status, never a crash;
//! a key echoed back is never shown; wrong-typed contract fields fail
//! closed; proxies behave as curl's do. Every run here also fails if the
//! binary dies by a signal or panics (see `common::run`).

use std::time::Duration;

use crate::common::{
    KEY, REWARDS_OK, Server, closed_port, percent_decoded, respond, respond_with, run, run_against,
};

/// A wait no clock can add to the current time.
const HUGE_SECONDS: &str = "18446744073709551615";
/// The last second IMF-fixdate can name.
const FAR_DATE: &str = "Fri, 31 Dec 9999 23:59:59 GMT";

// ---- 1. No panic from any input -------------------------------------------

#[test]
fn an_api_asking_for_a_wait_past_the_deadline_is_not_retried() {
    for (status, retry_after, code) in [
        (503, HUGE_SECONDS, 69),
        (503, FAR_DATE, 69),
        (429, HUGE_SECONDS, 75),
        (429, "123456789012345678901234567890", 75),
        (500, FAR_DATE, 70),
    ] {
        let server = Server::start(vec![respond_with(
            status,
            &[("retry-after", retry_after)],
            r#"{"error":"busy"}"#,
        )]);
        let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
        run.assert_code(code)
            .assert_stderr_contains(
                "would pass the --timeout deadline (the server asked for it in Retry-After)",
            )
            .assert_ended_within(Duration::from_secs(10));
        server.assert_requests(1);
        let objects = run.json();
        assert_eq!(objects.len(), 1, "{run}");
        assert_eq!(objects[0]["exit_code"], code);
        assert_eq!(objects[0]["attempts"], 1);
    }
}

#[test]
fn a_monitor_asking_for_a_huge_wait_is_retried_soon_and_the_run_completes() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    for retry_after in [HUGE_SECONDS, FAR_DATE] {
        let pings = Server::start(vec![
            respond_with(503, &[("retry-after", retry_after)], "slow down"),
            respond(200, "OK"),
        ]);
        let ping_url = format!("{}/check-id", pings.url());
        // Cut to a fifth of the ping time limit: 400 ms of 2 s.
        let run = run_against(
            &api,
            &[
                "--job",
                "rewards",
                "--ping-url",
                &ping_url,
                "--ping-timeout",
                "2s",
                "--output",
                "json",
            ],
        );
        run.assert_code(0)
            .assert_ended_within(Duration::from_secs(8))
            .assert_stderr_lacks("check-id");
        // Start (refused, then accepted after the clamped wait) and finish.
        let seen = pings.assert_requests(3);
        assert!(
            seen[1].path.starts_with("/check-id/start?rid="),
            "{}",
            seen[1].path
        );
        assert!(
            seen[2].path.starts_with("/check-id/0?rid="),
            "{}",
            seen[2].path
        );
        assert_eq!(run.json()[0]["exit_code"], 0);
    }
}

#[test]
fn durations_beyond_a_day_are_usage_errors_naming_the_flag_and_the_maximum() {
    for (flag, value) in [
        ("--timeout", "18446744073709551615"),
        ("--timeout", "25h"),
        ("--timeout", "86400001ms"),
        ("--connect-timeout", "5124095576030431h"),
        ("--connect-timeout", "99999999999999999999999"),
        ("--connect-timeout", "1441m"),
    ] {
        let server = Server::start(vec![respond(200, REWARDS_OK)]);
        let run = run_against(&server, &["--job", "rewards", flag, value]);
        run.assert_code(64)
            .assert_stderr_contains(&format!("invalid value '{value}' for '{flag} <DURATION>'"))
            .assert_stderr_contains("longer than the maximum of 24h");
        assert_eq!(
            run.stderr.lines().next().map(|l| l.contains(flag)),
            Some(true),
            "the first line names the flag\n{run}"
        );
        server.assert_connections(0);
    }
    // The maximum itself is accepted.
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    run_against(
        &server,
        &[
            "--job",
            "rewards",
            "--timeout",
            "24h",
            "--connect-timeout",
            "24h",
        ],
    )
    .assert_code(0);
}

#[test]
fn a_huge_retry_after_on_the_last_attempt_ends_with_the_servers_status() {
    let server = Server::start(vec![respond_with(
        503,
        &[("retry-after", HUGE_SECONDS)],
        "",
    )]);
    run_against(&server, &["--job", "rewards", "--retries", "0"]).assert_code(69);
    server.assert_requests(1);
}

// ---- 4. The key never appears, even when a server echoes it ---------------

/// The test key with every byte percent-encoded, as a redirect may carry it.
fn percent_encoded_key() -> String {
    KEY.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Runs `args` against `api` with a monitor and a metrics file, and checks
/// that neither stdout, stderr (checked by `common::run`), the ping bodies
/// nor the metrics file show the key, and that stderr and the JSON show
/// `(redacted)` where the key was.
fn assert_echo_redacted(api: &Server, args: &[&str], env: &[(&str, &str)], code: i32) {
    let pings = Server::start(vec![respond(200, "OK")]);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd.prom");
    let (ping_url, api_url) = (pings.url(), api.url());
    let mut all_args = vec![
        "--ping-url",
        &ping_url,
        "--metrics-file",
        metrics.to_str().unwrap(),
        "--output",
        "json",
    ];
    all_args.extend_from_slice(args);
    let mut all_env = vec![
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", api_url.as_str()),
    ];
    all_env.extend_from_slice(env);
    let run = run(&all_args, &all_env);
    run.assert_code(code).assert_stderr_contains("(redacted)");
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !percent_decoded(text).contains(KEY),
            "the key, percent-encoded, reached {name}\n{run}"
        );
    }
    assert!(run.json()[0].to_string().contains("(redacted)"), "{run}");
    let seen = pings.assert_requests(2);
    let finish = seen[1].body_text();
    assert!(finish.contains("(redacted)"), "{finish}");
    for request in &seen {
        let text = format!(
            "{} {:?} {}",
            request.path,
            request.headers,
            request.body_text()
        );
        assert!(
            !percent_decoded(&text).contains(KEY),
            "the key reached the monitor: {text}"
        );
    }
    let metrics = std::fs::read_to_string(&metrics).unwrap_or_default();
    assert!(!metrics.contains(KEY), "{metrics}");
}

#[test]
fn a_refusal_that_quotes_the_key_shows_it_redacted() {
    let api = Server::start(vec![respond(
        401,
        &format!(r#"{{"error":"bad key {KEY}","details":"expected another than {KEY}"}}"#),
    )]);
    assert_echo_redacted(&api, &["--job", "rewards"], &[], 77);
}

#[test]
fn a_redirect_carrying_the_key_shows_it_redacted() {
    let encoded = percent_encoded_key();
    let partly = KEY.replacen('-', "%2d", 1);
    for location in [
        format!("http://elsewhere.example/moved?key={KEY}"),
        format!("/moved?key={encoded}&again={partly}"),
    ] {
        let api = Server::start(vec![respond_with(307, &[("location", &location)], "")]);
        assert_echo_redacted(&api, &["--job", "rewards"], &[], 76);
    }
}

#[test]
fn a_success_message_quoting_the_key_shows_it_redacted() {
    let api = Server::start(vec![respond(
        200,
        &format!(r#"{{"success":true,"processed":1,"errors":0,"message":"ran with {KEY}"}}"#),
    )]);
    assert_echo_redacted(&api, &["--job", "rewards"], &[], 0);
}

#[test]
fn an_html_page_or_plain_text_quoting_the_key_shows_it_redacted() {
    for body in [
        format!("<html><head><title>Denied {KEY}</title></head><body>{KEY}</body></html>"),
        format!("upstream said: key \x1b[1m{KEY}\x1b[0m rejected"),
        format!("split by escapes: {}\x1b[0m{}", &KEY[..4], &KEY[4..]),
    ] {
        let api = Server::start(vec![respond(500, &body)]);
        assert_echo_redacted(&api, &["--job", "rewards", "--retries", "0"], &[], 70);
    }
}

#[test]
fn library_debug_logs_of_echoed_headers_show_the_key_redacted() {
    let location = format!("/moved?key={}", percent_encoded_key());
    let api = Server::start(vec![respond_with(
        302,
        &[("location", &location), ("x-echo", KEY)],
        "",
    )]);
    assert_echo_redacted(
        &api,
        &["--job", "rewards", "-v"],
        &[("RUST_LOG", "trace")],
        76,
    );
}

// ---- 5. Fail closed on the contract's fields ------------------------------

#[test]
fn wrong_typed_contract_fields_are_protocol_errors_naming_the_field() {
    for (body, shown) in [
        (r#"{"success":true,"errors":"5"}"#, r#""errors": "5""#),
        (r#"{"success":true,"errors":-3}"#, r#""errors": -3"#),
        (r#"{"success":true,"errors":2.5}"#, r#""errors": 2.5"#),
        (
            r#"{"success":true,"errors":123456789012345678901234567890}"#,
            r#""errors": 123456789012345678901234567890"#,
        ),
        (r#"{"success":"false"}"#, r#""success": "false""#),
        (
            r#"{"success":true,"processed":"42"}"#,
            r#""processed": "42""#,
        ),
    ] {
        let server = Server::start(vec![respond(200, body)]);
        let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
        run.assert_code(76)
            .assert_stderr_contains(&format!("answered HTTP 200 with {shown}, which is not"));
        server.assert_requests(1); // not retried: the answer came
        let objects = run.json();
        assert_eq!(objects[0]["exit_code"], 76, "{run}");
        assert_eq!(objects[0]["ok"], false, "{run}");
    }
}

#[test]
fn whole_number_floats_and_nulls_are_accepted() {
    let server = Server::start(vec![respond(
        200,
        r#"{"success":null,"processed":42.0,"errors":null,"message":"ok"}"#,
    )]);
    let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
    run.assert_code(0);
    let o = &run.json()[0];
    assert_eq!(o["processed"], 42);
    assert_eq!(o["errors"], serde_json::Value::Null);
}

#[test]
fn a_wrong_typed_pending_count_is_a_protocol_error() {
    let server = Server::start(vec![respond(200, r#"{"pendingCount":"3"}"#)]);
    run_against(&server, &["--job", "outcomes", "--pending"])
        .assert_code(76)
        .assert_stderr_contains(r#"with "pendingCount": "3", which is not a count"#);
}

// ---- 7. Proxies the way curl does it --------------------------------------

#[test]
fn no_proxy_cidr_ranges_send_ip_literal_hosts_direct() {
    let proxy = Server::start(vec![respond(403, "")]);
    let proxy_url = proxy.url();
    let mut cases = vec![(
        Server::start(vec![respond(200, REWARDS_OK)]),
        "10.0.0.0/8, 127.0.0.0/8",
    )];
    // IPv6 loopback may be missing in a container; the IPv4 case still runs.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        cases.push((
            Server::start_on("[::1]:0", vec![respond(200, REWARDS_OK)]),
            "::1/128",
        ));
    }
    for (server, no_proxy) in &cases {
        let url = server.url();
        run(
            &["--job", "rewards"],
            &[
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", &url),
                ("http_proxy", &proxy_url),
                ("no_proxy", no_proxy),
            ],
        )
        .assert_code(0);
        server.assert_requests(1);
    }
    proxy.assert_connections(0);
}

#[test]
fn a_proxy_refusing_the_tunnel_is_named_with_the_way_around_it() {
    // The tunnel's target names the port, the scheme's when the URL has none.
    for (base, target) in [
        ("http://ocd.internal:3000", "ocd.internal:3000"),
        ("https://ocd.internal", "ocd.internal:443"),
        ("http://ocd.internal", "ocd.internal:80"),
    ] {
        let proxy = Server::start(vec![respond(
            403,
            "<html><title>Access denied</title></html>",
        )]);
        let proxy_url = proxy.url();
        let run = run(
            &["--job", "rewards", "--output", "json"],
            &[
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", base),
                ("http_proxy", &proxy_url),
                ("https_proxy", &proxy_url),
                // Outside this range: the request goes to the proxy.
                ("no_proxy", "10.0.0.0/8"),
            ],
        );
        run.assert_code(69)
            .assert_stderr_contains(&format!(
                "the proxy 127.0.0.1:{} refused to CONNECT to {target} (HTTP 403)",
                proxy.port()
            ))
            .assert_stderr_contains("add its host to no_proxy / NO_PROXY");
        // Refused by policy: not retried.
        let seen = proxy.assert_requests(1);
        assert_eq!(seen[0].method, "CONNECT");
        assert_eq!(seen[0].path, target);
        assert!(seen[0].header("x-internal-api-key").is_none());
        assert_eq!(run.json()[0]["exit_code"], 69);
    }
}

#[test]
fn an_unreachable_proxy_is_named_not_the_app() {
    let port = closed_port();
    let proxy_url = format!("http://127.0.0.1:{port}");
    run(
        &["--job", "rewards", "--retries", "0"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", "http://ocd.internal:3000"),
            ("http_proxy", &proxy_url),
        ],
    )
    .assert_code(69)
    .assert_stderr_contains(&format!(
        "cannot reach the proxy 127.0.0.1:{port} on the way to http://ocd.internal:3000/api/training/calculate-pending: connection refused; check that the proxy"
    ))
    .assert_stderr_lacks("check that the OCD app is running");
}

#[test]
fn the_key_in_clear_to_a_proxy_off_this_machine_is_warned_about() {
    let env = |base: &'static str| {
        [
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", base),
            ("http_proxy", "http://10.255.0.1:3128"),
            ("https_proxy", "http://10.255.0.1:3128"),
        ]
    };
    run(
        &["--job", "rewards", "--dry-run"],
        &env("http://localhost:3000"),
    )
    .assert_code(0)
    .assert_stderr_contains(
        "the key travels unencrypted over http through the proxy 10.255.0.1:3128 to localhost",
    );
    run(
        &["--job", "rewards", "--dry-run"],
        &env("https://ocd.example.com"),
    )
    .assert_code(0)
    .assert_stderr_lacks("unencrypted");
}

#[test]
fn huge_headers_are_a_protocol_error_and_a_huge_location_is_cut() {
    let big = "a".repeat(200_000);
    let server = Server::start(vec![respond_with(200, &[("x-big", &big)], REWARDS_OK)]);
    run_against(&server, &["--job", "rewards"])
        .assert_code(76)
        .assert_stderr_contains("response headers over the size limit");
    let location = format!("/moved?next={}", "b".repeat(30_000));
    let server = Server::start(vec![respond_with(302, &[("location", &location)], "")]);
    let run = run_against(&server, &["--job", "rewards"]);
    run.assert_code(76)
        .assert_stderr_contains("redirecting to /moved?next=bbb");
    assert!(run.stderr.len() < 2_000, "the Location is cut\n{run}");
}

/// A URL setting that carries the key would print it (dry run, JSON,
/// messages) and send it to a monitor: refused before anything is sent,
/// also percent-encoded, and a monitor whose URL carries it is not told of
/// a configuration error either.
#[test]
fn a_url_that_carries_the_key_is_refused() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let monitor = Server::start(vec![respond(200, "OK")]);
    let encoded = percent_encoded_key();
    for (flag, value, what) in [
        (
            "--base-url",
            format!("{}/{KEY}", api.url()),
            "--base-url / API_BASE_URL",
        ),
        (
            "--base-url",
            format!("{}/{encoded}", api.url()),
            "--base-url / API_BASE_URL",
        ),
        (
            "--ping-url",
            format!("{}/{KEY}", monitor.url()),
            "--ping-url / OCD_CRON_PING_URL",
        ),
    ] {
        for extra in [&[][..], &["--dry-run"][..]] {
            let mut args = vec!["--job", "rewards", "--output", "json", flag, &value];
            args.extend_from_slice(extra);
            let api_url = api.url();
            run(
                &args,
                &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &api_url)],
            )
            .assert_code(78)
            .assert_stderr_contains(&format!(
                "{what} (from the command line) contains the API key"
            ));
        }
    }
    // The configuration error is not pinged to a URL that carries the key.
    let ping_url = format!("{}/{KEY}", monitor.url());
    run(
        &["--job", "rewards", "--ping-url", &ping_url],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", "ftp://nowhere")],
    )
    .assert_code(78)
    .assert_stderr_contains("API_BASE_URL (from the environment) has scheme 'ftp'");
    api.assert_requests(0);
    monitor.assert_requests(0);
}

/// The key echoed behind escapes (a JSON `\u002d`) cannot be cut out where
/// it stands: the text is withheld instead. An HTML page's references
/// (`&#45;`) are decoded with its title, so the key is seen and redacted.
#[test]
fn a_key_echoed_in_escapes_is_withheld() {
    let escaped = |byte_escape: &dyn Fn(u8) -> String| -> String {
        KEY.bytes()
            .map(|b| {
                if b == b'-' {
                    byte_escape(b)
                } else {
                    (b as char).to_string()
                }
            })
            .collect()
    };
    let json = escaped(&|b| format!("\\u{b:04x}"));
    let html = escaped(&|b| format!("&#{b};"));
    for (body, shown) in [
        (
            format!(r#"["bad key {json}"]"#),
            "(text withheld: it spelled the API key in escaped form)",
        ),
        (
            format!("<html><title>bad key {html}</title></html>"),
            "HTTP 401: bad key (redacted): the API key was refused",
        ),
    ] {
        let server = Server::start(vec![respond(401, &body)]);
        let run = run_against(&server, &["--job", "rewards", "--output", "json"]);
        run.assert_code(77)
            .assert_stderr_contains(shown)
            .assert_stderr_lacks(&json)
            .assert_stderr_lacks(&html);
        assert!(
            !run.stdout.contains(&json) && !run.stdout.contains(&html),
            "{run}"
        );
    }
}
