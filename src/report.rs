//! What a person or a program sees of a run: one log line per job on
//! stderr, and on stdout either nothing (text), the pending count (just the
//! number for one job, `job count` lines for `--job all`, so
//! `n=$(ocd-cron --pending --job=rewards)` works), the dry run's requests
//! and monitor pings, or one JSON object per job (`--output json`).
//!
//! Every line is made from a [`JobRecord`], so the log, the JSON and the
//! ping body can never disagree.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::Output;
use crate::client::{self, Method};
use crate::config::{Config, Mode};
use crate::duration::format_duration;
use crate::error::Error;
use crate::job::{Job, Selection};
use crate::outcome::show;
use crate::ping;
use crate::run::{self, JobRecord, Success};

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
        Err(error) => format!("{job}: {error}"),
    }
}

/// Reports a finished job: its log line, and its stdout line if any.
pub fn emit(record: &JobRecord, config: &Config) {
    match &record.result {
        Ok(_) => log::info!("{}", summary(record)),
        Err(_) => log::error!("{}", summary(record)),
    }
    // The count is printed over `--max-pending` too: the exit status is
    // the alarm, and `n=$(ocd-cron --pending --max-pending 5)` still needs n.
    match (config.output, record.pending()) {
        (Output::Json, _) => print_line(&json(record, config_mode(config), None).to_string()),
        (Output::Text, Some((count, _))) if config.jobs.len() == 1 => {
            print_line(&count.to_string())
        }
        (Output::Text, Some((count, _))) => print_line(&format!("{} {count}", record.job)),
        (Output::Text, None) => {}
    }
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
    log::error!("{}: {error}", selection.name());
    if output == Output::Json {
        for &job in jobs {
            let record = JobRecord::not_started(job, error.clone());
            print_line(&json(&record, mode, None).to_string());
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
        log::error!("{}: {error}", config.selection.name());
    }
    if let Some(record) = in_flight {
        if per_job {
            log::error!("{}", summary(record));
        }
        if config.output == Output::Json {
            print_line(&json(record, mode, None).to_string());
        }
    }
    for &job in jobs {
        let record =
            JobRecord::not_started(job, error.before_job(&config.url(job), in_flight.is_some()));
        if per_job {
            log::error!("{}", summary(&record));
        }
        if config.output == Output::Json {
            print_line(&json(&record, mode, None).to_string());
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
    let ids = run::request_ids(&config.jobs, invocation_id);
    for (i, (&job, request_id)) in config.jobs.iter().zip(ids).enumerate() {
        let request = client::api_request(config, job, &request_id);
        let record = dry_run_record(job, (request.method == Method::Post).then_some(request_id));
        log::info!("{}", summary(&record));
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
                print_line(&object.to_string());
            }
            Output::Text => {
                let mut text = String::new();
                if i > 0 {
                    text.push('\n');
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
        "duration_ms": u64::try_from(record.elapsed.as_millis()).unwrap_or(u64::MAX),
        "request_id": record.request_id,
    });
    if let Some(request) = request {
        object["request"] = request;
    }
    object
}

/// The first failure to write stdout, other than a reader that went away.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Writes a line to stdout. A closed pipe (`| head`) is ignored: the reader
/// has what it wanted, and the exit status must still say how the job went.
/// Any other failure (a full disk, `>/dev/full`) loses a result, and is kept
/// for [`stdout_error`].
fn print_line(line: &str) {
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
