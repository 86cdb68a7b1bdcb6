//! What a person or a program sees of a run: one log line per job on
//! stderr, and on stdout either nothing (text), the pending count (just the
//! number for one job, `job count` lines for `--job all`, so
//! `n=$(ocd-cron --pending --job=rewards)` works), the dry run's requests
//! and monitor pings, or one JSON object per job (`--output json`).
//!
//! Every line is made from a [`JobRecord`], so the log, the JSON and the
//! ping body can never disagree.
//!
//! What writes stdout returns how that went (`Ok` for a reader that went
//! away): a result that could not be written is the caller's to account
//! for, once, in the exit status.

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

use log::{Level, kv};
use serde_json::{Value, json};

use crate::cli::Output;
use crate::client::Method;
use crate::config::Config;
use crate::duration::format_duration;
use crate::error::Error;
use crate::job::{Job, Mode, Selection};
use crate::outcome::show;
use crate::random;
use crate::run::{self, JobRecord, Success};
use crate::{ping, sanitize};

/// The one-line account of a job, as logged and sent with the finish ping.
pub fn summary(record: &JobRecord) -> String {
    let job = record.job;
    // Only what applies: a GET sends no request id.
    let how = || {
        let mut parts = Vec::new();
        if let Some(status) = record.http_status {
            parts.push(format!("HTTP {status}"));
        }
        parts.push(format_duration(record.elapsed));
        parts.push(format!(
            "attempt {}/{}",
            record.attempts, record.max_attempts
        ));
        if let Some(id) = &record.request_id {
            parts.push(format!("request {id}"));
        }
        if let Some(id) = &record.trace_id {
            parts.push(format!("trace {id}"));
        }
        parts.join(", ")
    };
    match &record.result {
        Ok(Success::Triggered(report)) => {
            let message = report
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            format!(
                "{job}: processed {}, errors {} ({}){message}",
                show(report.processed),
                show(report.errors),
                how()
            )
        }
        Ok(Success::Pending(report)) => {
            format!("{job}: {} pending ({})", report.count, how())
        }
        Ok(Success::DryRun) => format!("{job}: dry run, nothing sent"),
        Err(error) => match &record.trace_id {
            Some(id) => format!("{job}: {error} (trace {id})"),
            None => format!("{job}: {error}"),
        },
    }
}

/// Reports a finished job: its log line, and its stdout line if any.
pub fn emit(record: &JobRecord, config: &Config) -> io::Result<()> {
    let level = match &record.result {
        Ok(_) => Level::Info,
        Err(_) => Level::Error,
    };
    log_with_fields(level, &record_fields(record), &summary(record));
    // The count is printed over `--max-pending` too: the exit status is
    // the alarm, and `n=$(ocd-cron --pending --max-pending 5)` still needs n.
    match (config.output(), record.pending()) {
        (Output::Json, _) => print_json(json(record, config.mode(), None)),
        (Output::Text, Some((count, _))) if config.jobs().len() == 1 => {
            print_line(&count.to_string())
        }
        (Output::Text, Some((count, _))) => print_line(&format!("{} {count}", record.job)),
        (Output::Text, None) => Ok(()),
    }
}

/// A job's line's fields, for `--log-format json`: those that apply.
fn record_fields(record: &JobRecord) -> Vec<(&'static str, kv::Value<'_>)> {
    let mut fields = Vec::new();
    if let Some(id) = &record.request_id {
        fields.push(("request_id", kv::Value::from(id.as_str())));
    }
    fields.push(("attempt", kv::Value::from(record.attempts)));
    fields.push(("max_attempts", kv::Value::from(record.max_attempts)));
    if let Some(status) = record.http_status {
        fields.push(("http_status", kv::Value::from(status)));
    }
    fields.push(("duration_ms", kv::Value::from(millis(record.elapsed))));
    fields.push(("exit_status", kv::Value::from(record.exit_code())));
    if let Some(id) = &record.trace_id {
        fields.push(("trace_id", kv::Value::from(id.as_str())));
    }
    fields
}

/// Logs `message` with `fields`, which only the JSON lines show.
pub fn log_with_fields(level: Level, fields: &[(&str, kv::Value<'_>)], message: &str) {
    log::logger().log(
        &log::Record::builder()
            .level(level)
            .target(module_path!())
            .module_path_static(Some(module_path!()))
            .key_values(&fields)
            .args(format_args!("{message}"))
            .build(),
    );
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Reports `jobs` that did not start because of `error` (a configuration
/// error, a held lock, a signal): one log line for the invocation, named
/// by `selection`, and in JSON one object per job.
pub fn not_started(
    selection: Selection,
    jobs: &[Job],
    output: Output,
    mode: Mode,
    error: &Error,
) -> io::Result<()> {
    log_with_fields(
        Level::Error,
        &[("exit_status", kv::Value::from(error.exit_code()))],
        &format!("{}: {error}", selection.name()),
    );
    let mut written = Ok(());
    if output == Output::Json {
        for &job in jobs {
            let record = JobRecord::not_started(job, error.clone());
            keep_first(&mut written, print_json(json(&record, mode, None)));
        }
    }
    written
}

/// Reports an invocation of `config` that `error` cut short, and in JSON
/// one object per job that had not ended: `in_flight` (the job that was
/// running, as far as it got), then the `jobs` that did not start. A held
/// lock is one log line for the invocation; a signal is one line per job
/// that had not ended, each naming its own job and URL.
pub fn cut_short(
    config: &Config,
    in_flight: Option<&JobRecord>,
    jobs: &[Job],
    error: &Error,
) -> io::Result<()> {
    let mode = config.mode();
    let mut written = Ok(());
    let per_job = matches!(error, Error::Interrupted { .. });
    if !per_job {
        log_with_fields(
            Level::Error,
            &[("exit_status", kv::Value::from(error.exit_code()))],
            &format!("{}: {error}", config.selection().name()),
        );
    }
    if let Some(record) = in_flight {
        if per_job {
            log_with_fields(Level::Error, &record_fields(record), &summary(record));
        }
        if config.output() == Output::Json {
            keep_first(&mut written, print_json(json(record, mode, None)));
        }
    }
    for &job in jobs {
        let record =
            JobRecord::not_started(job, error.before_job(&config.url(job), in_flight.is_some()));
        if per_job {
            log_with_fields(Level::Error, &record_fields(&record), &summary(&record));
        }
        if config.output() == Output::Json {
            keep_first(&mut written, print_json(json(&record, mode, None)));
        }
    }
    written
}

/// `--dry-run`: prints each job's request as a run builds it
/// ([`run::request`]), key redacted, each with its own `Idempotency-Key` as
/// in a real run, and, for a dry run of a trigger, the wait and the pings
/// each monitor would get, secrets masked (in JSON, as every job object's
/// `pings`: they belong to the whole invocation).
pub fn dry_run(config: &Config, invocation_id: &str) -> io::Result<()> {
    let mut written = Ok(());
    // A --pending check would neither wait nor ping.
    let monitors = if config.mode().triggers() {
        config.monitors()
    } else {
        &[]
    };
    let summaries: Vec<String> = config
        .jobs()
        .iter()
        .map(|&job| summary(&dry_run_record(job, None)))
        .collect();
    let previews = ping::preview(monitors, invocation_id, &summaries.join("\n"));
    let ids = run::request_ids(config.jobs(), invocation_id, config.slot());
    // What --jitter would wait, drawn as a real run draws it.
    let jitter = config
        .jitter()
        .filter(|_| config.mode().triggers())
        .map(|jitter| {
            let delay = jitter.delay(config.selection().name(), random::fraction());
            (delay, jitter.window)
        });
    for (i, (&job, request_id)) in config.jobs().iter().zip(ids).enumerate() {
        let request = run::request(config, job, &request_id, run::new_span());
        let record = dry_run_record(job, (request.method == Method::Post).then_some(request_id));
        match jitter {
            Some((delay, window)) if i == 0 => log_with_fields(
                Level::Info,
                &[("jitter_ms", kv::Value::from(millis(delay)))],
                &format!(
                    "{}; --jitter {} would wait {} first",
                    summary(&record),
                    format_duration(window),
                    format_duration(delay)
                ),
            ),
            _ => log::info!("{}", summary(&record)),
        }
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.shown().to_owned()))
            .collect();
        match config.output() {
            Output::Json => {
                let preview = json!({
                    "method": request.method.as_str(),
                    "url": request.url,
                    "headers": headers.iter().map(|(n, v)| (n.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "body": request.body,
                });
                let mut object = json(&record, config.mode(), Some(preview));
                object["pings"] = previews.iter().map(ping_json).collect();
                if let Some((delay, _)) = jitter {
                    object["jitter_ms"] = millis(delay).into();
                }
                keep_first(&mut written, print_json(object));
            }
            Output::Text => {
                let mut text = String::new();
                if i > 0 {
                    text.push('\n');
                }
                if let Some((delay, window)) = jitter.filter(|_| i == 0) {
                    text.push_str(&format!(
                        "wait {} (--jitter {})\n\n",
                        format_duration(delay),
                        format_duration(window)
                    ));
                }
                text.push_str(&format!("{} {}\n", request.method.as_str(), request.url));
                for (name, value) in &headers {
                    text.push_str(&format!("{name}: {value}\n"));
                }
                if let Some(body) = &request.body {
                    text.push_str(&format!("\n{body}\n"));
                }
                keep_first(&mut written, print_line(text.trim_end()));
            }
        }
    }
    if config.output() == Output::Text {
        for preview in &previews {
            keep_first(&mut written, print_line(&ping_text(preview)));
        }
    }
    written
}

/// The record of a dry run of `job`.
fn dry_run_record(job: Job, request_id: Option<String>) -> JobRecord {
    JobRecord {
        job,
        request_id,
        http_status: None,
        trace_id: None,
        attempts: 0,
        max_attempts: 0,
        elapsed: Duration::ZERO,
        result: Ok(Success::DryRun),
    }
}

/// A monitor's pings in the text dry run, after the job requests.
fn ping_text(preview: &ping::Preview) -> String {
    let mut text = format!("\nping {} ({})", preview.kind, preview.address);
    let pings = [
        ("start", preview.start.as_ref()),
        ("finish, success", Some(&preview.success)),
        ("finish, failure", Some(&preview.failure)),
    ];
    for (what, ping) in pings {
        let Some(ping) = ping else {
            text.push_str(&format!("\n{what}: none"));
            continue;
        };
        text.push_str(&format!(
            "\n{what}: {} {}",
            ping.method.as_str(),
            ping.shown_in_full
        ));
        if let Some(body) = &ping.body {
            for line in body.lines() {
                text.push_str(&format!("\n  {line}"));
            }
        }
    }
    text
}

/// A monitor's pings in the JSON dry run.
fn ping_json(preview: &ping::Preview) -> Value {
    let request = |ping: &ping::Ping| {
        json!({
            "method": ping.method.as_str(),
            "url": ping.shown_in_full,
            "body": ping.body,
        })
    };
    json!({
        "kind": preview.kind,
        "address": preview.address,
        "start": preview.start.as_ref().map(request),
        "finish_success": request(&preview.success),
        "finish_failure": request(&preview.failure),
    })
}

/// The JSON object for a record. The fields are documented in the README
/// ("Operating it"); tests assert the schema.
fn json(record: &JobRecord, mode: Mode, request: Option<Value>) -> Value {
    let (processed, errors) = record.counts();
    let (pending, message) = match (&record.result, record.pending()) {
        (_, Some((count, message))) => (Some(count), message.map(str::to_owned)),
        (Ok(Success::Triggered(r)), None) => (None, r.message.clone()),
        (Err(Error::JobFailed { message, .. }), None) => (None, message.clone()),
        _ => (None, None),
    };
    let mut object = json!({
        "job": record.job.name(),
        "mode": mode.name(),
        "ok": record.result.is_ok(),
        "exit_code": record.exit_code(),
        "http_status": record.http_status,
        "processed": processed,
        "errors": errors,
        "pending": pending,
        "message": message,
        "error": record.result.as_ref().err().map(ToString::to_string),
        "attempts": record.attempts,
        "duration_ms": millis(record.elapsed),
        "request_id": record.request_id,
        "trace_id": record.trace_id,
    });
    if let Some(request) = request {
        object["request"] = request;
    }
    object
}

/// Writes `object` on one line, the key redacted (plainly or
/// percent-encoded) in each string before it is escaped for JSON, where a
/// key holding `"` or `\` would no longer read as itself: a path or an
/// error that happens to hold the key is no more shown here than on stderr.
fn print_json(mut object: Value) -> io::Result<()> {
    fn scrub_strings(value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(clean) = sanitize::redact(text) {
                    *text = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(scrub_strings),
            Value::Object(fields) => fields.values_mut().for_each(scrub_strings),
            _ => {}
        }
    }
    scrub_strings(&mut object);
    print_line(&object.to_string())
}

/// Writes a line to stdout, the key redacted as in a log line. A closed
/// pipe (`| head`) is not a failure: the reader has what it wanted, and the
/// exit status must still say how the job went. Any other failure (a full
/// disk, `>/dev/full`) loses a result, and is returned.
fn print_line(line: &str) -> io::Result<()> {
    let line = sanitize::redact(line);
    let mut out = io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}

/// Keeps the first failure of several writes in `first`; each write is
/// tried all the same.
fn keep_first(first: &mut io::Result<()>, next: io::Result<()>) {
    if first.is_ok() {
        *first = next;
    }
}
