//! The retry policy: which failures are worth another attempt and how long
//! to wait before it.
//!
//! Both jobs only touch rows that are still pending, so sending the trigger
//! again is safe; what is retried is limited to failures that a few seconds
//! can plausibly cure. Everything else (a refused key, a wrong URL, a broken
//! certificate) fails at once, so cron mail arrives while it is still useful.
//! Which HTTP statuses are retried is a column of the one status table,
//! [`crate::error::HTTP_STATUSES`], next to the exit status and the hint
//! each yields, so that the three cannot drift apart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, http_status};
use crate::time::days_from_civil;

/// The first wait; each later one doubles.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// No computed wait is longer than this (Retry-After may ask for more).
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Whether another attempt might succeed where this one failed: a
/// connection that could not be made, or an HTTP status the status table
/// ([`crate::error::HTTP_STATUSES`]) calls retryable.
pub fn is_retryable(error: &Error) -> bool {
    match error {
        Error::Connect { .. } | Error::ProxyUnreachable { .. } => true,
        Error::Http { status, .. }
        | Error::Auth { status, .. }
        | Error::Redirect { status, .. }
        | Error::SignIn { status, .. } => http_status(*status).retryable,
        _ => false,
    }
}

/// The wait before retry number `retry` (1 for the first retry): 1 s, 2 s,
/// 4 s … capped at 30 s, spread by ±25 % (`fraction` in `[0, 1)`) so that
/// many hosts started by the same cron minute do not retry in lock-step.
pub fn backoff(retry: u32, fraction: f64) -> Duration {
    let exponent = retry.saturating_sub(1).min(16);
    let base = FIRST_WAIT.saturating_mul(1 << exponent).min(MAX_WAIT);
    base.mul_f64(0.75 + 0.5 * fraction).min(MAX_WAIT)
}

/// Parses a `Retry-After` header: delay-seconds or an HTTP date
/// (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`). A date in the past means
/// no wait; a number too large for 64 bits is the longest wait there is.
/// `None` for anything else, so the computed backoff applies. The result is
/// what the server asked for: the caller clamps it to its deadline.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if all_digits(value) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// IMF-fixdate, the only HTTP date form servers have been allowed to send
/// since RFC 7231.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let [weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    if !weekday.ends_with(',') {
        return None;
    }
    // IMF-fixdate's fields are fixed-width digits; a four-digit year also
    // keeps the calendar arithmetic far from overflow.
    let number = |text: &str, width: usize| {
        (text.len() == width && all_digits(text)).then(|| text.parse::<u32>().ok())?
    };
    let day = number(day, 2)?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u32
        + 1;
    let year = number(year, 4)?;
    let mut hms = time.split(':').map(|p| number(p, 2));
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    // Second 60 is a leap second.
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(h * 3600 + m * 60 + s);
    // Before 1970 is as much in the past as any other past date.
    let since_epoch = Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    UNIX_EPOCH.checked_add(since_epoch)
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(2, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(3, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(6, 0.5), Duration::from_secs(30));
        assert_eq!(backoff(40, 0.99), Duration::from_secs(30));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(750));
        assert!(backoff(1, 0.999) < Duration::from_millis(1250));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "-1",
            "+5",
            "soon",
            "1.5",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "06 Nov 1994",
            "Sun, 06 Nov 99999999999999999 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_beyond_any_deadline_is_kept_whole() {
        let now = UNIX_EPOCH;
        assert_eq!(
            parse_retry_after("18446744073709551615", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("123456789012345678901234567890", now),
            Some(Duration::from_secs(u64::MAX))
        );
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now).unwrap();
        assert_eq!(far, Duration::from_secs(253_402_300_799));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", UNIX_EPOCH),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(
                "Mon, 01 Jan 0001 00:00:00 GMT",
                UNIX_EPOCH + Duration::from_secs(9)
            ),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn http_date_fields_are_checked_at_every_bound() {
        let at = |text: &str| {
            parse_http_date(text).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
        };
        // 1994-11-06 is day 9075 since the epoch.
        let day = 9075 * 86_400;
        assert_eq!(at("Sun, 06 Nov 1994 00:00:00 GMT"), Some(day));
        assert_eq!(at("Sun, 06 Nov 1994 23:59:59 GMT"), Some(day + 86_399));
        assert_eq!(at("Sun, 06 Nov 1994 23:59:60 GMT"), Some(day + 86_400));
        assert_eq!(at("Sun, 06 Nov 1994 23:00:00 GMT"), Some(day + 82_800));
        assert_eq!(at("Sun, 06 Nov 1994 00:59:00 GMT"), Some(day + 3_540));
        assert_eq!(at("Tue, 01 Nov 1994 00:00:00 GMT"), Some(day - 5 * 86_400));
        assert_eq!(at("Thu, 31 Dec 1994 00:00:00 GMT"), Some(day + 55 * 86_400));
        for bad in [
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 23:60:00 GMT",
            "Sun, 06 Nov 1994 00:00:61 GMT",
            "Sun, 00 Nov 1994 00:00:00 GMT",
            "Sun, 32 Nov 1994 00:00:00 GMT",
            "Sun, 06 Nox 1994 00:00:00 GMT",
            "Sun 06 Nov 1994 00:00:00 GMT",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let http = |status| Error::Http {
            url: String::new(),
            status,
            detail: String::new(),
            route: crate::error::Route::Job,
        };
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(&http(s)), "{s}");
        }
        for s in [400, 404, 405, 409, 501, 505] {
            assert!(!is_retryable(&http(s)), "{s}");
        }
        assert!(is_retryable(&Error::Connect {
            url: String::new(),
            reason: String::new()
        }));
        assert!(!is_retryable(&Error::Auth {
            url: String::new(),
            status: 401,
            detail: String::new(),
            route: crate::error::Route::Job,
        }));
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a server puts in Retry-After, the answer is a wait
            /// or none; never a panic.
            #[test]
            fn any_retry_after_returns(
                text in ".*",
                date in "[A-Za-z]{0,4},? [0-9+-]{0,3} [A-Za-z]{0,4} [0-9]{0,20} [0-9:]{0,12} (GMT|UTC)",
                now in any::<u64>(),
            ) {
                let now = UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(UNIX_EPOCH);
                for text in [text, date] {
                    let _ = parse_retry_after(&text, now);
                }
            }

            /// Every valid IMF-fixdate parses, from year 0 to 9999.
            #[test]
            fn valid_dates_parse(
                year in 0u32..10_000,
                month in 0usize..12,
                day in 1u32..=28,
                h in 0u32..24,
                m in 0u32..60,
                s in 0u32..=60,
            ) {
                let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
                let text = format!("Mon, {day:02} {} {year:04} {h:02}:{m:02}:{s:02} GMT", months[month]);
                prop_assert!(parse_retry_after(&text, UNIX_EPOCH).is_some(), "{}", text);
            }
        }
    }
}
