//! Each monitor's request shapes, as pure functions of the kind and the
//! event: a start, or a finish with its exit status, summary, duration and
//! counts. They say what to add to the monitor's URL (a path suffix, query
//! parameters, a body); `Monitor` in the parent module joins that to the URL.
//!
//! The shapes follow each service's public docs (the table in
//! `docs/monitors.md`). Text for a monitor is made safe here: each summary
//! line passes through [`sanitize::for_log`](crate::sanitize::for_log), and
//! the whole is cut to the protocol's limit on a character boundary.
//! Query values are percent-encoded by `percent-encoding`, which ureq
//! links already; only the set of bytes to encode is defined here.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::client::Method;
use crate::config::monitor::Kind;
use crate::sanitize::for_log;

/// healthchecks.io keeps the first 10 KB of a ping body (Better Stack the same).
const MAX_BODY_BYTES: usize = 10 * 1024;
/// Cronitor's limit for `message`.
const CRONITOR_MESSAGE_CHARS: usize = 2000;
/// Dead Man's Snitch's limit for `m`.
const SNITCH_MESSAGE_CHARS: usize = 250;
/// Uptime Kuma sets no limit; its `msg` shows in one line of a table and
/// in notifications, where a few lines' worth is what reads.
const KUMA_MESSAGE_CHARS: usize = 500;

/// How a finished invocation went, as monitors are told.
#[derive(Clone, Debug)]
pub struct Finish<'a> {
    pub exit_code: u8,
    /// One line per job (or one for the whole invocation), unsanitised.
    pub summary: &'a str,
    pub duration: Duration,
    /// Decisions processed and failed, summed over the jobs that said.
    pub processed: Option<u64>,
    pub errors: Option<u64>,
    /// This machine's name, for Cronitor's `host`.
    pub hostname: Option<&'a str>,
}

/// What one ping adds to the monitor's URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub method: Method,
    /// Appended to the URL's path (`/start`, `/<exit status>`), or empty.
    pub suffix: String,
    /// Query parameters, not yet encoded, in order.
    pub params: Vec<(&'static str, String)>,
    /// A text body, for POST.
    pub body: Option<String>,
}

impl Shape {
    fn get(params: Vec<(&'static str, String)>) -> Shape {
        Shape {
            method: Method::Get,
            suffix: String::new(),
            params,
            body: None,
        }
    }
}

/// The start ping, for the kinds that have one.
pub fn start(kind: Kind, id: &str) -> Option<Shape> {
    match kind {
        Kind::Healthchecks => Some(Shape {
            suffix: "/start".into(),
            ..Shape::get(vec![("rid", id.into())])
        }),
        Kind::Cronitor => Some(Shape::get(vec![
            ("state", "run".into()),
            ("series", id.into()),
        ])),
        Kind::Sentry => Some(Shape::get(vec![
            ("status", "in_progress".into()),
            ("check_in_id", id.into()),
        ])),
        Kind::UptimeKuma | Kind::BetterStack | Kind::DeadMansSnitch => None,
    }
}

/// The finish ping: success or failure, and what each kind can carry of it.
pub fn finish(kind: Kind, id: &str, event: &Finish<'_>) -> Shape {
    let ok = event.exit_code == 0;
    let exit = event.exit_code.to_string();
    match kind {
        Kind::Healthchecks => text_post(exit, vec![("rid", id.into())], event.summary),
        Kind::Cronitor => {
            let mut params = vec![
                ("state", if ok { "complete" } else { "fail" }.into()),
                ("series", id.into()),
                ("status_code", exit),
                (
                    "message",
                    text(event.summary, Limit::Chars(CRONITOR_MESSAGE_CHARS)),
                ),
                ("metric", format!("duration:{}", seconds(event.duration))),
            ];
            if let Some(n) = event.processed {
                params.push(("metric", format!("count:{n}")));
            }
            if let Some(n) = event.errors {
                params.push(("metric", format!("error_count:{n}")));
            }
            if let Some(host) = event.hostname {
                params.push(("host", for_log(host, 255)));
            }
            Shape::get(params)
        }
        Kind::Sentry => Shape::get(vec![
            ("status", if ok { "ok" } else { "error" }.into()),
            ("check_in_id", id.into()),
            ("duration", seconds(event.duration)),
        ]),
        Kind::UptimeKuma => Shape::get(vec![
            ("status", if ok { "up" } else { "down" }.into()),
            ("msg", text(event.summary, Limit::Chars(KUMA_MESSAGE_CHARS))),
            ("ping", event.duration.as_millis().to_string()),
        ]),
        Kind::BetterStack if ok => Shape::get(Vec::new()),
        Kind::BetterStack => text_post(exit, Vec::new(), event.summary),
        Kind::DeadMansSnitch => Shape::get(vec![
            ("s", exit),
            ("m", text(event.summary, Limit::Chars(SNITCH_MESSAGE_CHARS))),
        ]),
    }
}

/// `POST <url>/<exit status>` with the summary as a text body.
fn text_post(exit: String, params: Vec<(&'static str, String)>, summary: &str) -> Shape {
    Shape {
        method: Method::Post,
        suffix: format!("/{exit}"),
        params,
        body: Some(text(summary, Limit::Bytes(MAX_BODY_BYTES))),
    }
}

/// Seconds with millisecond precision: `1.234`.
fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

/// A length limit, in the unit the protocol counts.
#[derive(Clone, Copy, Debug)]
enum Limit {
    Chars(usize),
    Bytes(usize),
}

/// The summary made safe for a monitor: each line sanitised (no control
/// characters or escape sequences), lines kept apart by `\n`, the whole cut
/// to `limit` on a character boundary, a cut marked with `…`.
fn text(summary: &str, limit: Limit) -> String {
    let clean: Vec<String> = summary
        .lines()
        .map(|line| for_log(line, line.len()))
        .filter(|line| !line.is_empty())
        .collect();
    fit(&clean.join("\n"), limit)
}

fn fit(text: &str, limit: Limit) -> String {
    const MARK: char = '…';
    let (fits, mut end) = match limit {
        Limit::Chars(max) => match text.char_indices().nth(max) {
            None => (true, text.len()),
            // Room for the mark: one character.
            Some(_) => (
                false,
                text.char_indices().nth(max - 1).map_or(0, |(i, _)| i),
            ),
        },
        Limit::Bytes(max) => (text.len() <= max, max.saturating_sub(MARK.len_utf8())),
    };
    if fits {
        return text.to_owned();
    }
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{MARK}", &text[..end])
}

/// What [`encode`] encodes: every byte but RFC 3986's unreserved
/// characters (ASCII letters and digits, `-`, `.`, `_`, `~`); bytes beyond
/// ASCII always are.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query value (or name): everything but RFC 3986's
/// unreserved characters, byte by byte of the UTF-8, in upper-case hex.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f7a1c2e-9b1d-4e7a-8c1f-2a3b4c5d6e7f";

    fn event(exit_code: u8, summary: &str) -> Finish<'_> {
        Finish {
            exit_code,
            summary,
            duration: Duration::from_millis(1234),
            processed: Some(42),
            errors: Some(1),
            hostname: Some("cron-1"),
        }
    }

    fn params(shape: &Shape) -> Vec<(&str, &str)> {
        shape.params.iter().map(|(n, v)| (*n, v.as_str())).collect()
    }

    /// The configuration drops a pasted query parameter that a ping sets
    /// itself (`Kind::own_params`): it must know every one of them, or a
    /// ping would carry the name twice.
    #[test]
    fn every_parameter_a_ping_sets_is_dropped_from_the_pasted_query() {
        for kind in crate::config::monitor::KINDS {
            let shapes = [0, 1, 75].map(|exit| finish(kind, ID, &event(exit, "x")));
            for shape in start(kind, ID).iter().chain(&shapes) {
                for (name, _) in &shape.params {
                    assert!(kind.own_params().contains(name), "{kind:?} {name}");
                }
            }
        }
    }

    #[test]
    fn start_pings() {
        let hc = start(Kind::Healthchecks, ID).unwrap();
        assert_eq!((hc.method, hc.suffix.as_str()), (Method::Get, "/start"));
        assert_eq!(params(&hc), [("rid", ID)]);
        let cronitor = start(Kind::Cronitor, ID).unwrap();
        assert_eq!(params(&cronitor), [("state", "run"), ("series", ID)]);
        assert_eq!(cronitor.suffix, "");
        let sentry = start(Kind::Sentry, ID).unwrap();
        assert_eq!(
            params(&sentry),
            [("status", "in_progress"), ("check_in_id", ID)]
        );
        for kind in [Kind::UptimeKuma, Kind::BetterStack, Kind::DeadMansSnitch] {
            assert_eq!(start(kind, ID), None, "{kind:?}");
        }
    }

    #[test]
    fn healthchecks_finish_posts_the_exit_status_and_summary() {
        let shape = finish(Kind::Healthchecks, ID, &event(70, "rewards: boom\nline 2"));
        assert_eq!(shape.method, Method::Post);
        assert_eq!(shape.suffix, "/70");
        assert_eq!(params(&shape), [("rid", ID)]);
        assert_eq!(shape.body.as_deref(), Some("rewards: boom\nline 2"));
    }

    #[test]
    fn cronitor_finish_carries_status_message_metrics_and_host() {
        let ok = finish(Kind::Cronitor, ID, &event(0, "rewards: processed 42"));
        assert_eq!(
            params(&ok),
            [
                ("state", "complete"),
                ("series", ID),
                ("status_code", "0"),
                ("message", "rewards: processed 42"),
                ("metric", "duration:1.234"),
                ("metric", "count:42"),
                ("metric", "error_count:1"),
                ("host", "cron-1"),
            ]
        );
        assert_eq!((ok.method, ok.body), (Method::Get, None));
        let failed = Finish {
            processed: None,
            errors: None,
            hostname: None,
            ..event(69, "x")
        };
        assert_eq!(
            params(&finish(Kind::Cronitor, ID, &failed)),
            [
                ("state", "fail"),
                ("series", ID),
                ("status_code", "69"),
                ("message", "x"),
                ("metric", "duration:1.234"),
            ]
        );
    }

    #[test]
    fn sentry_kuma_betterstack_and_snitch_finish() {
        let sentry = finish(Kind::Sentry, ID, &event(0, "s"));
        assert_eq!(
            params(&sentry),
            [("status", "ok"), ("check_in_id", ID), ("duration", "1.234")]
        );
        let sentry = finish(Kind::Sentry, ID, &event(1, "s"));
        assert_eq!(sentry.params[0], ("status", "error".into()));

        let kuma = finish(Kind::UptimeKuma, ID, &event(0, "fine"));
        assert_eq!(
            params(&kuma),
            [("status", "up"), ("msg", "fine"), ("ping", "1234")]
        );
        let kuma = finish(Kind::UptimeKuma, ID, &event(75, "late"));
        assert_eq!(kuma.params[0], ("status", "down".into()));

        let better = finish(Kind::BetterStack, ID, &event(0, "fine"));
        assert_eq!(better, Shape::get(Vec::new()));
        let better = finish(Kind::BetterStack, ID, &event(77, "refused"));
        assert_eq!(
            (better.method, better.suffix.as_str()),
            (Method::Post, "/77")
        );
        assert_eq!(better.body.as_deref(), Some("refused"));
        assert!(better.params.is_empty());

        let snitch = finish(Kind::DeadMansSnitch, ID, &event(78, "bad config"));
        assert_eq!(params(&snitch), [("s", "78"), ("m", "bad config")]);
        assert_eq!(snitch.method, Method::Get);
    }

    #[test]
    fn text_is_sanitised_and_cut_to_each_protocol_limit() {
        let hostile = "a\x1b[31m\u{202e}b\r\n\n[ERROR] forged\x07";
        let body = finish(Kind::Healthchecks, ID, &event(1, hostile))
            .body
            .unwrap();
        assert!(
            !body.contains(['\x1b', '\r', '\x07', '\u{202e}']),
            "{body:?}"
        );
        assert_eq!(body.lines().count(), 2, "{body:?}");
        assert!(body.ends_with("\n[ERROR] forged"), "{body:?}");

        let long = "é".repeat(3000);
        let message = |kind: Kind, name: &str| {
            let shape = finish(kind, ID, &event(1, &long));
            shape
                .params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        for (kind, name, limit) in [
            (Kind::Cronitor, "message", 2000),
            (Kind::DeadMansSnitch, "m", 250),
            (Kind::UptimeKuma, "msg", 500),
        ] {
            let text = message(kind, name);
            assert_eq!(text.chars().count(), limit, "{kind:?}");
            assert!(text.ends_with("é…"), "{kind:?}");
        }
        for kind in [Kind::Healthchecks, Kind::BetterStack] {
            let body = finish(kind, ID, &event(1, &long.repeat(2))).body.unwrap();
            assert!(
                body.len() <= 10 * 1024 && body.len() > 10 * 1024 - 4,
                "{}",
                body.len()
            );
            assert!(body.ends_with('…'));
        }
        // Exactly at the limit: nothing is cut.
        assert_eq!(fit("abc", Limit::Chars(3)), "abc");
        assert_eq!(fit("abcd", Limit::Chars(3)), "ab…");
        assert_eq!(fit("abc", Limit::Bytes(3)), "abc");
        assert_eq!(fit("abcde", Limit::Bytes(4)), "a…");
    }

    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(
            encode("a b&c=d#e\n/?+%"),
            "a%20b%26c%3Dd%23e%0A%2F%3F%2B%25"
        );
        assert_eq!(encode("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(encode("duration:1.5"), "duration%3A1.5");
    }

    #[test]
    fn every_ascii_character_is_kept_or_encoded_as_rfc_3986_says() {
        for byte in 0u8..128 {
            let unreserved = byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
            let expected = if unreserved {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            };
            assert_eq!(encode(&char::from(byte).to_string()), expected, "{byte}");
        }
        // Beyond ASCII, every byte of the UTF-8: two, three and four of them.
        assert_eq!(encode("\u{80}\u{7ff}"), "%C2%80%DF%BF");
        assert_eq!(encode("\u{ffff}\u{10ffff}"), "%EF%BF%BF%F4%8F%BF%BF");
    }
}
