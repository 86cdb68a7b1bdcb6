//! Every setting's names, once: its flag, its environment variable (which
//! is also its key in the app's env files) and where it may come from.
//! `--help`, the man page, the configuration's precedence and every message
//! that names a setting take the names from here, so that a renamed
//! variable cannot leave a stale message behind.
//!
//! A leaf: the table is read by `cli` (help), `config` (precedence and
//! messages) and `error` (hints), which sit at different heights.

use std::fmt;

/// One setting an operator can give.
#[derive(Debug, PartialEq, Eq)]
pub struct Setting {
    /// The flag that sets it, if one does (it beats the variable).
    pub flag: Option<&'static str>,
    /// The environment variable, also the key an env file sets it with.
    pub variable: &'static str,
    /// How messages name it: `--base-url / API_BASE_URL`, or the variable
    /// alone when no flag sets it.
    pub name: &'static str,
    /// Whether the app's env files may set it; if not, only the real
    /// environment (and the flag) can.
    pub in_env_files: bool,
    /// Whether an empty value means unset (see [`Setting::empty_is_unset`]).
    pub empty_is_unset: bool,
}

/// A setting with a flag: `flag`, `variable`, then the two booleans of
/// [`Setting`]. `name` is spelled from the other two.
macro_rules! flagged {
    ($flag:literal, $variable:literal, $files:expr, $empty:expr) => {
        Setting {
            flag: Some($flag),
            variable: $variable,
            name: concat!($flag, " / ", $variable),
            in_env_files: $files,
            empty_is_unset: $empty,
        }
    };
}

/// A setting only a variable gives.
macro_rules! variable {
    ($variable:literal, $files:expr, $empty:expr) => {
        Setting {
            flag: None,
            variable: $variable,
            name: $variable,
            in_env_files: $files,
            empty_is_unset: $empty,
        }
    };
}

/// Whether the env files may set it: yes for the app's own settings.
const FILES: bool = true;
/// Real environment only: a setting of this run, not of the app.
const REAL_ONLY: bool = false;

// The optional settings for which empty means unset, in the environment as
// in the files: the app's `.env` ships `API_BASE_URL=` and relies on the
// default (its `cron.ts` did `process.env.API_BASE_URL ||
// "http://localhost:3000"`), and compose files turn an unset variable into
// an empty one. Not the key, where empty is a mistake to report.
const EMPTY_IS_UNSET: bool = true;
const EMPTY_IS_A_VALUE: bool = false;

pub const KEY: Setting = variable!("INTERNAL_API_KEY", FILES, EMPTY_IS_A_VALUE);
pub const KEY_FILE: Setting = variable!("INTERNAL_API_KEY_FILE", FILES, EMPTY_IS_A_VALUE);
pub const BASE_URL: Setting = flagged!("--base-url", "API_BASE_URL", FILES, EMPTY_IS_UNSET);
pub const CA_CERT: Setting = flagged!("--ca-cert", "OCD_CRON_CA_CERT", FILES, EMPTY_IS_UNSET);
pub const PING_URL: Setting = flagged!("--ping-url", "OCD_CRON_PING_URL", FILES, EMPTY_IS_UNSET);
pub const PING_TIMEOUT: Setting = flagged!(
    "--ping-timeout",
    "OCD_CRON_PING_TIMEOUT",
    FILES,
    EMPTY_IS_A_VALUE
);
pub const METRICS_FILE: Setting = flagged!(
    "--metrics-file",
    "OCD_CRON_METRICS_FILE",
    FILES,
    EMPTY_IS_UNSET
);
pub const APP_DIR: Setting = flagged!("--app-dir", "OCD_CRON_APP_DIR", REAL_ONLY, EMPTY_IS_UNSET);
pub const NODE_ENV: Setting = variable!("NODE_ENV", REAL_ONLY, EMPTY_IS_A_VALUE);
pub const JITTER: Setting = flagged!("--jitter", "OCD_CRON_JITTER", FILES, EMPTY_IS_A_VALUE);
pub const JITTER_SEED: Setting = flagged!(
    "--jitter-seed",
    "OCD_CRON_JITTER_SEED",
    FILES,
    EMPTY_IS_A_VALUE
);
pub const SLOT_PERIOD: Setting = flagged!(
    "--slot-period",
    "OCD_CRON_SLOT_PERIOD",
    FILES,
    EMPTY_IS_A_VALUE
);
pub const SCHEDULED_TIME: Setting = variable!("OCD_CRON_SCHEDULED_TIME", REAL_ONLY, EMPTY_IS_UNSET);
pub const LOG_FORMAT: Setting = flagged!(
    "--log-format",
    "OCD_CRON_LOG_FORMAT",
    REAL_ONLY,
    EMPTY_IS_A_VALUE
);
pub const TRACEPARENT: Setting = variable!("TRACEPARENT", REAL_ONLY, EMPTY_IS_UNSET);
pub const TRACESTATE: Setting = variable!("TRACESTATE", REAL_ONLY, EMPTY_IS_UNSET);

/// Every setting in the table, in the order `--help` lists them.
pub const ALL: &[&Setting] = &[
    &KEY,
    &KEY_FILE,
    &BASE_URL,
    &CA_CERT,
    &PING_URL,
    &PING_TIMEOUT,
    &METRICS_FILE,
    &APP_DIR,
    &NODE_ENV,
    &JITTER,
    &JITTER_SEED,
    &SLOT_PERIOD,
    &SCHEDULED_TIME,
    &LOG_FORMAT,
    &TRACEPARENT,
    &TRACESTATE,
];

impl Setting {
    /// Whether the variable `name`, set to the empty string, counts as not
    /// set at all: only for a setting of this table that says so.
    pub fn empty_is_unset(name: &str) -> bool {
        ALL.iter().any(|s| s.variable == name && s.empty_is_unset)
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_spells_the_flag_and_the_variable() {
        assert_eq!(BASE_URL.name, "--base-url / API_BASE_URL");
        assert_eq!(BASE_URL.to_string(), "--base-url / API_BASE_URL");
        assert_eq!(KEY.name, "INTERNAL_API_KEY");
        assert_eq!(KEY.flag, None);
    }

    #[test]
    fn empty_means_unset_for_the_optional_settings_not_the_key() {
        let unset: Vec<&str> = ALL
            .iter()
            .filter(|s| Setting::empty_is_unset(s.variable))
            .map(|s| s.variable)
            .collect();
        assert_eq!(
            unset,
            [
                "API_BASE_URL",
                "OCD_CRON_CA_CERT",
                "OCD_CRON_PING_URL",
                "OCD_CRON_METRICS_FILE",
                "OCD_CRON_APP_DIR",
                "OCD_CRON_SCHEDULED_TIME",
                "TRACEPARENT",
                "TRACESTATE"
            ]
        );
        assert!(!Setting::empty_is_unset("PATH"));
        assert!(!Setting::empty_is_unset("INTERNAL_API_KEY"));
    }

    #[test]
    fn every_variable_is_named_once() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.variable, b.variable);
                if let (Some(x), Some(y)) = (a.flag, b.flag) {
                    assert_ne!(x, y);
                }
            }
        }
    }
}
