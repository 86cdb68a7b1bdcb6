//! The retry policy: which failures are worth another attempt and how long
//! to wait before it.
//!
//! Both jobs only touch rows that are still pending, so sending the trigger
//! again is safe; what is retried is limited to failures that a few seconds
//! can plausibly cure. Everything else (a refused key, a wrong URL, a broken
//! certificate) fails at once, so cron mail arrives while it is still useful.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::time::days_from_civil;

/// HTTP statuses that are retried, each for a reason.
pub const RETRYABLE_STATUSES: &[u16] = &[
    408, // Request Timeout: the server gave up waiting for our request; resending is the cure.
    429, // Too Many Requests: a rate limiter in front of the app; it says when (Retry-After).
    500, // Internal Server Error: usually the database blinking under the job; the job is safe to rerun.
    502, // Bad Gateway: the proxy cannot reach the app, typically while it restarts.
    503, // Service Unavailable: deploy or overload, often with Retry-After.
    504, // Gateway Timeout: the proxy gave up on a slow app; the next run finds less to do.
];

/// The first wait; each later one doubles.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// No computed wait is longer than this (Retry-After may ask for more).
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Whether another attempt might succeed where this one failed.
pub fn is_retryable(error: &Error) -> bool {
    match error {
        Error::Connect { .. } => true,
        Error::Http { status, .. } => RETRYABLE_STATUSES.contains(status),
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
/// no wait. `None` for anything else, so the computed backoff applies.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
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
    let day: u32 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u32
        + 1;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
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
            "soon",
            "1.5",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "06 Nov 1994",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
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
            hint: "",
        }));
    }
}
