//! Faults and hostile conditions, injected for real: TLS, proxies, overlapping
//! runs, signals, key files, memory under a huge body, many runs at once.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{KEY, REWARDS_OK, Server, Step, respond, run, run_against, run_in, spawn_in, test_ca};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn https_with_an_unknown_ca_fails_as_a_certificate_problem() {
    let server = Server::start_tls(vec![respond(200, REWARDS_OK)]);
    let url = server.localhost_url();
    let run = run(
        &["--job", "rewards"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    assert_eq!(run.code, 69, "{run:#?}");
    assert!(
        run.stderr
            .contains("TLS certificate problem with localhost"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    assert_eq!(
        server.requests().len(),
        0,
        "no request crossed an untrusted connection"
    );
    assert_eq!(
        server.connections(),
        1,
        "a certificate problem is not retried"
    );
}

#[test]
fn https_with_the_test_ca_succeeds() {
    let server = Server::start_tls(vec![respond(200, REWARDS_OK)]);
    let url = server.localhost_url();
    let ca = test_ca();
    let run = run(
        &["--job", "rewards", "--ca-cert", &ca],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(server.requests()[0].header("x-internal-api-key"), Some(KEY));
    // The same through the environment variable.
    let run = common::run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("OCD_CRON_CA_CERT", &ca),
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
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
        let run = run_against(
            &server,
            &["--job", "rewards", "--ca-cert", path.to_str().unwrap()],
        );
        assert_eq!(run.code, 78, "{run:#?}");
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
    assert_eq!(server.connections(), 0);
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
    let run = run(&["--job", "rewards"], &env);
    assert_eq!(run.code, 0, "{run:#?}");
    let seen = proxy.requests();
    assert_eq!(
        seen.len(),
        2,
        "CONNECT, then the request through the tunnel"
    );
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].path, format!("127.0.0.1:{}", server.port()));
    assert_eq!(seen[1].path, "/api/training/calculate-pending");
    assert_eq!(server.connections(), 0);

    let mut bypass = env.to_vec();
    bypass.push(("NO_PROXY", "localhost,127.0.0.1"));
    let run = common::run(&["--job", "rewards"], &bypass);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(proxy.connections(), 1, "NO_PROXY went direct");
    assert_eq!(server.requests().len(), 1);
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
    let second = run_in(dir.path(), &["--job", "rewards", "--lock-file", lock], &env);
    assert_eq!(second.code, 75, "{second:#?}");
    assert!(
        second
            .stderr
            .contains(&format!("another ocd-cron run holds the lock file {lock}")),
        "{}",
        second.stderr
    );
    assert_eq!(fast.connections(), 0, "the second run sent nothing");

    first.signal("TERM");
    assert_eq!(first.finish().code, 143);
    let later = run_in(dir.path(), &["--job", "rewards", "--lock-file", lock], &env);
    assert_eq!(
        later.code, 0,
        "the lock was released with the process: {later:#?}"
    );
    assert_eq!(fast.requests().len(), 1);
    assert_eq!(slow.requests().len(), 1);
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
    let run = running.finish();
    assert_eq!(run.code, 143, "{run:#?}");
    assert!(
        run.stderr.contains(&format!("rewards: interrupted by SIGTERM while waiting for {url}/api/training/calculate-pending (attempt 1/3)")),
        "{}",
        run.stderr
    );
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "stopped promptly: {:?}",
        sent.elapsed()
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn sigint_during_a_retry_wait_exits_130() {
    let server = Server::start(vec![common::respond_with(
        503,
        &[("retry-after", "30")],
        "",
    )]);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let running = spawn_in(
        dir.path(),
        &["--job", "outcomes", "--timeout", "60s"],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)],
    );
    server.wait_for_requests(1, WAIT);
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 130, "{run:#?}");
    assert!(
        run.stderr
            .contains("outcomes: interrupted by SIGINT while waiting"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(20),
        "did not sit out the 30 s wait: {:?}",
        run.elapsed
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn key_file_is_read_and_trimmed() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("internal-api-key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    set_mode(&key_file, 0o600);
    let url = server.url();
    let run = run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY_FILE", key_file.to_str().unwrap()),
            ("API_BASE_URL", &url),
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        !run.stderr.contains("WARN"),
        "a private key file is not warned about: {}",
        run.stderr
    );
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
            "INTERNAL_API_KEY_FILE",
        ),
    ] {
        let mut env = env.clone();
        env.push(("API_BASE_URL", &url));
        let run = run(&["--job", "rewards"], &env);
        assert_eq!(run.code, 78, "{run:#?}");
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn loose_permissions_and_plain_http_to_a_remote_host_are_warned_about() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    set_mode(&key_file, 0o644);
    let run = run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY_FILE", key_file.to_str().unwrap()),
            ("API_BASE_URL", &url),
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .contains("is readable by group or others (mode 0644); chmod 600 it"),
        "{}",
        run.stderr
    );

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
    let run = common::run(&["--job", "rewards", "--env-file", env_path], &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .contains("app.env holds the key and is readable by group or others (mode 0604)"),
        "{}",
        run.stderr
    );
    set_mode(&env_file, 0o640);
    let run = common::run(&["--job", "rewards", "--env-file", env_path], &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        !run.stderr.contains("WARN"),
        "our own group may read it: {}",
        run.stderr
    );

    // A remote http host gets a warning, even though the run then fails here.
    let remote = common::run(
        &[
            "--job",
            "rewards",
            "--base-url",
            "http://ocd.invalid",
            "--retries",
            "0",
        ],
        &[("INTERNAL_API_KEY", KEY)],
    );
    assert!(
        remote
            .stderr
            .contains("the key travels unencrypted over http to ocd.invalid"),
        "{}",
        remote.stderr
    );
    assert_eq!(remote.code, 69, "{remote:#?}");
}

#[test]
fn a_64_mib_body_is_refused_with_little_memory() {
    let server = Server::start(vec![Step::Huge { length: 64 << 20 }]);
    let run = run_against(&server, &["--job", "rewards"]);
    assert_eq!(run.code, 76, "{run:#?}");
    assert!(run.stderr.contains("a body over 1 MiB"), "{}", run.stderr);
    assert_eq!(server.requests().len(), 1);
    // The largest resident set of any child this test process has waited
    // for so far: an upper bound for this run.
    // SAFETY: rusage is plain integers (all-zero is valid), and getrusage
    // fills the one struct it is given.
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_maxrss
    };
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
    for run in running.into_iter().map(|r| r.finish()) {
        assert_eq!(run.code, 0, "{run:#?}");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 100);
    let ids: HashSet<_> = requests
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 100, "every run has its own Idempotency-Key");
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
