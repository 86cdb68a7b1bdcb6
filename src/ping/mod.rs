//! Dead-man-switch pings to the monitors operators already use:
//! healthchecks.io, Cronitor, Sentry Crons, Uptime Kuma, Better Stack and
//! Dead Man's Snitch. The configuration turns each pasted URL into a
//! [`Monitor`] (which kind it is, its parts, its secrets); [`protocol`] says
//! what each kind is sent; this module builds each ping from the two,
//! sends the pings, and says how they went.
//!
//! Monitoring must never change the outcome it monitors: a ping gets a few
//! short attempts within its own time limit, a failure is a warning, and the
//! exit status stays the job's. All monitors are pinged at once, one thread
//! each, so however many there are and however dead they are, a start or a
//! finish costs at most the time limit the configuration gives
//! (`--ping-timeout`, 10 s by default). A ping carries no API key (it is a
//! separate request to a separate host), and the secret parts of its URL
//! (check id, API key, token, public key) are masked wherever it is shown.

mod protocol;

use std::time::{Duration, Instant};

use crate::config::Monitor;
pub use protocol::Finish;

use crate::client::{self, Budget, HeaderValue, Method, Request, USER_AGENT};
use crate::config::monitor::HARMLESS_PARAMS;
use crate::error::{Error, Route};
use crate::interrupt::Phase;
use crate::outcome::Response;
use crate::sanitize::{MASK, for_log};
use crate::time;
use protocol::Shape;

/// Attempts per ping.
const ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest `Retry-After` a monitor gets is this share of the time
/// limit (2 s of the default 10 s): the start ping delays the job, and a
/// monitor asking for more is retried sooner or given up on.
const SERVER_WAIT_SHARE: u32 = 5;

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
    /// `ping (kind, host:port)`: how log lines name this monitor.
    fn label(&self) -> String {
        format!("ping ({}, {})", self.kind().name(), self.address())
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
        let masked = format!("{}{}", self.origin(), self.kind().masked_path(self.path()));
        let ours = shape
            .params
            .iter()
            .map(|(name, value)| format!("{name}={}", protocol::encode(value)));
        let theirs_shown = self.extra().iter().map(|pair| match pair.split_once('=') {
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
                join(self.url()),
                self.extra().iter().cloned().chain(ours.clone()).collect(),
            ),
            shown: join(&masked),
            shown_in_full: with_query(join(&masked), theirs_shown.chain(ours).collect()),
            body: shape.body.clone(),
        }
    }

    /// Sends one ping within `limit`, all attempts and waits included,
    /// reporting how it went and telling `phase` what it waits for; never
    /// fails.
    fn send(&self, event: &str, shape: &Shape, limit: Duration, phase: &Phase) {
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
        let explain = |error: &Error| error.for_route(Route::Ping);
        let request = Request {
            label: label.clone(),
            method: ping.method,
            url: ping.url.clone(),
            shown: ping.shown.clone(),
            host: self.target().host.clone(),
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
        let agent = client::agent(self.target(), CONNECT_TIMEOUT, None);
        let result = client::send_with_retries(&agent, &request, &budget, phase, |response| {
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

/// Signals to every monitor that has a start ping that the invocation
/// began, all within `limit`, telling `phase` what they wait for.
pub fn start(monitors: &[Monitor], invocation_id: &str, limit: Duration, phase: &Phase) {
    send_all(monitors, "start", limit, phase, |monitor| {
        protocol::start(monitor.kind(), invocation_id)
    });
}

/// Signals to every monitor how the invocation ended, all within `limit`.
/// This machine's name is filled in for the monitors that show it. What
/// they wait for is told to `phase`.
pub fn finish(
    monitors: &[Monitor],
    invocation_id: &str,
    event: &Finish<'_>,
    limit: Duration,
    phase: &Phase,
) {
    let hostname = hostname();
    let event = Finish {
        hostname: hostname.as_deref(),
        ..event.clone()
    };
    send_all(monitors, "finish", limit, phase, |monitor| {
        Some(protocol::finish(monitor.kind(), invocation_id, &event))
    });
}

/// Pings all `monitors` at once, each within `limit`, and returns when
/// every ping has ended. A ping that cannot have a thread of its own (a
/// limit on tasks) is sent on this one, before the next is started.
fn send_all(
    monitors: &[Monitor],
    event: &str,
    limit: Duration,
    phase: &Phase,
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
                        .spawn_scoped(scope, move || monitor.send(event, &on_thread, limit, phase))
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
                        monitor.send(event, &shape, limit, phase);
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
            let finish = |exit| {
                monitor.ping(&protocol::finish(
                    monitor.kind(),
                    invocation_id,
                    &event(exit),
                ))
            };
            Preview {
                kind: monitor.kind().name(),
                address: monitor.address(),
                start: protocol::start(monitor.kind(), invocation_id).map(|s| monitor.ping(&s)),
                success: finish(0),
                failure: finish(1),
            }
        })
        .collect()
}

/// Any 2xx is accepted; anything else is an error, retried if transient.
/// A redirect is not followed and neither its target nor its body shown:
/// it usually points at the same URL over https, secret included.
fn accepted(shown: &str, response: &Response) -> Result<(), Error> {
    if (200..300).contains(&response.status) {
        return Ok(());
    }
    let detail = if (300..400).contains(&response.status) {
        String::new()
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
    use crate::config::monitor::Kind;
    use crate::sanitize;

    #[test]
    fn hostname_is_the_kernels_name_for_this_machine() {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(hostname().as_deref(), Some(kernel.trim_end()));
    }

    fn monitor(entry: &str) -> Monitor {
        Monitor::parse(entry, "--ping-url", &|_| None).unwrap()
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
        protocol::start(m.kind(), ID).map(|s| m.ping(&s))
    }

    fn finish_of(m: &Monitor, event: &Finish<'_>) -> Ping {
        m.ping(&protocol::finish(m.kind(), ID, event))
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
        assert_eq!(m.kind(), Kind::Sentry);
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
        assert_eq!(m.kind(), Kind::UptimeKuma);
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
        assert_eq!(m.kind(), Kind::Cronitor);
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

    fn for_ping(error: &Error) -> String {
        error.for_route(Route::Ping)
    }

    #[test]
    fn failures_are_described_as_ping_problems() {
        let connect = Error::Connect {
            url: format!("https://cronitor.link/p/{MASK}/rewards"),
            reason: "connection refused".into(),
        };
        let text = for_ping(&connect);
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
            for_ping(&not_found),
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
                for_ping(&busy),
                format!("u answered HTTP {status}; the monitor asked to come back later")
            );
        }
        let moved = accepted(
            "u",
            &Response {
                status: 301,
                location: Some("https://h/T0k".into()),
                body: b"Moved to https://h/T0k".to_vec(),
            },
        )
        .unwrap_err();
        assert_eq!(
            for_ping(&moved),
            "u answered HTTP 301, a redirect, which is not followed; paste the URL it leads to (https?)"
        );
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
