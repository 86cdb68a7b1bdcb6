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
//!
//! The HTTP and TLS libraries are kept quiet unless `RUST_LOG` names them
//! (`RUST_LOG=ureq=debug`): at `-v` their debug lines are internals
//! (`Resolved: ArrayVec {…}`, a URL with its path masked) that our own debug
//! lines say better, and their error lines repeat a failure that reaches the
//! operator anyway as our one error line, with the job and a hint (the
//! platform verifier logs `failed to verify TLS certificate` on its own). So
//! they are capped at warn (a broken system trust store still shows), and
//! their errors are dropped.

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
    let filters = std::env::var("RUST_LOG").unwrap_or_default();
    let quiet: Vec<&'static str> = LIBRARIES
        .iter()
        .copied()
        .filter(|library| !named(&filters, library))
        .collect();
    // Before RUST_LOG's own directives, so that naming a library there
    // replaces its cap.
    for library in &quiet {
        builder.filter_module(library, LevelFilter::Warn);
    }
    builder.parse_filters(&filters);
    let logger = builder.build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(Guarded { logger, quiet })).is_ok() {
        log::set_max_level(max);
    }
}

/// The libraries whose log lines are shown only when `RUST_LOG` names them.
const LIBRARIES: &[&str] = &["ureq", "ureq_proto", "rustls", "rustls_platform_verifier"];

/// Whether the `RUST_LOG` value `filters` has a directive for `library`
/// (or a module path leading to it, as env_logger matches by prefix).
fn named(filters: &str, library: &str) -> bool {
    // `directives/regex`: the part after the slash filters messages.
    let directives = filters.split('/').next().unwrap_or_default();
    directives.split(',').any(|directive| {
        let name = match directive.split_once('=') {
            Some((name, _level)) => name.trim(),
            // A bare word is a level (`debug`) or a module at every level.
            None if directive.trim().parse::<LevelFilter>().is_ok() => return false,
            None => directive.trim(),
        };
        !name.is_empty() && library.starts_with(name)
    })
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

struct Guarded {
    logger: env_logger::Logger,
    /// The [`LIBRARIES`] that `RUST_LOG` does not name.
    quiet: Vec<&'static str>,
}

/// Whether a record may be written at all, whatever the filter says.
fn allowed(metadata: &Metadata<'_>, quiet: &[&str]) -> bool {
    let target = metadata.target();
    let dump = target.starts_with("ureq_proto") && metadata.level() > Level::Info;
    let in_module = |module: &str| {
        target
            .strip_prefix(module)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    };
    let repeated_error = metadata.level() == Level::Error && quiet.iter().any(|l| in_module(l));
    !(dump || repeated_error)
}

impl Log for Guarded {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        allowed(metadata, &self.quiet) && self.logger.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        // The log macros call log() without asking enabled() first.
        if !self.enabled(record.metadata()) {
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
            Cow::Borrowed(_) => self.logger.log(record),
            Cow::Owned(clean) => self.logger.log(
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
        self.logger.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(target: &str, level: Level) -> bool {
        allowed(
            &Metadata::builder().target(target).level(level).build(),
            &[],
        )
    }

    #[test]
    fn byte_dumps_never_pass() {
        assert!(!meta("ureq_proto::util", Level::Trace));
        assert!(!meta("ureq_proto", Level::Debug));
        // Only debug and trace carry the dumps.
        assert!(meta("ureq_proto", Level::Info));
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

    #[test]
    fn library_errors_pass_only_when_named() {
        let quiet = ["rustls_platform_verifier", "ureq"];
        let target = "rustls_platform_verifier::verification::others";
        let m = |target, level| Metadata::builder().target(target).level(level).build();
        assert!(!allowed(&m(target, Level::Error), &quiet));
        assert!(allowed(&m(target, Level::Warn), &quiet));
        assert!(allowed(&m(target, Level::Error), &["ureq"]));
        assert!(allowed(&m(target, Level::Error), &["rustls"]));
        assert!(!allowed(&m("rustls", Level::Error), &["rustls"]));
        assert!(allowed(&m("ocd_cron::app", Level::Error), &quiet));
    }

    #[test]
    fn rust_log_names_a_library_by_module_prefix() {
        assert!(named("ureq=debug", "ureq"));
        assert!(named("ureq=debug", "ureq_proto"));
        assert!(named("info,ureq", "ureq"));
        assert!(named(" rustls = trace ", "rustls_platform_verifier"));
        assert!(named(
            "rustls_platform_verifier=debug/fail",
            "rustls_platform_verifier"
        ));
        assert!(!named("rustls_platform_verifier=debug", "rustls"));
        assert!(!named("ureq_proto=debug", "ureq"));
        assert!(!named("debug", "ureq"));
        assert!(!named("trace,ocd_cron=debug", "ureq"));
        assert!(!named("", "ureq"));
        assert!(!named("=debug", "ureq"));
    }
}
