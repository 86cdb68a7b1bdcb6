//! Log set-up: env_logger on stderr, the level from `-q`/`-v` unless
//! `RUST_LOG` says otherwise, one of two line formats, and a guard that keeps
//! the key out of the log whatever `RUST_LOG` asks for.
//!
//! Lines are `[2026-11-28T22:29:03.245Z INFO ] message` (RFC 3339, UTC) on a
//! terminal, in a file or in cron mail. Under systemd, whose journal stamps
//! each line itself, they are `<3>message` instead: the syslog priority
//! prefix lets `journalctl -p err` select failures. The formats are written
//! here rather than by env_logger's timestamp feature, which would pull in a
//! date-time crate for one line of output.
//!
//! At trace level ureq's protocol crate (`ureq_proto`) hex-dumps every byte
//! sent, the `x-internal-api-key` header included. No filter string can be
//! trusted to exclude it (`RUST_LOG=ureq_proto::util=trace` is more specific
//! than any cap set here), so the guard wraps the logger itself and drops
//! those records before they are formatted. Every other record is scrubbed
//! of the key (`sanitize::redact`) before it is written.
//!
//! The secret parts of monitor URLs (check ids, tokens, keys) are kept out
//! the same way, whoever writes the line: at trace level ureq logs every URL
//! it requests in full. [`redact`] registers them, and the guard masks them
//! in every record.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::sanitize;
use crate::time::rfc3339_millis;

/// How much the operator asked to see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Installs the logger. Called once, before anything can fail.
pub fn init(verbosity: Verbosity) {
    let level = match verbosity {
        Verbosity::Quiet => LevelFilter::Warn,
        Verbosity::Normal => LevelFilter::Info,
        Verbosity::Verbose => LevelFilter::Debug,
    };
    let journal = stderr_is_journal();
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level).format(move |out, record| {
        if journal {
            writeln!(
                out,
                "<{}>{}",
                syslog_priority(record.level()),
                record.args()
            )
        } else {
            writeln!(
                out,
                "[{} {:<5}] {}",
                rfc3339_millis(SystemTime::now()),
                record.level(),
                record.args()
            )
        }
    });
    if let Ok(filters) = std::env::var("RUST_LOG") {
        builder.parse_filters(&filters);
    }
    let logger = builder.build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(Guarded(logger))).is_ok() {
        log::set_max_level(max);
    }
}

/// syslog(3) priorities, as journald reads them from a `<N>` prefix.
fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// Whether stderr is connected to the journal: systemd sets `JOURNAL_STREAM`
/// to the device and inode of the stream it gave the service, so a stderr
/// redirected elsewhere (a shell started from the unit) is told apart.
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    // SAFETY: libc::stat is a plain C struct of integers, for which all
    // zero bytes is a valid value.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes one stat into the valid, exclusively borrowed
    // buffer it is given; fd 2 need not be open (it then fails with EBADF).
    if unsafe { libc::fstat(2, &mut stat) } != 0 {
        return false;
    }
    stat.st_dev as u64 == dev && stat.st_ino as u64 == ino
}

/// Strings no log line may show; see [`redact`].
static REDACTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter strings are not registered: masking them would garble ordinary
/// words, and no check id, token or key a monitor issues is this short.
pub const MIN_REDACTED_LEN: usize = 8;

/// Masks `secret` in every log line from now on, at every level and from
/// every crate.
pub fn redact(secret: &str) {
    if secret.len() >= MIN_REDACTED_LEN
        && let Ok(mut redacted) = REDACTED.lock()
        && !redacted.iter().any(|s| s == secret)
    {
        redacted.push(secret.to_owned());
    }
}

/// `text` with every registered secret masked, or `None` if it shows none.
fn masked(text: &str) -> Option<String> {
    let redacted = REDACTED.lock().ok()?;
    if !redacted.iter().any(|secret| text.contains(secret.as_str())) {
        return None;
    }
    Some(redacted.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), "***")
    }))
}

struct Guarded(env_logger::Logger);

/// Whether a record may be written at all, whatever the filter says.
fn allowed(metadata: &Metadata<'_>) -> bool {
    !(metadata.target().starts_with("ureq_proto") && metadata.level() > Level::Info)
}

impl Log for Guarded {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        allowed(metadata) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !allowed(record.metadata()) || !self.0.enabled(record.metadata()) {
            return;
        }
        // The last line of defence: a record from the HTTP library (a
        // response's Location at `RUST_LOG=ureq=debug`, a monitor's URL at
        // trace) has not passed through `sanitize::for_log`, so the key and
        // the monitors' secrets are scrubbed here too.
        let text = record.args().to_string();
        let clean = sanitize::redact(&text);
        let clean = match masked(&clean) {
            Some(masked) => Cow::Owned(masked),
            None => clean,
        };
        match clean {
            Cow::Borrowed(_) => self.0.log(record),
            Cow::Owned(clean) => self.0.log(
                &Record::builder()
                    .metadata(record.metadata().clone())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .args(format_args!("{clean}"))
                    .build(),
            ),
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(target: &str, level: Level) -> bool {
        allowed(&Metadata::builder().target(target).level(level).build())
    }

    #[test]
    fn byte_dumps_never_pass() {
        assert!(!meta("ureq_proto::util", Level::Trace));
        assert!(!meta("ureq_proto", Level::Debug));
        assert!(meta("ureq_proto", Level::Warn));
        assert!(meta("ureq::run", Level::Debug));
        assert!(meta("ocd_cron", Level::Trace));
    }

    #[test]
    fn registered_secrets_are_masked() {
        redact("short");
        redact("0f7a1c2e-9b1d-4e7a");
        assert_eq!(masked("nothing here"), None);
        assert_eq!(
            masked("GET http://h/0f7a1c2e-9b1d-4e7a/start short").as_deref(),
            Some("GET http://h/***/start short")
        );
    }
}
