//! Every way a run can fail, and the exit status each one maps to.
//!
//! The exit status is the tool's contract with cron, systemd and health-check
//! scripts, so it is defined here and nowhere else: [`Error::exit_code`] is the
//! only mapping from failure to number, and [`EXIT_STATUS_TABLE`] (printed by
//! `--help` and the man page, mirrored in the README and checked against it
//! by a test) is built from the same constants. The hints (what to check)
//! are decided here too, from the status and the route that answered.
//!
//! Variants describe what went wrong for the operator ("cannot reach …",
//! "the key was refused"), not which library raised it; each message names the
//! URL involved (never the key) and what to check.

use std::time::Duration;

use crate::duration::format_duration;

/// The numeric exit statuses; sysexits(3) names where one fits.
pub mod code {
    /// The job ran and the server reported success.
    pub const OK: u8 = 0;
    /// The job ran but reported failure (`success: false` or too many item errors).
    pub const JOB_FAILED: u8 = 1;
    /// EX_USAGE: the command line is wrong.
    pub const USAGE: u8 = 64;
    /// EX_UNAVAILABLE: the API could not be reached or its gateway says it is down.
    pub const UNAVAILABLE: u8 = 69;
    /// EX_SOFTWARE: the API answered with a server error.
    pub const SERVER_ERROR: u8 = 70;
    /// EX_IOERR: a result could not be written to stdout (a full disk).
    pub const IO_ERROR: u8 = 74;
    /// EX_TEMPFAIL: out of time, or the server asked us to come back later.
    pub const TEMPORARY: u8 = 75;
    /// EX_PROTOCOL: the answer is not something this tool can act on.
    pub const PROTOCOL: u8 = 76;
    /// EX_NOPERM: the API key was refused.
    pub const AUTH: u8 = 77;
    /// EX_CONFIG: the configuration is missing or invalid; nothing was sent.
    pub const CONFIG: u8 = 78;
    /// 128 + SIGINT, the shell's convention for a process ended by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
    /// 128 + SIGTERM, the shell's convention for a process told to stop.
    pub const TERMINATED: u8 = 143;
}

/// The exit-status table shown by `--help` and in the README.
pub const EXIT_STATUS_TABLE: &[(u8, &str)] = &[
    (
        code::OK,
        "job ran: 2xx, `success` not false, `errors` <= --max-item-errors",
    ),
    (
        code::JOB_FAILED,
        "job ran but failed: `success: false`, or `errors` above the limit; --pending: more than --max-pending",
    ),
    (
        code::USAGE,
        "usage: unknown flag, bad value (a duration over 24h), missing --job",
    ),
    (
        code::UNAVAILABLE,
        "API unavailable: DNS, refused, reset, TLS failure, a proxy refusing the CONNECT, or 502/503/504 after retries",
    ),
    (
        code::SERVER_ERROR,
        "server error: 500 or another 5xx after retries",
    ),
    (
        code::IO_ERROR,
        "I/O error: the result could not be written to stdout (full disk, /dev/full)",
    ),
    (
        code::TEMPORARY,
        "temporary: deadline reached, 408/429 after retries, or another run holds --lock-file",
    ),
    (
        code::PROTOCOL,
        "protocol: 3xx (but see 77), 400/404/405 or any other 4xx, 2xx whose body is not a JSON object or has a contract field of the wrong type, body over 1 MiB",
    ),
    (
        code::AUTH,
        "auth: 401 or 403, or a redirect to a sign-in page - the key is wrong",
    ),
    (
        code::CONFIG,
        "config: missing or invalid key, key file, URL, env file, CA bundle, lock file, or another OCD_CRON_* variable",
    ),
    (code::INTERRUPTED, "interrupted by SIGINT (Ctrl-C)"),
    (code::TERMINATED, "stopped by SIGTERM"),
];

/// Everything that can end a run with a non-zero status. `Clone`, because an
/// error that stops a run before it starts is reported once per job.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// A setting is missing or invalid. The text names the flag and the
    /// variable to fix. Nothing has been sent.
    #[error("configuration: {0}")]
    Config(String),

    /// No connection could be made or it broke before a complete answer:
    /// DNS failure, refused, reset, connect timeout, a proxy that failed.
    #[error(
        "cannot reach {url}: {reason}; check that the OCD app is running and that --base-url / API_BASE_URL points at it"
    )]
    Connect { url: String, reason: String },

    /// The proxy chosen from the proxy variables could not be reached (a
    /// connection to it failed): the OCD app was never asked.
    #[error(
        "cannot reach the proxy {proxy} on the way to {url}: {reason}; check that the proxy in http_proxy / https_proxy / all_proxy is running, or add the host to no_proxy / NO_PROXY if it can be reached directly"
    )]
    ProxyUnreachable {
        url: String,
        proxy: String,
        reason: String,
    },

    /// The proxy answered the CONNECT that opens a tunnel to the server with
    /// a refusal. ureq can only tunnel, never forward plain http as curl
    /// does, and stock Squid allows CONNECT only to port 443. Not retried:
    /// a proxy's policy does not change within seconds.
    #[error(
        "the proxy {proxy} refused to CONNECT to {target} ({reason}) on the way to {url}; {}",
        proxy_refusal_hint(reason, target)
    )]
    ProxyRefused {
        url: String,
        proxy: String,
        target: String,
        reason: String,
    },

    /// The TLS handshake failed, almost always a certificate problem. Not
    /// retried: a certificate does not fix itself within seconds.
    #[error(
        "TLS certificate problem with {host} ({url}): {reason}; {}",
        tls_hint(reason)
    )]
    Tls {
        url: String,
        host: String,
        reason: String,
    },

    /// An `https://` URL whose port answered the TLS handshake in plain
    /// HTTP (what Node's and most HTTP servers send to bytes they cannot
    /// parse). Not retried: the scheme is wrong, and no retry changes it.
    #[error(
        "{url} answered the TLS handshake in plain HTTP: this port speaks http, not https; use http:// in --base-url / API_BASE_URL, or the port that serves https"
    )]
    PlainHttp { url: String },

    /// The deadline (`setting` names the flag or limit that set it) passed
    /// while waiting for the server.
    #[error("no complete answer from {url} within the {} deadline ({setting}); the server may be overloaded or stalled", format_duration(*timeout))]
    Deadline {
        url: String,
        timeout: Duration,
        setting: &'static str,
    },

    /// The server answered with a redirect, which is never followed so the
    /// key cannot travel to another host.
    #[error(
        "{url} answered HTTP {status} redirecting to {location}; redirects are not followed so the key stays with the configured host: set --base-url / API_BASE_URL to the final address"
    )]
    Redirect {
        url: String,
        status: u16,
        location: String,
    },

    /// 401 or 403: the server does not accept the key. `hint` says what to
    /// check, which differs between the job (POST) and status (GET) routes.
    #[error("{url} answered HTTP {status}{detail}: the API key was refused; {hint}")]
    Auth {
        url: String,
        status: u16,
        detail: String,
        hint: &'static str,
    },

    /// A redirect to a sign-in page: what an auth middleware in front of
    /// the routes does with a request it does not accept. It is about the
    /// key, not the address, so it is an auth failure (77), not a protocol
    /// one (76) like any other redirect. Still not followed.
    #[error(
        "{url} answered HTTP {status} redirecting to the sign-in page {location}: the app's authentication did not accept the API key; {hint}"
    )]
    SignIn {
        url: String,
        status: u16,
        location: String,
        hint: &'static str,
    },

    /// Any other non-2xx status. `detail` is the server's sanitised
    /// explanation, ready to append (empty or starting with ": "); `route`
    /// says which kind of request got it, which decides what to check.
    #[error("{url} answered HTTP {status}{detail}{}", status_hint(*status, *route))]
    Http {
        url: String,
        status: u16,
        detail: String,
        route: Route,
    },

    /// The answer cannot be understood: a 2xx whose body is not a JSON object,
    /// a body over the size limit, or broken HTTP.
    #[error(
        "{url} answered {what}; expected a JSON object from the OCD API, check that --base-url / API_BASE_URL points at the OCD app"
    )]
    BadResponse { url: String, what: String },

    /// A 2xx whose body is a JSON object, but a field the API contract
    /// defines (`success`, a count) has the wrong type or an impossible
    /// value: the answer cannot be trusted either way.
    #[error(
        "{url} answered {what}; an answer that breaks the API contract is not trusted, check that --base-url / API_BASE_URL points at the OCD app and that the app follows docs/api-contract.md"
    )]
    Contract { url: String, what: String },

    /// The job ran but reported failure. The counts and the `message` the
    /// server sent are kept for the JSON output and the metrics.
    #[error("job failed: {reason}")]
    JobFailed {
        reason: String,
        processed: Option<u64>,
        errors: Option<u64>,
        message: Option<String>,
    },

    /// `--pending --max-pending`: more decisions wait than allowed. Nothing
    /// failed (no job ran); the backlog is the alarm, with the same exit
    /// status as a failed job so a health check needs one rule. The count
    /// and the server's message are kept for stdout and the JSON output.
    #[error("backlog check: {pending} decisions pending, more than --max-pending {max}")]
    Backlog {
        pending: u64,
        max: u64,
        message: Option<String>,
    },

    /// Another run holds the `--lock-file`; nothing was sent.
    #[error("another ocd-cron run holds the lock file {path}; not starting a second one")]
    Locked { path: String },

    /// SIGINT or SIGTERM arrived; `during` says what the run was doing
    /// (`while waiting for …`), or, for a job that had not started, that it
    /// had not ([`Error::before_job`]).
    #[error("interrupted by {signal} {during}")]
    Interrupted { signal: Signal, during: String },
}

/// The signals that stop a run early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        })
    }
}

/// Which kind of request an HTTP status answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The POST that runs a job.
    Job,
    /// The GET that asks for the pending count (`--pending`).
    Status,
    /// A monitor's ping (`--ping-url`).
    Ping,
}

/// What to check for a status that carries no more specific advice.
fn status_hint(status: u16, route: Route) -> &'static str {
    match (status, route) {
        (408 | 429, _) => "; the server asked to come back later",
        (_, Route::Ping) => "",
        // The job's POST worked on this very URL, so the address is right;
        // the deployment just has no GET handler for it.
        (405, Route::Status) => {
            "; this deployment has no GET handler on the job's route, so --pending cannot ask it for the count (running the job uses POST and is not affected)"
        }
        (404 | 405, _) => "; check --base-url / API_BASE_URL, including any path prefix",
        (502, _) => "; the gateway in front of the OCD app cannot reach it",
        (503, _) => {
            "; the OCD app is deploying or overloaded, or the gateway in front of it cannot reach it"
        }
        (504, _) => "; the gateway in front of the OCD app got no answer from it in time",
        (500..=599, Route::Status) => {
            "; the status check failed on the server (no job was run), see the OCD app's logs"
        }
        (500..=599, _) => "; the job failed on the server, see the OCD app's logs",
        _ => "",
    }
}

/// What to do about a proxy that refused the tunnel: 407 asks for the
/// proxy's own credentials; anything else is its CONNECT policy.
fn proxy_refusal_hint(reason: &str, target: &str) -> String {
    if reason == "HTTP 407" {
        "the proxy wants credentials of its own: put them in the proxy variable's URL (http://user:password@proxy:port)".into()
    } else {
        format!(
            "ocd-cron reaches a server through a proxy only by tunnelling with CONNECT, which many proxies allow only to port 443: if the OCD app can be reached directly, add its host to no_proxy / NO_PROXY, otherwise allow CONNECT to {target} on the proxy"
        )
    }
}

/// What to check after a failed TLS handshake. rustls names an
/// unrecognised CA `UnknownIssuer`: an internal CA the system store does
/// not hold, or a bundle that lacks it.
fn tls_hint(reason: &str) -> &'static str {
    if reason.contains("UnknownIssuer") {
        "the certificate's issuer is not trusted: for an internal CA, give its PEM bundle with --ca-cert / OCD_CRON_CA_CERT"
    } else {
        "check the server's certificate chain and this machine's trust store (or --ca-cert / OCD_CRON_CA_CERT)"
    }
}

impl Error {
    /// An interruption as it concerns a job of the invocation that had not
    /// started, whose endpoint is `url`: its own record must name its own
    /// URL, not that of the job in flight. `another_job_ran` says whether
    /// the interruption came during another job (whose phase names that
    /// job's URL) or before any (a start ping). Other errors stay as they are.
    pub fn before_job(&self, url: &str, another_job_ran: bool) -> Error {
        match self {
            Error::Interrupted { signal, during } => Error::Interrupted {
                signal: *signal,
                during: if another_job_ran {
                    format!("before this job started (nothing was sent to {url})")
                } else {
                    format!("{during}, before this job started (nothing was sent to {url})")
                },
            },
            other => other.clone(),
        }
    }

    /// The process exit status for this failure: the one place codes are assigned.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => code::CONFIG,
            Error::Connect { .. }
            | Error::ProxyUnreachable { .. }
            | Error::ProxyRefused { .. }
            | Error::Tls { .. }
            | Error::PlainHttp { .. } => code::UNAVAILABLE,
            Error::Deadline { .. } => code::TEMPORARY,
            Error::Redirect { .. } | Error::BadResponse { .. } | Error::Contract { .. } => {
                code::PROTOCOL
            }
            Error::Auth { .. } | Error::SignIn { .. } => code::AUTH,
            Error::Http { status, .. } => match status {
                408 | 429 => code::TEMPORARY,
                502..=504 => code::UNAVAILABLE,
                500..=599 => code::SERVER_ERROR,
                _ => code::PROTOCOL,
            },
            Error::JobFailed { .. } | Error::Backlog { .. } => code::JOB_FAILED,
            Error::Locked { .. } => code::TEMPORARY,
            Error::Interrupted { signal, .. } => match signal {
                Signal::Int => code::INTERRUPTED,
                Signal::Term => code::TERMINATED,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> Error {
        http_on(status, Route::Job)
    }

    fn http_on(status: u16, route: Route) -> Error {
        Error::Http {
            url: "http://h/x".into(),
            status,
            detail: String::new(),
            route,
        }
    }

    #[test]
    fn hints_fit_the_route() {
        let says = |status, route| http_on(status, route).to_string();
        assert!(says(405, Route::Status).contains("no GET handler"));
        assert!(says(405, Route::Job).contains("check --base-url"));
        assert!(says(404, Route::Status).contains("check --base-url"));
        assert!(says(500, Route::Job).contains("the job failed on the server"));
        assert!(says(500, Route::Status).contains("the status check failed on the server"));
        assert!(!says(500, Route::Status).contains("job failed"));
        assert!(says(503, Route::Job).contains("deploying or overloaded, or the gateway"));
        assert!(says(502, Route::Job).contains("gateway in front of the OCD app cannot reach it"));
        assert!(says(504, Route::Status).contains("got no answer from it in time"));
        assert!(says(429, Route::Ping).contains("come back later"));
        assert_eq!(says(500, Route::Ping), "http://h/x answered HTTP 500");
        assert_eq!(says(418, Route::Job), "http://h/x answered HTTP 418");
    }

    #[test]
    fn an_unknown_issuer_points_at_ca_cert() {
        let tls = |reason: &str| Error::Tls {
            url: "https://h/x".into(),
            host: "h".into(),
            reason: reason.into(),
        };
        let unknown = tls("invalid peer certificate: UnknownIssuer").to_string();
        assert!(
            unknown.ends_with("issuer is not trusted: for an internal CA, give its PEM bundle with --ca-cert / OCD_CRON_CA_CERT"),
            "{unknown}"
        );
        let expired = tls("invalid peer certificate: Expired").to_string();
        assert!(expired.contains("certificate chain"), "{expired}");
        assert_eq!(tls("x").exit_code(), 69);
    }

    #[test]
    fn a_proxy_asking_for_credentials_is_told_apart_from_its_policy() {
        let refused = |reason: &str| {
            Error::ProxyRefused {
                url: "https://h/x".into(),
                proxy: "p:3128".into(),
                target: "h:443".into(),
                reason: reason.into(),
            }
            .to_string()
        };
        assert!(refused("HTTP 407").ends_with("(http://user:password@proxy:port)"));
        assert!(refused("HTTP 403").ends_with("allow CONNECT to h:443 on the proxy"));
    }

    #[test]
    fn http_statuses_map_to_the_documented_codes() {
        for (status, want) in [
            (400, 76),
            (404, 76),
            (405, 76),
            (418, 76),
            (408, 75),
            (429, 75),
            (500, 70),
            (501, 70),
            (502, 69),
            (503, 69),
            (504, 69),
            (599, 70),
        ] {
            assert_eq!(http(status).exit_code(), want, "status {status}");
        }
    }

    #[test]
    fn each_status_carries_its_hint() {
        for (status, hint) in [
            (
                404,
                "; check --base-url / API_BASE_URL, including any path prefix",
            ),
            (
                405,
                "; check --base-url / API_BASE_URL, including any path prefix",
            ),
            (408, "; the server asked to come back later"),
            (429, "; the server asked to come back later"),
            (
                500,
                "; the job failed on the server, see the OCD app's logs",
            ),
            (
                501,
                "; the job failed on the server, see the OCD app's logs",
            ),
            (
                505,
                "; the job failed on the server, see the OCD app's logs",
            ),
            (
                599,
                "; the job failed on the server, see the OCD app's logs",
            ),
            (502, "; the gateway in front of the OCD app cannot reach it"),
            (
                503,
                "; the OCD app is deploying or overloaded, or the gateway in front of it cannot reach it",
            ),
            (
                504,
                "; the gateway in front of the OCD app got no answer from it in time",
            ),
            (400, ""),
            (418, ""),
            (600, ""),
        ] {
            assert_eq!(status_hint(status, Route::Job), hint, "{status}");
            assert!(
                http(status)
                    .to_string()
                    .ends_with(&format!("HTTP {status}{hint}"))
            );
        }
    }

    #[test]
    fn an_interruption_names_its_signal() {
        let stopped = |signal| {
            Error::Interrupted {
                signal,
                during: "while waiting".into(),
            }
            .to_string()
        };
        assert_eq!(stopped(Signal::Int), "interrupted by SIGINT while waiting");
        assert_eq!(
            stopped(Signal::Term),
            "interrupted by SIGTERM while waiting"
        );
    }

    #[test]
    fn a_job_that_had_not_started_names_its_own_url() {
        let interrupted = Error::Interrupted {
            signal: Signal::Term,
            during: "while waiting for http://h/a (attempt 1/3)".into(),
        };
        let after = interrupted.before_job("http://h/b", true);
        assert_eq!(
            after.to_string(),
            "interrupted by SIGTERM before this job started (nothing was sent to http://h/b)"
        );
        assert_eq!(after.exit_code(), 143);
        assert_eq!(
            interrupted.before_job("http://h/b", false).to_string(),
            "interrupted by SIGTERM while waiting for http://h/a (attempt 1/3), before this job started (nothing was sent to http://h/b)"
        );
        let locked = Error::Locked { path: "p".into() };
        assert_eq!(
            locked.before_job("http://h/b", true).to_string(),
            locked.to_string()
        );
    }

    #[test]
    fn every_code_used_is_in_the_table() {
        let table: Vec<u8> = EXIT_STATUS_TABLE.iter().map(|(c, _)| *c).collect();
        let samples = [
            Error::Config("x".into()),
            Error::Connect {
                url: "u".into(),
                reason: "r".into(),
            },
            Error::ProxyUnreachable {
                url: "u".into(),
                proxy: "p:1".into(),
                reason: "connection refused".into(),
            },
            Error::ProxyRefused {
                url: "u".into(),
                proxy: "p:1".into(),
                target: "t:2".into(),
                reason: "HTTP 403".into(),
            },
            Error::Deadline {
                url: "u".into(),
                timeout: Duration::from_secs(1),
                setting: "--timeout",
            },
            Error::Auth {
                url: "u".into(),
                status: 401,
                detail: String::new(),
                hint: "h",
            },
            Error::BadResponse {
                url: "u".into(),
                what: "w".into(),
            },
            Error::Contract {
                url: "u".into(),
                what: "w".into(),
            },
            Error::JobFailed {
                reason: "r".into(),
                processed: None,
                errors: None,
                message: None,
            },
            Error::Backlog {
                pending: 2,
                max: 1,
                message: None,
            },
            Error::SignIn {
                url: "u".into(),
                status: 307,
                location: "/login".into(),
                hint: "h",
            },
            Error::Locked { path: "p".into() },
            Error::PlainHttp { url: "u".into() },
            Error::Interrupted {
                signal: Signal::Int,
                during: "d".into(),
            },
            Error::Interrupted {
                signal: Signal::Term,
                during: "d".into(),
            },
            http(500),
        ];
        for e in samples {
            assert!(table.contains(&e.exit_code()), "{e}");
        }
    }
}
