//! Faults and hostile conditions, injected for real: TLS, proxies, overlapping
//! runs, signals, key files, memory under a huge body, many runs at once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::{
    KEY, REWARDS_OK, Server, Step, respond, respond_with, run, run_adjusted, run_against, run_in,
    spawn_in, test_ca,
};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn https_with_an_unknown_ca_fails_as_a_certificate_problem() {
    let server = Server::start_tls(vec![respond(200, REWARDS_OK)]);
    let url = server.localhost_url();
    run(
        &["--job", "rewards"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    )
    .assert_code(69)
    .assert_stderr_contains("TLS certificate problem with localhost")
    .assert_stderr_contains("certificate");
    server.assert_requests(0); // no request crossed an untrusted connection
    server.assert_connections(1); // a certificate problem is not retried
}

/// An `https://` URL on a plain-http port: the server answers the TLS hello
/// with `400` in plain HTTP, as Node does. That can never work, so it is
/// said at once, without retries, and no request (nor the key) was sent.
#[test]
fn https_to_a_plain_http_port_says_the_port_speaks_http() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let url = format!("https://127.0.0.1:{}", server.port());
    run(
        &["--job", "rewards"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    )
    .assert_code(69)
    .assert_stderr_contains(&format!(
        "{url}/api/training/calculate-pending answered the TLS handshake in plain HTTP: this port speaks http, not https; use http://"
    ))
    .assert_stderr_lacks("certificate");
    server.assert_requests(0);
    server.assert_connections(1);
}

/// A server that closes the connection on the TLS hello without a word
/// (some http-only servers do): retried, as a closed connection may be a
/// restart, and the error says what to check.
#[test]
fn https_to_a_port_that_closes_on_the_hello_hints_at_http() {
    use std::io::Read;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            // The whole hello record (a 5-byte header with its length), so
            // that closing sends FIN, not the RST that unread data causes.
            let mut header = [0; 5];
            if stream.read_exact(&mut header).is_ok() {
                let length = u16::from_be_bytes([header[3], header[4]]);
                let _ = stream.read_exact(&mut vec![0; usize::from(length)]);
            }
        }
    });
    let url = format!("https://127.0.0.1:{port}");
    run(
        &["--job", "rewards", "--retries", "1"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    )
    .assert_code(69)
    .assert_stderr_contains(
        "the server closed the connection before the answer was complete (if this port speaks http, not https, use http://)",
    );
    assert_eq!(connections.load(Ordering::SeqCst), 2, "retried once");
}

#[test]
fn https_with_the_test_ca_succeeds() {
    let server = Server::start_tls(vec![respond(200, REWARDS_OK)]);
    let url = server.localhost_url();
    let ca = test_ca();
    run(
        &["--job", "rewards", "--ca-cert", &ca],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    )
    .assert_code(0);
    assert_eq!(server.requests()[0].header("x-internal-api-key"), Some(KEY));
    // The same through the environment variable.
    run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("OCD_CRON_CA_CERT", &ca),
        ],
    )
    .assert_code(0);
}

#[test]
fn a_ca_bundle_without_certificates_is_a_config_error() {
    let server = Server::start(vec![respond(200, "{}")]);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (path, says) in [
        (&empty, "empty.pem contains no certificate"),
        (&missing, "missing.pem cannot be read"),
    ] {
        run_against(
            &server,
            &["--job", "rewards", "--ca-cert", path.to_str().unwrap()],
        )
        .assert_code(78)
        .assert_stderr_contains(says);
    }
    server.assert_connections(0);
}

#[test]
fn http_proxy_carries_the_request_and_no_proxy_bypasses_it() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let proxy = Server::start(vec![Step::Tunnel(Box::new(respond(200, REWARDS_OK)))]);
    let (url, proxy_url) = (server.url(), proxy.url());
    let env = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", url.as_str()),
        ("http_proxy", proxy_url.as_str()),
    ];
    run(&["--job", "rewards"], &env).assert_code(0);
    let seen = proxy.assert_requests(2); // CONNECT, then the request through the tunnel
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].path, format!("127.0.0.1:{}", server.port()));
    assert_eq!(seen[1].path, "/api/training/calculate-pending");
    server.assert_connections(0);

    let mut bypass = env.to_vec();
    bypass.push(("NO_PROXY", "localhost,127.0.0.1"));
    run(&["--job", "rewards"], &bypass).assert_code(0);
    proxy.assert_connections(1); // NO_PROXY went direct
    server.assert_requests(1);
}

#[test]
fn overlapping_runs_with_one_lock_file() {
    let slow = Server::start(vec![Step::Hang]);
    let fast = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("ocd-cron.lock");
    let lock = lock.to_str().unwrap();
    let slow_url = slow.url();
    let first = spawn_in(
        dir.path(),
        &["--job", "rewards", "--lock-file", lock, "--timeout", "60s"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &slow_url)],
    );
    // Once the first run's request has arrived, it holds the lock.
    slow.wait_for_requests(1, WAIT);

    let fast_url = fast.url();
    let env = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", fast_url.as_str()),
    ];
    run_in(dir.path(), &["--job", "rewards", "--lock-file", lock], &env)
        .assert_code(75)
        .assert_stderr_contains(&format!("another ocd-cron run holds the lock file {lock}"));
    fast.assert_connections(0); // the second run sent nothing

    first.signal("TERM");
    first.finish().assert_code(143);
    // The lock was released with the process.
    run_in(dir.path(), &["--job", "rewards", "--lock-file", lock], &env).assert_code(0);
    fast.assert_requests(1);
    slow.assert_requests(1);
}

#[test]
fn sigterm_while_waiting_for_the_server_exits_143_at_once() {
    let server = Server::start(vec![Step::Hang]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let running = spawn_in(
        dir.path(),
        &["--job", "rewards", "--timeout", "60s"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    server.wait_for_requests(1, WAIT);
    let sent = Instant::now();
    running.signal("TERM");
    running
        .finish()
        .assert_code(143)
        .assert_stderr_contains(&format!("rewards: interrupted by SIGTERM while waiting for {url}/api/training/calculate-pending (attempt 1/3)"));
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "stopped promptly: {:?}",
        sent.elapsed()
    );
    server.assert_requests(1);
}

#[test]
fn sigint_during_a_retry_wait_exits_130() {
    let server = Server::start(vec![respond_with(503, &[("retry-after", "30")], "")]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let running = spawn_in(
        dir.path(),
        &["--job", "outcomes", "--timeout", "60s"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    server.wait_for_requests(1, WAIT);
    running.signal("INT");
    running
        .finish()
        .assert_code(130)
        .assert_stderr_contains("outcomes: interrupted by SIGINT while waiting")
        .assert_ended_within(Duration::from_secs(20)); // did not sit out the 30 s wait
    server.assert_requests(1);
}

#[test]
fn key_file_is_read_and_trimmed() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("internal-api-key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    set_mode(&key_file, 0o600);
    let url = server.url();
    run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY_FILE", key_file.to_str().unwrap()),
            ("API_BASE_URL", &url),
        ],
    )
    .assert_code(0)
    .assert_stderr_lacks("WARN"); // a private key file is not warned about
    assert_eq!(server.requests()[0].header("x-internal-api-key"), Some(KEY));
}

#[test]
fn key_file_problems_are_config_errors() {
    let server = Server::start(vec![respond(200, "{}")]);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let key_path = key_file.to_str().unwrap();
    let missing = dir.path().join("nope");
    let url = server.url();
    for (env, says) in [
        (
            vec![
                ("INTERNAL_API_KEY", KEY),
                ("INTERNAL_API_KEY_FILE", key_path),
            ],
            "both INTERNAL_API_KEY and INTERNAL_API_KEY_FILE are set (from the environment); drop one",
        ),
        (
            vec![("INTERNAL_API_KEY_FILE", missing.to_str().unwrap())],
            &format!(
                "INTERNAL_API_KEY_FILE {} (from the environment) cannot be read",
                missing.display()
            ),
        ),
    ] {
        let mut env = env.clone();
        env.push(("API_BASE_URL", &url));
        run(&["--job", "rewards"], &env)
            .assert_code(78)
            .assert_stderr_contains(says);
    }
    server.assert_connections(0);
}

#[test]
fn loose_permissions_and_plain_http_to_a_remote_host_are_warned_about() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    set_mode(&key_file, 0o644);
    run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY_FILE", key_file.to_str().unwrap()),
            ("API_BASE_URL", &url),
        ],
    )
    .assert_code(0)
    .assert_stderr_contains("is readable by any user (mode 0644); chmod 600 it");

    // An env file holding the key and readable by others gets the same
    // warning; one readable only by our own group (fsGroup, a service's
    // group) does not.
    let env_file = dir.path().join("app.env");
    std::fs::write(
        &env_file,
        format!("API_BASE_URL={url}\nINTERNAL_API_KEY={KEY}\n"),
    )
    .unwrap();
    let env_path = env_file.to_str().unwrap();
    set_mode(&env_file, 0o604);
    run(&["--job", "rewards", "--env-file", env_path], &[])
        .assert_code(0)
        .assert_stderr_contains("app.env holds the key and is readable by any user (mode 0604)");
    set_mode(&env_file, 0o640);
    run(&["--job", "rewards", "--env-file", env_path], &[])
        .assert_code(0)
        .assert_stderr_lacks("WARN"); // our own group may read it

    // A remote http host (a compose service, say) is a fact of the
    // deployment: the dry run warns, a run says it only at -v, so that -q
    // leaves cron's mail to failures.
    let remote = |extra: &'static str| {
        run(
            &[
                "--job",
                "rewards",
                "--base-url",
                "http://ocd.invalid",
                "--retries",
                "0",
                extra,
            ],
            &[("INTERNAL_API_KEY", KEY)],
        )
    };
    let warning = "the key travels unencrypted over http to ocd.invalid";
    remote("--dry-run")
        .assert_code(0)
        .assert_stderr_contains(&format!("WARN ] rewards: {warning}"));
    remote("--timeout=1m")
        .assert_code(69)
        .assert_stderr_lacks("unencrypted");
    remote("-v")
        .assert_code(69)
        .assert_stderr_contains(&format!("DEBUG] rewards: {warning}"));
}

#[test]
fn the_body_limit_is_exactly_1_mib() {
    // A valid answer padded with whitespace to the limit, and one byte over.
    let limit = 1024 * 1024;
    let padded = |length: usize| REWARDS_OK.to_string() + &" ".repeat(length - REWARDS_OK.len());
    let server = Server::start(vec![respond(200, &padded(limit))]);
    run_against(&server, &["--job", "rewards"]).assert_code(0);
    let server = Server::start(vec![respond(200, &padded(limit + 1))]);
    run_against(&server, &["--job", "rewards"])
        .assert_code(76)
        .assert_stderr_contains("a body over 1 MiB");
}

#[test]
fn a_64_mib_body_is_refused_with_little_memory() {
    let server = Server::start(vec![Step::Huge { length: 64 << 20 }]);
    run_against(&server, &["--job", "rewards"])
        .assert_code(76)
        .assert_stderr_contains("a body over 1 MiB");
    server.assert_requests(1);
    // The same run once more, reaped with wait4 so the peak resident set
    // is this child's alone, whatever else the test binary runs meanwhile.
    let url = server.url();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped below by wait4, for its rusage"
    )]
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args(["--job", "rewards", "--quiet"])
        .env_clear()
        .envs([("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start ocd-cron");
    let pid = child.id() as libc::pid_t;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: rusage is plain integers, for which all-zero is valid.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 writes one status and one rusage into the valid,
        // exclusively borrowed buffers; `pid` is our own unreaped child.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4 failed");
        if reaped == pid {
            break (status, usage);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ocd-cron still running after 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(libc::WIFEXITED(status), "ended by a signal: {status}");
    assert_eq!(libc::WEXITSTATUS(status), 76, "exit status");
    let peak_kib = usage.ru_maxrss;
    assert!(
        peak_kib < 32 * 1024,
        "peak RSS {peak_kib} KiB: the body was buffered"
    );
}

#[test]
fn a_hundred_runs_at_once() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
    let running: Vec<_> = (0..100)
        .map(|_| spawn_in(dir.path(), &["--job", "rewards", "-q"], &env))
        .collect();
    for running in running {
        running.finish().assert_code(0);
    }
    let requests = server.assert_requests(100);
    let ids: HashSet<_> = requests
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 100, "every run has its own Idempotency-Key");
}

#[test]
fn a_key_file_readable_by_a_supplementary_group_of_ours_draws_no_warning() {
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED the supplementary group check: only root can set a process's groups");
        return;
    }
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    set_mode(&key_file, 0o640);
    // Neither the effective group (root's, 0) nor, at first, a supplementary one.
    let group: u32 = 4242;
    std::os::unix::fs::chown(&key_file, None, Some(group)).unwrap();
    let env = [
        ("INTERNAL_API_KEY_FILE", key_file.to_str().unwrap()),
        ("API_BASE_URL", &server.url()),
    ];
    let args = ["--job", "rewards"];
    run(&args, &env)
        .assert_code(0)
        .assert_stderr_contains("readable by group 4242, which this process is not in");
    // A service's SupplementaryGroups=, or Kubernetes' fsGroup.
    run_adjusted(&args, &env, |command| {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec the child only makes one system
        // call, which allocates nothing and takes no lock.
        unsafe {
            command.pre_exec(move || {
                if libc::setgroups(1, &group) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    })
    .assert_code(0)
    .assert_stderr_lacks("WARN");
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
