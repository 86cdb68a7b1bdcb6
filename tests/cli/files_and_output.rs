//! Hostile files and output, for real (issue 9 §2, §3, §6; issue 10 item 9):
//! FIFOs, `/dev/zero`, directories, a 256 MiB sparse file and device nodes
//! where files are expected; symlinks planted at the metrics file and its
//! temporary name; two runs updating one metrics file at once; `/dev/full`
//! and a closed pipe as stdout; the JSON line after a signal; a dry run's
//! look at `--lock-file`.
//!
//! Every run has a deadline (the helpers kill the binary and fail), so code
//! that hangs on a FIFO fails the test instead of hanging it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{
    KEY, OUTCOMES_OK, REWARDS_OK, Request, Server, Step, respond, run_in, spawn_in,
};
use serde_json::Value;

/// Generous bound for anything the binary is waited for.
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- helpers

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path and a plain mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A character device with /dev/null's numbers, made with mknod; `false`
/// (and a visible message) when not root, where mknod is not allowed.
fn mknod_null(path: &Path) -> bool {
    if !is_root() {
        eprintln!("SKIPPED: not root, cannot mknod {}", path.display());
        return false;
    }
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; makedev and mknod take plain values.
    let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(rc, 0, "mknod {}", path.display());
    true
}

/// A file of `size` bytes that takes no disk space.
fn sparse(path: &Path, size: u64) {
    File::create(path).unwrap().set_len(size).unwrap();
}

/// The hostile stand-ins for a file the tool reads, created in `dir`:
/// name, path, and the reason the tool must give.
fn not_files(dir: &Path, cap: &str) -> Vec<(&'static str, PathBuf, String)> {
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let huge = dir.join("huge");
    sparse(&huge, 256 * 1024 * 1024);
    let subdir = dir.join("subdir");
    std::fs::create_dir(&subdir).unwrap();
    vec![
        ("fifo", fifo, "is a FIFO, not a regular file".into()),
        (
            "/dev/zero",
            PathBuf::from("/dev/zero"),
            "is a character device, not a regular file".into(),
        ),
        (
            "directory",
            subdir,
            "is a directory, not a regular file".into(),
        ),
        ("256 MiB sparse file", huge, format!("is larger than {cap}")),
    ]
}

/// JSON objects, one per stdout line.
fn objects(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Waits for `child` at most [`WAIT`]; kills it and fails if it is still
/// running. Fails too if the key shows in its output, or it crashed.
fn finish(child: Child, what: &str) -> Output {
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(child.wait_with_output()));
    let Ok(output) = finished.recv_timeout(WAIT) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("{what}: still running after {WAIT:?}");
    };
    let output = output.unwrap();
    crate::common::assert_sound(&output, what);
    output
}

/// The binary with only `env`, in `dir`, stdin closed.
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ocd-cron"));
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null());
    cmd
}

/// A server that holds every answer until [`Gate::release`], so the test
/// decides when the binaries get their responses. Each connection is
/// answered with `body` (200), after `delay`.
struct Gate {
    url: String,
    arrived: mpsc::Receiver<Request>,
    open: Arc<(Mutex<bool>, Condvar)>,
}

impl Gate {
    fn start(status: u16, headers: &[(&str, &str)], body: &str, delay: Duration) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (arrive, arrived) = mpsc::channel();
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let (gate, body) = (open.clone(), body.as_bytes().to_vec());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (arrive, gate) = (arrive.clone(), gate.clone());
                let (headers, body) = (headers.clone(), body.clone());
                thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    let Ok(request) = crate::common::http::read_request(&mut reader) else {
                        return;
                    };
                    let _ = arrive.send(request);
                    let (lock, opened) = &*gate;
                    let guard = lock.lock().unwrap();
                    drop(opened.wait_while(guard, |open| !*open).unwrap());
                    // The server taking its time, not synchronisation.
                    thread::sleep(delay);
                    let _ = crate::common::http::write_response(
                        reader.get_mut(),
                        status,
                        &headers,
                        &body,
                    );
                });
            }
        });
        Gate { url, arrived, open }
    }

    /// The next request to arrive, within [`WAIT`].
    fn next(&self) -> Request {
        self.arrived
            .recv_timeout(WAIT)
            .expect("a request arrives in time")
    }

    fn release(&self) {
        let (lock, opened) = &*self.open;
        *lock.lock().unwrap() = true;
        opened.notify_all();
    }
}

fn env_with(url: &str) -> [(&str, &str); 2] {
    [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url)]
}

// ------------------------------------------------------- files it reads

#[test]
fn a_key_file_that_is_not_a_small_regular_file_is_refused_at_once() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    for (name, path, reason) in not_files(dir.path(), "64 KiB") {
        let path = path.to_str().unwrap();
        let run = run_in(
            dir.path(),
            &["--job", "rewards"],
            &[("INTERNAL_API_KEY_FILE", path), ("API_BASE_URL", &url)],
        );
        assert_eq!(run.code, 78, "{name}: {run:#?}");
        assert!(
            run.stderr.contains(&format!(
                "INTERNAL_API_KEY_FILE {path} (from the environment) {reason}"
            )),
            "{name}: {}",
            run.stderr
        );
        assert!(run.elapsed < Duration::from_secs(10), "{name}: {run:#?}");
    }
    assert_eq!(
        server.connections(),
        0,
        "nothing is sent with a bad key file"
    );
}

#[test]
fn an_env_file_that_is_not_a_small_regular_file_is_refused_at_once() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    for (name, path, reason) in not_files(dir.path(), "1 MiB") {
        let path = path.to_str().unwrap();
        let run = run_in(
            dir.path(),
            &["--job", "rewards", "--env-file", path],
            &env_with(&url),
        );
        assert_eq!(run.code, 78, "{name}: {run:#?}");
        assert!(
            run.stderr.contains(&format!("env file {path} {reason}")),
            "{name}: {}",
            run.stderr
        );
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_ca_bundle_that_is_not_a_small_regular_file_is_refused_at_once() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    for (name, path, reason) in not_files(dir.path(), "1 MiB") {
        let path = path.to_str().unwrap();
        for (args, env) in [
            (vec!["--job", "rewards", "--ca-cert", path], vec![]),
            (vec!["--job", "rewards"], vec![("OCD_CRON_CA_CERT", path)]),
        ] {
            let mut env = env;
            env.extend(env_with(&url));
            let run = run_in(dir.path(), &args, &env);
            assert_eq!(run.code, 78, "{name}: {run:#?}");
            assert!(
                run.stderr
                    .contains(&format!("--ca-cert / OCD_CRON_CA_CERT {path} {reason}")),
                "{name}: {}",
                run.stderr
            );
        }
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_default_env_that_is_not_a_regular_file_is_ignored() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let url = server.url();
    type Make = fn(&Path);
    let makers: [(&str, Make); 3] = [
        ("a directory", |p| std::fs::create_dir(p).unwrap()),
        ("a FIFO", mkfifo),
        // A symlink is followed: what it points at is judged.
        ("a character device", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
    ];
    for (what, make) in makers {
        let dir = tempfile::tempdir().unwrap();
        make(&dir.path().join(".env"));
        let run = run_in(dir.path(), &["--job", "rewards", "-v"], &env_with(&url));
        assert_eq!(run.code, 0, "{what}: {run:#?}");
        assert!(
            run.stderr
                .contains(&format!("./.env is {what}, not an env file; ignored")),
            "{what}: {}",
            run.stderr
        );
    }
    assert_eq!(server.requests().len(), 3);

    // A symlink to a private file of ours is read like the file.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("app.env");
    std::fs::write(&real, format!("INTERNAL_API_KEY={KEY}\n")).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join(".env")).unwrap();
    run_in(dir.path(), &["--job", "rewards"], &[("API_BASE_URL", &url)])
        .assert_code(0)
        .assert_stderr_lacks("WARN");
    let seen = server.requests();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].header("x-internal-api-key"), Some(KEY));
}

#[test]
fn the_apps_own_env_works_as_is_bom_and_empty_settings_included() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    std::fs::write(
        &env_file,
        format!(
            "\u{feff}INTERNAL_API_KEY={KEY}\nDATABASE_URL=postgres://x\nAPI_BASE_URL=\n\
             OCD_CRON_PING_URL=\nOCD_CRON_METRICS_FILE=\nOCD_CRON_CA_CERT=\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = run_in(dir.path(), &["--job", "rewards", "--dry-run"], &[]);
    run.assert_code(0);
    assert!(
        run.stdout
            .starts_with("POST http://localhost:3000/api/training/calculate-pending\n"),
        "the default base URL applies: {}",
        run.stdout
    );
    // An empty variable in the environment does not hide the file's value.
    std::fs::write(
        &env_file,
        format!("INTERNAL_API_KEY={KEY}\nAPI_BASE_URL=http://from-file:1\n"),
    )
    .unwrap();
    let run = run_in(
        dir.path(),
        &["--job", "rewards", "--dry-run"],
        &[("API_BASE_URL", "")],
    );
    run.assert_code(0);
    assert!(run.stdout.contains("http://from-file:1/"), "{}", run.stdout);
    // The key is no optional setting: empty is an error.
    let run = run_in(
        dir.path(),
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", "")],
    );
    run.assert_code(78);
    run.assert_stderr_contains("is empty");
}

// ------------------------------------------------------ files it writes

/// Runs rewards against a fresh server with `--metrics-file path`.
fn run_with_metrics(dir: &Path, path: &Path) -> crate::common::Run {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let url = server.url();
    let run = run_in(
        dir,
        &["--job", "rewards", "--metrics-file", path.to_str().unwrap()],
        &env_with(&url),
    );
    assert_eq!(server.requests().len(), 1);
    run
}

#[test]
fn a_regular_file_that_is_not_a_metrics_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let app_env = dir.path().join("app.env");
    let content = "DATABASE_URL=postgres://u:p@h/db\n";
    std::fs::write(&app_env, content).unwrap();
    std::fs::set_permissions(&app_env, std::fs::Permissions::from_mode(0o600)).unwrap();
    run_with_metrics(dir.path(), &app_env)
        .assert_code(0)
        .assert_stderr_contains("is not an ocd-cron metrics file");
    assert_eq!(std::fs::read_to_string(&app_env).unwrap(), content);
    let mode = std::fs::metadata(&app_env).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "its mode is untouched too");
}

#[test]
fn an_oversized_metrics_file_is_left_alone() {
    // Ours by its first line, but over the cap: not read, not replaced.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ocd.prom");
    let mut file = File::create(&path).unwrap();
    std::io::Write::write_all(&mut file, b"# HELP ocd_cron_last_run_timestamp_seconds x\n")
        .unwrap();
    file.set_len(256 * 1024 * 1024).unwrap();
    run_with_metrics(dir.path(), &path)
        .assert_code(0)
        .assert_stderr_contains(&format!(
            "cannot write the metrics file {}: it is larger than 1 MiB; nothing was written",
            path.display()
        ));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 256 * 1024 * 1024);
}

#[test]
fn a_metrics_path_that_is_not_a_regular_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("link.prom");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let fifo = dir.path().join("fifo.prom");
    mkfifo(&fifo);
    let subdir = dir.path().join("dir.prom");
    std::fs::create_dir(&subdir).unwrap();
    for (path, what) in [
        (&link, "a symlink"),
        (&fifo, "a FIFO"),
        (&subdir, "a directory"),
    ] {
        let run = run_with_metrics(dir.path(), path);
        assert_eq!(run.code, 0, "the job's status stands: {run:#?}");
        assert!(
            run.stderr.contains(&format!(
                "cannot write the metrics file {}: it is {what}, not a regular file; nothing was written",
                path.display()
            )),
            "{what}: {}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(subdir.is_dir());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "no temporary file is left behind"
    );
}

#[test]
fn a_device_node_at_the_metrics_path_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("null.prom");
    if !mknod_null(&node) {
        return;
    }
    let run = run_with_metrics(dir.path(), &node);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("it is a character device, not a regular file; nothing was written"),
        "{}",
        run.stderr
    );
    let meta = std::fs::symlink_metadata(&node).unwrap();
    assert!(meta.file_type().is_char_device(), "still the device node");
}

#[test]
fn a_symlink_planted_at_the_old_temporary_name_is_not_followed() {
    // The old name was `.NAME.PID.tmp`: once the run is waiting for its
    // answer, its PID is known and the link can be planted in time.
    let gate = Gate::start(200, &[], REWARDS_OK, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd.prom");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let running = spawn_in(
        dir.path(),
        &[
            "--job",
            "rewards",
            "--metrics-file",
            metrics.to_str().unwrap(),
        ],
        &env_with(&gate.url),
    );
    gate.next();
    let planted = dir.path().join(format!(".ocd.prom.{}.tmp", running.pid()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    gate.release();
    let run = running.finish();
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("ocd_cron_last_exit_code{job=\"rewards\"} 0\n"),
        "{text}"
    );
    assert!(
        !std::fs::symlink_metadata(&metrics)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn the_metrics_file_is_world_readable_under_a_strict_umask() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd.prom");
    let url = server.url();
    // `sh` sets the umask, then becomes the binary: `UMask=0077` in a unit.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "umask 077 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_ocd-cron"),
        "--job",
        "rewards",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ])
    .env_clear()
    .envs(env_with(&url))
    .current_dir(dir.path())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let output = finish(cmd.spawn().unwrap(), "umask 077");
    assert!(output.status.success(), "{output:?}");
    let mode = std::fs::metadata(&metrics).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
}

#[test]
fn two_runs_finishing_together_keep_each_others_series() {
    for round in 0..5 {
        // One server for both jobs; both answers are held until both runs
        // are waiting, then released together, so the updates overlap.
        let rewards = Gate::start(200, &[], REWARDS_OK, Duration::ZERO);
        let outcomes = Gate::start(200, &[], OUTCOMES_OK, Duration::ZERO);
        let dir = tempfile::tempdir().unwrap();
        let metrics = dir.path().join("ocd_cron.prom");
        let path = metrics.to_str().unwrap();
        let first = spawn_in(
            dir.path(),
            &["--job", "rewards", "--metrics-file", path],
            &env_with(&rewards.url),
        );
        let second = spawn_in(
            dir.path(),
            &["--job", "outcomes", "--metrics-file", path],
            &env_with(&outcomes.url),
        );
        rewards.next();
        outcomes.next();
        rewards.release();
        outcomes.release();
        let (first, second) = (first.finish(), second.finish());
        assert_eq!((first.code, second.code), (0, 0), "{first:#?}\n{second:#?}");
        let text = std::fs::read_to_string(&metrics).unwrap();
        for job in ["rewards", "outcomes"] {
            for metric in [
                "ocd_cron_last_run_timestamp_seconds",
                "ocd_cron_last_success_timestamp_seconds",
                "ocd_cron_last_exit_code",
                "ocd_cron_last_duration_seconds",
                "ocd_cron_last_processed",
                "ocd_cron_last_item_errors",
            ] {
                assert!(
                    text.contains(&format!("{metric}{{job=\"{job}\"}} ")),
                    "round {round}: {metric} of {job} lost:\n{text}"
                );
            }
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "round {round}: nothing but the metrics file is left"
        );
    }
}

// ------------------------------------------------- output that is true

#[test]
fn an_interrupted_job_reports_what_it_did() {
    // A 503 with a long Retry-After, answered after 300 ms: the run is
    // sleeping before its second attempt when the signal comes.
    let gate = Gate::start(
        503,
        &[("retry-after", "30")],
        "",
        Duration::from_millis(300),
    );
    gate.release();
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(
        dir.path(),
        &["--job", "rewards", "--timeout", "60s", "--output", "json"],
        &env_with(&gate.url),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let request = gate.next();
    // The retry warning is logged once the status is known.
    let (line, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = line.send(l);
        }
    });
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("retrying in")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("no retry warning in time: {seen:#?}");
            }
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = finish(child, "interrupted run");
    assert_eq!(output.status.code(), Some(143), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let objects = objects(&stdout);
    assert_eq!(objects.len(), 1, "{stdout}");
    let o = &objects[0];
    assert_eq!(o["exit_code"], 143);
    assert_eq!(o["attempts"], 1, "{o}");
    assert_eq!(o["http_status"], 503, "{o}");
    assert_eq!(
        o["request_id"].as_str(),
        request.header("idempotency-key"),
        "the id that was sent: {o}"
    );
    assert!(o["duration_ms"].as_u64().unwrap() >= 300, "{o}");
    assert!(
        o["error"]
            .as_str()
            .unwrap()
            .starts_with("interrupted by SIGTERM while waiting"),
        "{o}"
    );
}

#[test]
fn an_interrupted_job_all_reports_each_job_once() {
    let server = Server::start(vec![respond(200, REWARDS_OK), Step::Hang]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let running = spawn_in(
        dir.path(),
        &["--job", "all", "--timeout", "60s", "--output", "json"],
        &env_with(&url),
    );
    // The second request means rewards has ended and outcomes is in flight.
    server.wait_for_requests(2, WAIT);
    running.signal("INT");
    let run = running.finish();
    run.assert_code(130);
    let objects = objects(&run.stdout);
    assert_eq!(objects.len(), 2, "{}", run.stdout);
    let requests = server.requests();
    assert_eq!(objects[0]["job"], "rewards");
    assert_eq!(objects[0]["exit_code"], 0);
    assert_eq!(objects[1]["job"], "outcomes");
    assert_eq!(objects[1]["exit_code"], 130);
    assert_eq!(objects[1]["attempts"], 1, "{}", objects[1]);
    assert!(objects[1]["http_status"].is_null(), "no answer came");
    assert_eq!(
        objects[1]["request_id"].as_str(),
        requests[1].header("idempotency-key")
    );
    assert_eq!(
        run.stderr.matches("interrupted by SIGINT").count(),
        1,
        "one log line: {}",
        run.stderr
    );
}

/// A signal while the first job of `--job all` waits: each job's line and
/// record names that job and its own URL, never `all:` or the other's URL.
#[test]
fn an_interrupted_job_all_names_each_job_and_its_own_url() {
    let server = Server::start(vec![Step::Hang]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let running = spawn_in(
        dir.path(),
        &["--job", "all", "--timeout", "60s", "--output", "json"],
        &env_with(&url),
    );
    server.wait_for_requests(1, WAIT);
    running.signal("TERM");
    let run = running.finish();
    run.assert_code(143)
        .assert_stderr_contains(&format!(
            "ERROR] rewards: interrupted by SIGTERM while waiting for {url}/api/training/calculate-pending (attempt 1/3)"
        ))
        .assert_stderr_contains(&format!(
            "ERROR] outcomes: interrupted by SIGTERM before this job started (nothing was sent to {url}/api/training/outcomes)"
        ))
        .assert_stderr_lacks("all: ");
    let objects = objects(&run.stdout);
    assert_eq!(objects.len(), 2, "{}", run.stdout);
    assert_eq!(objects[1]["job"], "outcomes");
    assert_eq!(objects[1]["exit_code"], 143);
    let error = objects[1]["error"].as_str().unwrap();
    assert!(error.contains("/api/training/outcomes"), "{error}");
    assert!(!error.contains("calculate-pending"), "{error}");
    server.assert_requests(1);
}

/// Runs the binary with stdout on `/dev/full`.
fn run_into_dev_full(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let full = File::options().write(true).open("/dev/full").unwrap();
    let child = command(dir, args, env)
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child, "stdout on /dev/full")
}

#[test]
fn a_result_lost_on_a_full_stdout_is_exit_74_unless_the_run_failed() {
    let ok = Server::start(vec![respond(200, REWARDS_OK)]);
    let refused = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let says = "cannot write to stdout (No space left on device";
    for (server, args, code) in [
        (&ok, vec!["--job", "rewards", "--output", "json"], 74),
        (&ok, vec!["--job", "rewards", "--dry-run"], 74),
        (&refused, vec!["--job", "rewards", "--output", "json"], 77),
    ] {
        let output = run_into_dev_full(dir.path(), &args, &env_with(&server.url()));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // Text mode prints nothing for a run, so nothing is lost.
    let output = run_into_dev_full(dir.path(), &["--job", "rewards"], &env_with(&ok.url()));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    for args in [["--help"], ["--version"]] {
        let output = run_into_dev_full(dir.path(), &args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(74), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn a_reader_that_went_away_changes_nothing() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["--job", "rewards", "--output", "json"], vec!["--help"]] {
        // `| head -0`: the reading end is closed before anything is written.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = command(dir.path(), &args, &env_with(&server.url()))
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = finish(child, "closed pipe");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("stdout"), "{args:?}: {stderr}");
    }
}

// ------------------------------------------------- the dry run's lock check

#[test]
fn a_dry_run_checks_the_lock_file_without_taking_it() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("INTERNAL_API_KEY", KEY)];
    let dry = |lock: &Path| {
        run_in(
            dir.path(),
            &[
                "--job",
                "rewards",
                "--dry-run",
                "--lock-file",
                lock.to_str().unwrap(),
            ],
            &env,
        )
    };
    let unusable = dir.path().join("no-such-dir/ocd.lock");
    let run = dry(&unusable);
    run.assert_code(78);
    assert!(
        run.stderr.contains(&format!(
            "--lock-file {} cannot be created: its directory {} does not exist; use one lock file per job in a directory only the job's user can write, e.g. --lock-file=/var/lib/ocd-cron/rewards.lock",
            unusable.display(),
            unusable.parent().unwrap().display()
        )),
        "{}",
        run.stderr
    );
    let link = dir.path().join("link.lock");
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), &link).unwrap();
    let run = dry(&link);
    run.assert_code(78);
    run.assert_stderr_contains("is a symlink, which is refused");
    assert!(!dir.path().join("elsewhere").exists());
    // A device or a FIFO is refused before it is opened, and never blocks.
    let fifo = dir.path().join("fifo.lock");
    mkfifo(&fifo);
    for (path, is) in [
        (Path::new("/dev/null"), "a character device"),
        (fifo.as_path(), "a FIFO"),
    ] {
        dry(path)
            .assert_code(78)
            .assert_stderr_contains(&format!("is {is}, not a regular file"));
    }

    // A lock held by a real run: the dry run still passes, and does not
    // disturb it.
    let lock = dir.path().join("ocd.lock");
    let hang = Server::start(vec![Step::Hang]);
    let real = spawn_in(
        dir.path(),
        &[
            "--job",
            "rewards",
            "--timeout",
            "60s",
            "--lock-file",
            lock.to_str().unwrap(),
        ],
        &env_with(&hang.url()),
    );
    hang.wait_for_requests(1, WAIT);
    let run = dry(&lock);
    run.assert_code(0);
    real.signal("TERM");
    assert_eq!(real.finish().code, 143);

    // A dry run creates the lock file as a real run would, 0600.
    let fresh = dir.path().join("fresh.lock");
    assert_eq!(dry(&fresh).code, 0);
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // ...and a real run after it takes the lock as usual.
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_in(
        dir.path(),
        &["--job", "rewards", "--lock-file", fresh.to_str().unwrap()],
        &env_with(&server.url()),
    );
    run.assert_code(0);
}
