//! The HTTP side: a ureq agent configured with no silent defaults, one
//! attempt, and the retry loop that runs attempts under a single deadline.
//! The job requests and the monitoring pings both go through here.
//!
//! ureq's defaults are wrong for this tool: no timeout at all, redirects
//! followed with custom headers (the key!) forwarded to the new host, and
//! 4xx/5xx turned into errors that drop the body. Each of those is set
//! explicitly in [`agent`].

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use log::{debug, info, warn};
use ureq::Agent;
use ureq::http::Uri;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

use crate::duration::format_duration;
use crate::error::Error;
use crate::interrupt::{self, Phase};
use crate::outcome::Response;
use crate::random;
use crate::retry;
use crate::sanitize::for_log;
use crate::secret::Secret;
use crate::target::Target;

/// Response bodies are read up to this size; anything larger is not an OCD answer.
pub const MAX_BODY: u64 = 1024 * 1024;

/// The HTTP methods this tool uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// The User-Agent of every request, job and ping alike.
pub const USER_AGENT: &str = concat!("ocd-cron/", env!("CARGO_PKG_VERSION"));

/// A header value; the key stays a [`Secret`] until the request is built.
pub enum HeaderValue<'a> {
    Plain(String),
    Secret(&'a Secret),
}

impl HeaderValue<'_> {
    /// The value as it may be shown to a person.
    pub fn shown(&self) -> &str {
        match self {
            HeaderValue::Plain(v) => v,
            HeaderValue::Secret(_) => crate::sanitize::MASK,
        }
    }
}

/// One request to make, possibly several times.
pub struct Request<'a> {
    /// Prefix for log lines: the job name, or "ping".
    pub label: String,
    pub method: Method,
    pub url: String,
    /// The URL as messages show it (a ping URL's secret parts masked).
    pub shown: String,
    /// Host, for messages about TLS.
    pub host: String,
    pub headers: Vec<(&'static str, HeaderValue<'a>)>,
    pub body: Option<String>,
    /// A failure in words for this request's log lines: a job's errors as
    /// they are, a ping's in the monitor's terms.
    pub describe: &'a dyn Fn(&Error) -> String,
}

/// How hard to try: attempts, and the deadline they all share.
pub struct Budget {
    pub max_attempts: u32,
    pub deadline: Instant,
    /// The whole allowance and the name of the setting that gives it, for
    /// messages.
    pub timeout: Duration,
    pub setting: &'static str,
    /// The longest `Retry-After` wait honoured as asked; a longer one is cut
    /// to this. The deadline bounds every wait in any case.
    pub max_server_wait: Duration,
}

/// What came of a request: the classified result, the last HTTP status
/// seen (if any response came), and how many attempts it took.
#[derive(Debug)]
pub struct RetryResult<T> {
    pub result: Result<T, Error>,
    pub status: Option<u16>,
    pub attempts: u32,
}

/// Sends `request`, retrying what is retryable until `classify` accepts an
/// response, the failure is final, attempts run out, or the next wait would
/// pass the deadline. What it waits for is told to `phase` as it goes.
pub fn send_with_retries<T>(
    agent: &Agent,
    request: &Request<'_>,
    budget: &Budget,
    phase: &Phase,
    classify: impl Fn(&Response) -> Result<T, Error>,
) -> RetryResult<T> {
    send_reporting_progress(agent, request, budget, phase, classify, |_, _| {})
}

/// [`send_with_retries`], telling `progress` the attempts made and the last
/// status received as soon as either changes, so that a run cut short by a
/// signal can still say what it did.
pub fn send_reporting_progress<T>(
    agent: &Agent,
    request: &Request<'_>,
    budget: &Budget,
    phase: &Phase,
    classify: impl Fn(&Response) -> Result<T, Error>,
    mut progress: impl FnMut(u32, Option<u16>),
) -> RetryResult<T> {
    let max = budget.max_attempts;
    let mut status = None;
    // Attempts actually made: zero when the deadline had already passed
    // (the second job of `--job all` after a slow first one).
    let mut attempt = 0;
    let result = loop {
        let remaining = budget.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break Err(deadline_error(request, budget));
        }
        attempt += 1;
        progress(attempt, status);
        phase.set(format!(
            "waiting for {} (attempt {attempt}/{max})",
            request.shown
        ));
        let (error, retry_after) = match attempt_once(agent, request, budget, remaining) {
            Ok((response, retry_after)) => {
                status = Some(response.status);
                progress(attempt, status);
                match classify(&response) {
                    Ok(value) => break Ok(value),
                    Err(error) => (error, retry_after),
                }
            }
            Err(error) => (error, None),
        };
        if !retry::is_retryable(&error) || attempt >= max {
            break Err(error);
        }
        let wait = match retry_after {
            Some(asked) => asked.min(budget.max_server_wait),
            None => retry::backoff(attempt, random::fraction()),
        };
        // Compared with what is left rather than added to now: a server may
        // ask for a wait no clock can add.
        let left = budget.deadline.saturating_duration_since(Instant::now());
        if wait >= left {
            warn!(
                attempt = attempt, max_attempts = max;
                "{}: attempt {attempt}/{max} failed: {}; not retrying, waiting {} would pass the {} deadline{}",
                request.label,
                (request.describe)(&error),
                format_duration(wait),
                budget.setting,
                if retry_after.is_some() {
                    " (the server asked for it in Retry-After)"
                } else {
                    ""
                }
            );
            break Err(error);
        }
        // Not a warning: a run that then succeeds must leave `-q` silent
        // (cron mails any output). A run that fails ends with an error
        // line of its own.
        info!(
            attempt = attempt, max_attempts = max;
            "{}: attempt {attempt}/{max} failed: {}; retrying in {}",
            request.label,
            (request.describe)(&error),
            format_duration(wait)
        );
        phase.set(format!(
            "waiting {} before attempt {}/{max}",
            format_duration(wait),
            attempt + 1
        ));
        std::thread::sleep(wait);
    };
    RetryResult {
        result,
        status,
        attempts: attempt,
    }
}

/// Resolves IP literals in place, and names on a thread of their own.
///
/// ureq bounds a DNS lookup by running it on a new thread; for
/// `http://127.0.0.1:3000` there is nothing to look up, and the thread is a
/// measurable share of a run that takes two milliseconds. ureq's own
/// resolver panics when it cannot start that thread (a limit on tasks), so
/// names are looked up here: on a thread when one can be had, bounded by
/// the attempt's timeout, and otherwise on this one, bounded by the system
/// resolver's own timeouts.
#[derive(Debug, Default)]
struct LiteralFirst(DefaultResolver);

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match literal_address(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => match DefaultResolver::host_and_port(
                uri.scheme().unwrap_or(&ureq::http::uri::Scheme::HTTP),
                uri.authority().ok_or(ureq::Error::HostNotFound)?,
            ) {
                Some(name) => {
                    let mut addrs = self.empty();
                    // As many as ureq keeps (16); the rest are not tried.
                    for addr in look_up(name, timeout)? {
                        if addrs.try_push(addr).is_err() {
                            break;
                        }
                    }
                    if addrs.is_empty() {
                        return Err(ureq::Error::HostNotFound);
                    }
                    Ok(addrs)
                }
                // A scheme without a known port: ureq says what is wrong.
                None => self.0.resolve(uri, config, timeout),
            },
        }
    }
}

/// The addresses of `name` (`host:port`), on a thread of its own so that
/// `timeout` bounds the lookup, or on this one if no thread can be had.
fn look_up(
    name: String,
    timeout: NextTimeout,
) -> Result<std::vec::IntoIter<SocketAddr>, ureq::Error> {
    use std::net::ToSocketAddrs;
    use std::sync::mpsc;
    let (answer, answered) = mpsc::sync_channel(1);
    let query = name.clone();
    let looking = interrupt::spawn("a DNS lookup", move || {
        let _ = answer.send(query.to_socket_addrs());
    });
    if looking.is_none() {
        return Ok(name.to_socket_addrs()?);
    }
    match answered.recv_timeout(*timeout.after) {
        Ok(found) => Ok(found?),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ureq::Error::Timeout(timeout.reason)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ureq::Error::HostNotFound),
    }
}

/// The address of a URI whose host is an IP literal, the port filled in
/// from the scheme; `None` for a name (or a scheme without a known port),
/// which goes to DNS.
fn literal_address(uri: &Uri) -> Option<SocketAddr> {
    let authority = uri.authority()?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let ip = host.parse::<IpAddr>().ok()?;
    let port = authority.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

/// An agent for `target`, with every default that matters set on purpose.
/// `ca_certs` replaces the system trust store.
pub fn agent(
    target: &Target,
    connect_timeout: Duration,
    ca_certs: Option<&[Certificate<'static>]>,
) -> Agent {
    let settings = Agent::config_builder()
        // Statuses are classified by the caller, body included.
        .http_status_as_error(false)
        // A redirect would carry the key to wherever it points.
        .max_redirects(0)
        .timeout_connect(Some(connect_timeout))
        // Chosen by curl's rules in `proxy`, not by ureq's.
        .proxy(target.proxy.clone())
        // A fresh connection per attempt: a pooled one the server has since
        // closed would turn a retry into a spurious failure.
        .max_idle_connections(0)
        // Built lazily by ureq on the first https connection, so an http
        // run pays nothing for it.
        .tls_config(
            TlsConfig::builder()
                .root_certs(match ca_certs {
                    Some(certs) => RootCerts::new_with_certs(certs),
                    None => RootCerts::PlatformVerifier,
                })
                .build(),
        )
        .build();
    Agent::with_parts(
        settings,
        DefaultConnector::new().chain(SkipContinue),
        LiteralFirst::default(),
    )
}

/// Wraps each connection in [`ContinueFilter`].
#[derive(Debug)]
struct SkipContinue;

impl Connector<Box<dyn Transport>> for SkipContinue {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| {
            Box::new(ContinueFilter {
                inner,
                settled: false,
            }) as Box<dyn Transport>
        }))
    }
}

/// Removes interim (1xx) responses from what the server sends, before ureq
/// reads it.
///
/// RFC 9110 §15.2 lets any 1xx response carry header fields (`Server`,
/// `Date`, a proxy's `Via`), and curl and Python skip them; ureq-proto 0.7
/// skips 102 and 103 with fields, but refuses a `100` that has any
/// ("received headers with 100-continue response"), which made a job that
/// ran look like a server that does not speak HTTP. This tool never sends
/// `Expect: 100-continue` and reads no 1xx field, so every interim
/// response but 101 (a protocol switch, which ureq reports) is dropped
/// whole, however many come. Only the start of the answer is looked at:
/// once the final response's head has begun, every byte passes untouched.
#[derive(Debug)]
struct ContinueFilter {
    inner: Box<dyn Transport>,
    /// The final response has begun (or the input is no interim 100).
    settled: bool,
}

impl Transport for ContinueFilter {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let mut progress = self.inner.await_input(timeout)?;
        while progress && !self.settled {
            match interim_head(self.inner.buffers().input()) {
                Interim::Complete(length) => {
                    self.inner.buffers().input_consume(length);
                    if self.inner.buffers().input().is_empty() {
                        progress = self.inner.await_input(timeout)?;
                    }
                }
                Interim::Undecided => progress = self.inner.await_input(timeout)?,
                Interim::Other => self.settled = true,
            }
        }
        Ok(progress)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// What the start of a server's answer is.
#[derive(Debug, PartialEq, Eq)]
enum Interim {
    /// A complete interim response of this many bytes, fields and all.
    Complete(usize),
    /// Too short to tell, or an interim response not all arrived.
    Undecided,
    /// Anything else: the final response, a 101, or something that is not
    /// HTTP (which ureq reports).
    Other,
}

/// Longest interim head waited for; past it ureq reads the bytes and
/// reports them.
const MAX_INTERIM_HEAD: usize = 16 * 1024;

/// Whether `input` starts with an interim response: `HTTP/1.x 1xx` (not
/// 101), a reason, header fields, an empty line; bare LF line ends too, as
/// ureq's parser accepts them.
fn interim_head(input: &[u8]) -> Interim {
    const START: &[u8] = b"HTTP/1.";
    let start_len = START.len() + 5; // "HTTP/1.1 1xx"
    let head = &input[..input.len().min(start_len)];
    let prefix_ok = head.iter().enumerate().all(|(i, &b)| match i {
        0..7 => b == START[i],
        7 => b.is_ascii_digit(),
        8 => b == b' ',
        9 => b == b'1',
        _ => b.is_ascii_digit(),
    });
    if !prefix_ok || head.ends_with(b" 101") {
        return Interim::Other;
    }
    match input.get(start_len) {
        None => return Interim::Undecided,
        Some(b' ' | b'\r' | b'\n') => {}
        Some(_) => return Interim::Other,
    }
    let window = &input[..input.len().min(MAX_INTERIM_HEAD)];
    let end = window
        .windows(2)
        .position(|pair| pair == b"\n\n")
        .map(|at| at + 2)
        .into_iter()
        .chain(
            window
                .windows(3)
                .position(|triple| triple == b"\n\r\n")
                .map(|at| at + 3),
        )
        .min();
    match end {
        Some(end) => Interim::Complete(end),
        None if window.len() < MAX_INTERIM_HEAD => Interim::Undecided,
        None => Interim::Other,
    }
}

/// One attempt, bounded by `remaining`: the response and the wait its
/// `Retry-After` asked for.
fn attempt_once(
    agent: &Agent,
    request: &Request<'_>,
    budget: &Budget,
    remaining: Duration,
) -> Result<(Response, Option<Duration>), Error> {
    debug!(
        "{}: {} {} (attempt deadline {})",
        request.label,
        request.method.as_str(),
        request.shown,
        format_duration(remaining)
    );
    // Our own account of the headers: the HTTP library's is kept quiet
    // (see `logging`), and this one shows the key only masked.
    debug!(
        "{}: headers {}",
        request.label,
        request
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.shown()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let sent = Instant::now();
    let fail = |e| transport_error(e, request, budget, agent.config().proxy());
    let mut response = match request.method {
        Method::Get => prepare(agent.get(&request.url), request, remaining).call(),
        Method::Post => prepare(agent.post(&request.url), request, remaining)
            .send(request.body.as_deref().unwrap_or_default()),
    }
    .map_err(fail)?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header("location");
    let retry_after =
        header("retry-after").and_then(|v| retry::parse_retry_after(&v, SystemTime::now()));
    let body = match response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
    {
        Ok(body) => body,
        // An oversized error page does not hide the status; an oversized
        // job result is not a result.
        Err(ureq::Error::BodyExceedsLimit(_)) if !(200..300).contains(&status) => Vec::new(),
        Err(e) => return Err(fail(e)),
    };
    debug!(
        "{}: HTTP {status}, {} bytes in {}",
        request.label,
        body.len(),
        format_duration(sent.elapsed())
    );
    Ok((
        Response {
            status,
            location,
            body,
        },
        retry_after,
    ))
}

/// Bounds the attempt by `remaining` and sets the headers.
fn prepare<B>(
    builder: ureq::RequestBuilder<B>,
    request: &Request<'_>,
    remaining: Duration,
) -> ureq::RequestBuilder<B> {
    let mut builder = builder.config().timeout_global(Some(remaining)).build();
    for (name, value) in &request.headers {
        builder = builder.header(*name, exposed(value));
    }
    builder
}

/// The one place the key leaves its [`Secret`].
fn exposed<'v>(value: &'v HeaderValue<'_>) -> &'v str {
    match value {
        HeaderValue::Plain(v) => v,
        HeaderValue::Secret(secret) => secret.expose(),
    }
}

fn deadline_error(request: &Request<'_>, budget: &Budget) -> Error {
    Error::Deadline {
        url: request.shown.clone(),
        timeout: budget.timeout,
        setting: budget.setting,
    }
}

/// Maps ureq's failure to what the operator needs to know. `proxy` is the
/// proxy the request went through, if any.
fn transport_error(
    error: ureq::Error,
    request: &Request<'_>,
    budget: &Budget,
    proxy: Option<&ureq::Proxy>,
) -> Error {
    let url = request.shown.clone();
    let proxy_address = proxy.map(|p| format!("{}:{}", p.host(), p.port()));
    // Through a proxy every connection ureq opens is to the proxy: a failure
    // to connect is the proxy's, not the server's.
    let connect = |reason: String| match &proxy_address {
        Some(proxy) => Error::ProxyUnreachable {
            url: request.shown.clone(),
            proxy: proxy.clone(),
            reason,
        },
        None => Error::Connect {
            url: request.shown.clone(),
            reason,
        },
    };
    let tls = |reason: String| Error::Tls {
        url: request.shown.clone(),
        host: request.host.clone(),
        reason: for_log(&reason, 200),
    };
    match error {
        ureq::Error::Timeout(ureq::Timeout::Connect) => {
            connect("no connection within the connect timeout".into())
        }
        ureq::Error::Timeout(ureq::Timeout::Resolve) => connect("DNS lookup timed out".into()),
        ureq::Error::Timeout(_) => deadline_error(request, budget),
        ureq::Error::HostNotFound => connect(format!("host {} not found (DNS)", request.host)),
        // rustls reports a failed handshake (bad certificate, alert) as
        // InvalidData; a plain TCP socket never does.
        ureq::Error::Io(e)
            if e.kind() == std::io::ErrorKind::InvalidData && url.starts_with("https:") =>
        {
            if is_plain_http_answer(&e.to_string()) {
                Error::PlainHttp { url }
            } else {
                tls(e.to_string())
            }
        }
        // Some http-only servers close the connection on a TLS hello
        // instead of answering it; a closed connection can also be a
        // restart, so it stays retryable, with the hint.
        ureq::Error::Io(e)
            if e.kind() == std::io::ErrorKind::UnexpectedEof && url.starts_with("https:") =>
        {
            connect(format!(
                "{} (if this port speaks http, not https, use http://)",
                io_reason(&e)
            ))
        }
        ureq::Error::Io(e) => connect(io_reason(&e)),
        ureq::Error::Tls(reason) => tls(reason.into()),
        ureq::Error::Rustls(e) => tls(e.to_string()),
        ureq::Error::Pem(e) => tls(e.to_string()),
        ureq::Error::ConnectionFailed => connect("connection failed".into()),
        ureq::Error::ConnectProxyFailed(reason) => {
            let proxy = proxy_address.clone().unwrap_or_else(|| "in use".to_owned());
            // ureq says "proxy server responded 403/403" when the proxy
            // answered the CONNECT, anything else when it did not.
            match reason
                .strip_prefix("proxy server responded ")
                .and_then(|rest| rest.split('/').next())
            {
                Some(status) => Error::ProxyRefused {
                    url,
                    proxy,
                    target: authority(&request.url),
                    reason: format!("HTTP {}", for_log(status, 10)),
                },
                None => Error::ProxyUnreachable {
                    url,
                    proxy,
                    reason: for_log(&reason, 200),
                },
            }
        }
        ureq::Error::BodyExceedsLimit(_) => Error::BadResponse {
            url,
            what: "a body over 1 MiB".into(),
        },
        ureq::Error::LargeResponseHeader(..) => Error::BadResponse {
            url,
            what: "response headers over the size limit".into(),
        },
        ureq::Error::Protocol(e) => Error::BadResponse {
            url,
            what: format!(
                "something that is not valid HTTP ({})",
                for_log(&e.to_string(), 200)
            ),
        },
        other => connect(for_log(&other.to_string(), 200)),
    }
}

/// Whether rustls's account of a failed handshake means the server
/// answered in plain HTTP. A TLS record starts with its content type, a
/// byte from 20 to 24; an HTTP answer starts with `H` (72), which rustls
/// names `InvalidContentType` and never mistakes for anything else.
fn is_plain_http_answer(reason: &str) -> bool {
    reason.contains("InvalidContentType")
}

/// `host:port` of `url`, the port filled in from the scheme, as a CONNECT
/// names it.
fn authority(url: &str) -> String {
    let Ok(uri) = url.parse::<Uri>() else {
        return url.to_owned();
    };
    let host = uri.host().unwrap_or_default();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    format!("{host}:{port}")
}

/// Socket errors in words an operator recognises.
fn io_reason(error: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match error.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by the server".into(),
        ConnectionAborted => "connection aborted".into(),
        UnexpectedEof => "the server closed the connection before the answer was complete".into(),
        TimedOut => "timed out".into(),
        _ => for_log(&error.to_string(), 200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_skip_dns_with_the_schemes_port() {
        let address = |url: &str| literal_address(&url.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(
            address("http://127.0.0.1:3000/a").as_deref(),
            Some("127.0.0.1:3000")
        );
        assert_eq!(
            address("http://127.0.0.1/a").as_deref(),
            Some("127.0.0.1:80")
        );
        assert_eq!(address("https://[::1]/a").as_deref(), Some("[::1]:443"));
        assert_eq!(address("ftp://127.0.0.1/a"), None);
        assert_eq!(address("http://localhost:3000/a"), None, "a name");
    }

    #[test]
    fn interim_responses_are_found_whole_with_their_fields() {
        use Interim::*;
        let final_response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        for (input, expected) in [
            (&b"HTTP/1.1 100 Continue\r\n\r\n"[..], Complete(25)),
            (
                b"HTTP/1.1 100 Continue\r\nServer: x\r\n\r\nHTTP/1.1 200",
                Complete(36),
            ),
            (
                b"HTTP/1.0 100\r\nVia: 1.1 p\r\nDate: x\r\n\r\n",
                Complete(37),
            ),
            (
                b"HTTP/1.1 100 Continue\nServer: x\n\nHTTP/1.1 200",
                Complete(33),
            ),
            (b"HTTP/1.1 100 Continue\r\nServer: x\n\r\n", Complete(35)),
            (b"", Undecided),
            (b"HTTP/1.1 1", Undecided),
            (b"HTTP/1.1 100", Undecided),
            (b"HTTP/1.1 100 Continue\r\nServer: x\r\n", Undecided),
            (b"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n", Complete(37)),
            (b"HTTP/1.1 199\r\n\r\n", Complete(16)),
            (b"HTTP/1.1 102 Processing\r\n", Undecided),
            (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", Other),
            (b"HTTP/1.1 200 OK\r\n\r\n", Other),
            (b"HTTP/1.1 10x\r\n\r\n", Other),
            (b"HTTP/1.1 1000 x\r\n\r\n", Other),
            (b"HTTP/2 100\r\n\r\n", Other),
            (b"http/1.1 100\r\n\r\n", Other),
            (b"<html>", Other),
            (final_response, Other),
        ] {
            assert_eq!(
                interim_head(input),
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        // A proxy's long Via or a server's cookies: skipped whole up to the cap.
        let long = [
            &b"HTTP/1.1 100 Continue\r\nVia: "[..],
            &[b'v'; 12 * 1024],
            b"\r\n\r\nHTTP/1.1 200 OK\r\n",
        ]
        .concat();
        assert_eq!(interim_head(&long), Complete(long.len() - 17));
        let endless = [
            &b"HTTP/1.1 100 Continue\r\nX: "[..],
            &[b'y'; MAX_INTERIM_HEAD],
        ]
        .concat();
        assert_eq!(interim_head(&endless), Other);
        assert_eq!(interim_head(&endless[..MAX_INTERIM_HEAD - 1]), Undecided);
    }

    #[test]
    fn socket_errors_are_named_in_an_operators_words() {
        use std::io::{Error, ErrorKind};
        // As the OS reports them: their own text is the C library's.
        for (errno, words) in [
            (libc::ECONNREFUSED, "connection refused"),
            (libc::ECONNRESET, "connection reset by the server"),
            (libc::ECONNABORTED, "connection aborted"),
            (libc::ETIMEDOUT, "timed out"),
        ] {
            assert_eq!(io_reason(&Error::from_raw_os_error(errno)), words);
        }
        let eof = Error::new(ErrorKind::UnexpectedEof, "failed to fill whole buffer");
        assert_eq!(
            io_reason(&eof),
            "the server closed the connection before the answer was complete"
        );
        let other = Error::other("odd\nthing");
        assert_eq!(io_reason(&other), "odd thing");
    }
}
