//! ocd-cron: trigger the OCD app's background jobs with one authenticated
//! POST each, and report, through the exit status, exactly what happened.
//!
//! Calls go one way, and a module imports only modules below it (the
//! layers are drawn in docs/development.md, and a test holds the source to
//! them): `main` → [`app`] (one invocation as named steps) → `report`,
//! `metrics`, `ping` (what operators and monitors see) → `run` (each job's
//! request built, sent and recorded under one deadline) → `config` (flags,
//! environment and the app's env files → a checked configuration) →
//! `client` (a built request, sent and retried) → [`cli`] → `outcome` (what
//! a response means) → [`error`] (the exit statuses, and what each HTTP
//! status means, for jobs and pings alike) → leaves such as `sanitize` (the
//! one redactor), [`setting`] (every setting's names) and `files` (every
//! file an operator names: only regular files, under a size cap).
//!
//! Words used throughout: an *invocation* is one start of the process; a
//! *job* is rewards or outcomes (an invocation runs one or both); a
//! *request* is what is sent for one job, and an *attempt* one try at
//! sending it; the *response* is what came back.

pub mod app;
pub mod cli;
mod client;
mod config;
mod duration;
pub mod error;
mod files;
mod fleet;
mod interrupt;
mod job;
mod lock;
pub mod logging;
mod metrics;
mod outcome;
mod ping;
mod proxy;
mod random;
mod report;
mod retry;
mod run;
mod sanitize;
mod secret;
pub mod setting;
mod target;
mod time;
mod trace;

pub use interrupt::ignore_file_size_signal;
