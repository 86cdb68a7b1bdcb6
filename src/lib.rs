//! ocd-cron: trigger the OCD app's background jobs with one authenticated
//! POST each, and report, through the exit status, exactly what happened.
//!
//! The flow is `cli` (flags) → `config` (checked settings) → `app` (one run
//! from start to finish) → `client` (each request, retried under one
//! deadline) → `outcome` (what an answer means) → `report`, `metrics`, `ping`
//! (what the operator and the monitoring see). `error` owns the exit statuses.

pub mod app;
pub mod cli;
pub mod client;
pub mod config;
pub mod duration;
pub mod error;
pub mod interrupt;
pub mod job;
pub mod lock;
pub mod logging;
pub mod metrics;
pub mod outcome;
pub mod ping;
pub mod proxy;
pub mod report;
pub mod request_id;
pub mod retry;
pub mod sanitize;
pub mod time;

use std::time::{Duration, Instant};

pub use config::Config;
pub use error::Error;

use client::{Budget, Exchange};
use config::Mode;
use job::Job;
use outcome::JobReport;

/// What one job of a run came to: the record every report is made from.
#[derive(Debug)]
pub struct RunRecord {
    pub job: Job,
    /// The request's `Idempotency-Key`; `None` if nothing was sent.
    pub request_id: Option<String>,
    /// The last HTTP status received, if any answer came.
    pub http_status: Option<u16>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub elapsed: Duration,
    pub result: Result<Done, Error>,
}

/// A job that ended well.
#[derive(Debug)]
pub enum Done {
    /// The job ran; what the server reported.
    Ran(JobReport),
    /// `--pending`: this many decisions wait.
    Pending(u64),
    /// `--dry-run`: nothing was sent.
    DryRun,
}

impl RunRecord {
    /// A job that never started because of `error`.
    pub fn not_started(job: Job, error: Error) -> RunRecord {
        RunRecord {
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

/// Runs the selected jobs in order under one `--timeout` deadline, each
/// even if the one before failed, handing each record to `finished` as soon
/// as it exists. `run_id` is the first job's request id. Fails before any
/// job only if the `--lock-file` cannot be taken.
pub fn run(
    config: &Config,
    run_id: &str,
    finished: &mut dyn FnMut(RunRecord),
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
        limit: "--timeout",
    };
    let agent = client::agent(
        &config.api,
        config.connect_timeout,
        config.ca_certs.as_deref(),
    );
    for (i, &job) in config.jobs.iter().enumerate() {
        let job_started = Instant::now();
        let request_id = if i == 0 {
            run_id.to_owned()
        } else {
            request_id::new_v4()
        };
        let request = client::api_request(config, job, &request_id);
        log::debug!(
            "{job}: {} {} (request {request_id}), deadline {}, up to {} attempts",
            request.method.as_str(),
            request.url,
            duration::format_duration(config.timeout),
            budget.max_attempts
        );
        let Exchange {
            result,
            status,
            attempts,
        } = match config.mode {
            Mode::Run => client::exchange(&agent, &request, &budget, |reply| {
                outcome::classify(&request.url, reply, config.max_item_errors).map(Done::Ran)
            }),
            Mode::Pending { max } => client::exchange(&agent, &request, &budget, |reply| {
                outcome::classify_pending(&request.url, job, reply, max).map(Done::Pending)
            }),
        };
        finished(RunRecord {
            job,
            // Only an id that was sent is reported: a GET carries none, and
            // a job whose deadline had passed sent nothing.
            request_id: (request.method == client::Method::Post && attempts > 0)
                .then_some(request_id),
            http_status: status,
            attempts,
            max_attempts: budget.max_attempts,
            elapsed: job_started.elapsed(),
            result,
        });
    }
    Ok(())
}
