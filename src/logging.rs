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
//! those records before they are formatted. Every other record, whoever
//! writes it, passes through the one redactor (`sanitize::redact`) before it
//! is written, so no line shows a secret it registered: the key, the secret
//! parts of monitor URLs (at trace level ureq logs every URL it requests in
//! full) and proxy credentials.
//!
//! `--log-format json` writes every line as one JSON object instead, for
//! log shippers (Loki, Datadog, CloudWatch): `time` (RFC 3339, UTC),
//! `level`, `job`, `message`, and the fields the line carries (a job's
//! line: `request_id`, `attempt`, `max_attempts`, `http_status`,
//! `duration_ms`, `exit_status`, `trace_id`). The message loses the `job: `
//! prefix the text lines start with; the job is its own field. A library's
//! line (shown only when `RUST_LOG` names the library) also gets `target`,
//! its module. Under the journal each object keeps its `<N>` priority
//! prefix, which journald strips, so the stored message is the object and
//! `journalctl -p err` still selects the failures. Usage errors (printed by
//! `main` before the logger exists) and panics are written the same way,
//! by [`write_json`].
//!
//! The HTTP and TLS libraries are kept quiet unless `RUST_LOG` names them
//! (`RUST_LOG=ureq=debug`): at `-v` their debug lines are internals
//! (`Resolved: ArrayVec {…}`, a URL with its path masked) that our own debug
//! lines say better, and their error lines repeat a failure that reaches the
//! operator anyway as our one error line, with the job and a hint (the
//! platform verifier logs `failed to verify TLS certificate` on its own). So
//! they are capped at warn (a broken system trust store still shows), and
//! their errors are dropped.

use std::io::Write;
use std::time::SystemTime;

use log::kv::{self, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::{Map, Value};

use crate::sanitize;
use crate::time::rfc3339_millis;

/// How much the operator asked to see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The line format on stderr (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people: a timestamp and level, or the journal's priority
    Text,
    /// One JSON object per line, for log shippers
    Json,
}

/// The format `OCD_CRON_LOG_FORMAT` asks for: `None` when unset or empty,
/// the bad value when it is neither `text` nor `json`.
pub fn format_from_env() -> Result<Option<Format>, String> {
    let value = std::env::var(crate::setting::LOG_FORMAT.variable).unwrap_or_default();
    match value.as_str() {
        "" => Ok(None),
        "text" => Ok(Some(Format::Text)),
        "json" => Ok(Some(Format::Json)),
        _ => Err(value),
    }
}

/// Whether the command line asks for `--log-format json`, read before
/// clap parses it, so that a usage error can be written as JSON too.
pub fn json_requested(args: &[std::ffi::OsString]) -> bool {
    let mut json = matches!(format_from_env(), Ok(Some(Format::Json)));
    let mut args = args.iter().skip(1).map(|a| a.to_str().unwrap_or_default());
    while let Some(arg) = args.next() {
        match arg {
            "--" => break,
            "--log-format" => json = args.next() == Some("json"),
            _ => {
                if let Some(value) = arg.strip_prefix("--log-format=") {
                    json = value == "json";
                }
            }
        }
    }
    json
}

/// Installs the logger. Called once, before anything can fail. `job` is
/// the `--job` value, for the JSON lines that do not name a job.
pub fn init(verbosity: Verbosity, format: Format, job: &'static str) {
    let level = match verbosity {
        Verbosity::Quiet => LevelFilter::Warn,
        Verbosity::Normal => LevelFilter::Info,
        Verbosity::Verbose => LevelFilter::Debug,
    };
    let journal = stderr_is_journal();
    if format == Format::Json {
        std::panic::set_hook(Box::new(|info| {
            write_json(Level::Error, None, &info.to_string(), &[]);
        }));
    }
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level).format(move |out, record| {
        if format == Format::Json {
            let mut fields = Map::new();
            let _ = record.key_values().visit(&mut Fields(&mut fields));
            if !record.target().starts_with("ocd_cron") {
                fields.insert("target".into(), record.target().into());
            }
            let message = record.args().to_string();
            let line = json_line(record.level(), Some(job), &message, fields);
            if journal {
                writeln!(out, "<{}>{line}", syslog_priority(record.level()))
            } else {
                writeln!(out, "{line}")
            }
        } else if journal {
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

/// The job names a message may start with (`rewards: ...`).
const JOBS: &[&str] = &["rewards", "outcomes", "all"];

/// One JSON log line: the message's `job: ` prefix becomes the `job` field
/// (else `job` is the invocation's, or null before it is known).
fn json_line(level: Level, job: Option<&str>, message: &str, fields: Map<String, Value>) -> String {
    let (job, message) = match message.split_once(": ") {
        Some((name, rest)) if JOBS.contains(&name) => (Some(name), rest),
        _ => (job, message),
    };
    // Written by hand for the order: time, level, job and message first,
    // as people read them; serde_json's own maps sort their keys.
    let mut line = format!(
        "{{\"time\":\"{}\",\"level\":\"{}\",\"job\":{},\"message\":{}",
        rfc3339_millis(SystemTime::now()),
        level.as_str().to_ascii_lowercase(),
        Value::from(job),
        Value::from(message)
    );
    for (name, value) in fields {
        line.push_str(&format!(",{}:{value}", Value::from(name)));
    }
    line.push('}');
    line
}

/// Writes one JSON line straight to stderr, for what is reported before
/// the logger exists (a usage error) or outside it (a panic). The message
/// is scrubbed as every log line is.
pub fn write_json(level: Level, job: Option<&str>, message: &str, fields: &[(&str, u64)]) {
    let clean = sanitize::redact(message);
    let fields = fields
        .iter()
        .map(|&(name, value)| (name.to_owned(), Value::from(value)))
        .collect();
    let line = json_line(level, job, &clean, fields);
    let mut err = std::io::stderr().lock();
    let _ = if stderr_is_journal() {
        writeln!(err, "<{}>{line}", syslog_priority(level))
    } else {
        writeln!(err, "{line}")
    };
}

/// Copies a record's key-values into a JSON object: numbers as numbers,
/// anything else as its text, scrubbed as messages are (a library's
/// fields have passed through nothing of ours).
struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let value = match value.to_u64() {
            Some(n) => Value::from(n),
            None => Value::from(sanitize::redact(&value.to_string()).into_owned()),
        };
        self.0.insert(key.as_str().to_owned(), value);
        Ok(())
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
        // trace) has not passed through `sanitize::for_log`, so every
        // secret is masked here too.
        // The message is formatted once, here; the logger gets the text.
        let text = record.args().to_string();
        let clean = sanitize::redact(&text);
        self.logger.log(
            &Record::builder()
                .metadata(record.metadata().clone())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .key_values(record.key_values())
                .args(format_args!("{clean}"))
                .build(),
        );
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
    fn json_is_seen_on_the_command_line_before_parsing() {
        let asks = |args: &[&str]| {
            let args: Vec<std::ffi::OsString> = std::iter::once("ocd-cron")
                .chain(args.iter().copied())
                .map(Into::into)
                .collect();
            json_requested(&args)
        };
        // Whatever the test process's environment says, the flag decides.
        assert!(asks(&["--job", "x", "--log-format", "json"]));
        assert!(asks(&["--log-format=json", "--bogus"]));
        assert!(!asks(&["--log-format", "json", "--log-format=text"]));
        assert!(!asks(&["--log-format=text"]));
        assert!(!asks(&["--log-format", "text"]));
        // After `--` nothing is a flag.
        assert!(!asks(&[
            "--log-format",
            "text",
            "--",
            "--log-format",
            "json"
        ]));
        assert!(asks(&[
            "--log-format",
            "json",
            "--",
            "--log-format",
            "text"
        ]));
    }

    #[test]
    fn fields_keep_numbers_and_scrub_text() {
        sanitize::hide_monitor_secret("9b1d-4e7a-field-token");
        let fields = [
            (
                "url",
                kv::Value::from("http://h/9b1d-4e7a-field-token/start"),
            ),
            ("http_status", kv::Value::from(503u16)),
        ];
        let mut map = Map::new();
        kv::Source::visit(&fields[..], &mut Fields(&mut map)).unwrap();
        assert_eq!(map["url"], format!("http://h/{}/start", sanitize::MASK));
        assert_eq!(map["http_status"], 503);
    }

    #[test]
    fn a_json_line_takes_the_job_from_the_message() {
        let line = |job, message| {
            let line = json_line(Level::Warn, job, message, Map::new());
            serde_json::from_str::<Value>(&line).unwrap()
        };
        let v = line(Some("all"), "outcomes: attempt 1/3 failed: x: y");
        assert_eq!(v["job"], "outcomes");
        assert_eq!(v["message"], "attempt 1/3 failed: x: y");
        let v = line(Some("all"), "healthchecks: start: refused");
        assert_eq!(v["job"], "all");
        assert_eq!(v["message"], "healthchecks: start: refused");
        let v = line(None, "invalid value 'x' for '--timeout': no");
        assert!(v["job"].is_null());
        assert_eq!(v["level"], "warn");
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
