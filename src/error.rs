//! Every way a run can fail, and the exit status each one maps to.
//!
//! The exit status is the tool's contract with cron, systemd and health-check
//! scripts, so it is defined here and nowhere else: [`Error::exit_code`] is the
//! only mapping from failure to number, and [`EXIT_STATUS_TABLE`] (printed by
//! `--help` and the man page, mirrored in the README and checked against it
//! by a test) is built from the same constants. What an HTTP status means
//! is decided here too, for jobs and pings alike: [`HTTP_STATUSES`] gives
//! each status whether it is retried, the exit status it yields and what to
//! check, per route (the job's endpoint, the status check, a monitor's ping
//! URL); the retry policy asks it, and every message takes its hint from it.
//!
//! Variants describe what went wrong for the operator ("cannot reach …",
//! "the key was refused"), not which library raised it; each message names the
//! URL involved (never the key) and what to check.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::duration::format_duration;
use crate::setting;

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
        "cannot reach {url}: {reason}; check that the OCD app is running and that {} points at it",
        setting::BASE_URL
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
        "{url} answered the TLS handshake in plain HTTP: this port speaks http, not https; use http:// in {}, or the port that serves https",
        setting::BASE_URL
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
    #[error("{url} answered HTTP {status} redirecting to {location}{}", http_status(*status).hint(*route))]
    Redirect {
        url: String,
        status: u16,
        location: String,
        route: Route,
    },

    /// 401 or 403: the server does not accept the key. What to check
    /// differs between the job (POST) and status (GET) routes.
    #[error("{url} answered HTTP {status}{detail}: the API key was refused{}", http_status(*status).hint(*route))]
    Auth {
        url: String,
        status: u16,
        detail: String,
        route: Route,
    },

    /// A redirect to a sign-in page: what an auth middleware in front of
    /// the routes does with a request it does not accept. It is about the
    /// key, not the address, so it is an auth failure (77), not a protocol
    /// one (76) like any other redirect. Still not followed. What to check
    /// is what a 401 on the same route asks for.
    #[error(
        "{url} answered HTTP {status} redirecting to the sign-in page {location}: the app's authentication did not accept the API key{}",
        http_status(401).hint(*route)
    )]
    SignIn {
        url: String,
        status: u16,
        location: String,
        route: Route,
    },

    /// Any other non-2xx status. `detail` is the server's sanitised
    /// explanation, ready to append (empty or starting with ": "); `route`
    /// says which kind of request got it, which decides what to check.
    #[error("{url} answered HTTP {status}{detail}{}", http_status(*status).hint(*route))]
    Http {
        url: String,
        status: u16,
        detail: String,
        route: Route,
    },

    /// The answer cannot be understood: a 2xx whose body is not a JSON object,
    /// a body over the size limit, or broken HTTP.
    #[error(
        "{url} answered {what}; expected a JSON object from the OCD API, check that {} points at the OCD app",
        setting::BASE_URL
    )]
    BadResponse { url: String, what: String },

    /// A 2xx whose body is a JSON object, but a field the API contract
    /// defines (`success`, a count) has the wrong type or an impossible
    /// value: the answer cannot be trusted either way.
    #[error(
        "{url} answered {what}; an answer that breaks the API contract is not trusted, check that {} points at the OCD app and that the app follows docs/api-contract.md",
        setting::BASE_URL
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

/// What an HTTP status outside 2xx means, whichever request got it.
#[derive(Debug)]
pub struct HttpStatus {
    /// The statuses this row is about.
    codes: RangeInclusive<u16>,
    /// Whether another attempt may get a different answer.
    pub retryable: bool,
    /// The exit status a job that ends with it yields.
    pub exit: u8,
    hint: Hint,
}

/// What to check after a status, per route, appended to the message
/// (empty: nothing more specific than the status itself). `{base_url}`
/// and `{key}` stand for the settings' names ([`setting`]), which no hint
/// spells itself.
#[derive(Debug)]
struct Hint {
    job: &'static str,
    status: &'static str,
    ping: &'static str,
}

impl Hint {
    /// The same advice on every route.
    const fn every_route(hint: &'static str) -> Hint {
        Hint::app(hint, hint)
    }

    /// The same advice on both of the OCD app's routes.
    const fn app(app: &'static str, ping: &'static str) -> Hint {
        Hint {
            job: app,
            status: app,
            ping,
        }
    }
}

impl HttpStatus {
    /// What to check after this status on `route`.
    pub fn hint(&self, route: Route) -> String {
        let hint = match route {
            Route::Job => self.hint.job,
            Route::Status => self.hint.status,
            Route::Ping => self.hint.ping,
        };
        hint.replace("{base_url}", setting::BASE_URL.name)
            .replace("{key}", setting::KEY.name)
    }
}

/// A monitor's ping URL is pasted from its page; a 4xx says it is not that one.
const WRONG_PING_URL: &str = "; check the URL against the one the monitor's page shows";
const CHECK_BASE_URL: &str = "; check {base_url}, including any path prefix";
/// The key, on the app's routes. Stock OCD accepts only a browser session
/// on the status (GET) route (see the API contract).
const KEY_REFUSED: Hint = Hint {
    job: "; check that {key} matches the server's",
    status: "; check {key}, and that this deployment's GET route accepts the key: stock OCD accepts only a browser session on GET, so --pending needs the route changed to let the key through",
    ping: WRONG_PING_URL,
};
/// Not the URL's fault: the app or the monitor is busy or limits requests.
const COME_BACK_LATER: Hint = Hint::app(
    "; the server asked to come back later",
    "; the monitor asked to come back later",
);
/// A monitor's 5xx is its own business: the ping is a warning either way.
const SERVER_FAILED: Hint = Hint {
    job: "; the job failed on the server, see the OCD app's logs",
    status: "; the status check failed on the server (no job was run), see the OCD app's logs",
    ping: "",
};

/// The one table of HTTP statuses, for jobs and pings alike: the first row
/// whose codes hold a status decides; the last holds every status. Both
/// jobs only touch rows that are still pending, so resending is safe;
/// only what a few seconds can plausibly cure is retried.
pub const HTTP_STATUSES: &[HttpStatus] = &[
    // Redirects are never followed, so the key cannot travel to another
    // host; they usually point at the same URL over https. (A redirect to a
    // sign-in page refuses the key: `Error::SignIn`, 77.)
    HttpStatus {
        codes: 300..=399,
        retryable: false,
        exit: code::PROTOCOL,
        hint: Hint::app(
            "; redirects are not followed so the key stays with the configured host: set {base_url} to the final address",
            ", a redirect, which is not followed; paste the URL it leads to (https?)",
        ),
    },
    // Unauthorized: the key was refused, and will be again.
    HttpStatus {
        codes: 401..=401,
        retryable: false,
        exit: code::AUTH,
        hint: KEY_REFUSED,
    },
    // Forbidden: as 401; auth middlewares answer either.
    HttpStatus {
        codes: 403..=403,
        retryable: false,
        exit: code::AUTH,
        hint: KEY_REFUSED,
    },
    // Not Found: the address, usually a missing path prefix.
    HttpStatus {
        codes: 404..=404,
        retryable: false,
        exit: code::PROTOCOL,
        hint: Hint::app(CHECK_BASE_URL, WRONG_PING_URL),
    },
    // Method Not Allowed: on the job's route, the address is wrong. On the
    // status route the job's POST worked on this very URL, so the address is
    // right; the deployment just has no GET handler for it.
    HttpStatus {
        codes: 405..=405,
        retryable: false,
        exit: code::PROTOCOL,
        hint: Hint {
            job: CHECK_BASE_URL,
            status: "; this deployment has no GET handler on the job's route, so --pending cannot ask it for the count (running the job uses POST and is not affected)",
            ping: WRONG_PING_URL,
        },
    },
    // Request Timeout: the server gave up waiting for our request; resending is the cure.
    HttpStatus {
        codes: 408..=408,
        retryable: true,
        exit: code::TEMPORARY,
        hint: COME_BACK_LATER,
    },
    // Too Many Requests: a rate limiter in front of the app; it says when (Retry-After).
    HttpStatus {
        codes: 429..=429,
        retryable: true,
        exit: code::TEMPORARY,
        hint: COME_BACK_LATER,
    },
    // Any other client error: the request is wrong, and resending it does not help.
    HttpStatus {
        codes: 400..=499,
        retryable: false,
        exit: code::PROTOCOL,
        hint: Hint::app("", WRONG_PING_URL),
    },
    // Internal Server Error: usually the database blinking under the job; the job is safe to rerun.
    HttpStatus {
        codes: 500..=500,
        retryable: true,
        exit: code::SERVER_ERROR,
        hint: SERVER_FAILED,
    },
    // Bad Gateway: the proxy cannot reach the app, typically while it restarts.
    HttpStatus {
        codes: 502..=502,
        retryable: true,
        exit: code::UNAVAILABLE,
        hint: Hint::app("; the gateway in front of the OCD app cannot reach it", ""),
    },
    // Service Unavailable: deploy or overload, often with Retry-After.
    HttpStatus {
        codes: 503..=503,
        retryable: true,
        exit: code::UNAVAILABLE,
        hint: Hint::app(
            "; the OCD app is deploying or overloaded, or the gateway in front of it cannot reach it",
            "",
        ),
    },
    // Gateway Timeout: the proxy gave up on a slow app; the next run finds less to do.
    HttpStatus {
        codes: 504..=504,
        retryable: true,
        exit: code::UNAVAILABLE,
        hint: Hint::app(
            "; the gateway in front of the OCD app got no answer from it in time",
            "",
        ),
    },
    // Any other server error (501 Not Implemented, 505 HTTP Version Not
    // Supported, ...): the server cannot do it, and will not seconds later.
    HttpStatus {
        codes: 500..=599,
        retryable: false,
        exit: code::SERVER_ERROR,
        hint: SERVER_FAILED,
    },
    // Anything else (an interim 1xx as the final answer, 600 and above):
    // not HTTP this tool can act on.
    HttpStatus {
        codes: 0..=u16::MAX,
        retryable: false,
        exit: code::PROTOCOL,
        hint: Hint::every_route(""),
    },
];

/// The row of [`HTTP_STATUSES`] for `status`.
pub fn http_status(status: u16) -> &'static HttpStatus {
    HTTP_STATUSES
        .iter()
        .find(|row| row.codes.contains(&status))
        .expect("the last row holds every status")
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
fn tls_hint(reason: &str) -> String {
    let ca = setting::CA_CERT;
    if reason.contains("UnknownIssuer") {
        format!(
            "the certificate's issuer is not trusted: for an internal CA, give its PEM bundle with {ca}"
        )
    } else {
        format!("check the server's certificate chain and this machine's trust store (or {ca})")
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

    /// This failure as told about a request on `route`. An HTTP status
    /// carries its route already; a failure to get one (no connection, a
    /// proxy, TLS, the deadline, broken HTTP) is told here in the
    /// monitor's terms for a ping, whose hints are not the job's (check
    /// --base-url …): a monitor is not the OCD app.
    pub fn for_route(&self, route: Route) -> String {
        if route != Route::Ping {
            return self.to_string();
        }
        match self {
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
            Error::Deadline {
                url,
                timeout,
                setting,
            } => format!(
                "no answer from {url} within the {setting} ({})",
                format_duration(*timeout)
            ),
            Error::BadResponse { url, what } => format!("{url} answered {what}"),
            other => other.to_string(),
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
            Error::BadResponse { .. } | Error::Contract { .. } => code::PROTOCOL,
            Error::SignIn { .. } => code::AUTH,
            Error::Redirect { status, .. }
            | Error::Auth { status, .. }
            | Error::Http { status, .. } => http_status(*status).exit,
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
            assert_eq!(http_status(status).hint(Route::Job), hint, "{status}");
            assert!(
                http(status)
                    .to_string()
                    .ends_with(&format!("HTTP {status}{hint}"))
            );
        }
    }

    /// Every row of the status table: whether it is retried, its exit
    /// status, and its hint on each route (job, status check, ping), at
    /// both ends of each range and between rows.
    #[test]
    fn the_status_table_row_by_row() {
        const RETRIED: bool = true;
        const FINAL: bool = false;
        let base_url = "; check --base-url / API_BASE_URL, including any path prefix";
        let ping_url = "; check the URL against the one the monitor's page shows";
        let job_key = "; check that INTERNAL_API_KEY matches the server's";
        let status_key = "; check INTERNAL_API_KEY, and that this deployment's GET route accepts the key: stock OCD accepts only a browser session on GET, so --pending needs the route changed to let the key through";
        let redirect = "; redirects are not followed so the key stays with the configured host: set --base-url / API_BASE_URL to the final address";
        let ping_redirect =
            ", a redirect, which is not followed; paste the URL it leads to (https?)";
        let no_get = "; this deployment has no GET handler on the job's route, so --pending cannot ask it for the count (running the job uses POST and is not affected)";
        let job_failed = "; the job failed on the server, see the OCD app's logs";
        let check_failed =
            "; the status check failed on the server (no job was run), see the OCD app's logs";
        let bad_gateway = "; the gateway in front of the OCD app cannot reach it";
        let unavailable = "; the OCD app is deploying or overloaded, or the gateway in front of it cannot reach it";
        let gateway_timeout = "; the gateway in front of the OCD app got no answer from it in time";
        let later = "; the server asked to come back later";
        let monitor_later = "; the monitor asked to come back later";
        for (statuses, retryable, exit, job, status, ping) in [
            (&[0, 100, 199, 200, 299][..], FINAL, 76, "", "", ""),
            (
                &[300, 301, 307, 399],
                FINAL,
                76,
                redirect,
                redirect,
                ping_redirect,
            ),
            (&[401, 403], FINAL, 77, job_key, status_key, ping_url),
            (&[404], FINAL, 76, base_url, base_url, ping_url),
            (&[405], FINAL, 76, base_url, no_get, ping_url),
            (&[408, 429], RETRIED, 75, later, later, monitor_later),
            (
                &[400, 402, 406, 407, 409, 428, 430, 499],
                FINAL,
                76,
                "",
                "",
                ping_url,
            ),
            (&[500], RETRIED, 70, job_failed, check_failed, ""),
            (&[502], RETRIED, 69, bad_gateway, bad_gateway, ""),
            (&[503], RETRIED, 69, unavailable, unavailable, ""),
            (&[504], RETRIED, 69, gateway_timeout, gateway_timeout, ""),
            (&[501, 505, 599], FINAL, 70, job_failed, check_failed, ""),
            (&[600, 999, u16::MAX], FINAL, 76, "", "", ""),
        ] {
            for &code in statuses {
                let row = http_status(code);
                assert_eq!(row.retryable, retryable, "{code}");
                assert_eq!(row.exit, exit, "{code}");
                assert_eq!(row.hint(Route::Job), job, "{code}");
                assert_eq!(row.hint(Route::Status), status, "{code}");
                assert_eq!(row.hint(Route::Ping), ping, "{code}");
            }
        }
    }

    #[test]
    fn every_status_has_a_row_and_every_code_is_in_the_exit_table() {
        let table: Vec<u8> = EXIT_STATUS_TABLE.iter().map(|(c, _)| *c).collect();
        for row in HTTP_STATUSES {
            assert!(table.contains(&row.exit), "{row:?}");
        }
        assert_eq!(
            HTTP_STATUSES.last().map(|row| row.codes.clone()),
            Some(0..=u16::MAX)
        );
    }

    #[test]
    fn key_and_redirect_messages_take_the_routes_hint() {
        let auth = |route| Error::Auth {
            url: "http://h/x".into(),
            status: 403,
            detail: ": no".into(),
            route,
        };
        assert_eq!(
            auth(Route::Job).to_string(),
            "http://h/x answered HTTP 403: no: the API key was refused; check that INTERNAL_API_KEY matches the server's"
        );
        assert!(auth(Route::Status).to_string().ends_with(
            "the API key was refused; check INTERNAL_API_KEY, and that this deployment's GET route accepts the key: stock OCD accepts only a browser session on GET, so --pending needs the route changed to let the key through"
        ));
        assert_eq!(auth(Route::Job).exit_code(), 77);
        let sign_in = |route| Error::SignIn {
            url: "http://h/x".into(),
            status: 307,
            location: "/login".into(),
            route,
        };
        assert_eq!(
            sign_in(Route::Job).to_string(),
            "http://h/x answered HTTP 307 redirecting to the sign-in page /login: the app's authentication did not accept the API key; check that INTERNAL_API_KEY matches the server's"
        );
        assert!(
            sign_in(Route::Status)
                .to_string()
                .ends_with("did not accept the API key; check INTERNAL_API_KEY, and that this deployment's GET route accepts the key: stock OCD accepts only a browser session on GET, so --pending needs the route changed to let the key through")
        );
        assert_eq!(sign_in(Route::Job).exit_code(), 77);
        let redirect = Error::Redirect {
            url: "http://h/x".into(),
            status: 308,
            location: "https://h/x".into(),
            route: Route::Status,
        };
        assert_eq!(
            redirect.to_string(),
            "http://h/x answered HTTP 308 redirecting to https://h/x; redirects are not followed so the key stays with the configured host: set --base-url / API_BASE_URL to the final address"
        );
        assert_eq!(redirect.exit_code(), 76);
    }

    #[test]
    fn a_ping_is_told_in_the_monitors_terms() {
        let url = || "https://m/***".to_string();
        let reason = || "r".to_string();
        let proxy = || "p:3128".to_string();
        for (error, job, ping) in [
            (
                Error::Connect {
                    url: url(),
                    reason: reason(),
                },
                "cannot reach https://m/***: r; check that the OCD app is running and that --base-url / API_BASE_URL points at it",
                "cannot reach https://m/***: r",
            ),
            (
                Error::ProxyUnreachable {
                    url: url(),
                    proxy: proxy(),
                    reason: reason(),
                },
                "cannot reach the proxy p:3128 on the way to https://m/***: r; check that the proxy in http_proxy / https_proxy / all_proxy is running, or add the host to no_proxy / NO_PROXY if it can be reached directly",
                "cannot reach the proxy p:3128 on the way to https://m/***: r; check the proxy variables, or add the monitor's host to no_proxy / NO_PROXY",
            ),
            (
                Error::ProxyRefused {
                    url: url(),
                    proxy: proxy(),
                    target: "m:443".into(),
                    reason: "HTTP 407".into(),
                },
                "the proxy p:3128 refused to CONNECT to m:443 (HTTP 407) on the way to https://m/***; the proxy wants credentials of its own: put them in the proxy variable's URL (http://user:password@proxy:port)",
                "the proxy p:3128 refused to CONNECT to m:443 (HTTP 407) on the way to https://m/***; allow CONNECT to m:443 on the proxy, or add the monitor's host to no_proxy / NO_PROXY",
            ),
            (
                Error::Tls {
                    url: url(),
                    host: "m".into(),
                    reason: reason(),
                },
                "TLS certificate problem with m (https://m/***): r; check the server's certificate chain and this machine's trust store (or --ca-cert / OCD_CRON_CA_CERT)",
                "TLS certificate problem with https://m/***: r; monitors are checked against the system trust store",
            ),
            (
                Error::Deadline {
                    url: url(),
                    timeout: Duration::from_secs(2),
                    setting: "ping time limit",
                },
                "no complete answer from https://m/*** within the 2 s deadline (ping time limit); the server may be overloaded or stalled",
                "no answer from https://m/*** within the ping time limit (2 s)",
            ),
            (
                Error::BadResponse {
                    url: url(),
                    what: "w".into(),
                },
                "https://m/*** answered w; expected a JSON object from the OCD API, check that --base-url / API_BASE_URL points at the OCD app",
                "https://m/*** answered w",
            ),
            (
                Error::Http {
                    url: url(),
                    status: 429,
                    detail: String::new(),
                    route: Route::Ping,
                },
                "https://m/*** answered HTTP 429; the monitor asked to come back later",
                "https://m/*** answered HTTP 429; the monitor asked to come back later",
            ),
            (
                Error::PlainHttp { url: url() },
                "https://m/*** answered the TLS handshake in plain HTTP: this port speaks http, not https; use http:// in --base-url / API_BASE_URL, or the port that serves https",
                "https://m/*** answered the TLS handshake in plain HTTP: this port speaks http, not https; use http:// in --base-url / API_BASE_URL, or the port that serves https",
            ),
        ] {
            assert_eq!(error.to_string(), job);
            assert_eq!(error.for_route(Route::Job), job);
            assert_eq!(error.for_route(Route::Status), job);
            assert_eq!(error.for_route(Route::Ping), ping);
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
                route: Route::Job,
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
                route: Route::Job,
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
