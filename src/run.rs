//! The jobs of one invocation, in order, under one `--timeout` deadline,
//! each becoming one [`JobRecord`]: the record every report, metric and
//! ping is made from.

use std::time::{Duration, Instant};

use crate::client::{self, Budget, Method, RetryResult};
use crate::config::{Config, Mode};
use crate::duration;
use crate::error::{self, Error};
use crate::job::Job;
use crate::lock;
use crate::outcome::{self, JobReport};
use crate::random;

/// What one job of an invocation came to.
#[derive(Debug)]
pub struct JobRecord {
    pub job: Job,
    /// The request's `Idempotency-Key`; `None` if nothing was sent.
    pub request_id: Option<String>,
    /// The last HTTP status received, if any response came.
    pub http_status: Option<u16>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub elapsed: Duration,
    pub result: Result<Success, Error>,
}

/// A job that ended well.
#[derive(Debug)]
pub enum Success {
    /// The job was triggered and ran; what the server reported.
    Triggered(JobReport),
    /// `--pending`: this many decisions wait.
    Pending(u64),
    /// `--dry-run`: nothing was sent.
    DryRun,
}

impl JobRecord {
    /// A job that never started because of `error`.
    pub fn not_started(job: Job, error: Error) -> JobRecord {
        JobRecord {
            job,
            request_id: None,
            http_status: None,
            attempts: 0,
            max_attempts: 0,
            elapsed: Duration::ZERO,
            result: Err(error),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match &self.result {
            Ok(_) => error::code::OK,
            Err(error) => error.exit_code(),
        }
    }
}

/// The request id of each selected job, in order: the first is
/// `invocation_id` (which also pairs the monitor's start and finish pings),
/// each later job gets its own, as its `Idempotency-Key`.
pub fn request_ids(config: &Config, invocation_id: &str) -> Vec<String> {
    (0..config.jobs.len())
        .map(|i| {
            if i == 0 {
                invocation_id.to_owned()
            } else {
                random::uuid_v4()
            }
        })
        .collect()
}

/// Runs the selected jobs in order under one `--timeout` deadline, each
/// even if the one before failed, handing each record to `finished` as soon
/// as it exists. Fails before any job only if the `--lock-file` cannot be
/// taken.
pub fn run_jobs(
    config: &Config,
    invocation_id: &str,
    finished: &mut dyn FnMut(JobRecord),
) -> Result<(), Error> {
    // Held until this function returns (or the process ends).
    let _lock = match &config.lock_file {
        Some(path) => Some(lock::acquire(path)?),
        None => None,
    };
    let started = Instant::now();
    let budget = Budget {
        max_attempts: config.retries.saturating_add(1),
        deadline: started + config.timeout,
        timeout: config.timeout,
        setting: "--timeout",
    };
    let agent = client::agent(
        &config.api,
        config.connect_timeout,
        config.ca_certs.as_deref(),
    );
    let ids = request_ids(config, invocation_id);
    for (&job, request_id) in config.jobs.iter().zip(ids) {
        let job_started = Instant::now();
        let request = client::api_request(config, job, &request_id);
        log::debug!(
            "{job}: {} {}{}, deadline {}, up to {} attempts",
            request.method.as_str(),
            request.url,
            if request.method == Method::Post {
                format!(" (request {request_id})")
            } else {
                String::new()
            },
            duration::format_duration(config.timeout),
            budget.max_attempts
        );
        let RetryResult {
            result,
            status,
            attempts,
        } = match config.mode {
            Mode::Trigger => client::send_with_retries(&agent, &request, &budget, |response| {
                outcome::classify(&request.url, response, config.max_item_errors)
                    .map(Success::Triggered)
            }),
            Mode::Pending { max } => {
                client::send_with_retries(&agent, &request, &budget, |response| {
                    outcome::classify_pending(&request.url, job, response, max)
                        .map(Success::Pending)
                })
            }
        };
        finished(JobRecord {
            job,
            // Only an id that was sent is reported: a GET carries none, and
            // a job whose deadline had passed sent nothing.
            request_id: (request.method == Method::Post && attempts > 0).then_some(request_id),
            http_status: status,
            attempts,
            max_attempts: budget.max_attempts,
            elapsed: job_started.elapsed(),
            result,
        });
    }
    Ok(())
}
