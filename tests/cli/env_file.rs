//! The env file's syntax as the binary reads it (Node's dotenv: nothing is
//! expanded), and the implicit `./.env` ignored when someone else could
//! have written it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::common::{KEY, REWARDS_OK, Server, respond, run, run_in};

fn write(path: &Path, content: &str, mode: u32) {
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn references_are_not_expanded_so_a_doubling_file_costs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    // Expanded, V39 alone would be 2^39 times "ab": what made the process
    // allocate gigabytes and abort.
    let mut content = String::from("V0=ab\n");
    for i in 1..40 {
        content.push_str(&format!("V{i}=${{V{}}}${{V{}}}\n", i - 1, i - 1));
    }
    content.push_str("API_BASE_URL=http://127.0.0.1:9/a$V0\n");
    assert!(content.len() < 1000);
    write(&file, &content, 0o600);
    run(
        &[
            "--job",
            "rewards",
            "--dry-run",
            "--env-file",
            file.to_str().unwrap(),
        ],
        &[("INTERNAL_API_KEY", KEY), ("V0", "expanded")],
    )
    .assert_code(0)
    .assert_ended_within(Duration::from_secs(10))
    .assert_stdout_contains("POST http://127.0.0.1:9/a$V0/api/training/calculate-pending\n");
}

#[test]
fn a_dollar_in_the_key_reaches_the_server_as_written() {
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
    .assert_code(0);
    let requests = server.assert_requests(1);
    // Compared, never printed: it is the key.
    assert!(
        requests[0].header("x-internal-api-key") == Some("abc$HOME"),
        "the key in the env file was changed on the way to the server"
    );
}

#[test]
fn a_malformed_line_is_refused_by_number_even_where_node_would_skip_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    write(
        &file,
        &format!("# app\nexport API_BASE_URL=http://127.0.0.1:9\nINTERNAL_API_KEY {KEY}\n"),
        0o600,
    );
    run(
        &["--job", "rewards", "--env-file", file.to_str().unwrap()],
        &[],
    )
    .assert_code(78)
    .assert_stderr_contains("app.env is malformed at line 3 (not KEY=value");
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
        .assert_stderr_contains("name it with --env-file if you trust it, or chmod go-w it\n")
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
            " is owned by uid 65534, neither this user (uid 0) nor root: whoever wrote it could send the key elsewhere, so it is ignored; name it with --env-file if you trust it, or chown it to this user\n",
        );
    assert!(!hostile.file_was_used());
}
