//! What a person or a program sees of a run: one log line per job on
//! stderr, and on stdout either nothing (text), the pending count (just the
//! number for one job, `job count` lines for `--job all`, so
//! `n=$(ocd-cron --pending --job=rewards)` works), the dry run's requests
//! and monitor pings, or one JSON object per job (`--output json`).
//!
//! Every line is made from a [`JobRecord`], so the log, the JSON and the
//! ping body can never disagree.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use log::{Level, kv};
use serde_json::{Value, json};

use crate::cli::Output;
use crate::client::{self, Method};
use crate::config::{Config, Mode};
use crate::duration::format_duration;
use crate::error::Error;
use crate::job::{Job, Selection};
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
pub fn emit(record: &JobRecord, config: &Config) {
    let level = match &record.result {
        Ok(_) => Level::Info,
        Err(_) => Level::Error,
    };
    log_with_fields(level, &record_fields(record), &summary(record));
    // The count is printed over `--max-pending` too: the exit status is
    // the alarm, and `n=$(ocd-cron --pending --max-pending 5)` still needs n.
    match (config.output, record.pending()) {
        (Output::Json, _) => print_json(json(record, config_mode(config), None)),
        (Output::Text, Some((count, _))) if config.jobs.len() == 1 => {
            print_line(&count.to_string())
        }
        (Output::Text, Some((count, _))) => print_line(&format!("{} {count}", record.job)),
        (Output::Text, None) => {}
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
    mode: &'static str,
    error: &Error,
) {
    log_with_fields(
        Level::Error,
        &[("exit_status", kv::Value::from(error.exit_code()))],
        &format!("{}: {error}", selection.name()),
    );
    if output == Output::Json {
        for &job in jobs {
            let record = JobRecord::not_started(job, error.clone());
            print_json(json(&record, mode, None));
        }
    }
}

/// Reports an invocation of `config` that `error` cut short, and in JSON
/// one object per job that had not ended: `in_flight` (the job that was
/// running, as far as it got), then the `jobs` that did not start. A held
/// lock is one log line for the invocation; a signal is one line per job
/// that had not ended, each naming its own job and URL.
pub fn cut_short(config: &Config, in_flight: Option<&JobRecord>, jobs: &[Job], error: &Error) {
    let mode = config_mode(config);
    let per_job = matches!(error, Error::Interrupted { .. });
    if !per_job {
        log_with_fields(
            Level::Error,
            &[("exit_status", kv::Value::from(error.exit_code()))],
            &format!("{}: {error}", config.selection.name()),
        );
    }
    if let Some(record) = in_flight {
        if per_job {
            log_with_fields(Level::Error, &record_fields(record), &summary(record));
        }
        if config.output == Output::Json {
            print_json(json(record, mode, None));
        }
    }
    for &job in jobs {
        let record =
            JobRecord::not_started(job, error.before_job(&config.url(job), in_flight.is_some()));
        if per_job {
            log_with_fields(Level::Error, &record_fields(&record), &summary(&record));
        }
        if config.output == Output::Json {
            print_json(json(&record, mode, None));
        }
    }
}

/// `--dry-run`: prints each job's request as it would be sent, key
/// redacted, each with its own `Idempotency-Key` as in a real run, and the
/// pings each monitor would get, secrets masked (in JSON, as every job
/// object's `pings`: they belong to the whole invocation).
pub fn dry_run(config: &Config, invocation_id: &str) {
    let summaries: Vec<String> = config
        .jobs
        .iter()
        .map(|&job| summary(&dry_run_record(job, None)))
        .collect();
    let previews = ping::preview(&config.monitors, invocation_id, &summaries.join("\n"));
    let ids = run::request_ids(&config.jobs, invocation_id, config.slot);
    // What --jitter would wait, drawn as a real run draws it.
    let jitter = config.jitter.as_ref().map(|jitter| {
        let delay = jitter.delay(config.selection.name(), random::fraction());
        (delay, jitter.window)
    });
    for (i, (&job, request_id)) in config.jobs.iter().zip(ids).enumerate() {
        let request = client::api_request(config, job, &request_id);
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
        match config.output {
            Output::Json => {
                let preview = json!({
                    "method": request.method.as_str(),
                    "url": request.url,
                    "headers": headers.iter().map(|(n, v)| (n.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "body": request.body,
                });
                let mut object = json(&record, "dry-run", Some(preview));
                object["pings"] = previews.iter().map(ping_json).collect();
                if let Some((delay, _)) = jitter {
                    object["jitter_ms"] = millis(delay).into();
                }
                print_json(object);
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
                print_line(text.trim_end());
            }
        }
    }
    if config.output == Output::Text {
        for preview in &previews {
            print_line(&ping_text(preview));
        }
    }
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

/// The mode's name in JSON objects, from the two flags that choose it.
pub fn mode_name(dry_run: bool, pending: bool) -> &'static str {
    match (dry_run, pending) {
        (true, _) => "dry-run",
        (false, true) => "pending",
        (false, false) => "run",
    }
}

/// The mode's name for a run of `config`.
pub fn config_mode(config: &Config) -> &'static str {
    mode_name(config.dry_run, matches!(config.mode, Mode::Pending { .. }))
}

/// The JSON object for a record. The fields are documented in the README
/// ("Operating it"); tests assert the schema.
fn json(record: &JobRecord, mode: &str, request: Option<Value>) -> Value {
    let (processed, errors) = record.counts();
    let (pending, message) = match (&record.result, record.pending()) {
        (_, Some((count, message))) => (Some(count), message.map(str::to_owned)),
        (Ok(Success::Triggered(r)), None) => (None, r.message.clone()),
        (Err(Error::JobFailed { message, .. }), None) => (None, message.clone()),
        _ => (None, None),
    };
    let mut object = json!({
        "job": record.job.name(),
        "mode": mode,
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

/// The first failure to write stdout, other than a reader that went away.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Writes `object` on one line, the key redacted (plainly or
/// percent-encoded) in each string before it is escaped for JSON, where a
/// key holding `"` or `\` would no longer read as itself: a path or an
/// error that happens to hold the key is no more shown here than on stderr.
fn print_json(mut object: Value) {
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
    print_line(&object.to_string());
}

/// Writes a line to stdout, the key redacted as in a log line. A closed
/// pipe (`| head`) is ignored: the reader has what it wanted, and the exit status
/// must still say how the job went. Any other failure (a full disk,
/// `>/dev/full`) loses a result, and is kept for [`stdout_error`].
fn print_line(line: &str) {
    let line = sanitize::redact(line);
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        note_stdout_error(&e);
    }
}

/// Keeps the first failure to write stdout, unless it is a broken pipe.
fn note_stdout_error(error: &std::io::Error) {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        return;
    }
    let mut first = STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner());
    first.get_or_insert_with(|| error.to_string());
}

/// Why a result could not be written to stdout, if one could not.
pub fn stdout_error() -> Option<String> {
    STDOUT_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}
