//! The black-box suite: the real `ocd-cron` binary run against scripted
//! servers on loopback, with only the environment each test gives it.
//!
//! One test binary, one module per behaviour a user can see (as ripgrep's
//! suite is laid out), so `tests/common` is compiled once, for all of them.

#[path = "../common/mod.rs"]
mod common;

mod assets;
mod crontab;
mod dry_run;
mod env_file;
mod exit_status;
mod files_and_output;
mod fleet;
mod hardening;
mod help;
mod hostile_input;
mod job_all;
mod journal;
mod json_output;
mod layout;
mod limits;
mod log_format;
mod metrics;
mod monitors;
mod odd_input;
mod operator_messages;
mod packaging;
mod pending;
mod pings;
mod quick_start;
mod recipes;
mod request;
mod retries;
mod safety;
mod shared_files;
mod trace_context;
