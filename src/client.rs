//! The HTTP side: one ureq agent configured with no silent defaults, one
//! attempt, and the retry loop that runs attempts under a single deadline.
//!
//! ureq's defaults are wrong for this job: no timeout at all, redirects
//! followed with custom headers (the key!) forwarded to the new host, and
//! 4xx/5xx turned into errors that drop the body. Each of those is set
//! explicitly in [`agent`].

use std::time::{Duration, Instant, SystemTime};

use log::{debug, warn};
use std::net::{IpAddr, SocketAddr};

use ureq::Agent;
use ureq::http::Uri;
use ureq::tls::{RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::config::Config;
use crate::duration::format_duration;
use crate::error::Error;
use crate::interrupt;
use crate::outcome::{self, JobReport, Reply};
use crate::request_id;
use crate::retry;
use crate::sanitize::for_log;

/// Responses are read up to this size; anything larger is not an OCD answer.
pub const MAX_BODY: u64 = 1024 * 1024;

/// A job report with how it was obtained.
#[derive(Debug)]
pub struct Delivered {
    pub report: JobReport,
    pub status: u16,
    pub attempts: u32,
}

/// Sends the trigger, retrying what is retryable until it succeeds, fails
/// for good, runs out of attempts, or would overrun `config.timeout`.
pub fn trigger(config: &Config, request_id: &str, started: Instant) -> Result<Delivered, Error> {
    let deadline = started + config.timeout;
    let max_attempts = config.retries.saturating_add(1);
    let agent = agent(config);
    let mut attempt = 1;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(deadline_error(config));
        }
        interrupt::set_phase(format!(
            "waiting for {} (attempt {attempt}/{max_attempts})",
            config.url
        ));
        let (error, retry_after) = match attempt_once(&agent, config, request_id, remaining) {
            Ok(answer) => {
                match outcome::classify(&config.url, &answer.reply, config.max_item_errors) {
                    Ok(report) => {
                        return Ok(Delivered {
                            report,
                            status: answer.reply.status,
                            attempts: attempt,
                        });
                    }
                    Err(error) => (error, answer.retry_after),
                }
            }
            Err(error) => (error, None),
        };
        if !retry::is_retryable(&error) || attempt >= max_attempts {
            return Err(error);
        }
        let wait =
            retry_after.unwrap_or_else(|| retry::backoff(attempt, request_id::random_fraction()));
        wait_or_give_up(config, error, attempt, max_attempts, wait, deadline)?;
        attempt += 1;
    }
}

/// Logs the retry and sleeps, unless the wait would pass the deadline: then
/// the run ends at once with the failure that caused it.
fn wait_or_give_up(
    config: &Config,
    error: Error,
    attempt: u32,
    max_attempts: u32,
    wait: Duration,
    deadline: Instant,
) -> Result<(), Error> {
    if Instant::now() + wait >= deadline {
        warn!(
            "{}: attempt {attempt}/{max_attempts} failed: {error}; not retrying, waiting {} would pass the --timeout deadline",
            config.job,
            format_duration(wait)
        );
        return Err(error);
    }
    warn!(
        "{}: attempt {attempt}/{max_attempts} failed: {error}; retrying in {}",
        config.job,
        format_duration(wait)
    );
    interrupt::set_phase(format!(
        "waiting {} before attempt {}/{max_attempts}",
        format_duration(wait),
        attempt + 1
    ));
    std::thread::sleep(wait);
    Ok(())
}

/// Resolves IP literals in place and hands names to ureq's resolver.
///
/// ureq bounds a DNS lookup by running it on a new thread; for
/// `http://127.0.0.1:3000` there is nothing to look up, and the thread is a
/// measurable share of a run that takes two milliseconds.
#[derive(Debug, Default)]
struct LiteralFirst(DefaultResolver);

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.authority().and_then(|authority| {
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
        });
        match literal {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// The agent, with every default that matters set on purpose.
fn agent(config: &Config) -> Agent {
    let settings = Agent::config_builder()
        // Statuses are classified by `outcome`, body included.
        .http_status_as_error(false)
        // A redirect would carry the key to wherever it points.
        .max_redirects(0)
        .timeout_connect(Some(config.connect_timeout))
        .user_agent(concat!("ocd-cron/", env!("CARGO_PKG_VERSION")))
        .accept("application/json")
        // Chosen by curl's rules in `proxy`, not by ureq's.
        .proxy(config.proxy.clone())
        // A fresh connection per attempt: a pooled one the server has since
        // closed would turn a retry into a spurious failure.
        .max_idle_connections(0)
        // Built lazily by ureq on the first https connection, so an http
        // run pays nothing for it.
        .tls_config(
            TlsConfig::builder()
                .root_certs(match &config.ca_certs {
                    Some(certs) => RootCerts::new_with_certs(certs),
                    None => RootCerts::PlatformVerifier,
                })
                .build(),
        )
        .build();
    Agent::with_parts(settings, DefaultConnector::new(), LiteralFirst::default())
}

/// A response and the wait it asked for.
struct Answer {
    reply: Reply,
    retry_after: Option<Duration>,
}

/// One POST, bounded by `remaining`.
fn attempt_once(
    agent: &Agent,
    config: &Config,
    request_id: &str,
    remaining: Duration,
) -> Result<Answer, Error> {
    debug!(
        "{}: POST {} (attempt deadline {})",
        config.job,
        config.url,
        format_duration(remaining)
    );
    let sent = Instant::now();
    let mut response = agent
        .post(&config.url)
        .config()
        .timeout_global(Some(remaining))
        .build()
        .header("content-type", "application/json")
        .header("idempotency-key", request_id)
        .header("x-internal-api-key", config.key.expose())
        .send(config.body.as_str())
        .map_err(|e| transport_error(e, config))?;
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
        Err(e) => return Err(transport_error(e, config)),
    };
    debug!(
        "{}: HTTP {status}, {} bytes in {}",
        config.job,
        body.len(),
        format_duration(sent.elapsed())
    );
    Ok(Answer {
        reply: Reply {
            status,
            location,
            body,
        },
        retry_after,
    })
}

fn deadline_error(config: &Config) -> Error {
    Error::Deadline {
        url: config.url.clone(),
        timeout: config.timeout,
    }
}

/// Maps ureq's failure to what the operator needs to know.
fn transport_error(error: ureq::Error, config: &Config) -> Error {
    let url = config.url.clone();
    let connect = |reason: String| Error::Connect {
        url: config.url.clone(),
        reason,
    };
    let tls = |reason: String| Error::Tls {
        url: config.url.clone(),
        host: config.host.clone(),
        reason: for_log(&reason, 200),
    };
    match error {
        ureq::Error::Timeout(ureq::Timeout::Connect) => connect(format!(
            "no connection within {} (--connect-timeout)",
            format_duration(config.connect_timeout)
        )),
        ureq::Error::Timeout(ureq::Timeout::Resolve) => connect("DNS lookup timed out".into()),
        ureq::Error::Timeout(_) => deadline_error(config),
        ureq::Error::HostNotFound => connect(format!("host {} not found (DNS)", config.host)),
        // rustls reports a failed handshake (bad certificate, alert) as
        // InvalidData; a plain TCP socket never does.
        ureq::Error::Io(e)
            if e.kind() == std::io::ErrorKind::InvalidData && config.url.starts_with("https:") =>
        {
            tls(e.to_string())
        }
        ureq::Error::Io(e) => connect(io_reason(&e)),
        ureq::Error::Tls(reason) => tls(reason.into()),
        ureq::Error::Rustls(e) => tls(e.to_string()),
        ureq::Error::Pem(e) => tls(e.to_string()),
        ureq::Error::ConnectionFailed => connect("connection failed".into()),
        ureq::Error::ConnectProxyFailed(reason) => connect(format!(
            "the proxy refused the tunnel: {}",
            for_log(&reason, 200)
        )),
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
