//! ocd-cron: trigger one of the OCD app's background jobs with a single
//! authenticated POST and report, through the exit status, exactly what
//! happened.
//!
//! The flow is `cli` (flags) → `config` (checked settings) → `client` (the
//! request, retried under one deadline) → `outcome` (what the answer means).
//! `error` owns the exit statuses.

pub mod cli;
pub mod client;
pub mod config;
pub mod duration;
pub mod error;
pub mod interrupt;
pub mod job;
pub mod lock;
pub mod logging;
pub mod outcome;
pub mod proxy;
pub mod request_id;
pub mod retry;
pub mod sanitize;
pub mod time;

use std::fmt;
use std::time::{Duration, Instant};

pub use config::Config;
pub use error::Error;

use duration::format_duration;
use job::Job;
use outcome::{JobReport, show};

/// What a successful run did, for the one info line it logs.
#[derive(Debug)]
pub struct Summary {
    pub job: Job,
    pub status: u16,
    pub report: JobReport,
    pub attempts: u32,
    pub max_attempts: u32,
    pub elapsed: Duration,
    pub request_id: String,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: processed {}, errors {} (HTTP {}, {}, attempt {}/{}, request {})",
            self.job,
            show(self.report.processed),
            show(self.report.errors),
            self.status,
            format_duration(self.elapsed),
            self.attempts,
            self.max_attempts,
            self.request_id
        )?;
        if let Some(message) = &self.report.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// Runs the job once (with retries) and reports what the server said.
pub fn run(config: &Config) -> Result<Summary, Error> {
    let started = Instant::now();
    // Held until this function returns (or the process ends).
    let _lock = match &config.lock_file {
        Some(path) => Some(lock::acquire(path)?),
        None => None,
    };
    let request_id = request_id::new_v4();
    log::debug!(
        "{}: request {request_id} to {}, deadline {}, up to {} attempts{}",
        config.job,
        config.url,
        format_duration(config.timeout),
        config.retries + 1,
        config
            .proxy
            .as_ref()
            .map(|p| format!(", via proxy {}:{}", p.host(), p.port()))
            .unwrap_or_default()
    );
    let delivered = client::trigger(config, &request_id, started)?;
    Ok(Summary {
        job: config.job,
        status: delivered.status,
        report: delivered.report,
        attempts: delivered.attempts,
        max_attempts: config.retries + 1,
        elapsed: started.elapsed(),
        request_id,
    })
}
