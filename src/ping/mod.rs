//! Dead-man-switch pings to the monitors operators already use:
//! healthchecks.io, Cronitor, Sentry Crons, Uptime Kuma, Better Stack and
//! Dead Man's Snitch. [`kind`] decides which one a URL belongs to,
//! [`protocol`] what each one is sent; this module turns a pasted URL into a
//! [`Monitor`], sends the pings, and says how they went.
//!
//! Monitoring must never change the outcome it monitors: a ping gets a few
//! short attempts within its own time limit, a failure is a warning, and the
//! exit status stays the job's. All monitors are pinged at once, one thread
//! each, so however many there are and however dead they are, a start or a
//! finish costs at most the time limit the configuration gives
//! (`--ping-timeout`, 10 s by default). A ping carries no API key (it is a
//! separate request to a separate host), and the secret parts of its URL
//! (check id, API key, token, public key) are masked wherever it is shown.

mod kind;
mod protocol;

use std::time::{Duration, Instant};

pub use protocol::Finish;

use crate::client::{self, Budget, HeaderValue, Method, Request, USER_AGENT};
use crate::config::Target;
use crate::duration::format_duration;
use crate::error::{Error, Route};
use crate::outcome::Response;
use crate::sanitize::{self, MASK, for_log};
use crate::time;
use kind::Kind;
use protocol::Shape;

/// Attempts per ping.
const ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest `Retry-After` a monitor gets is this share of the time
/// limit (2 s of the default 10 s): the start ping delays the job, and a
/// monitor asking for more is retried sooner or given up on.
const SERVER_WAIT_SHARE: u32 = 5;

/// Query parameters of a pasted URL whose values the dry run may show; the
/// values of any others are masked, as they might be credentials.
const HARMLESS_PARAMS: &[&str] = &["environment", "create"];

/// One monitor to ping, from one `--ping-url` entry.
#[derive(Clone, Debug)]
pub struct Monitor {
    kind: Kind,
    /// Where requests go, and through which proxy.
    target: Target,
    /// The URL as pasted, without its query; a trailing slash is kept
    /// (Sentry's URLs end in one).
    url: String,
    /// `scheme://authority` of `url`.
    origin: String,
    /// The path of `url`.
    path: String,
    /// `name=value` pairs of the pasted query that the protocol does not
    /// set itself, sent as they were.
    extra: Vec<String>,
}

/// A request for one ping, with the URL as it may be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ping {
    pub method: Method,
    pub url: String,
    /// Secrets masked, without the query: what log lines show.
    pub shown: String,
    /// Secrets masked, with the query: what the dry run shows.
    pub shown_in_full: String,
    pub body: Option<String>,
}

/// What the dry run shows of one monitor.
pub struct Preview {
    pub kind: &'static str,
    /// `host:port`.
    pub address: String,
    /// The start ping, for the kinds that have one.
    pub start: Option<Ping>,
    /// The finish ping after a success, and after a failure (exit status 1).
    pub success: Ping,
    pub failure: Ping,
}

impl Monitor {
    /// Parses one entry of `--ping-url` / `OCD_CRON_PING_URL`: an optional
    /// `<kind>+` prefix, the URL, its query. `check` validates the URL
    /// without its query (the base-URL rules, the proxy); `what` names the
    /// setting in errors, which never repeat the URL (it holds secrets).
    pub fn parse(
        entry: &str,
        what: &str,
        check: impl FnOnce(&str) -> Result<Target, Error>,
    ) -> Result<Monitor, Error> {
        let refuse = |why: String| Error::Config(format!("{what} {why}"));
        let (named, rest) = kind::split_prefix(entry).map_err(refuse)?;
        if rest.contains('#') {
            return Err(refuse(
                "has a fragment (#…); paste the URL without it".into(),
            ));
        }
        let (url, query) = rest.split_once('?').unwrap_or((rest, ""));
        if query.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse("contains white space or control characters".into()));
        }
        let target = check(url)?;
        let (origin, path) = split_origin(&target.base);
        let mut path = path.to_owned();
        if !path.is_empty() && url.ends_with('/') {
            path.push('/');
        }
        let kind = match named {
            Some(kind) => kind,
            None => kind::recognise(&target.host, &path).map_err(refuse)?,
        };
        let own = protocol::own_params(kind);
        let extra: Vec<String> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| !own.contains(&pair.split('=').next().unwrap_or_default()))
            .map(str::to_owned)
            .collect();
        let full = format!("{origin}{path}?{}", extra.join("&"));
        if full.parse::<ureq::http::Uri>().is_err() {
            return Err(refuse("has a query that is not valid in a URL".into()));
        }
        let monitor = Monitor {
            kind,
            origin: origin.to_owned(),
            url: format!("{origin}{path}"),
            path,
            target,
            extra,
        };
        // Whatever shows this URL or a part of it from here on (the HTTP
        // library's log at trace level, the monitor's own error page,
        // plainly or percent-encoded) shows it masked.
        for secret in monitor.secrets() {
            sanitize::hide_monitor_secret(secret);
        }
        Ok(monitor)
    }

    /// The secret parts of the URL: path segments, and the values of query
    /// parameters the user added, except those the dry run shows (the
    /// redactor skips the few too short to be secrets, `ping` in
    /// `/ping/<uuid>`).
    fn secrets(&self) -> Vec<&str> {
        let query_values = self.extra.iter().filter_map(|pair| {
            pair.split_once('=')
                .filter(|(name, _)| !HARMLESS_PARAMS.contains(name))
                .map(|(_, value)| value)
        });
        self.kind
            .secrets(&self.path)
            .into_iter()
            .chain(query_values)
            .collect()
    }

    /// `ping (kind, host:port)`: how log lines name this monitor.
    fn label(&self) -> String {
        format!("ping ({}, {})", self.kind.name(), self.address())
    }

    /// `host:port`, with the scheme's port when the URL names none.
    pub fn address(&self) -> String {
        let authority = self
            .origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, a)| a)
            .to_ascii_lowercase();
        let port_given = match authority.rfind(']') {
            Some(i) => authority[i..].contains(':'),
            None => authority.contains(':'),
        };
        if port_given {
            authority
        } else {
            let port = if self.target.scheme == "https" {
                443
            } else {
                80
            };
            format!("{authority}:{port}")
        }
    }

    /// The request for `shape`: the real URL and the masked ones.
    fn ping(&self, shape: &Shape) -> Ping {
        let join = |base: &str| {
            if shape.suffix.is_empty() {
                base.to_owned()
            } else {
                format!("{}{}", base.trim_end_matches('/'), shape.suffix)
            }
        };
        let masked = format!("{}{}", self.origin, self.kind.masked_path(&self.path));
        let ours = shape
            .params
            .iter()
            .map(|(name, value)| format!("{name}={}", protocol::encode(value)));
        let theirs_shown = self.extra.iter().map(|pair| match pair.split_once('=') {
            Some((name, _)) if !HARMLESS_PARAMS.contains(&name) => format!("{name}={MASK}"),
            _ => pair.clone(),
        });
        let with_query = |base: String, params: Vec<String>| {
            if params.is_empty() {
                base
            } else {
                format!("{base}?{}", params.join("&"))
            }
        };
        Ping {
            method: shape.method,
            url: with_query(
                join(&self.url),
                self.extra.iter().cloned().chain(ours.clone()).collect(),
            ),
            shown: join(&masked),
            shown_in_full: with_query(join(&masked), theirs_shown.chain(ours).collect()),
            body: shape.body.clone(),
        }
    }

    /// Sends one ping within `limit`, all attempts and waits included,
    /// reporting how it went; never fails.
    fn send(&self, event: &str, shape: &Shape, limit: Duration) {
        let ping = self.ping(shape);
        let label = self.label();
        let mut headers = vec![("user-agent", HeaderValue::Plain(USER_AGENT.into()))];
        if ping.body.is_some() {
            headers.push((
                "content-type",
                HeaderValue::Plain("text/plain; charset=utf-8".into()),
            ));
        }
        // A library's message may quote the URL: the logger masks its
        // secrets, as it masks them in every line.
        let explain = |error: &Error| describe(error);
        let request = Request {
            label: label.clone(),
            method: ping.method,
            url: ping.url.clone(),
            shown: ping.shown.clone(),
            host: self.target.host.clone(),
            headers,
            body: ping.body.clone(),
            describe: &explain,
        };
        let budget = Budget {
            max_attempts: ATTEMPTS,
            deadline: time::deadline(Instant::now(), limit),
            timeout: limit,
            setting: "ping time limit",
            max_server_wait: limit / SERVER_WAIT_SHARE,
        };
        let agent = client::agent(&self.target, CONNECT_TIMEOUT, None);
        let result = client::send_with_retries(&agent, &request, &budget, |response| {
            accepted(&ping.shown, response)
        });
        match result.result {
            Ok(()) => log::debug!(
                "{label}: {event} accepted ({} {})",
                ping.method.as_str(),
                ping.shown
            ),
            Err(error) => log::warn!(
                "{label}: {event}: {}; the exit status is not affected",
                explain(&error)
            ),
        }
    }
}

/// `scheme://authority` and the path of a URL without a query.
fn split_origin(url: &str) -> (&str, &str) {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let path = url[authority..]
        .find('/')
        .map_or(url.len(), |i| authority + i);
    url.split_at(path)
}

/// Signals to every monitor that has a start ping that the invocation
/// began, all within `limit`.
pub fn start(monitors: &[Monitor], invocation_id: &str, limit: Duration) {
    send_all(monitors, "start", limit, |monitor| {
        protocol::start(monitor.kind, invocation_id)
    });
}

/// Signals to every monitor how the invocation ended, all within `limit`.
/// This machine's name is filled in for the monitors that show it.
pub fn finish(monitors: &[Monitor], invocation_id: &str, event: &Finish<'_>, limit: Duration) {
    let hostname = hostname();
    let event = Finish {
        hostname: hostname.as_deref(),
        ..event.clone()
    };
    send_all(monitors, "finish", limit, |monitor| {
        Some(protocol::finish(monitor.kind, invocation_id, &event))
    });
}

/// Pings all `monitors` at once, each within `limit`, and returns when
/// every ping has ended. A ping that cannot have a thread of its own (a
/// limit on tasks) is sent on this one, before the next is started.
fn send_all(
    monitors: &[Monitor],
    event: &str,
    limit: Duration,
    shape: impl Fn(&Monitor) -> Option<Shape>,
) {
    std::thread::scope(|scope| {
        let sending: Vec<_> = monitors
            .iter()
            .filter_map(|monitor| Some((monitor, shape(monitor)?)))
            .filter_map(|(monitor, shape)| {
                let shape = std::sync::Arc::new(shape);
                let on_thread = shape.clone();
                let spawned = if crate::interrupt::threads_allowed() {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, move || monitor.send(event, &on_thread, limit))
                } else {
                    Err(std::io::Error::other(
                        "threads are off under the address-space limit",
                    ))
                };
                match spawned {
                    Ok(thread) => Some((monitor, thread)),
                    Err(e) => {
                        log::debug!(
                            "{}: no thread for the {event} ping ({e}); sending it here",
                            monitor.label()
                        );
                        monitor.send(event, &shape, limit);
                        None
                    }
                }
            })
            .collect();
        // Joined here, so that even a ping that panicked cannot take the
        // exit status with it.
        for (monitor, thread) in sending {
            if thread.join().is_err() {
                log::warn!(
                    "{}: {event}: failed unexpectedly; the exit status is not affected",
                    monitor.label()
                );
            }
        }
    });
}

/// What the dry run shows: each monitor's kind and the pings a real run
/// would send, for a success and for a failure (exit status 1), with
/// `summary` standing in for the run's.
pub fn preview(monitors: &[Monitor], invocation_id: &str, summary: &str) -> Vec<Preview> {
    let hostname = hostname();
    let event = |exit_code| Finish {
        exit_code,
        summary,
        duration: Duration::ZERO,
        processed: None,
        errors: None,
        hostname: hostname.as_deref(),
    };
    monitors
        .iter()
        .map(|monitor| {
            let finish =
                |exit| monitor.ping(&protocol::finish(monitor.kind, invocation_id, &event(exit)));
            Preview {
                kind: monitor.kind.name(),
                address: monitor.address(),
                start: protocol::start(monitor.kind, invocation_id).map(|s| monitor.ping(&s)),
                success: finish(0),
                failure: finish(1),
            }
        })
        .collect()
}

/// Any 2xx is accepted; anything else is an error, retried if transient.
/// A redirect is not followed and its target not shown: it usually points
/// at the same URL over https, secret included.
fn accepted(shown: &str, response: &Response) -> Result<(), Error> {
    if (200..300).contains(&response.status) {
        return Ok(());
    }
    let detail = if (300..400).contains(&response.status) {
        ", a redirect, which is not followed; paste the URL it leads to (https?)".into()
    } else {
        let text = for_log(&String::from_utf8_lossy(&response.body), 200);
        if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        }
    };
    Err(Error::Http {
        url: shown.to_owned(),
        status: response.status,
        detail,
        route: Route::Ping,
    })
}

/// A failed ping in the monitor's terms: the job's hints (check
/// --base-url …) do not apply to a monitor.
fn describe(error: &Error) -> String {
    match error {
        Error::Connect { url, reason } => format!("cannot reach {url}: {reason}"),
        Error::ProxyUnreachable { url, proxy, reason } => format!(
            "cannot reach the proxy {proxy} on the way to {url}: {reason}; check the proxy variables, or add the monitor's host to no_proxy / NO_PROXY"
        ),
        Error::ProxyRefused {
            url,
            proxy,
            target,
            reason,
        } => format!(
            "the proxy {proxy} refused to CONNECT to {target} ({reason}) on the way to {url}; allow CONNECT to {target} on the proxy, or add the monitor's host to no_proxy / NO_PROXY"
        ),
        Error::Tls { url, reason, .. } => format!(
            "TLS certificate problem with {url}: {reason}; monitors are checked against the system trust store"
        ),
        Error::Deadline { url, timeout, .. } => format!(
            "no answer from {url} within the ping time limit ({})",
            format_duration(*timeout)
        ),
        Error::Http {
            url,
            status,
            detail,
            ..
        } => {
            let hint = match status {
                // Not the URL's fault: the monitor is busy or limits pings.
                408 | 429 => "; the monitor asked to come back later",
                400..=499 => "; check the URL against the one the monitor's page shows",
                _ => "",
            };
            format!("{url} answered HTTP {status}{detail}{hint}")
        }
        Error::BadResponse { url, what } => format!("{url} answered {what}"),
        other => other.to_string(),
    }
}

/// This machine's name, sanitised; `None` if it cannot be read.
fn hostname() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: the pointer and length describe `buffer`, which outlives the
    // call; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if rc != 0 {
        return None;
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let name = for_log(&String::from_utf8_lossy(&buffer[..end]), 255);
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_the_kernels_name_for_this_machine() {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(hostname().as_deref(), Some(kernel.trim_end()));
    }

    fn target(url: &str) -> Result<Target, Error> {
        crate::config::test_target(url)
    }

    fn monitor(entry: &str) -> Monitor {
        Monitor::parse(entry, "--ping-url", target).unwrap()
    }

    fn refused(entry: &str) -> String {
        Monitor::parse(entry, "--ping-url", target)
            .unwrap_err()
            .to_string()
    }

    const ID: &str = "0f7a1c2e-9b1d-4e7a-8c1f-2a3b4c5d6e7f";

    fn ok(summary: &str) -> Finish<'_> {
        Finish {
            exit_code: 0,
            summary,
            duration: Duration::from_millis(1500),
            processed: None,
            errors: None,
            hostname: None,
        }
    }

    fn start_of(m: &Monitor) -> Option<Ping> {
        protocol::start(m.kind, ID).map(|s| m.ping(&s))
    }

    fn finish_of(m: &Monitor, event: &Finish<'_>) -> Ping {
        m.ping(&protocol::finish(m.kind, ID, event))
    }

    #[test]
    fn healthchecks_urls_get_start_and_exit_status_appended() {
        let m = monitor("https://hc-ping.com/0f7a-uuid");
        let start = start_of(&m).unwrap();
        assert_eq!(
            start.url,
            format!("https://hc-ping.com/0f7a-uuid/start?rid={ID}")
        );
        assert_eq!(start.shown, format!("https://hc-ping.com/{MASK}/start"));
        let finish = finish_of(&m, &ok("done"));
        assert_eq!(finish.method, Method::Post);
        assert_eq!(
            finish.url,
            format!("https://hc-ping.com/0f7a-uuid/0?rid={ID}")
        );
        assert_eq!(m.label(), "ping (healthchecks, hc-ping.com:443)");
        // A self-hosted one with a slug, keeping its own query parameter.
        let m = monitor("http://hc.internal:8000/ping/key/rewards/?create=1");
        assert_eq!(
            start_of(&m).unwrap().url,
            format!("http://hc.internal:8000/ping/key/rewards/start?create=1&rid={ID}")
        );
        assert_eq!(
            start_of(&m).unwrap().shown_in_full,
            format!("http://hc.internal:8000/{MASK}/{MASK}/{MASK}/start?create=1&rid={ID}")
        );
        assert_eq!(m.label(), "ping (healthchecks, hc.internal:8000)");
    }

    #[test]
    fn sentry_keeps_the_trailing_slash_and_the_environment() {
        let m = monitor("https://o1.ingest.sentry.io/api/42/cron/rewards/pubkey/?environment=prod");
        assert_eq!(m.kind, Kind::Sentry);
        let start = start_of(&m).unwrap();
        assert_eq!(
            start.url,
            format!(
                "https://o1.ingest.sentry.io/api/42/cron/rewards/pubkey/?environment=prod&status=in_progress&check_in_id={ID}"
            )
        );
        assert_eq!(
            start.shown_in_full,
            format!(
                "https://o1.ingest.sentry.io/api/42/cron/rewards/{MASK}/?environment=prod&status=in_progress&check_in_id={ID}"
            )
        );
        assert_eq!(
            finish_of(&m, &ok("x")).url,
            format!(
                "https://o1.ingest.sentry.io/api/42/cron/rewards/pubkey/?environment=prod&status=ok&check_in_id={ID}&duration=1.500"
            )
        );
    }

    #[test]
    fn kuma_drops_the_query_its_page_shows() {
        let m = monitor("https://status.example.com/api/push/T0k3n?status=up&msg=OK&ping=");
        assert_eq!(m.kind, Kind::UptimeKuma);
        assert_eq!(start_of(&m), None);
        let finish = finish_of(&m, &ok("rewards: processed 1 & more #1\né"));
        assert_eq!(
            finish.url,
            "https://status.example.com/api/push/T0k3n?status=up&msg=rewards%3A%20processed%201%20%26%20more%20%231%0A%C3%A9&ping=1500"
        );
        assert_eq!(
            finish.shown,
            format!("https://status.example.com/api/push/{MASK}")
        );
    }

    #[test]
    fn other_query_values_are_masked_when_shown() {
        let m = monitor(
            "https://status.example.com/api/push/T0k3nT0k3n?token=s3cr3tvalue&environment=prod",
        );
        let finish = finish_of(&m, &ok("x"));
        assert!(finish.url.starts_with(
            "https://status.example.com/api/push/T0k3nT0k3n?token=s3cr3tvalue&environment=prod&status=up"
        ));
        assert!(
            finish.shown_in_full.starts_with(&format!(
                "https://status.example.com/api/push/{MASK}?token={MASK}&environment=prod&status=up"
            )),
            "{}",
            finish.shown_in_full
        );
        // Parsing registers the secrets with the redactor, each matched
        // plainly and percent-encoded; what the dry run shows is not one.
        let _shown = monitor("https://h.internal/api/push/T0k3n?environment=pr0duct10n");
        assert_eq!(sanitize::redact("pr0duct10n"), "pr0duct10n");
        assert_eq!(
            sanitize::redact("bad token s3cr3tvalue for T0k3nT0k3n%2C prod"),
            format!("bad token {MASK} for {MASK}%2C prod")
        );
        assert_eq!(
            sanitize::redact("bad token s3cr3t%76alue"),
            format!("bad token {MASK}")
        );
        // Too short to be a secret: `ping` stays readable.
        let _hc = monitor("https://hc.internal/ping/0f7a1c2e-9b1d");
        assert_eq!(
            sanitize::redact("no such ping 0f7a1c2e-9b1d"),
            format!("no such ping {MASK}")
        );
    }

    #[test]
    fn cronitor_betterstack_and_snitch_urls() {
        let m = monitor("https://cronitor.link/p/ApiKey/rewards");
        assert_eq!(
            finish_of(&m, &ok("x")).shown,
            format!("https://cronitor.link/p/{MASK}/rewards")
        );
        assert!(
            start_of(&m)
                .unwrap()
                .url
                .starts_with("https://cronitor.link/p/ApiKey/rewards?state=run&series=")
        );
        let m = monitor("cronitor+https://monitor.internal/p/KEY/rewards");
        assert_eq!(m.kind, Kind::Cronitor);
        assert_eq!(m.label(), "ping (cronitor, monitor.internal:443)");
        let m = monitor("https://uptime.betterstack.com/api/v1/heartbeat/Tok");
        assert_eq!(
            finish_of(&m, &ok("x")).url,
            "https://uptime.betterstack.com/api/v1/heartbeat/Tok"
        );
        let failed = Finish {
            exit_code: 69,
            ..ok("down")
        };
        let ping = finish_of(&m, &failed);
        assert_eq!(
            (ping.method, ping.url.as_str()),
            (
                Method::Post,
                "https://uptime.betterstack.com/api/v1/heartbeat/Tok/69"
            )
        );
        let m = monitor("https://nosnch.in/c2354d53d2");
        assert_eq!(
            finish_of(&m, &failed).url,
            "https://nosnch.in/c2354d53d2?s=69&m=down"
        );
        assert_eq!(
            finish_of(&m, &failed).shown,
            format!("https://nosnch.in/{MASK}")
        );
        let m = monitor("http://[::1]/api/push/t");
        assert_eq!(m.label(), "ping (uptime-kuma, [::1]:80)");
    }

    #[test]
    fn bad_entries_are_refused_without_repeating_the_url() {
        for (entry, says) in [
            (
                "pingdom+https://h/s3cret",
                "not one of: healthchecks, cronitor",
            ),
            ("https://h/s3cret#frag", "fragment"),
            ("https://cronitor.link/s3cret/run", "cronitor URL"),
            ("https://h/s3cret?a=b c", "white space"),
            ("https://h/s3cret?a=\"b\"", "not valid"),
            ("ftp://h/s3cret", "scheme"),
        ] {
            let error = refused(entry);
            assert!(error.contains(says), "{entry}: {error}");
            assert!(error.contains("--ping-url"), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn failures_are_described_as_ping_problems() {
        let connect = Error::Connect {
            url: format!("https://cronitor.link/p/{MASK}/rewards"),
            reason: "connection refused".into(),
        };
        let text = describe(&connect);
        assert_eq!(
            text,
            format!("cannot reach https://cronitor.link/p/{MASK}/rewards: connection refused")
        );
        let not_found = accepted(
            "u",
            &Response {
                status: 404,
                location: None,
                body: b"no check\nT0k".to_vec(),
            },
        )
        .unwrap_err();
        assert_eq!(
            describe(&not_found),
            "u answered HTTP 404: no check T0k; check the URL against the one the monitor's page shows"
        );
        for status in [408, 429] {
            let busy = accepted(
                "u",
                &Response {
                    status,
                    location: None,
                    body: Vec::new(),
                },
            )
            .unwrap_err();
            assert_eq!(
                describe(&busy),
                format!("u answered HTTP {status}; the monitor asked to come back later")
            );
        }
        let moved = accepted(
            "u",
            &Response {
                status: 301,
                location: Some("https://h/T0k".into()),
                body: Vec::new(),
            },
        )
        .unwrap_err();
        assert!(!describe(&moved).contains("T0k"), "{}", describe(&moved));
        assert!(describe(&moved).contains("301, a redirect"));
        assert!(
            accepted(
                "u",
                &Response {
                    status: 204,
                    location: None,
                    body: Vec::new()
                },
            )
            .is_ok()
        );
    }

    #[test]
    fn dry_run_preview_shows_each_kind_and_its_pings() {
        let monitors = [
            monitor("https://hc-ping.com/uuid"),
            monitor("https://nosnch.in/tok"),
        ];
        let preview = preview(&monitors, ID, "rewards: dry run");
        assert_eq!(preview[0].kind, "healthchecks");
        assert_eq!(preview[0].address, "hc-ping.com:443");
        assert_eq!(
            preview[0].start.as_ref().unwrap().shown_in_full,
            format!("https://hc-ping.com/{MASK}/start?rid={ID}")
        );
        assert_eq!(
            preview[0].success.shown,
            format!("https://hc-ping.com/{MASK}/0")
        );
        assert_eq!(
            preview[0].failure.shown,
            format!("https://hc-ping.com/{MASK}/1")
        );
        assert_eq!(preview[0].failure.body.as_deref(), Some("rewards: dry run"));
        assert!(preview[1].start.is_none(), "a snitch has no start");
        assert_eq!(
            preview[1].failure.shown_in_full,
            format!("https://nosnch.in/{MASK}?s=1&m=rewards%3A%20dry%20run")
        );
        assert_eq!(
            preview[1].success.shown_in_full,
            format!("https://nosnch.in/{MASK}?s=0&m=rewards%3A%20dry%20run")
        );
    }
}
