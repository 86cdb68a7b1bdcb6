//! What a person or a program sees of a run: one log line per job on
//! stderr, and on stdout either nothing (text), the pending count (just the
//! number for one job, `job count` lines for `--job all`, so
//! `n=$(ocd-cron --pending --job=rewards)` works), the dry run's request, or
//! one JSON object per job (`--output json`).
//!
//! Every line is made from a [`JobRecord`], so the log, the JSON and the
//! ping body can never disagree.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::Output;
use crate::client::{self, Method};
use crate::config::{Config, Mode};
use crate::duration::format_duration;
use crate::error::Error;
use crate::job::{Job, Selection};
use crate::outcome::show;
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
        Ok(Success::Pending(count)) => format!("{job}: {count} pending ({})", how()),
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
    match (config.output, &record.result) {
        (Output::Json, _) => print_line(&json(record, config_mode(config), None).to_string()),
        (Output::Text, Ok(Success::Pending(count))) if config.jobs.len() == 1 => {
            print_line(&count.to_string())
        }
        (Output::Text, Ok(Success::Pending(count))) => {
            print_line(&format!("{} {count}", record.job))
        }
        _ => {}
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

/// `--dry-run`: prints each job's request as it would be sent, key
/// redacted, each with its own `Idempotency-Key` as in a real run.
pub fn dry_run(config: &Config, invocation_id: &str) {
    let ids = run::request_ids(config, invocation_id);
    for (i, (&job, request_id)) in config.jobs.iter().zip(ids).enumerate() {
        let request = client::api_request(config, job, &request_id);
        let record = JobRecord {
            job,
            request_id: (request.method == Method::Post).then_some(request_id),
            http_status: None,
            attempts: 0,
            max_attempts: 0,
            elapsed: Duration::ZERO,
            result: Ok(Success::DryRun),
        };
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
                print_line(&json(&record, "dry-run", Some(preview)).to_string());
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
    let (processed, errors, message, pending) = match &record.result {
        Ok(Success::Triggered(r)) => (r.processed, r.errors, r.message.clone(), None),
        Ok(Success::Pending(n)) => (None, None, None, Some(*n)),
        Err(Error::JobFailed {
            processed,
            errors,
            message,
            ..
        }) => (*processed, *errors, message.clone(), None),
        _ => (None, None, None, None),
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

/// Writes a line to stdout, ignoring a closed pipe (`| head`): the exit
/// status must still say how the job went.
fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
