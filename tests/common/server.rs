//! The scripted loopback server.
//!
//! Every test binds its own server on an ephemeral port before starting
//! `ocd-cron`, so there is nothing to wait for: the port accepts as soon as
//! `Server::start` returns. Requests are recorded before any answer is
//! written, so once the binary has exited, `requests()` is complete.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::http::{self, Request};
use super::tls;

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
    /// Read the request, then send these bytes exactly, each piece
    /// written and flushed on its own.
    Raw(Vec<Vec<u8>>),
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

    /// Asserts that exactly `n` requests arrived, and returns them.
    #[track_caller]
    pub fn assert_requests(&self, n: usize) -> Vec<Request> {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            n,
            "requests to {}: {:#?}",
            self.url(),
            Server::lines(&requests)
        );
        requests
    }

    /// Asserts that exactly `n` connections were opened (`0`: nothing was
    /// sent, not even a TLS handshake).
    #[track_caller]
    pub fn assert_connections(&self, n: usize) {
        assert_eq!(
            self.connections(),
            n,
            "connections to {}; requests received: {:#?}",
            self.url(),
            Server::lines(&self.requests())
        );
    }

    /// The request lines, for failure messages (the headers hold the key).
    fn lines(requests: &[Request]) -> Vec<String> {
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
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
    if http::refuse_tls_hello(&mut reader) {
        return;
    }
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
        Step::Raw(pieces) => pieces
            .iter()
            .try_for_each(|piece| out.write_all(piece).and_then(|()| out.flush())),
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

/// A loopback port with nothing listening, so connecting is refused, and
/// kept that way for as long as the value lives.
///
/// The socket is bound but never listens: the kernel answers a connection
/// with a reset, and will not hand the port to another test's server. A
/// port merely bound and released again could be, between this test's
/// choosing it and its run connecting, by a test running alongside.
pub struct ClosedPort {
    _socket: std::os::fd::OwnedFd,
    port: u16,
}

impl ClosedPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl std::fmt::Display for ClosedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.port)
    }
}

pub fn closed_port() -> ClosedPort {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: socket() has no pointer arguments; a non-negative result is a
    // new descriptor that only this OwnedFd owns.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: as above, fd is a fresh descriptor owned by nobody else.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_in is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a valid socket, and a pointer to a sockaddr_in of the size given.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&addr as *const libc::sockaddr_in).cast(),
            len,
        )
    };
    assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
    // SAFETY: a valid socket, and a writable sockaddr_in whose size is in len.
    let rc = unsafe {
        libc::getsockname(
            socket.as_raw_fd(),
            (&mut addr as *mut libc::sockaddr_in).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
    ClosedPort {
        _socket: socket,
        port: u16::from_be(addr.sin_port),
    }
}
