//! What the runners of one schedule on many hosts agree on, or keep apart:
//! the `--jitter` delay that spreads their requests over a window, and the
//! slot key that names the scheduled run they all belong to.
//!
//! Pure decisions, so that both can be tested without a clock: the caller
//! passes the start time and the random draw.
//!
//! The slot is the *scheduled* time: `OCD_CRON_SCHEDULED_TIME` when the
//! scheduler says it (a Kubernetes CronJob's
//! `batch.kubernetes.io/cronjob-scheduled-timestamp`), else the start time;
//! with `--slot-period`, truncated to a multiple of that period since the
//! Unix epoch (UTC). cron and systemd start a run at or just after its
//! scheduled time by the host's own clock, never before it, so truncating
//! puts every runner of one schedule in the same slot, however their
//! clocks and start-up delays differ within the period. The start is taken
//! before any jitter.

use std::time::Duration;

use crate::time;

/// `--jitter`: a delay before the run, drawn from `[0, window)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jitter {
    pub window: Duration,
    /// `--jitter-seed`: the same delay on every run for this seed and job
    /// (like systemd's `FixedRandomDelay=`), instead of a new one each run.
    pub seed: Option<String>,
}

impl Jitter {
    /// The delay for `job` (the `--job` value): from the seed when there
    /// is one, else from `random`, a fraction in `[0, 1)`. Whole
    /// milliseconds, below the window.
    pub fn delay(&self, job: &str, random: f64) -> Duration {
        let fraction = match &self.seed {
            Some(seed) => stable_fraction(seed, job),
            None => random,
        };
        let millis = self.window.as_millis() as f64 * fraction.clamp(0.0, 1.0);
        let millis = (millis as u64).min((self.window.as_millis() as u64).saturating_sub(1));
        Duration::from_millis(millis)
    }
}

/// A fraction in `[0, 1)` fixed by `seed` and `job`: FNV-1a over both, then
/// the SplitMix64 finaliser so that seeds differing in one character (host
/// names `web-1`, `web-2`) land far apart. Written out rather than taken
/// from std, whose hasher may change between Rust releases: a host must
/// keep its offset across upgrades of ocd-cron.
fn stable_fraction(seed: &str, job: &str) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes().chain([0xff]).chain(job.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// The scheduled time of this run in Unix seconds, if a slot key is asked
/// for: `explicit` (from `OCD_CRON_SCHEDULED_TIME`) or else `start`,
/// truncated to `period` seconds when one is given.
pub fn scheduled(start: u64, explicit: Option<u64>, period: Option<u64>) -> Option<u64> {
    let at = match (explicit, period) {
        (Some(at), _) => at,
        (None, Some(_)) => start,
        (None, None) => return None,
    };
    Some(match period {
        Some(period) if period > 0 => at - at % period,
        _ => at,
    })
}

/// The `Idempotency-Key` of `job` in the slot scheduled at `at`: the same
/// on every runner of that slot, and readable in the app's logs.
pub fn slot_key(job: &str, at: u64) -> String {
    format!("{job}@{}", time::rfc3339_seconds(at))
}

/// `--slot-period`: whole seconds, so that the slot's time prints exactly.
pub fn slot_period(period: Duration) -> Result<u64, String> {
    if period.subsec_nanos() != 0 || period.as_secs() == 0 {
        return Err("must be a whole number of seconds (1h, 15m, 30s)".into());
    }
    Ok(period.as_secs())
}

/// `--slot-period` as written on the command line: a duration in whole
/// seconds.
pub fn parse_period(text: &str) -> Result<u64, String> {
    crate::duration::parse_duration(text)
        .and_then(|period| slot_period(period).map_err(|why| format!("'{text}' {why}")))
}

/// An RFC 3339 date-time (`2026-12-03T14:00:00Z`, `2016-05-19T03:00:00-07:00`,
/// fractions allowed and dropped) as Unix seconds. Not before 1970.
pub fn parse_rfc3339(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "'{text}' is not an RFC 3339 date and time such as 2026-12-03T14:00:00Z \
             or 2026-12-03T15:00:00+01:00"
        )
    };
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Result<u32, String> {
        let part = b.get(from..from + len).ok_or_else(bad)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if b.len() < 20
        || separators.iter().any(|&(i, c)| b[i] != c)
        || !matches!(b[10], b'T' | b't' | b' ')
    {
        return Err(bad());
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let mut rest = 19;
    if b[rest] == b'.' {
        rest += 1;
        let start = rest;
        while rest < b.len() && b[rest].is_ascii_digit() {
            rest += 1;
        }
        if rest == start {
            return Err(bad());
        }
    }
    let offset: i64 = match &b[rest..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(rest + 1, 2)?, digits(rest + 4, 2)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return Err(bad()),
    };
    let days = time::days_from_civil(i64::from(year), month, day);
    let real_date = (1..=12).contains(&month)
        && day >= 1
        && time::civil_from_days(days) == (i64::from(year), month, day);
    if !real_date || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    // A leap second is the last second of its minute.
    let second = i64::from(second.min(59));
    let local = days * 86_400 + i64::from(hour * 3600 + minute * 60) + second;
    let utc = u64::try_from(local - offset * 60).map_err(|_| format!("'{text}' is before 1970"))?;
    // The slot key prints the time back in RFC 3339, whose year has four
    // digits: a local time late on 9999-12-31 west of UTC is past it.
    if utc > LAST_SECOND {
        return Err(format!("'{text}' is after 9999 in UTC"));
    }
    Ok(utc)
}

/// 9999-12-31T23:59:59Z, the last time RFC 3339 can write.
const LAST_SECOND: u64 = 253_402_300_799;

#[cfg(test)]
mod tests {
    use super::*;

    fn jitter(window: u64, seed: Option<&str>) -> Jitter {
        Jitter {
            window: Duration::from_millis(window),
            seed: seed.map(str::to_owned),
        }
    }

    #[test]
    fn a_time_rfc_3339_cannot_write_back_is_refused() {
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Ok(LAST_SECOND));
        assert_eq!(time::rfc3339_seconds(LAST_SECOND), "9999-12-31T23:59:59Z");
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59-00:01"),
            Err("'9999-12-31T23:59:59-00:01' is after 9999 in UTC".into())
        );
    }

    #[test]
    fn a_random_delay_scales_the_draw_into_the_window() {
        let j = jitter(30_000, None);
        assert_eq!(j.delay("rewards", 0.0), Duration::ZERO);
        assert_eq!(j.delay("rewards", 0.5), Duration::from_secs(15));
        assert_eq!(j.delay("rewards", 0.25), Duration::from_millis(7_500));
        // Never the window itself, whatever the draw.
        assert_eq!(j.delay("rewards", 1.0), Duration::from_millis(29_999));
        assert_eq!(
            j.delay("rewards", 0.999_999_9),
            Duration::from_millis(29_999)
        );
        assert_eq!(jitter(1, None).delay("rewards", 0.9), Duration::ZERO);
    }

    #[test]
    fn a_seeded_delay_is_fixed_by_seed_and_job_and_ignores_the_draw() {
        let j = jitter(60_000, Some("web-1"));
        let first = j.delay("rewards", 0.1);
        assert_eq!(first, j.delay("rewards", 0.9));
        assert!(first < Duration::from_secs(60));
        assert_ne!(first, j.delay("outcomes", 0.1), "each job its own offset");
        assert_ne!(first, jitter(60_000, Some("web-2")).delay("rewards", 0.1));
        // The value itself, so that no change of the hash goes unnoticed:
        // a host must keep its slot across upgrades.
        assert_eq!(stable_fraction("web-1", "rewards"), 0.47835477654504854);
    }

    #[test]
    fn seeds_that_differ_a_little_spread_over_the_window() {
        let fractions: Vec<f64> = (1..=20)
            .map(|i| stable_fraction(&format!("host-{i}"), "rewards"))
            .collect();
        let quarters: std::collections::HashSet<u32> =
            fractions.iter().map(|f| (f * 4.0) as u32).collect();
        assert_eq!(quarters.len(), 4, "{fractions:?}");
        assert!(fractions.iter().all(|f| (0.0..1.0).contains(f)));
    }

    #[test]
    fn the_slot_is_the_scheduled_time_truncated_to_the_period() {
        let noon = 1_796_299_200; // 2026-12-03T12:00:00Z
        assert_eq!(scheduled(noon + 7, None, None), None, "opt-in");
        assert_eq!(scheduled(noon + 3599, None, Some(3600)), Some(noon));
        assert_eq!(scheduled(noon + 3600, None, Some(3600)), Some(noon + 3600));
        assert_eq!(scheduled(noon, None, Some(3600)), Some(noon));
        // The scheduler's word beats the clock, truncated all the same.
        assert_eq!(scheduled(5, Some(noon + 61), None), Some(noon + 61));
        assert_eq!(scheduled(5, Some(noon + 61), Some(60)), Some(noon + 60));
        assert_eq!(scheduled(5, Some(noon), Some(0)), Some(noon));
    }

    #[test]
    fn keys_name_the_job_and_the_slot() {
        assert_eq!(
            slot_key("rewards", 1_796_299_200),
            "rewards@2026-12-03T12:00:00Z"
        );
    }

    #[test]
    fn periods_are_whole_seconds() {
        assert_eq!(slot_period(Duration::from_secs(3600)), Ok(3600));
        assert!(slot_period(Duration::from_millis(1500)).is_err());
        assert!(slot_period(Duration::from_millis(500)).is_err());
        assert!(slot_period(Duration::ZERO).is_err());
    }

    #[test]
    fn rfc3339_times_parse_with_their_offset() {
        let noon = 1_796_299_200;
        assert_eq!(parse_rfc3339("2026-12-03T12:00:00Z"), Ok(noon));
        assert_eq!(parse_rfc3339("2026-12-03t12:00:00z"), Ok(noon));
        assert_eq!(parse_rfc3339("2026-12-03 12:00:00Z"), Ok(noon));
        assert_eq!(parse_rfc3339("2026-12-03T12:00:00.999Z"), Ok(noon));
        assert_eq!(parse_rfc3339("2026-12-03T13:30:00+01:30"), Ok(noon));
        assert_eq!(parse_rfc3339("2026-12-03T05:00:00-07:00"), Ok(noon));
        assert_eq!(
            parse_rfc3339("2016-05-19T03:00:00-07:00"),
            Ok(1_463_652_000)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), Ok(1_483_228_799));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
        // The widest offsets there are.
        assert_eq!(parse_rfc3339("2026-12-04T11:59:00+23:59"), Ok(noon));
        assert_eq!(parse_rfc3339("2026-12-02T12:01:00-23:59"), Ok(noon));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "1796385600",
            "2026-12-03",
            "2026-12-03T12:00:00",
            "2026-12-03T12:00Z",
            "2026-12-03T12:00:00.Z",
            "2026-12-03T12:00:00.123",
            "2026-12-03T12:00:00+0100",
            "2026-12-03T12:00:00+24:00",
            "2026-12-03T12:00:00+01:60",
            "2026-12-03T12:00:00ZZ",
            "2026-13-03T12:00:00Z",
            "2026-00-03T12:00:00Z",
            "2026-12-00T12:00:00Z",
            "2025-02-29T12:00:00Z",
            "2026-12-03T24:00:00Z",
            "2026-12-03T12:60:00Z",
            "2026-12-03T12:00:61Z",
            "2026/12/03T12:00:00Z",
            "2026-12-03X12:00:00Z",
            "2026-12-03T12-00-00Z",
            "2026-1a-03T12:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
        ] {
            assert!(parse_rfc3339(text).is_err(), "{text:?} accepted");
        }
        let message = parse_rfc3339("1969-12-31T23:59:59Z").unwrap_err();
        assert!(message.contains("before 1970"), "{message}");
    }
}
