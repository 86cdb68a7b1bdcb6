//! A `--ping-url` entry → a [`Monitor`]: which monitor the URL belongs to,
//! its parts (the checked [`Target`], the path, the query the user added),
//! and which of them are secret.
//!
//! The kind decides every request shape, so it is decided here and only
//! here: an explicit `<kind>+` in front of the URL, else the host and path
//! shape that the monitor's own page hands out, else healthchecks (the
//! protocol of hc-ping.com and of the self-hosted servers that copy it). A
//! URL on a known monitor's host whose path has the wrong shape is refused
//! rather than guessed at: pinging it in another protocol would look like
//! monitoring and report nothing.
//!
//! The entries are parsed with the rest of the configuration, so that a
//! bad one refuses the run before anything is sent; `ping` builds and sends
//! the requests from what is parsed here (its own `impl Monitor`).
//!
//! The entry's `<kind>+` prefix, fragment and query are split off by hand,
//! before its URL is checked: `http::Uri` would refuse the whole entry for
//! a fault in any part (and read `cronitor+https` as a scheme), while each
//! fault has its own message here. The URL itself is checked and split by
//! [`target`], and `Uri` checks the query that is kept.

use super::environment::not_text;
use crate::error::Error;
use crate::sanitize::{MASK, for_log};
use crate::target::{self, Target};

/// Query parameters of a pasted URL whose values the dry run may show; the
/// values of any others are masked, as they might be credentials.
pub const HARMLESS_PARAMS: &[&str] = &["environment", "create"];

/// A monitoring service's ping protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Healthchecks,
    Cronitor,
    Sentry,
    UptimeKuma,
    BetterStack,
    DeadMansSnitch,
}

/// Every kind, in the order messages and docs list them.
pub const KINDS: [Kind; 6] = [
    Kind::Healthchecks,
    Kind::Cronitor,
    Kind::Sentry,
    Kind::UptimeKuma,
    Kind::BetterStack,
    Kind::DeadMansSnitch,
];

impl Kind {
    /// The name used in the `<kind>+` prefix and in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Healthchecks => "healthchecks",
            Kind::Cronitor => "cronitor",
            Kind::Sentry => "sentry",
            Kind::UptimeKuma => "uptime-kuma",
            Kind::BetterStack => "betterstack",
            Kind::DeadMansSnitch => "deadmanssnitch",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// The URL the monitor's page shows, for messages.
    fn shape(self) -> &'static str {
        match self {
            Kind::Healthchecks => "https://hc-ping.com/<uuid>",
            Kind::Cronitor => "https://cronitor.link/p/<api-key>/<monitor-key>",
            Kind::Sentry => "https://<ingest host>/api/<project>/cron/<monitor-slug>/<public-key>/",
            Kind::UptimeKuma => "https://<host>/api/push/<token>",
            Kind::BetterStack => "https://uptime.betterstack.com/api/v1/heartbeat/<token>",
            Kind::DeadMansSnitch => "https://nosnch.in/<token>",
        }
    }

    /// Indexes of the secret segments of `path` (check id, API key,
    /// token, public key). Where the path does not have this kind's shape
    /// (a URL named with a `<kind>+` prefix), every segment counts as secret.
    fn secret_segments(self, segments: &[&str]) -> Vec<usize> {
        let n = segments.len();
        let secret_at = |i: usize| vec![i];
        match self {
            // Exactly `/p/<api-key>/<monitor-key>`.
            Kind::Cronitor if cronitor_shape(segments) => secret_at(1),
            Kind::Sentry if sentry_shape(segments) => secret_at(n - 1),
            Kind::UptimeKuma if kuma_shape(segments) => secret_at(n - 1),
            Kind::BetterStack if betterstack_shape(segments) => secret_at(n - 1),
            // A healthchecks URL is a uuid, or a ping key and a slug, under
            // a prefix only the server knows; a snitch is one token.
            _ => (0..n).collect(),
        }
    }

    /// The secret segments of `path` themselves, to scrub from text.
    pub fn secrets(self, path: &str) -> Vec<&str> {
        let segments = segments(path);
        self.secret_segments(&segments)
            .into_iter()
            .map(|i| segments[i])
            .collect()
    }

    /// `path` with its secret segments replaced by [`MASK`].
    pub fn masked_path(self, path: &str) -> String {
        let segments = segments(path);
        let secret = self.secret_segments(&segments);
        let mut out = String::new();
        for (i, segment) in segments.iter().enumerate() {
            out.push('/');
            out.push_str(if secret.contains(&i) { MASK } else { segment });
        }
        if path.len() > 1 && path.ends_with('/') {
            out.push('/');
        }
        out
    }

    /// The query parameters this kind's pings set themselves (in
    /// `ping::protocol`, whose tests check this list): the same names in
    /// the URL the user pasted are dropped (Uptime Kuma's page shows
    /// `?status=up&msg=OK&ping=`), any others are kept.
    pub fn own_params(self) -> &'static [&'static str] {
        match self {
            Kind::Healthchecks => &["rid"],
            Kind::Cronitor => &[
                "state",
                "series",
                "status_code",
                "message",
                "metric",
                "host",
            ],
            Kind::Sentry => &["status", "check_in_id", "duration"],
            Kind::UptimeKuma => &["status", "msg", "ping"],
            Kind::BetterStack => &[],
            Kind::DeadMansSnitch => &["s", "m"],
        }
    }
}

/// One monitor to ping, from one `--ping-url` entry: its kind and its URL
/// in parts. The pings themselves are sent by `ping`, which adds the
/// methods that build and send them.
#[derive(Clone, Debug)]
pub struct Monitor {
    kind: Kind,
    /// Where requests go, and through which proxy.
    target: Target,
    /// The URL as pasted, without its query; a trailing slash is kept
    /// (Sentry's URLs end in one).
    url: String,
    /// The path of `url`.
    path: String,
    /// `name=value` pairs of the pasted query that the protocol does not
    /// set itself, sent as they were.
    extra: Vec<String>,
}

impl Monitor {
    /// Parses one entry of `--ping-url` / `OCD_CRON_PING_URL`: an optional
    /// `<kind>+` prefix, the URL, its query. The URL without its query is
    /// checked as the base URL is (scheme, host, port, and the proxy the
    /// variables `env` reads choose); `what` names the setting in errors,
    /// which never repeat the URL (it holds secrets).
    pub fn parse(
        entry: &str,
        what: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Monitor, Error> {
        let refuse = |why: String| Error::Config(format!("{what} {why}"));
        let (named, rest) = split_prefix(entry).map_err(refuse)?;
        if rest.contains('#') {
            return Err(refuse(
                "has a fragment (#…); paste the URL without it".into(),
            ));
        }
        let (url, query) = rest.split_once('?').unwrap_or((rest, ""));
        if query.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse("contains white space or control characters".into()));
        }
        let target = target::check(url, what, env, not_text).map_err(Error::Config)?;
        let origin = target.origin();
        let mut path = target.prefix().to_owned();
        if !path.is_empty() && url.ends_with('/') {
            path.push('/');
        }
        let kind = match named {
            Some(kind) => kind,
            None => recognise(&target.host, &path).map_err(refuse)?,
        };
        let own = kind.own_params();
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
            url: format!("{origin}{path}"),
            path,
            target,
            extra,
        };
        // Whatever shows this URL or a part of it from here on (the HTTP
        // library's log at trace level, the monitor's own error page,
        // plainly or percent-encoded) shows it masked.
        for secret in monitor.secrets() {
            crate::sanitize::hide_monitor_secret(secret);
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

    /// `host:port`, with the scheme's port when the URL names none.
    pub fn address(&self) -> String {
        self.target.address()
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Where requests go, and through which proxy.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The URL as pasted, without its query.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `scheme://authority`.
    pub fn origin(&self) -> &str {
        self.target.origin()
    }

    /// The path, a trailing slash kept.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The pasted query's `name=value` pairs that are sent as they were.
    pub fn extra(&self) -> &[String] {
        &self.extra
    }
}

/// The kinds as a list for messages.
pub fn names() -> String {
    KINDS.map(Kind::name).join(", ")
}

/// Splits an explicit `<kind>+` off the front of a URL: `cronitor+https://…`
/// gives the kind and `https://…`. The error completes "--ping-url …".
pub fn split_prefix(entry: &str) -> Result<(Option<Kind>, &str), String> {
    let scheme = entry.split_once("://").map_or("", |(scheme, _)| scheme);
    let Some((name, _)) = scheme.split_once('+') else {
        return Ok((None, entry));
    };
    match Kind::from_name(&name.to_ascii_lowercase()) {
        Some(kind) => Ok((Some(kind), &entry[name.len() + 1..])),
        None => Err(format!(
            "names the monitor kind '{}', which is not one of: {}",
            for_log(name, 40),
            names()
        )),
    }
}

/// The kind of a URL without a prefix, from its host (lower case) and path.
/// The error completes "--ping-url …".
pub fn recognise(host: &str, path: &str) -> Result<Kind, String> {
    let segments = segments(path);
    let known_host = match host {
        "cronitor.link" => Some((Kind::Cronitor, cronitor_shape(&segments))),
        "uptime.betterstack.com" | "betteruptime.com" => {
            Some((Kind::BetterStack, betterstack_shape(&segments)))
        }
        "nosnch.in" => Some((
            Kind::DeadMansSnitch,
            matches!(segments.as_slice(), [token] if !token.is_empty()),
        )),
        _ => None,
    };
    match known_host {
        Some((kind, true)) => Ok(kind),
        Some((kind, false)) => Err(format!(
            "is a {} URL whose path does not have the expected shape {}; copy the URL from the monitor's page",
            kind.name(),
            kind.shape()
        )),
        // Self-hosted Sentry and Uptime Kuma live on any host, perhaps
        // under a path prefix; their path shapes are distinctive.
        None if sentry_shape(&segments) => Ok(Kind::Sentry),
        None if kuma_shape(&segments) => Ok(Kind::UptimeKuma),
        None => Ok(Kind::Healthchecks),
    }
}

/// The path's segments; `/` and the empty path have none.
fn segments(path: &str) -> Vec<&str> {
    let inner = path.trim_start_matches('/');
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    if inner.is_empty() {
        Vec::new()
    } else {
        inner.split('/').collect()
    }
}

/// Whether the last segments are `names` (with `None` for any non-empty
/// segment).
fn ends_with(segments: &[&str], names: &[Option<&str>]) -> bool {
    segments.len() >= names.len()
        && segments[segments.len() - names.len()..]
            .iter()
            .zip(names)
            .all(|(segment, name)| match name {
                Some(name) => segment == name,
                None => !segment.is_empty(),
            })
}

/// `/p/<api-key>/<monitor-key>`
fn cronitor_shape(segments: &[&str]) -> bool {
    segments.len() == 3 && ends_with(segments, &[Some("p"), None, None])
}

/// `…/api/<project id>/cron/<monitor-slug>/<public-key>`
fn sentry_shape(segments: &[&str]) -> bool {
    ends_with(segments, &[Some("api"), None, Some("cron"), None, None])
        && segments[segments.len() - 4]
            .bytes()
            .all(|b| b.is_ascii_digit())
}

/// `…/api/push/<token>`
fn kuma_shape(segments: &[&str]) -> bool {
    ends_with(segments, &[Some("api"), Some("push"), None])
}

/// `/api/v1/heartbeat/<token>`
fn betterstack_shape(segments: &[&str]) -> bool {
    segments.len() == 4
        && ends_with(
            segments,
            &[Some("api"), Some("v1"), Some("heartbeat"), None],
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(entry: &str) -> String {
        Monitor::parse(entry, "--ping-url", &|_| None)
            .unwrap_err()
            .to_string()
    }

    fn kind(host: &str, path: &str) -> Result<Kind, String> {
        recognise(host, path)
    }

    #[test]
    fn recognises_each_monitor_from_the_url_its_page_shows() {
        for (host, path, want) in [
            (
                "hc-ping.com",
                "/0f7a1c2e-9b1d-4e7a-8c1f-2a3b4c5d6e7f",
                Kind::Healthchecks,
            ),
            ("hc-ping.com", "/ping-key/rewards", Kind::Healthchecks),
            ("hc.internal", "/ping/0f7a1c2e", Kind::Healthchecks),
            ("127.0.0.1", "", Kind::Healthchecks),
            ("cronitor.link", "/p/apikey/rewards", Kind::Cronitor),
            (
                "o0.ingest.sentry.io",
                "/api/4507/cron/rewards/abc123/",
                Kind::Sentry,
            ),
            (
                "o0.ingest.us.sentry.io",
                "/api/4507/cron/rewards/abc123",
                Kind::Sentry,
            ),
            // Self-hosted Sentry, also behind a path prefix.
            (
                "sentry.internal",
                "/api/3/cron/rewards/abc123/",
                Kind::Sentry,
            ),
            (
                "ops.internal",
                "/sentry/api/3/cron/rewards/abc123/",
                Kind::Sentry,
            ),
            ("status.example.com", "/api/push/Tk3n", Kind::UptimeKuma),
            ("ops.internal", "/kuma/api/push/Tk3n", Kind::UptimeKuma),
            (
                "uptime.betterstack.com",
                "/api/v1/heartbeat/Tk3n",
                Kind::BetterStack,
            ),
            (
                "betteruptime.com",
                "/api/v1/heartbeat/Tk3n",
                Kind::BetterStack,
            ),
            ("nosnch.in", "/c2354d53d2", Kind::DeadMansSnitch),
        ] {
            assert_eq!(kind(host, path), Ok(want), "{host}{path}");
        }
    }

    #[test]
    fn near_misses_are_healthchecks_or_refused() {
        // Not Sentry: the project id is not a number, or a segment is missing.
        assert_eq!(kind("h", "/api/x/cron/slug/key/"), Ok(Kind::Healthchecks));
        assert_eq!(kind("h", "/api/3/cron/slug/"), Ok(Kind::Healthchecks));
        assert_eq!(kind("h", "/api/3/cron//key"), Ok(Kind::Healthchecks));
        // Not Kuma: no token.
        assert_eq!(kind("h", "/api/push/"), Ok(Kind::Healthchecks));
        assert_eq!(kind("h", "/api/push/t/more"), Ok(Kind::Healthchecks));
        for (host, path, says) in [
            ("cronitor.link", "/rewards/run", "cronitor URL"),
            ("cronitor.link", "/p/apikey", "cronitor URL"),
            ("cronitor.link", "/x/apikey/rewards", "cronitor URL"),
            (
                "uptime.betterstack.com",
                "/api/v1/heartbeat",
                "betterstack URL",
            ),
            (
                "uptime.betterstack.com",
                "/api/v2/heartbeat/t",
                "betterstack URL",
            ),
            ("nosnch.in", "", "deadmanssnitch URL"),
            ("nosnch.in", "/a/b", "deadmanssnitch URL"),
        ] {
            let error = kind(host, path).unwrap_err();
            assert!(error.contains(says), "{host}{path}: {error}");
            assert!(error.contains("copy the URL"), "{error}");
        }
        let error = kind("cronitor.link", "/rewards").unwrap_err();
        assert!(
            error.contains("expected shape https://cronitor.link/p/<api-key>/<monitor-key>;"),
            "{error}"
        );
    }

    #[test]
    fn an_explicit_prefix_names_the_kind() {
        assert_eq!(
            split_prefix("cronitor+https://monitor.internal/p/KEY/rewards"),
            Ok((
                Some(Kind::Cronitor),
                "https://monitor.internal/p/KEY/rewards"
            ))
        );
        for kind in KINDS {
            let entry = format!("{}+http://h/x", kind.name());
            assert_eq!(split_prefix(&entry), Ok((Some(kind), "http://h/x")));
        }
        assert_eq!(
            split_prefix("Uptime-Kuma+https://h/x"),
            Ok((Some(Kind::UptimeKuma), "https://h/x"))
        );
        assert_eq!(split_prefix("https://h/a+b"), Ok((None, "https://h/a+b")));
        assert_eq!(split_prefix("no-scheme+x"), Ok((None, "no-scheme+x")));
        let error = split_prefix("pingdom+https://h/x").unwrap_err();
        assert!(error.contains("'pingdom'"), "{error}");
        assert!(
            error.contains(
                "healthchecks, cronitor, sentry, uptime-kuma, betterstack, deadmanssnitch"
            ),
            "{error}"
        );
    }

    #[test]
    fn masks_exactly_the_secret_segments() {
        // `***` stands for the mask.
        for (kind, path, shown) in [
            (Kind::Healthchecks, "/0f7a-uuid", "/***"),
            (Kind::Healthchecks, "/ping/key/slug", "/***/***/***"),
            (Kind::Healthchecks, "", ""),
            (Kind::Healthchecks, "/", ""),
            (Kind::Cronitor, "/p/apikey/rewards", "/p/***/rewards"),
            (
                Kind::Sentry,
                "/api/3/cron/rewards/pubkey/",
                "/api/3/cron/rewards/***/",
            ),
            (
                Kind::Sentry,
                "/s/api/3/cron/rewards/pubkey",
                "/s/api/3/cron/rewards/***",
            ),
            (Kind::UptimeKuma, "/kuma/api/push/tok", "/kuma/api/push/***"),
            (
                Kind::BetterStack,
                "/api/v1/heartbeat/tok",
                "/api/v1/heartbeat/***",
            ),
            (Kind::DeadMansSnitch, "/tok", "/***"),
            // Named with a prefix but shaped otherwise: all of it is secret.
            (Kind::Cronitor, "/custom/key", "/***/***"),
            (Kind::Sentry, "/hook/key/", "/***/***/"),
            (Kind::UptimeKuma, "/hook/key", "/***/***"),
            (Kind::BetterStack, "/hook/key", "/***/***"),
        ] {
            let shown = shown.replace("***", MASK);
            assert_eq!(kind.masked_path(path), shown, "{kind:?} {path}");
        }
        assert_eq!(Kind::Cronitor.secrets("/p/apikey/rewards"), ["apikey"]);
        assert_eq!(Kind::Healthchecks.secrets("/k/slug"), ["k", "slug"]);
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
}
