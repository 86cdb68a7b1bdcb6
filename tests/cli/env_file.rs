//! The app's env files as the binary reads them: Next's files in Next's
//! order, its syntax and `$` expansion, judged by the corpus Next's own
//! loader wrote (`tests/fixtures/next-env`), by the key the server
//! receives; the bounds on expansion; `--app-dir`; and the working
//! directory's files ignored when someone else could have written them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::common::{KEY, REWARDS_OK, Server, respond, run, run_in};

fn write(path: &Path, content: &str, mode: u32) {
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_doubling_file_is_refused_at_its_line_before_anything_is_sent() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    // Expanded, V39 alone would be 2^39 times "ab": Next's loader would
    // grow it until the app runs out of memory.
    let mut content = format!("INTERNAL_API_KEY={KEY}\nV0=ab\n");
    for i in 1..40 {
        content.push_str(&format!("V{i}=${{V{}}}${{V{}}}\n", i - 1, i - 1));
    }
    assert!(content.len() < 1000);
    write(&file, &content, 0o600);
    run(
        &[
            "--job",
            "rewards",
            "--base-url",
            &server.url(),
            "--env-file",
            file.to_str().unwrap(),
        ],
        &[],
    )
    .assert_code(78)
    .assert_ended_within(Duration::from_secs(10))
    .assert_stderr_contains("app.env line 22: the $ expansion of V20 grows past 1 MiB")
    .assert_stderr_lines(1);
    server.assert_connections(0);
}

#[test]
fn a_value_that_refers_to_itself_is_refused_without_showing_it() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join(".env.local"),
        &format!("INTERNAL_API_KEY={KEY}$A\nA=x$B\nB=$A\n"),
        0o600,
    );
    run_in(
        dir.path(),
        &["--job", "rewards", "--base-url", &server.url()],
        &[],
    )
    .assert_code(78)
    .assert_stderr_contains(
        "env file ./.env.local line 1: the $ expansion of INTERNAL_API_KEY never ends",
    )
    .assert_stderr_contains("Next's loader fails on it and skips the whole file");
    server.assert_connections(0);
}

#[test]
fn a_dollar_in_the_key_is_expanded_as_the_app_expands_it() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    write(
        &file,
        &format!("INTERNAL_API_KEY=abc$HOME\nAPI_BASE_URL={}\n", server.url()),
        0o600,
    );
    run(
        &["--job", "rewards", "--env-file", file.to_str().unwrap()],
        &[("HOME", "/root")],
    )
    .assert_code(0)
    .assert_stderr_lacks("WARN");
    let requests = server.assert_requests(1);
    // Compared, never printed: it is the key.
    assert!(
        requests[0].header("x-internal-api-key") == Some("abc/root"),
        "the key was not expanded as Next expands it"
    );
}

#[test]
fn a_dollar_that_swallows_part_of_the_key_is_sent_as_the_app_reads_it_with_a_warning() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join(".env"),
        "INTERNAL_API_KEY=k3y$Zq9xLw2\n",
        0o600,
    );
    run_in(dir.path(), &["--job", "rewards", "--base-url", &server.url()], &[])
        .assert_code(0)
        .assert_stderr_contains(
            "WARN ] rewards: INTERNAL_API_KEY (from ./.env line 1): a $ followed by a name that is not set was replaced by nothing, as the app's Next.js loader does, so the app and ocd-cron use 3 of the 11 characters written; if the key really holds a $, write it as \\$\n",
        )
        .assert_stderr_lacks("Zq9");
    let requests = server.assert_requests(1);
    assert!(requests[0].header("x-internal-api-key") == Some("k3y"));
}

#[test]
fn a_line_that_is_not_an_assignment_is_skipped_as_next_skips_it() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    write(
        &file,
        &format!(
            "# app\nexport API_BASE_URL={}\nINTERNAL_API_KEY not-this\nINTERNAL_API_KEY={KEY}\n",
            server.url()
        ),
        0o600,
    );
    run(
        &["--job", "rewards", "--env-file", file.to_str().unwrap()],
        &[],
    )
    .assert_code(0);
    let requests = server.assert_requests(1);
    assert!(requests[0].header("x-internal-api-key") == Some(KEY));
}

#[test]
fn a_file_of_the_chain_that_links_to_another_is_read_as_next_reads_it() {
    // `.env.production -> .env` is a common layout: Next reads the one file
    // twice and the first sets the key; neither is another setting's file.
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join(".env"),
        &format!("API_BASE_URL={}\nINTERNAL_API_KEY={KEY}\n", server.url()),
        0o600,
    );
    std::os::unix::fs::symlink(".env", dir.path().join(".env.production")).unwrap();
    std::os::unix::fs::symlink(".env", dir.path().join(".env.local")).unwrap();
    run_in(dir.path(), &["--job", "rewards"], &[]).assert_code(0);
    let requests = server.assert_requests(1);
    assert_eq!(requests[0].header("x-internal-api-key"), Some(KEY));
}

#[test]
fn the_app_dir_is_read_from_anywhere_and_its_local_file_wins() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let app = tempfile::tempdir().unwrap();
    write(
        &app.path().join(".env"),
        "INTERNAL_API_KEY=stale-k3y\n",
        0o600,
    );
    write(
        &app.path().join(".env.local"),
        &format!("INTERNAL_API_KEY={KEY}\n"),
        0o600,
    );
    let dir = app.path().to_str().unwrap();
    let url = server.url();
    for (args, env) in [
        (vec!["--app-dir", dir], vec![]),
        (vec![], vec![("OCD_CRON_APP_DIR", dir)]),
    ] {
        let mut all = vec!["--job", "rewards", "--base-url", &url, "-v"];
        all.extend(args);
        run(&all, &env)
            .assert_code(0)
            .assert_stderr_contains(&format!(
                "rewards: INTERNAL_API_KEY from {dir}/.env.local line 1\n"
            ));
    }
    for request in server.assert_requests(2) {
        assert!(request.header("x-internal-api-key") == Some(KEY));
    }
    // --env-file names one file, and --app-dir another place: not both.
    run(
        &["--job", "rewards", "--app-dir", dir, "--env-file", "x"],
        &[],
    )
    .assert_code(64)
    .assert_stderr_contains(
        "the argument '--app-dir <DIR>' cannot be used with '--env-file <PATH>'",
    );
    run(&["--job", "rewards", "--app-dir", "/nonexistent/app"], &[])
        .assert_code(78)
        .assert_stderr_contains("--app-dir / OCD_CRON_APP_DIR /nonexistent/app cannot be used");
    // A file, an empty flag (a usage error), and a path that spells the key (the run helper
    // fails any run whose output shows it).
    let file = app.path().join(".env");
    run(
        &["--job", "rewards", "--app-dir", file.to_str().unwrap()],
        &[],
    )
    .assert_code(78)
    .assert_stderr_contains(".env is not a directory; name the directory the OCD app runs in");
    run(&["--job", "rewards", "--app-dir", ""], &[])
        .assert_code(64)
        .assert_stderr_contains("a value is required for '--app-dir <DIR>'");
    let spelled = format!("/nonexistent/{KEY}");
    for (args, env) in [
        (
            vec!["--job", "rewards", "--app-dir", spelled.as_str()],
            vec![("INTERNAL_API_KEY", KEY)],
        ),
        (
            vec!["--job", "rewards"],
            vec![
                ("INTERNAL_API_KEY", KEY),
                ("OCD_CRON_APP_DIR", spelled.as_str()),
            ],
        ),
    ] {
        run(&args, &env).assert_code(78).assert_stderr_contains(
            "--app-dir / OCD_CRON_APP_DIR /nonexistent/(redacted) cannot be used",
        );
    }
    server.assert_requests(2);
}

#[test]
fn a_missing_key_names_the_directory_and_the_files_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".env")).unwrap();
    write(&dir.path().join(".env.production"), "A=1\n", 0o600);
    let cwd = dir.path().canonicalize().unwrap();
    run_in(dir.path(), &["--job", "rewards", "-v"], &[])
        .assert_code(78)
        .assert_stderr_contains(&format!(
            "configuration: INTERNAL_API_KEY is not set: not in the environment, nor in the app's env files in {} (the working directory; cron starts jobs in $HOME): .env.production read (of .env.production.local, .env.local, .env.production, .env) (./.env is a directory, not an env file; ignored); ",
            cwd.display()
        ))
        .assert_stderr_contains("name the app's directory with --app-dir");
    // The line about the directory comes before the error, not after it.
    let run = run_in(dir.path(), &["--job", "rewards", "-v"], &[]);
    let debug = run.stderr.find("./.env is a directory").unwrap();
    assert!(debug < run.stderr.find("ERROR").unwrap(), "{run}");
}

/// Every case of the corpus Next's loader wrote, run through the binary in
/// a directory holding the case's files, with only the case's environment:
/// the key the server receives is the one Next gives the app, and a key
/// Next gives but that cannot be sent, or files Next fails on, send
/// nothing (78).
#[test]
fn the_key_sent_is_the_one_nexts_loader_gives_the_app() {
    let corpus: serde_json::Value = serde_json::from_str(&crate::common::repo_file(
        "tests/fixtures/next-env/corpus.json",
    ))
    .unwrap();
    let cases = corpus["cases"].as_array().unwrap();
    let (mut sent, mut refused) = (0, 0);
    // The hand-written cases, and every fifth generated one.
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let generated = name.starts_with("random") || name.starts_with("ordinary");
        if generated && i % 5 != 0 {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in case["files"].as_object().unwrap() {
            let path = dir.path().join(file);
            match file.strip_suffix('/') {
                Some(_) => std::fs::create_dir(&path).unwrap(),
                None => write(&path, text.as_str().unwrap(), 0o600),
            }
        }
        if let Some(files) = case["files_bytes"].as_object() {
            for (file, bytes) in files {
                let bytes: Vec<u8> = bytes.as_str().unwrap().chars().map(|c| c as u8).collect();
                std::fs::write(dir.path().join(file), bytes).unwrap();
            }
        }
        let env: Vec<(&str, &str)> = case["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let server = Server::start(vec![respond(200, REWARDS_OK)]);
        let run = run_in(
            dir.path(),
            &["--job", "rewards", "--base-url", &server.url()],
            &env,
        );
        let failed = !case["errors"].as_array().unwrap().is_empty() || case.get("crash").is_some();
        let expected = case["expected"]["INTERNAL_API_KEY"].as_str();
        // What ocd-cron refuses on purpose is 78 too: a key that is not
        // visible ASCII, and one the base URL spells (a key of `:` here).
        // And a reference to a name JavaScript objects inherit (`$toString`,
        // `$constructor`), where Next's answer holds what JavaScript makes
        // of an object (`[object Undefined]`).
        let builtin = expected.is_some_and(|key| key.contains("[object "));
        let sendable = expected.filter(|key| {
            !key.is_empty()
                && key.bytes().all(|b| b.is_ascii_graphic())
                && !server.url().contains(key)
                && !builtin
        });
        match sendable {
            Some(key) if !failed => {
                assert_eq!(run.code, 0, "{name}\n{run}");
                let requests = server.assert_requests(1);
                assert!(
                    requests[0].header("x-internal-api-key") == Some(key),
                    "{name}: the key sent is not the one Next gives the app"
                );
                sent += 1;
            }
            _ => {
                // Refused for the reason the corpus gives, not another.
                let why = if failed {
                    "the $ expansion of"
                } else if builtin {
                    "which is not set; Next's loader would insert JavaScript's built-in"
                } else {
                    match expected {
                        None => "INTERNAL_API_KEY is not set",
                        Some("") => "is empty",
                        Some(key) if !key.bytes().all(|b| b.is_ascii_graphic()) => {
                            "not visible ASCII"
                        }
                        Some(_) => "contains the API key",
                    }
                };
                run.assert_code(78).assert_stderr_contains(why);
                server.assert_connections(0);
                refused += 1;
            }
        }
    }
    assert!(
        sent >= 50 && refused >= 20,
        "{sent} sent, {refused} refused"
    );
}

/// A `./.env` naming a monitor and a metrics file; the key and the API come
/// from the command line, so the run succeeds whether the file is read or
/// not, and what the file names shows whether it was.
struct Hostile {
    dir: tempfile::TempDir,
    api: Server,
    monitor: Server,
}

impl Hostile {
    fn new(mode: u32) -> Hostile {
        let dir = tempfile::tempdir().unwrap();
        let monitor = Server::start(vec![respond(200, "OK")]);
        let content = format!(
            "OCD_CRON_PING_URL={}/ping/abc\nOCD_CRON_METRICS_FILE={}\n",
            monitor.url(),
            dir.path().join("planted.prom").display()
        );
        write(&dir.path().join(".env"), &content, mode);
        Hostile {
            dir,
            api: Server::start(vec![respond(200, REWARDS_OK)]),
            monitor,
        }
    }

    fn run(&self) -> crate::common::Run {
        let url = self.api.url();
        let run = run_in(
            self.dir.path(),
            &["--job", "rewards", "--base-url", &url],
            &[("INTERNAL_API_KEY", KEY)],
        );
        run.assert_code(0);
        self.api.assert_requests(1);
        run
    }

    fn file_was_used(&self) -> bool {
        let written = self.dir.path().join("planted.prom").exists();
        let pinged = self.monitor.connections() > 0;
        assert_eq!(written, pinged, "the file was used only in part");
        written
    }
}

#[test]
fn a_dot_env_others_can_write_is_ignored_with_a_warning() {
    // Ours and private: read (the monitor is pinged, the metrics written).
    let trusted = Hostile::new(0o600);
    trusted.run().assert_stderr_lacks("WARN");
    assert!(trusted.file_was_used());

    for (mode, writers) in [
        (0o666, "its group and by any user (mode 0666)"),
        (0o620, "its group (mode 0620)"),
        (0o602, "any user (mode 0602)"),
    ] {
        let hostile = Hostile::new(mode);
        let run = hostile.run();
        run.assert_stderr_contains(&format!(
            "./.env in {} is writable by {writers}: whoever wrote it could send the key elsewhere, so it is ignored",
            hostile.dir.path().display()
        ))
        .assert_stderr_contains("name the app's directory with --app-dir or the file with --env-file if you trust it, or chmod go-w it\n")
        .assert_stderr_lines(2); // the warning and the job's line
        assert!(!hostile.file_was_used(), "mode {mode:o}");
        hostile.monitor.assert_connections(0);
    }

    // Named with --env-file, the same file is the operator's choice.
    let chosen = Hostile::new(0o666);
    let url = chosen.api.url();
    run_in(
        chosen.dir.path(),
        &["--job", "rewards", "--base-url", &url, "--env-file", ".env"],
        &[("INTERNAL_API_KEY", KEY)],
    )
    .assert_code(0)
    .assert_stderr_lacks("ignored");
    assert!(chosen.file_was_used());
}

#[test]
fn a_dot_env_owned_by_another_user_is_ignored_with_a_warning() {
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root can give ./.env another owner");
        return;
    }
    let hostile = Hostile::new(0o600);
    std::os::unix::fs::chown(hostile.dir.path().join(".env"), Some(65534), None).unwrap();
    hostile
        .run()
        .assert_stderr_contains(
            "./.env in ",
        )
        .assert_stderr_contains(
            " is owned by uid 65534, neither this user (uid 0) nor root: whoever wrote it could send the key elsewhere, so it is ignored; name the app's directory with --app-dir or the file with --env-file if you trust it, or chown it to this user\n",
        );
    assert!(!hostile.file_was_used());
}

#[test]
fn every_file_of_the_chain_gets_the_checks_of_one() {
    let server = Server::start(vec![respond(200, REWARDS_OK), respond(200, REWARDS_OK)]);
    let url = server.url();
    let app = tempfile::tempdir().unwrap();
    write(
        &app.path().join(".env"),
        &format!("INTERNAL_API_KEY={KEY}\n"),
        0o600,
    );
    let fifo = app.path().join(".env.local");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path and a mode.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // In the working directory a FIFO is skipped (nothing ever blocks on
    // it); in a directory named with --app-dir, where Next would read it,
    // it is refused.
    run_in(app.path(), &["--job", "rewards", "--base-url", &url], &[])
        .assert_code(0)
        .assert_ended_within(Duration::from_secs(10));
    run(
        &[
            "--job",
            "rewards",
            "--base-url",
            &url,
            "--app-dir",
            app.path().to_str().unwrap(),
        ],
        &[],
    )
    .assert_code(78)
    .assert_ended_within(Duration::from_secs(10))
    .assert_stderr_contains(".env.local is a FIFO, not a regular file");
    std::fs::remove_file(&fifo).unwrap();

    // Over the cap: refused, whichever file of the chain it is.
    let big = format!("A={}\n", "x".repeat(1 << 20));
    write(&app.path().join(".env.production"), &big, 0o600);
    run_in(app.path(), &["--job", "rewards", "--base-url", &url], &[])
        .assert_code(78)
        .assert_stderr_contains("env file ./.env.production is larger than 1 MiB");
    std::fs::remove_file(app.path().join(".env.production")).unwrap();

    // A symlink is followed (a Kubernetes secret is one), and the warning
    // for a key others can read names the file the key came from.
    let target = app.path().join("secret.env");
    write(&target, &format!("INTERNAL_API_KEY={KEY}\n"), 0o644);
    std::os::unix::fs::symlink(&target, &fifo).unwrap();
    run_in(app.path(), &["--job", "rewards", "--base-url", &url], &[])
        .assert_code(0)
        .assert_stderr_contains("env file ./.env.local holds the key and is readable by any user (mode 0644); chmod 600 it");
    server.assert_requests(2);
}
