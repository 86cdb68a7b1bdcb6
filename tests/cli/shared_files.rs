//! The files settings name: one file in two roles is refused before
//! anything is sent, and a path that happens to hold the key's text is
//! shown redacted in every output.

use std::path::Path;

use crate::common::{KEY, REWARDS_OK, Server, respond, run_in};

/// Flags, environment, and (for refusals) what stderr must say.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

/// Runs in `dir` with the key and `api` as the base URL, plus `env`.
fn run_with(dir: &Path, api: &Server, args: &[&str], env: &[(&str, &str)]) -> crate::common::Run {
    let url = api.url();
    let mut all = vec![("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
    all.extend_from_slice(env);
    all.retain(|(name, _)| {
        !(*name == "INTERNAL_API_KEY" && env.iter().any(|(n, _)| *n == "INTERNAL_API_KEY_FILE"))
    });
    let mut args = args.to_vec();
    args.extend(["--job", "rewards"]);
    run_in(dir, &args, &all)
}

#[test]
fn one_file_in_two_roles_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("existing.lock"), "").unwrap();
    std::os::unix::fs::symlink(d.join("existing.lock"), d.join("link.prom")).unwrap();
    std::fs::hard_link(d.join("existing.lock"), d.join("hard.prom")).unwrap();
    std::fs::write(d.join("key"), KEY).unwrap();
    std::fs::write(d.join("app.env"), "A=1\n").unwrap();
    std::fs::write(d.join(".env"), "A=1\n").unwrap();
    std::fs::write(d.join(".env.local"), "B=2\n").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let cases: Vec<Case> = vec![
        (
            vec!["--lock-file", "run.lock", "--metrics-file", "run.lock"],
            vec![],
            "--lock-file and --metrics-file / OCD_CRON_METRICS_FILE name one file (both name run.lock)",
        ),
        (
            vec![
                "--lock-file",
                "new.lock",
                "--metrics-file",
                "./sub/../new.lock",
            ],
            vec![],
            "--lock-file and --metrics-file / OCD_CRON_METRICS_FILE name one file (new.lock and ./sub/../new.lock are the same file)",
        ),
        (
            vec!["--lock-file", "existing.lock"],
            vec![("OCD_CRON_METRICS_FILE", "link.prom")],
            "--lock-file and --metrics-file / OCD_CRON_METRICS_FILE name one file",
        ),
        (
            vec![
                "--lock-file",
                "existing.lock",
                "--metrics-file",
                "hard.prom",
            ],
            vec![],
            "--lock-file and --metrics-file / OCD_CRON_METRICS_FILE name one file",
        ),
        (
            vec!["--env-file", "app.env", "--lock-file", "app.env"],
            vec![],
            "--env-file and --lock-file name one file",
        ),
        (
            vec!["--metrics-file", ".env"],
            vec![],
            "the env file ./.env and --metrics-file / OCD_CRON_METRICS_FILE name one file",
        ),
        (
            vec!["--lock-file", ".env.local"],
            vec![],
            "the env file ./.env.local and --lock-file name one file",
        ),
        (
            vec!["--ca-cert", "key"],
            vec![("INTERNAL_API_KEY_FILE", "key")],
            "--ca-cert / OCD_CRON_CA_CERT and INTERNAL_API_KEY_FILE name one file",
        ),
        (
            vec!["--lock-file", "key"],
            vec![("INTERNAL_API_KEY_FILE", "./key")],
            "--lock-file and INTERNAL_API_KEY_FILE name one file",
        ),
    ];
    for (args, env, says) in cases {
        for dry in [false, true] {
            let mut args = args.clone();
            if dry {
                args.push("--dry-run");
            }
            run_with(d, &api, &args, &env)
                .assert_code(78)
                .assert_stderr_contains(says);
        }
    }
    api.assert_connections(0);
    // Nothing was created or replaced.
    assert!(!d.join("run.lock").exists() && !d.join("new.lock").exists());
    assert_eq!(std::fs::read_to_string(d.join("key")).unwrap(), KEY);
    // Each file on its own is fine.
    run_with(
        d,
        &api,
        &["--lock-file", "run.lock", "--metrics-file", "run.prom"],
        &[],
    )
    .assert_code(0);
}

/// The key as a path's text: plainly, and percent-encoded as a URL would
/// carry it.
fn key_spellings() -> [String; 2] {
    let encoded: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    [KEY.to_owned(), encoded]
}

#[test]
fn a_path_holding_the_key_is_redacted_in_every_output() {
    let pings = Server::start(vec![respond(200, "OK")]);
    let ping_url = pings.url();
    let mut sent = 0;
    for key_text in key_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let missing = format!("/nonexistent/{key_text}/file");
        let cases: Vec<Case> = vec![
            (vec!["--lock-file", &missing], vec![], "--lock-file"),
            (vec!["--metrics-file", &missing], vec![], "--metrics-file"),
            (
                vec![],
                vec![("OCD_CRON_METRICS_FILE", &missing)],
                "--metrics-file",
            ),
            (vec!["--env-file", &missing], vec![], "env file"),
            (vec!["--ca-cert", &missing], vec![], "--ca-cert"),
            (vec![], vec![("OCD_CRON_CA_CERT", &missing)], "--ca-cert"),
            (
                vec!["--lock-file", &missing, "--metrics-file", &missing],
                vec![],
                "name one file",
            ),
        ];
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        for (args, env, says) in cases {
            let mut args = args.clone();
            args.extend(["--output", "json", "--ping-url", &ping_url]);
            let run = run_with(dir.path(), &api, &args, &env);
            run.assert_code(78)
                .assert_stderr_contains(says)
                .assert_stderr_contains("/nonexistent/(redacted)/file");
            assert!(run.stdout.contains("/nonexistent/(redacted)/file"), "{run}");
            for text in [&run.stdout, &run.stderr] {
                assert!(!text.contains(&key_text), "{run}");
            }
            sent += 1;
        }
        api.assert_connections(0);
    }
    // Each configuration error was pinged, the path redacted there too.
    let seen = pings.requests();
    let finishes = seen.iter().filter(|r| r.method == "POST").count();
    assert_eq!(finishes, sent, "one finish ping a run");
    for ping in seen {
        let body = ping.body_text();
        assert!(
            ping.method == "GET" || body.contains("(redacted)"),
            "{body}"
        );
        for key_text in key_spellings() {
            assert!(
                !body.contains(&key_text) && !ping.path.contains(&key_text),
                "{body}"
            );
        }
    }
}

#[test]
fn a_metrics_file_named_with_the_key_is_written_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join(format!("{KEY}.prom"));
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let path = metrics.to_str().unwrap();
    let run = run_with(
        dir.path(),
        &api,
        &["-v", "--output", "json", "--metrics-file", path],
        &[],
    );
    run.assert_code(0);
    let written = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        written.contains("ocd_cron_last_exit_code{job=\"rewards\"} 0"),
        "{written}"
    );
    assert!(!written.contains(KEY));
    // Where writing it fails, the warning names it redacted.
    std::fs::remove_file(&metrics).unwrap();
    std::fs::create_dir(&metrics).unwrap();
    std::fs::write(metrics.join("x"), "").unwrap();
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    run_with(dir.path(), &api, &["--metrics-file", path], &[])
        .assert_code(0)
        .assert_stderr_contains("cannot write the metrics file")
        .assert_stderr_contains("(redacted).prom");
}

/// A key holding `"` and `\`, which JSON escapes: redacted in each string
/// before the escaping, where it still reads as itself.
#[test]
fn a_key_that_json_escapes_is_redacted_in_json_too() {
    let key = r#"qu0te"and\back-k3y-77"#;
    let escaped = r#"qu0te\"and\\back-k3y-77"#;
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("/nonexistent/{key}/file");
    for args in [
        vec!["--lock-file", missing.as_str()],
        vec!["--metrics-file", missing.as_str()],
        vec!["--lock-file", missing.as_str(), "--dry-run"],
    ] {
        let mut args = args.clone();
        args.extend(["--job", "rewards", "--output", "json"]);
        let run = run_in(dir.path(), &args, &[("INTERNAL_API_KEY", key)]);
        run.assert_code(78);
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(key) && !text.contains(escaped), "{run}");
        }
        let object: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        let error = object["error"].as_str().unwrap();
        assert!(error.contains("/nonexistent/(redacted)/file"), "{error}");
    }
}
