//! The scripted loopback server and the helper that runs the real binary.
//!
//! Every test binds its own server on an ephemeral port before starting
//! `ocd-cron`, so there is nothing to wait for: the port accepts as soon as
//! `Server::start` returns. Requests are recorded before any answer is
//! written, so once the binary has exited, `requests()` is complete.

#![allow(dead_code)] // each test file uses a different part

pub mod assets;
pub mod http;
pub mod tls;

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
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
    /// Read the request, then abort the connection (TCP RST). Plain http only.
    Reset,
    /// Announce `length` bytes, send `sent` of them, then close.
    CutShort { length: usize, sent: usize },
    /// A 200 whose body is `length` bytes of JSON-looking filler.
    Huge { length: usize },
    /// Act as a proxy: accept a CONNECT, then answer the tunnelled request
    /// with the inner step. Both requests are recorded.
    Tunnel(Box<Step>),
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
    seen: Arc<Seen>,
    connections: Arc<AtomicUsize>,
    scheme: &'static str,
}

/// The requests received, with a condition variable to wait on.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<Request>>,
    arrived: Condvar,
}

impl Seen {
    fn record(&self, request: Request) {
        self.requests.lock().unwrap().push(request);
        self.arrived.notify_all();
    }
}

impl Server {
    pub fn start(steps: Vec<Step>) -> Server {
        Server::start_on("127.0.0.1:0", steps)
    }

    pub fn start_on(bind: &str, steps: Vec<Step>) -> Server {
        Server::spawn(bind, steps, None)
    }

    /// An https server with the certificate in `tests/fixtures`, signed by
    /// the test CA `fixtures/ca.pem`.
    pub fn start_tls(steps: Vec<Step>) -> Server {
        Server::spawn("127.0.0.1:0", steps, Some(tls::server_config()))
    }

    fn spawn(bind: &str, steps: Vec<Step>, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        assert!(!steps.is_empty(), "a server needs at least one step");
        let listener = TcpListener::bind(bind).expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let connections = Arc::new(AtomicUsize::new(0));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (seen2, connections2) = (seen.clone(), connections.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = connections2.fetch_add(1, Ordering::SeqCst);
                let step = steps[n.min(steps.len() - 1)].clone();
                let seen = seen2.clone();
                let tls = tls.clone();
                thread::spawn(move || match tls {
                    None if matches!(step, Step::Reset) => reset(stream, &seen),
                    None => serve(BufReader::new(stream), step, &seen),
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        let stream = rustls::StreamOwned::new(connection, stream);
                        serve(BufReader::new(stream), step, &seen);
                    }
                });
            }
        });
        Server {
            addr,
            seen,
            connections,
            scheme,
        }
    }

    /// `http://host:port` (or https), IPv6 in brackets.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The URL by name, for TLS (the certificate is for `localhost`).
    pub fn localhost_url(&self) -> String {
        format!("{}://localhost:{}", self.scheme, self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Blocks until `n` requests have arrived; panics after `limit`.
    pub fn wait_for_requests(&self, n: usize, limit: Duration) {
        let guard = self.seen.requests.lock().unwrap();
        let (guard, timeout) = self
            .seen
            .arrived
            .wait_timeout_while(guard, limit, |r| r.len() < n)
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "expected {n} requests within {limit:?}, saw {}",
            guard.len()
        );
    }
}

/// The path of the test CA bundle.
pub fn test_ca() -> String {
    tls::fixture("ca.pem").to_str().unwrap().to_owned()
}

/// Records the request, then closes with SO_LINGER 0 so the kernel sends
/// RST instead of FIN.
fn reset(stream: TcpStream, seen: &Seen) {
    use std::os::fd::AsRawFd;
    if let Ok(request) = http::read_request(&mut BufReader::new(&stream)) {
        seen.record(request);
    }
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized option value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "set SO_LINGER");
}

fn serve<S: Read + Write>(mut reader: BufReader<S>, step: Step, seen: &Seen) {
    let Ok(request) = http::read_request(&mut reader) else {
        return;
    };
    seen.record(request);
    answer(reader, step, seen);
}

fn answer<S: Read + Write>(mut reader: BufReader<S>, step: Step, seen: &Seen) {
    let out = reader.get_mut();
    let _ = match step {
        Step::Respond {
            status,
            headers,
            body,
        } => http::write_response(out, status, &headers, &body),
        Step::Hang => {
            // Long past any deadline a test sets; the test process ends first.
            thread::sleep(Duration::from_secs(120));
            Ok(())
        }
        Step::Trickle { length, every } => {
            let result = http::write_head(out, 200, &[], length);
            for _ in 0..length {
                thread::sleep(every);
                if out.write_all(b" ").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
            result
        }
        Step::Close | Step::Reset => Ok(()),
        Step::CutShort { length, sent } => {
            http::write_head(out, 200, &[], length).and_then(|()| out.write_all(&vec![b' '; sent]))
        }
        Step::Huge { length } => {
            let chunk = vec![b' '; 64 * 1024];
            let mut result = http::write_head(out, 200, &[], length);
            let mut left = length;
            while result.is_ok() && left > 0 {
                let n = left.min(chunk.len());
                result = out.write_all(&chunk[..n]);
                left -= n;
            }
            result
        }
        Step::Tunnel(inner) => {
            if out
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .and_then(|()| out.flush())
                .is_err()
            {
                return;
            }
            // The same reader: anything it buffered belongs to the tunnel.
            serve(reader, *inner, seen);
            Ok(())
        }
    };
}

/// Whether `text` shows the key: plainly, or split across the rows of a
/// hex dump (16 bytes a row, the printable column last), which a plain
/// substring check would miss.
pub fn leaks(text: &str) -> bool {
    let dump_columns: String = text
        .lines()
        .filter_map(|line| line.rsplit_once("  ").map(|(_, column)| column))
        .filter(|column| column.chars().count() <= 16)
        .collect();
    text.contains(KEY) || dump_columns.contains(KEY)
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
    spawn_in(dir, args, env).finish()
}

/// A run of the binary still in progress.
pub struct Running {
    child: Child,
    started: Instant,
    args: Vec<String>,
}

/// Starts the binary in `dir` without waiting for it.
pub fn spawn_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
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
    Running {
        child,
        started: Instant::now(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `INT`) to the running binary.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit, at most [`RUN_LIMIT`]; the output is collected
    /// meanwhile, so a chatty run cannot fill the pipe and stall.
    pub fn finish(self) -> Run {
        let Running {
            child,
            started,
            args,
        } = self;
        let pid = child.id();
        let (done, finished) = mpsc::channel();
        thread::spawn(move || done.send(child.wait_with_output()));
        let Ok(output) = finished.recv_timeout(RUN_LIMIT) else {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("ocd-cron {args:?} still running after {RUN_LIMIT:?}");
        };
        let output = output.unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
        };
        assert!(
            !leaks(&run.stdout) && !leaks(&run.stderr),
            "the key leaked into the output: {run:#?}"
        );
        run
    }
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
