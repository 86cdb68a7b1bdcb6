//! Calendar arithmetic on Unix time: HTTP dates in, RFC 3339 timestamps out;
//! and deadlines as `Instant`s that cannot overflow.
//!
//! Two small conversions do not justify a date crate, which would cost start-up
//! time and a good share of the binary (Howard Hinnant's algorithms, exact for
//! the proleptic Gregorian calendar).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A point no run reaches: what a deadline becomes when the exact one cannot
/// be represented.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The deadline `after` from `start`. `Instant + Duration` panics when the
/// sum cannot be represented; a deadline too far to represent is as good as
/// none, so it becomes a century from `start`.
pub fn deadline(start: Instant, after: Duration) -> Instant {
    start
        .checked_add(after)
        .or_else(|| start.checked_add(FAR_FUTURE))
        .unwrap_or(start)
}

/// Days since 1970-01-01 of a Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The Gregorian date of a day number counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-11-28T22:29:03.245Z`.
pub fn rfc3339_millis(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// `2026-11-28T22:29:03Z`, from Unix seconds.
pub fn rfc3339_seconds(secs: u64) -> String {
    let millis = rfc3339_millis(UNIX_EPOCH + Duration::from_secs(secs));
    format!("{}Z", &millis[..millis.len() - 5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_never_overflow() {
        let now = Instant::now();
        assert_eq!(
            deadline(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        // A century, spelled out: the constant itself is what is checked.
        let century = Duration::from_secs(3_153_600_000);
        assert_eq!(deadline(now, Duration::MAX), now + century);
    }

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 28), 20_785);
        // The last day of a 400-year era, which the round trip's steps miss.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn formats_rfc3339() {
        let at = UNIX_EPOCH + Duration::from_millis(1_795_904_943_245);
        assert_eq!(rfc3339_millis(at), "2026-11-28T22:29:03.245Z");
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_seconds(1_795_904_943), "2026-11-28T22:29:03Z");
    }
}
