//! Durations as operators write them on a command line (`500ms`, `30s`, `2m`,
//! `1h`, or a bare number of seconds) and as the logs print them.
//!
//! Kept here rather than in a crate: the grammar is four suffixes, and a
//! dependency would cost start-up time and binary size for nothing.

use std::time::Duration;

/// The longest duration a flag accepts: a day. ocd-cron is started by a
/// schedule at least daily, so a deadline beyond that would let one run
/// overlap the next ones; it also keeps every deadline far inside what
/// `Instant` arithmetic can represent.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Parses `500ms`, `30s`, `2m`, `1h` or a bare whole number of seconds.
/// Zero is rejected: a zero deadline could never let a request through;
/// so is anything over [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_DURATION, "24h")
}

/// [`parse_duration`] with a maximum of its own, `max`, which messages
/// show as `written`.
pub fn parse_duration_at_most(
    text: &str,
    max: Duration,
    written: &str,
) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let expected = "expected a whole number with an optional unit: 500ms, 30s, 2m, 1h";
    if digits.is_empty() {
        return Err(format!("'{text}' is not a duration; {expected}"));
    }
    let too_long = || format!("'{text}' is longer than the maximum of {written}");
    let number: u64 = digits.parse().map_err(|_| too_long())?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "" | "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        _ if unit.starts_with(['.', ',']) => {
            return Err(format!(
                "'{text}' is not a whole number; use a smaller unit (1500ms, not 1.5s)"
            ));
        }
        _ => return Err(format!("'{text}' has an unknown unit; {expected}")),
    };
    if duration.is_zero() {
        return Err(format!("'{text}' is zero; the duration must be positive"));
    }
    if duration > max {
        return Err(too_long());
    }
    Ok(duration)
}

/// Formats a duration for log lines: `250 ms` below a second, `1.5 s` above.
/// Exact for any duration, including the absurd ones a server may ask for.
pub fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        // Integer arithmetic: a float loses the digits of a huge duration.
        let tenths =
            u128::from(duration.as_secs()) * 10 + u128::from(duration.subsec_millis() + 50) / 100;
        if tenths.is_multiple_of(10) {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_asks_for_a_smaller_unit() {
        for text in ["1.5s", "0,5m", "2.0"] {
            let msg = parse_duration(text).unwrap_err();
            assert!(
                msg.contains("is not a whole number; use a smaller unit"),
                "{text}: {msg}"
            );
        }
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn rejects_what_is_not_a_positive_duration() {
        for bad in [
            "",
            "s",
            "0",
            "0ms",
            "-1",
            "1.5s",
            "10 years",
            "5d",
            "99999999999999999999",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn a_day_is_the_longest_duration() {
        for at_most in ["24h", "1440m", "86400", "86400s", "86400000ms"] {
            assert_eq!(parse_duration(at_most), Ok(MAX_DURATION), "{at_most}");
        }
        for over in [
            "25h",
            "1441m",
            "86401",
            "86400001ms",
            "18446744073709551615",
            "18446744073709551615ms",
            "5124095576030431h",
            "307445734561825861m",
            "99999999999999999999h",
        ] {
            let error = parse_duration(over).unwrap_err();
            assert!(error.contains("maximum of 24h"), "{over}: {error}");
        }
    }

    #[test]
    fn formats_for_humans() {
        assert_eq!(format_duration(Duration::from_millis(134)), "134 ms");
        assert_eq!(format_duration(Duration::from_secs(2)), "2 s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(format_duration(Duration::from_millis(119_990)), "120 s");
        assert_eq!(format_duration(Duration::from_millis(1_949)), "1.9 s");
        assert_eq!(format_duration(Duration::from_millis(1_950)), "2 s");
        assert_eq!(format_duration(Duration::from_millis(999)), "999 ms");
        assert_eq!(format_duration(Duration::from_secs(1)), "1 s");
        assert_eq!(
            format_duration(Duration::from_secs(u64::MAX)),
            "18446744073709551615 s"
        );
        assert_eq!(format_duration(Duration::MAX), "18446744073709551616 s");
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any text is a duration up to a day, or a message; never a panic.
            #[test]
            fn any_text_parses_or_is_refused(text in ".*", digits in "[0-9]{1,40}(ms|s|m|h)?") {
                for text in [text, digits] {
                    if let Ok(duration) = parse_duration(&text) {
                        prop_assert!(!duration.is_zero() && duration <= MAX_DURATION);
                    }
                }
            }

            #[test]
            fn any_duration_formats(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
                let text = format_duration(Duration::new(secs, nanos));
                prop_assert!(text.ends_with(" s") || text.ends_with(" ms"));
            }
        }
    }
}
