//! A local stand-in for the OCD API, so ocd-cron can be tried, demonstrated
//! and debugged without an OCD install, a database or Node.
//!
//! It serves both job endpoints on loopback with the real routes' response
//! shapes, checks the `x-internal-api-key` header like the app does, keeps a
//! count of pending decisions that the jobs drain, and can be told to fail in
//! each way a real deployment fails. `--run` makes it a one-command demo
//! without a race: it listens first, then runs the command against itself,
//! stops, and exits with the command's status. The options are in [`HELP`].

#[path = "../tests/common/http.rs"]
#[allow(dead_code)] // Request::body_text is for the tests only
mod http;
#[path = "../tests/common/tls.rs"]
mod tls;

use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const DEFAULT_KEY: &str = "local-dev-key";

const FAIL_MODES: &[&str] = &[
    "500",
    "502",
    "503",
    "429",
    "401",
    "slow",
    "item-errors",
    "success-false",
];

/// `--help`, also the reference for the failure modes (the README lists them too).
const HELP: &str = "\
mock_api: a local stand-in for the OCD API (both job routes, their GET status
routes, the x-internal-api-key check), on 127.0.0.1.

usage: cargo run --example mock_api -- [OPTIONS] [--run [--] COMMAND [ARGS...]]

  --port N        listen on 127.0.0.1:N [default: 3000, ocd-cron's default
                  base URL; with --run, any free port]
  --key KEY       the key to accept [default: $INTERNAL_API_KEY, else local-dev-key]
  --fail MODE     answer job requests (POST) this way, each connection on
                  its own (a slow answer holds up no other run):
                    500            HTTP 500 with the app's JSON error (the job threw);
                                   ocd-cron retries, then exits 70
                    502            nginx's HTML 502 page (app down behind the proxy);
                                   retried, then exit 69
                    503            503 with Retry-After: 2 (a deploy); retried, then 69
                    429            429 with Retry-After: 1 (rate limited); retried, then 75
                    401            refuse every key, on GET too (--pending,
                                   healthcheck.sh); exit 77 at once
                    slow           answer after 30 s; exits 75 with --timeout below 30s
                    item-errors    200 with errors: 2; exit 1 (0 with --max-item-errors 2)
                    success-false  200 with success: false; exit 1
  --fail-times N  fail only the first N requests, then behave [default: always];
                  --fail 503 --fail-times 1 shows a retry that succeeds
  --tls           serve https with the test certificate (trust it with
                  --ca-cert tests/fixtures/ca.pem and API_BASE_URL=https://localhost:PORT)
  --run COMMAND   once listening, run COMMAND with API_BASE_URL and INTERNAL_API_KEY
                  set to this stand-in, then stop and exit with its status:
                    cargo run --example mock_api -- --run cargo run -- --job=rewards
  -h, --help      this text

Unknown paths get Next.js's HTML 404 page; other methods get 405; a TLS hello
(an https:// URL on this http port) gets 400, as from the app's Node server.
";

struct Options {
    port: Option<u16>,
    key: String,
    fail: Option<String>,
    fail_times: Option<u32>,
    tls: bool,
    /// `--run`: the command and its arguments.
    run: Vec<String>,
}

/// What the app's database would hold: decisions still waiting for each job.
struct State {
    pending_rewards: u64,
    pending_outcomes: u64,
    failures_left: Option<u32>,
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("mock_api: {message}");
            std::process::exit(64);
        }
    };
    // With --run, any free port: a second demo, or an app on 3000, is no clash.
    let port = options
        .port
        .unwrap_or(if options.run.is_empty() { 3000 } else { 0 });
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("mock_api: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(69);
        }
    };
    let port = listener.local_addr().map_or(port, |a| a.port());
    let scheme = if options.tls { "https" } else { "http" };
    let key_note = if options.key == DEFAULT_KEY {
        format!(" (key: {DEFAULT_KEY})")
    } else {
        String::new()
    };
    eprintln!(
        "mock_api: OCD stand-in listening on {scheme}://127.0.0.1:{port}{key_note}{}",
        options
            .fail
            .as_deref()
            .map(|m| format!(", failing with {m}"))
            .unwrap_or_default()
    );
    let options = Arc::new(options);
    let state = Arc::new(Mutex::new(State {
        pending_rewards: 42,
        pending_outcomes: 7,
        failures_left: options.fail_times,
    }));
    let tls = options.tls.then(tls::server_config);
    if !options.run.is_empty() {
        // The listener already accepts (the kernel queues connections), so
        // the command's first attempt cannot be refused.
        let base_url = match options.tls {
            true => format!("https://localhost:{port}"),
            false => format!("http://127.0.0.1:{port}"),
        };
        let command = options.run.clone();
        let key = options.key.clone();
        thread::spawn(move || serve(listener, options, state, tls));
        std::process::exit(run_command(&command, &base_url, &key));
    }
    serve(listener, options, state, tls);
}

/// Runs `command` against the stand-in at `base_url`; its exit status, or
/// 128 + the signal that ended it, as a shell reports it.
fn run_command(command: &[String], base_url: &str, key: &str) -> i32 {
    eprintln!("mock_api: running {}", command.join(" "));
    let mut child = std::process::Command::new(&command[0]);
    // What `cargo run` told this process about the example. A nested
    // `cargo run` would see them as changed build inputs (ring's build
    // script watches CARGO_MANIFEST_DIR) and rebuild half the tree.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref())
        {
            child.env_remove(name.as_ref());
        }
    }
    let status = child
        .args(&command[1..])
        .env("API_BASE_URL", base_url)
        .env("INTERNAL_API_KEY", key)
        // Both set is a configuration error in ocd-cron.
        .env_remove("INTERNAL_API_KEY_FILE")
        .status();
    match status {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            let code = status
                .code()
                .or_else(|| status.signal().map(|s| 128 + s))
                .unwrap_or(1);
            eprintln!("mock_api: {} exited with {code}; stopping", command[0]);
            code
        }
        Err(e) => {
            eprintln!("mock_api: cannot run {}: {e}", command[0]);
            127
        }
    }
}

fn serve(
    listener: TcpListener,
    options: Arc<Options>,
    state: Arc<Mutex<State>>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    for stream in listener.incoming().flatten() {
        let (options, state, tls) = (options.clone(), state.clone(), tls.clone());
        thread::spawn(move || match tls {
            None => handle(stream, &options, &state),
            Some(config) => {
                if let Ok(connection) = rustls::ServerConnection::new(config) {
                    handle(
                        rustls::StreamOwned::new(connection, stream),
                        &options,
                        &state,
                    );
                }
            }
        });
    }
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        port: None,
        key: std::env::var("INTERNAL_API_KEY").unwrap_or_else(|_| DEFAULT_KEY.into()),
        fail: None,
        fail_times: None,
        tls: false,
        run: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => options.port = Some(value()?.parse().map_err(|_| "--port takes a number")?),
            "--key" => options.key = value()?,
            "--fail" => {
                let mode = value()?;
                if !FAIL_MODES.contains(&mode.as_str()) {
                    return Err(format!(
                        "--fail takes one of {}; see --help",
                        FAIL_MODES.join(", ")
                    ));
                }
                options.fail = Some(mode);
            }
            "--fail-times" => {
                options.fail_times = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--fail-times takes a number")?,
                )
            }
            "--tls" => options.tls = true,
            "--run" => {
                options.run = args.by_ref().skip_while(|a| a == "--").collect();
                if options.run.is_empty() {
                    return Err("--run needs a command".into());
                }
            }
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}; see --help")),
        }
    }
    Ok(options)
}

type Response = (u16, Vec<(String, String)>, String);

fn json(status: u16, body: String) -> Response {
    (
        status,
        vec![("content-type".into(), "application/json".into())],
        body,
    )
}

fn handle(stream: impl Read + Write, options: &Options, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream);
    // An https:// URL pointed at this http port: answered as the app's
    // Node server answers it.
    if http::refuse_tls_hello(&mut reader) {
        eprintln!("mock_api: a TLS hello on this http port -> 400");
        return;
    }
    let Ok(request) = http::read_request(&mut reader) else {
        return;
    };
    let (status, headers, body) = respond(&request, options, state);
    eprintln!(
        "mock_api: {} {} -> {status} {}",
        request.method,
        request.path,
        one_line(&body)
    );
    let _ = http::write_response(reader.get_mut(), status, &headers, body.as_bytes());
}

/// A body for the stand-in's own log line: an HTML page by its `<title>`,
/// anything else on one line, cut at 100 characters.
fn one_line(body: &str) -> String {
    let title = body
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title);
    let text = title
        .unwrap_or(body)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match text.char_indices().nth(100) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn respond(request: &http::Request, options: &Options, state: &Mutex<State>) -> Response {
    let job = match request.path.as_str() {
        "/api/training/calculate-pending" => "rewards",
        "/api/training/outcomes" => "outcomes",
        _ => {
            return (
                404,
                vec![("content-type".into(), "text/html".into())],
                "<!DOCTYPE html><html><body>404: This page could not be found.</body></html>"
                    .into(),
            );
        }
    };
    // Like the app: the key header, or else a browser session (never here).
    if request.header("x-internal-api-key") != Some(options.key.as_str()) {
        return json(401, r#"{"error":"Unauthorized"}"#.into());
    }
    // `--fail 401` refuses the key on every route, the GET of --pending
    // and healthcheck.sh included; the other modes fail the jobs (POST).
    let failing = match options.fail.as_deref() {
        Some("401") => true,
        Some(_) => request.method == "POST",
        None => false,
    };
    // Decided under the lock, acted on outside it: a slow answer must not
    // hold up the other connections.
    let fail_now = failing && {
        let mut state = state.lock().expect("state lock");
        match &mut state.failures_left {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    };
    if fail_now
        && let Some(mode) = &options.fail
        && let Some(response) = failure(mode, job)
    {
        return response;
    }
    let mut state = state.lock().expect("state lock");
    match request.method.as_str() {
        "GET" => json(
            200,
            match job {
                "rewards" => format!(
                    r#"{{"pendingRewards":{0},"message":"{0} decisions are ready for reward calculation"}}"#,
                    state.pending_rewards
                ),
                _ => format!(r#"{{"pendingCount":{}}}"#, state.pending_outcomes),
            },
        ),
        "POST" => run_job(job, &request.body, &mut state, options.fail.as_deref()),
        _ => (405, Vec::new(), String::new()),
    }
}

/// The configured failure, or `None` for a mode that still runs the job.
fn failure(mode: &str, job: &str) -> Option<Response> {
    let what = if job == "rewards" {
        "Failed to calculate pending rewards"
    } else {
        "Failed to track outcomes"
    };
    Some(match mode {
        "500" => json(
            500,
            format!(
                r#"{{"error":"{what}","details":"Error: Can't reach database server at `localhost:5432`"}}"#
            ),
        ),
        "502" => (
            502,
            vec![("content-type".into(), "text/html".into())],
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".into(),
        ),
        "503" => (
            503,
            vec![("retry-after".into(), "2".into())],
            "Service Unavailable".into(),
        ),
        "429" => (
            429,
            vec![("retry-after".into(), "1".into())],
            "Too Many Requests".into(),
        ),
        "401" => json(401, r#"{"error":"Unauthorized"}"#.into()),
        "slow" => {
            thread::sleep(Duration::from_secs(30));
            return None;
        }
        _ => return None,
    })
}

fn run_job(job: &str, body: &[u8], state: &mut State, mode: Option<&str>) -> Response {
    let limit = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("limit").and_then(serde_json::Value::as_u64))
        .unwrap_or(100);
    let errors = if mode == Some("item-errors") { 2 } else { 0 };
    let success = mode != Some("success-false");
    if job == "rewards" {
        // The rewards route works through everything pending, in batches of 100.
        let processed = state.pending_rewards;
        state.pending_rewards = 0;
        json(
            200,
            format!(
                r#"{{"success":{success},"processed":{processed},"errors":{errors},"message":"Processed {processed} decisions, {errors} errors"}}"#
            ),
        )
    } else {
        let processed = state.pending_outcomes.min(limit);
        state.pending_outcomes -= processed;
        json(
            200,
            format!(r#"{{"success":{success},"processed":{processed},"errors":{errors}}}"#),
        )
    }
}
