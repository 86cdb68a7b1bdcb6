//! Which monitor a ping URL belongs to, and which parts of its path are
//! secret.
//!
//! The kind decides every request shape, so it is decided here and only
//! here: an explicit `<kind>+` in front of the URL, else the host and path
//! shape that the monitor's own page hands out, else healthchecks (the
//! protocol of hc-ping.com and of the self-hosted servers that copy it). A
//! URL on a known monitor's host whose path has the wrong shape is refused
//! rather than guessed at: pinging it in another protocol would look like
//! monitoring and report nothing.

use crate::sanitize::{MASK, for_log};

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
}
