//! What ocd-cron sends, and where: method, path, headers, body, and the
//! precedence of flags, environment and env file.

use crate::common::{KEY, OUTCOMES_OK, REWARDS_OK, Server, respond, run, run_against, run_in};

#[test]
fn rewards_posts_the_contract_request() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let run = run_against(&server, &["--job=rewards"]);
    run.assert_code(0);
    let requests = server.assert_requests(1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/training/calculate-pending");
    assert_eq!(r.header("x-internal-api-key"), Some(KEY));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("ocd-cron/", env!("CARGO_PKG_VERSION")))
    );
    let id = r.header("idempotency-key").expect("an Idempotency-Key");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(&id[14..15], "4", "a UUID v4: {id}");
    assert_eq!(r.body_text(), "{}");
    let traceparent = r.header("traceparent").expect("a traceparent");
    let trace = &traceparent[3..35];
    run.assert_stderr_contains("rewards: processed 42, errors 0 (HTTP 200, ")
        .assert_stderr_contains(&format!(
            "attempt 1/3, request {id}, trace {trace}): Processed 42 decisions, 0 errors"
        ));
}

#[test]
fn outcomes_with_limit_posts_the_batch_size() {
    let server = Server::start(vec![respond(200, OUTCOMES_OK)]);
    let run = run_against(&server, &["-j", "outcomes", "--limit", "50"]);
    run.assert_code(0);
    let r = &server.requests()[0];
    assert_eq!(r.path, "/api/training/outcomes");
    assert_eq!(r.body_text(), r#"{"limit":50}"#);
    run.assert_stderr_contains("outcomes: processed 7, errors 0");
}

#[test]
fn base_url_path_prefix_is_kept() {
    let server = Server::start(vec![respond(200, "{}")]);
    let base = format!("{}/ocd/", server.url());
    run(
        &["--job", "outcomes", "--base-url", &base],
        &[("INTERNAL_API_KEY", KEY)],
    )
    .assert_code(0);
    assert_eq!(server.requests()[0].path, "/ocd/api/training/outcomes");
}

#[test]
fn dot_env_in_the_working_directory_is_read() {
    let server = Server::start(vec![respond(200, "{}")]);
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    std::fs::write(
        &env_file,
        format!(
            "# the app's own .env\nDATABASE_URL=postgresql://unused\nINTERNAL_API_KEY={KEY}\nAPI_BASE_URL={}\n",
            server.url()
        ),
    )
    .unwrap();
    // Whatever the umask: a group- or world-writable ./.env is ignored.
    std::fs::set_permissions(
        &env_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    run_in(dir.path(), &["--job", "rewards"], &[]).assert_code(0);
    assert_eq!(server.requests()[0].header("x-internal-api-key"), Some(KEY));
}

#[test]
fn environment_beats_env_file_and_flag_beats_both() {
    let from_file = Server::start(vec![respond(200, "{}")]);
    let from_env = Server::start(vec![respond(200, "{}")]);
    let from_flag = Server::start(vec![respond(200, "{}")]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ocd.env");
    std::fs::write(
        &file,
        format!(
            "INTERNAL_API_KEY=file-key\nAPI_BASE_URL={}\n",
            from_file.url()
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let env_url = from_env.url();
    run(
        &["--job", "rewards", "--env-file", file],
        &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &env_url)],
    )
    .assert_code(0);
    from_file.assert_connections(0);
    assert_eq!(
        from_env.requests()[0].header("x-internal-api-key"),
        Some(KEY)
    );

    let flag_url = from_flag.url();
    run(
        &[
            "--job",
            "rewards",
            "--env-file",
            file,
            "--base-url",
            &flag_url,
        ],
        &[("API_BASE_URL", &env_url)],
    )
    .assert_code(0);
    from_file.assert_connections(0);
    from_env.assert_connections(1);
    assert_eq!(
        from_flag.requests()[0].header("x-internal-api-key"),
        Some("file-key"),
        "the key comes from the file when the environment has none"
    );
}

#[test]
fn ipv6_loopback_works() {
    let Ok(probe) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("SKIPPED ipv6_loopback_works: this machine has no ::1");
        return;
    };
    drop(probe);
    let server = Server::start_on("[::1]:0", vec![respond(200, REWARDS_OK)]);
    assert!(server.url().starts_with("http://[::1]:"));
    run_against(&server, &["--job", "rewards"]).assert_code(0);
    server.assert_requests(1);
}

#[test]
fn quiet_success_prints_nothing() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    run_against(&server, &["--job", "rewards", "-q"])
        .assert_code(0)
        .assert_stderr_is("")
        .assert_stdout_is("");
    server.assert_requests(1);
}

#[test]
fn https_proxy_alone_does_not_capture_an_http_url() {
    let server = Server::start(vec![respond(200, "{}")]);
    let proxy = Server::start(vec![respond(502, "proxy")]);
    let url = server.url();
    let proxy_url = proxy.url();
    run(
        &["--job", "rewards"],
        &[
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", &url),
            ("HTTPS_PROXY", &proxy_url),
            ("HTTP_PROXY", &proxy_url),
        ],
    )
    .assert_code(0);
    proxy.assert_connections(0);
    server.assert_requests(1);
}
