//! The scripted loopback server and the helper that runs the real binary.
//!
//! Every test binds its own server on an ephemeral port before starting
//! `ocd-cron`, so there is nothing to wait for: the port accepts as soon as
//! `Server::start` returns. Requests are recorded before any answer is
//! written, so once the binary has exited, `requests()` is complete.

#![allow(dead_code)] // each test file uses a different part

pub mod http;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

pub use http::Request;

/// The key every test configures; [`run`] fails any test whose output shows it.
pub const KEY: &str = "t3st-k3y-5c8a1f0e9d";

/// How a connection is answered.
#[derive(Clone, Debug)]
pub enum Step {
    /// A complete response.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then never answer.
    Hang,
    /// Send headers announcing `length` bytes, then one byte every `every`.
    Trickle { length: usize, every: Duration },
    /// Read the request, then close without a word.
    Close,
    /// Announce `length` bytes, send `sent` of them, then close.
    CutShort { length: usize, sent: usize },
    /// A 200 whose body is `length` bytes of JSON-looking filler.
    Huge { length: usize },
}

/// A JSON (or any) response with the given status.
pub fn respond(status: u16, body: &str) -> Step {
    Step::Respond {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// A response with extra headers.
pub fn respond_with(status: u16, headers: &[(&str, &str)], body: &str) -> Step {
    Step::Respond {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

/// The rewards route's answer on success.
pub const REWARDS_OK: &str =
    r#"{"success":true,"processed":42,"errors":0,"message":"Processed 42 decisions, 0 errors"}"#;

/// A server that answers the n-th connection with the n-th step, and every
/// connection after the last with the last step.
pub struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Request>>>,
    connections: Arc<AtomicUsize>,
}

impl Server {
    pub fn start(steps: Vec<Step>) -> Server {
        Server::start_on("127.0.0.1:0", steps)
    }

    pub fn start_on(bind: &str, steps: Vec<Step>) -> Server {
        assert!(!steps.is_empty(), "a server needs at least one step");
        let listener = TcpListener::bind(bind).expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (seen2, connections2) = (seen.clone(), connections.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = connections2.fetch_add(1, Ordering::SeqCst);
                let step = steps[n.min(steps.len() - 1)].clone();
                let seen = seen2.clone();
                thread::spawn(move || serve(stream, step, &seen));
            }
        });
        Server {
            addr,
            seen,
            connections,
        }
    }

    /// `http://host:port`, IPv6 in brackets.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn serve(stream: TcpStream, step: Step, seen: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Ok(request) = http::read_request(&mut reader) else {
        return;
    };
    seen.lock().unwrap().push(request);
    let mut out = stream;
    let _ = match step {
        Step::Respond {
            status,
            headers,
            body,
        } => http::write_response(&mut out, status, &headers, &body),
        Step::Hang => {
            // Long past any deadline a test sets; the test process ends first.
            thread::sleep(Duration::from_secs(120));
            Ok(())
        }
        Step::Trickle { length, every } => {
            let result = http::write_head(&mut out, 200, &[], length);
            for _ in 0..length {
                thread::sleep(every);
                if out.write_all(b" ").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
            result
        }
        Step::Close => Ok(()),
        Step::CutShort { length, sent } => http::write_head(&mut out, 200, &[], length)
            .and_then(|()| out.write_all(&vec![b' '; sent])),
        Step::Huge { length } => {
            let chunk = vec![b' '; 64 * 1024];
            let mut result = http::write_head(&mut out, 200, &[], length);
            let mut left = length;
            while result.is_ok() && left > 0 {
                let n = left.min(chunk.len());
                result = out.write_all(&chunk[..n]);
                left -= n;
            }
            result
        }
    };
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Longest a single run may take before the test fails instead of hanging.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Runs `ocd-cron` in an empty temporary directory (so no stray `.env` is
/// read) with only `env` in its environment.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), args, env)
}

/// Like [`run`], in `dir`. Fails the test if the key shows up in the output.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ocd-cron");
    // A bounded wait: a hung binary fails its test instead of the suite.
    // The output is collected while waiting, so a chatty run cannot fill
    // the pipe and stall.
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(child.wait_with_output()));
    let Ok(output) = finished.recv_timeout(RUN_LIMIT) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("ocd-cron {args:?} still running after {RUN_LIMIT:?}");
    };
    let output = output.unwrap();
    let elapsed = started.elapsed();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
    };
    assert!(
        !run.stdout.contains(KEY) && !run.stderr.contains(KEY),
        "the key leaked into the output: {run:#?}"
    );
    run
}

/// Runs with the test key and `server` as the base URL.
pub fn run_against(server: &Server, args: &[&str]) -> Run {
    let url = server.url();
    run(args, &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)])
}

/// A loopback port with nothing listening: connecting is refused.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
