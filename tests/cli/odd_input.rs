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

/// `(prefix, request target)` pairs that curl produced
/// (`scripts/curl-path-corpus`), the prefix's non-ASCII as `\u{hex}`.
fn curl_paths() -> Vec<(String, String)> {
    crate::common::repo_file("tests/fixtures/curl-paths.tsv")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (prefix, target) = line.split_once('\t').expect("a tab");
            (unescape(prefix), target.to_owned())
        })
        .collect()
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').unwrap() + at;
        let code = u32::from_str_radix(&rest[at + 3..end], 16).unwrap();
        out.push(char::from_u32(code).unwrap());
        rest = &rest[end + 1..];
    }
    out + rest
}

/// `%xx` escapes in upper case, as RFC 3986 recommends (curl writes lower).
fn upper_escapes(target: &str) -> String {
    let mut out = String::new();
    let mut chars = target.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_uppercase()));
        }
    }
    out
}

#[test]
fn a_path_prefix_beyond_ascii_is_percent_encoded_as_curl_does() {
    let corpus = curl_paths();
    assert!(corpus.len() >= 8, "{corpus:?}");
    for (prefix, curl_target) in corpus {
        let server = Server::start(vec![respond(200, crate::common::REWARDS_OK)]);
        let base = format!("{}{prefix}", server.url());
        let run = crate::common::run(
            &["--job", "rewards"],
            &[
                ("INTERNAL_API_KEY", crate::common::KEY),
                ("API_BASE_URL", &base),
            ],
        );
        run.assert_code(0);
        let sent = &server.assert_requests(1)[0].path;
        let expected = upper_escapes(&curl_target).replace("/x", "/api/training/calculate-pending");
        assert_eq!(sent, &expected, "{prefix:?}");
    }
}

#[test]
fn an_invisible_character_in_the_url_shows_in_the_log() {
    for (prefix, shown) in [
        ("/ocd\u{200b}", "/ocd%E2%80%8B/api"),
        ("/\u{202e}dco", "/%E2%80%AEdco/api"),
        ("/ocd\u{feff}", "/ocd%EF%BB%BF/api"),
    ] {
        let server = Server::start(vec![respond(500, "{}")]);
        let base = format!("{}{prefix}", server.url());
        crate::common::run(
            &["--job", "rewards", "--retries", "0"],
            &[
                ("INTERNAL_API_KEY", crate::common::KEY),
                ("API_BASE_URL", &base),
            ],
        )
        .assert_code(70)
        .assert_stderr_contains(&format!("{}{shown}", server.url()));
    }
}

#[test]
fn urls_that_can_never_work_are_refused_at_once_naming_the_setting() {
    for (url, says) in [
        ("http://[fe80::1%25eth0]:3000", "zone id"),
        ("http://[fe80::1%25lo]", "zone id"),
        ("http://[fe80::1%eth0]:3000", "zone id"),
        ("http://[not-v6]:3000", "not an IPv6 address"),
        ("http://bücher.example:3000", "not plain ASCII"),
        ("http://ocd\u{200b}.internal:3000", "not plain ASCII"),
        ("http://a%20b:3000", "no DNS name has"),
    ] {
        for (args, env_name) in [
            (
                vec!["--job", "rewards", "--base-url", url],
                "--base-url / API_BASE_URL (from the command line)",
            ),
            (
                vec!["--job", "rewards", "--ping-url", url],
                "--ping-url / OCD_CRON_PING_URL (from the command line)",
            ),
        ] {
            let run = crate::common::run(&args, &[("INTERNAL_API_KEY", crate::common::KEY)]);
            run.assert_code(78)
                .assert_stderr_contains(env_name)
                .assert_stderr_contains(says)
                .assert_stderr_lacks("retrying")
                .assert_ended_within(std::time::Duration::from_secs(5));
        }
    }
}

mod not_utf8 {
    //! Settings holding bytes that are not UTF-8: paths used byte for
    //! byte, URLs and the key refused naming the setting.

    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    use crate::common::{KEY, REWARDS_OK, Server, respond, run_adjusted};

    fn bytes(b: &[u8]) -> &OsStr {
        OsStr::from_bytes(b)
    }

    fn path_in(dir: &std::path::Path, name: &[u8]) -> PathBuf {
        dir.join(bytes(name))
    }

    #[test]
    fn paths_from_the_environment_are_used_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        let metrics = path_in(dir.path(), b"ocd-\xff.prom");
        let key_file = path_in(dir.path(), b"k\xe9y");
        std::fs::write(&key_file, KEY).unwrap();
        // What a lossy reading would have opened instead.
        let lossy = PathBuf::from(key_file.to_string_lossy().into_owned());
        std::fs::write(&lossy, "wr0ng-k3y-xxxxxxxx").unwrap();
        let url = api.url();
        let run = run_adjusted(&["--job", "rewards"], &[("API_BASE_URL", &url)], |c| {
            c.env("OCD_CRON_METRICS_FILE", &metrics)
                .env("INTERNAL_API_KEY_FILE", &key_file);
        });
        run.assert_code(0);
        assert_eq!(
            api.assert_requests(1)[0].header("x-internal-api-key"),
            Some(KEY)
        );
        assert!(metrics.exists(), "{run}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "only the metrics file was added: {names:?}");

        // The CA bundle, over https.
        let tls = Server::start_tls(vec![respond(200, REWARDS_OK)]);
        let ca = path_in(dir.path(), b"ca-\xfe.pem");
        std::fs::copy(crate::common::test_ca(), &ca).unwrap();
        let url = tls.localhost_url();
        run_adjusted(
            &["--job", "rewards"],
            &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
            |c| {
                c.env("OCD_CRON_CA_CERT", &ca);
            },
        )
        .assert_code(0);
    }

    /// An env file's `$VAR` bringing in bytes from the environment, as
    /// Next's loader expands it.
    #[test]
    fn a_path_expanded_from_the_environment_keeps_its_bytes() {
        let app = tempfile::tempdir().unwrap();
        let dir = path_in(app.path(), b"d\xe9");
        std::fs::create_dir(&dir).unwrap();
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        std::fs::write(
            app.path().join(".env"),
            format!(
                "API_BASE_URL={}\nOCD_CRON_METRICS_FILE=$METRICS_DIR/ocd.prom\n",
                api.url()
            ),
        )
        .unwrap();
        let app_dir = app.path().to_str().unwrap();
        let run = run_adjusted(
            &["--job", "rewards", "--app-dir", app_dir],
            &[("INTERNAL_API_KEY", KEY)],
            |c| {
                c.env("METRICS_DIR", &dir);
            },
        );
        run.assert_code(0);
        assert!(dir.join("ocd.prom").exists(), "{run}");
    }

    #[test]
    fn paths_from_flags_are_used_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        let metrics = path_in(dir.path(), b"m\x80.prom");
        let lock = path_in(dir.path(), b"l\xc3.lock");
        let env_file = path_in(dir.path(), b"e\xff.env");
        std::fs::write(
            &env_file,
            format!("INTERNAL_API_KEY={KEY}\nAPI_BASE_URL={}\n", api.url()),
        )
        .unwrap();
        let run = run_adjusted(&["--job", "rewards"], &[], |c| {
            c.arg("--metrics-file")
                .arg(&metrics)
                .arg("--lock-file")
                .arg(&lock)
                .arg("--env-file")
                .arg(&env_file);
        });
        run.assert_code(0);
        assert!(metrics.exists() && lock.exists(), "{run}");
    }

    #[test]
    fn urls_and_the_key_that_are_not_utf8_are_refused_naming_the_setting() {
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        let url = api.url();
        let bad_url = [url.as_bytes(), b"/ocd\xff"].concat();
        let env_cases: [(&str, &[u8], &str); 5] = [
            (
                "API_BASE_URL",
                &bad_url,
                "--base-url / API_BASE_URL (from the environment) is not text",
            ),
            (
                "OCD_CRON_PING_URL",
                b"https://hc-ping.com/\xff",
                "--ping-url / OCD_CRON_PING_URL (from the environment) is not text",
            ),
            (
                "INTERNAL_API_KEY",
                b"k3y-\xff\xfe-k3y",
                "INTERNAL_API_KEY (from the environment) contains a character that is not visible ASCII",
            ),
            (
                "http_proxy",
                b"http://127.0.0.1:\xff",
                "http_proxy is not a valid proxy URL",
            ),
            (
                "no_proxy",
                b"local\xffhost",
                "no_proxy holds bytes that are not UTF-8",
            ),
        ];
        for (name, value, says) in env_cases {
            let mut env = vec![("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
            env.retain(|(n, _)| *n != name);
            if name == "no_proxy" {
                env.push(("http_proxy", "http://127.0.0.1:9"));
            }
            let run = run_adjusted(&["--job", "rewards"], &env, |c| {
                c.env(name, bytes(value));
            });
            run.assert_code(78)
                .assert_stderr_contains(says)
                .assert_stderr_lacks("\u{fffd}");
        }
        for flag in ["--base-url", "--ping-url"] {
            let run = run_adjusted(&["--job", "rewards"], &[("INTERNAL_API_KEY", KEY)], |c| {
                c.arg(flag).arg(bytes(&bad_url));
            });
            run.assert_code(64)
                .assert_stderr_contains(&format!("{flag} is not text"));
        }
        api.assert_connections(0);
    }
}
