//! W3C Trace Context: the `traceparent` (and `tracestate`) header sent
//! with every request to the OCD app, so an operator can go from a cron
//! failure to the app's trace of the same request.
//!
//! The parent comes from the environment, as the OpenTelemetry
//! environment-variable carrier names it (`TRACEPARENT`, `TRACESTATE`): a
//! CI runner or a traced wrapper script that starts ocd-cron passes its
//! span down. Each job request is then a child span of it: the same trace
//! id, a new random parent id. Without a parent (or with one that does not
//! parse, which the W3C specification says to ignore), ocd-cron starts a
//! new trace with a random trace id and the *sampled* flag set, so that an
//! app sampling by its parent's decision records the request and the
//! trace id in ocd-cron's log line can be looked up. Retries of a request
//! carry the same header, as they carry the same `Idempotency-Key`.
//!
//! Monitors never get these headers: they are built for the API request
//! only (`run::request`).

use std::fmt::Write;

use crate::setting;

/// The longest `tracestate` passed on: the specification asks every
/// participant to propagate at least 512 characters, and lets it drop
/// what is longer.
const MAX_TRACESTATE: usize = 512;

/// The trace an invocation's requests belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// 32 lower-case hex digits, never all zero.
    id: String,
    /// The flags sent: only the sampled bit, the one version 00 defines.
    flags: u8,
    /// The parent's `tracestate`, passed on unchanged.
    state: Option<String>,
}

/// A `traceparent` value as the specification lays it out.
#[derive(Debug, PartialEq, Eq)]
struct Parent<'a> {
    trace_id: &'a str,
    flags: u8,
}

impl Trace {
    /// The trace of this invocation: a child of `traceparent` when it
    /// parses, else a new trace whose id is `random` (bytes from the OS).
    /// The second value says why a `traceparent` that was set is ignored.
    pub fn from_env(
        traceparent: Option<&str>,
        tracestate: Option<&str>,
        random: [u8; 16],
    ) -> (Trace, Option<String>) {
        let parsed = traceparent.map(|value| (value, parse(value)));
        if let Some((_, Ok(parent))) = &parsed {
            let state = tracestate
                .map(|s| s.trim_matches([' ', '\t']))
                .filter(|s| usable_state(s));
            return (
                Trace {
                    id: parent.trace_id.to_owned(),
                    flags: parent.flags & SAMPLED,
                    state: state.map(str::to_owned),
                },
                None,
            );
        }
        // A new trace id must not be all zero; sixteen random bytes are
        // (with odds of 2^-128), so one bit makes sure.
        let mut random = random;
        if random.iter().all(|&b| b == 0) {
            random[15] = 1;
        }
        let trace = Trace {
            id: hex(&random),
            flags: SAMPLED,
            state: None,
        };
        let ignored = parsed.and_then(|(value, result)| {
            result.err().map(|why| {
                format!(
                    "{} {value:?} ignored ({why}); starting a new trace",
                    setting::TRACEPARENT
                )
            })
        });
        (trace, ignored)
    }

    /// The trace id, as the app's tracing shows it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `traceparent` of one request, a child span with the parent id
    /// `span` (random bytes; an all-zero id is made valid).
    pub fn child(&self, span: [u8; 8]) -> String {
        let mut span = span;
        if span.iter().all(|&b| b == 0) {
            span[7] = 1;
        }
        format!("00-{}-{}-{:02x}", self.id, hex(&span), self.flags)
    }

    /// The `tracestate` to send with it, if the parent had one.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }
}

/// The sampled bit of trace-flags.
const SAMPLED: u8 = 0x01;

/// Parses a `traceparent` value by the specification's rules: version 00
/// is exactly `00-<32 hex>-<16 hex>-<2 hex>`, lower-case, with neither id
/// all zeros; version ff is invalid; a higher version is read the same way
/// as far as version 00 goes, provided anything after the flags starts a
/// new field with `-`.
fn parse(value: &str) -> Result<Parent<'_>, &'static str> {
    let value = value.trim_matches([' ', '\t']);
    let bytes = value.as_bytes();
    if bytes.len() < 55 {
        return Err("shorter than the 55 characters of version 00");
    }
    let field = |from: usize, len: usize| -> Result<&str, &'static str> {
        let text = &value[from..from + len];
        if text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(text)
        } else {
            Err("not lower-case hexadecimal")
        }
    };
    if !value.is_char_boundary(55) || [2, 35, 52].iter().any(|&i| bytes[i] != b'-') {
        return Err("not version-traceid-parentid-flags");
    }
    let version = field(0, 2)?;
    if version == "ff" {
        return Err("version ff is invalid");
    }
    if version == "00" && bytes.len() != 55 {
        return Err("version 00 has nothing after the flags");
    }
    if bytes.len() > 55 && bytes[55] != b'-' {
        return Err("not version-traceid-parentid-flags");
    }
    let trace_id = field(3, 32)?;
    let parent_id = field(36, 16)?;
    let flags = field(53, 2)?;
    if trace_id.bytes().all(|b| b == b'0') {
        return Err("the trace id is all zeros");
    }
    if parent_id.bytes().all(|b| b == b'0') {
        return Err("the parent id is all zeros");
    }
    let flags = u8::from_str_radix(flags, 16).map_err(|_| "not lower-case hexadecimal")?;
    Ok(Parent { trace_id, flags })
}

/// Whether a `tracestate` can be passed on as it is: what fits in a header
/// (visible ASCII and spaces), within the length every participant keeps.
fn usable_state(state: &str) -> bool {
    !state.is_empty()
        && state.len() <= MAX_TRACESTATE
        && state.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const RANDOM: [u8; 16] = [0xab; 16];

    fn parsed(value: &str) -> Result<(&str, u8), &'static str> {
        parse(value).map(|p| (p.trace_id, p.flags))
    }

    #[test]
    fn version_00_parses() {
        assert_eq!(
            parsed(PARENT),
            Ok(("4bf92f3577b34da6a3ce929d0e0e4736", 0x01))
        );
        assert_eq!(
            parsed("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            Ok(("4bf92f3577b34da6a3ce929d0e0e4736", 0x00))
        );
        // Optional white space around a header value.
        assert!(parse(&format!(" {PARENT}\t")).is_ok());
    }

    #[test]
    fn what_the_specification_calls_invalid_is_refused() {
        let invalid = [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            // Upper case, in each field.
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
            // All-zero ids.
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // Version ff, and version 00 with more after the flags.
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what",
            // Wrong separators, non-hex, a multi-byte character.
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01x",
        ];
        for value in invalid {
            assert!(parse(value).is_err(), "{value:?} accepted");
        }
    }

    #[test]
    fn a_higher_version_is_read_as_far_as_version_00_goes() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(parsed(&format!("cc-{id}-00f067aa0ba902b7-01")), Ok((id, 1)));
        assert_eq!(
            parsed(&format!("cc-{id}-00f067aa0ba902b7-09-what-the-future")),
            Ok((id, 9))
        );
        assert!(parse(&format!("cc-{id}-00f067aa0ba902b7-01what")).is_err());
    }

    #[test]
    fn a_child_keeps_the_trace_id_and_the_sampled_bit_only() {
        let (trace, ignored) = Trace::from_env(
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"),
            Some("congo=t61rcWkgMzE"),
            RANDOM,
        );
        assert_eq!(ignored, None);
        assert_eq!(trace.id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            trace.child([1, 2, 3, 4, 5, 6, 7, 8]),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-01"
        );
        assert_eq!(trace.state(), Some("congo=t61rcWkgMzE"));
        let (unsampled, _) = Trace::from_env(
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            None,
            RANDOM,
        );
        assert!(unsampled.child([1; 8]).ends_with("-00"));
        assert_eq!(unsampled.state(), None);
    }

    #[test]
    fn without_a_usable_parent_a_new_sampled_trace_starts() {
        let (trace, ignored) = Trace::from_env(None, Some("congo=1"), RANDOM);
        assert_eq!(ignored, None, "nothing set, nothing to say");
        assert_eq!(trace.id(), "ab".repeat(16));
        assert_eq!(trace.state(), None, "a tracestate without its parent");
        assert_eq!(
            trace.child([0xcd; 8]),
            format!("00-{}-{}-01", "ab".repeat(16), "cd".repeat(8))
        );
        let (trace, ignored) = Trace::from_env(Some("garbage"), Some("congo=1"), RANDOM);
        assert_eq!(trace.id(), "ab".repeat(16));
        assert_eq!(trace.state(), None);
        let ignored = ignored.expect("says why");
        assert!(
            ignored.contains("TRACEPARENT \"garbage\" ignored"),
            "{ignored}"
        );
    }

    #[test]
    fn random_ids_are_never_all_zeros() {
        let (trace, _) = Trace::from_env(None, None, [0; 16]);
        assert_eq!(trace.id(), "00000000000000000000000000000001");
        let header = trace.child([0; 8]);
        assert_eq!(
            header,
            "00-00000000000000000000000000000001-0000000000000001-01"
        );
        assert!(parse(&header).is_ok());
    }

    #[test]
    fn only_a_header_safe_tracestate_of_at_most_512_characters_passes() {
        let with = |state: &str| Trace::from_env(Some(PARENT), Some(state), RANDOM).0;
        assert_eq!(with(" a=1,b=2 ").state(), Some("a=1,b=2"));
        assert_eq!(with("").state(), None);
        assert_eq!(with("a=1\r\nx: y").state(), None);
        assert_eq!(with("a=\u{7f}").state(), None);
        let long = format!("a={}", "x".repeat(MAX_TRACESTATE - 2));
        assert_eq!(with(&long).state(), Some(long.as_str()));
        assert_eq!(with(&format!("{long}x")).state(), None);
    }
}
