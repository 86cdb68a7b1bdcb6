//! One run from start to finish: configuration, the start ping, the jobs
//! (on a worker thread, so a signal can cut them short), the reports, the
//! metrics file, the finish ping, and the exit status.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::cli::{Cli, Output};
use crate::config::{self, Mode};
use crate::error::code;
use crate::{RunRecord, interrupt, metrics, ping, report, request_id};

/// Runs everything the command line asks for and returns the exit status.
pub fn execute(cli: &Cli) -> u8 {
    let config = match config::load(cli) {
        Ok(config) => config,
        Err(error) => {
            report::not_started(
                cli.job,
                cli.output,
                report::mode_name(cli.dry_run, cli.pending),
                &error,
            );
            // The dead-man switch hears about a broken configuration too,
            // when its own URL is usable.
            if !cli.dry_run
                && !cli.pending
                && let Some(target) = config::load_ping(cli)
            {
                let summary = format!("{}: {error}", cli.job.name());
                ping::finish(&target, &request_id::new_v4(), error.exit_code(), &summary);
            }
            return error.exit_code();
        }
    };
    for warning in &config.warnings {
        log::warn!("{}: {warning}", config.selection.name());
    }
    let run_id = request_id::new_v4();
    if config.dry_run {
        report::dry_run(&config, &run_id);
        return code::OK;
    }
    // Health checks (--pending) are not runs of the job: no pings, no metrics.
    let running_jobs = config.mode == Mode::Run;
    let ping = config.ping.clone().filter(|_| running_jobs);
    if let Some(target) = &ping {
        ping::start(target, &run_id);
    }

    let config = Arc::new(config);
    let records = Arc::new(Mutex::new(Vec::<RunRecord>::new()));
    let outcome = {
        let (config, records, run_id) = (config.clone(), records.clone(), run_id.clone());
        interrupt::run_until_signal(move || {
            crate::run(&config, &run_id, &mut |record| {
                report::emit(&record, &config);
                records.lock().expect("records lock").push(record);
            })
        })
    };
    let records = std::mem::take(&mut *records.lock().expect("records lock"));
    // The finish ping's body: the job lines, or what stopped the run.
    let mut stopped_by = None;
    let exit = match outcome {
        Ok(Ok(())) => records
            .iter()
            .map(RunRecord::exit_code)
            .find(|&c| c != code::OK)
            .unwrap_or(code::OK),
        // The lock was held by another run: nothing was sent.
        Ok(Err(error)) => {
            report::not_started(
                config.selection,
                config.output,
                report::config_mode(&config),
                &error,
            );
            stopped_by = Some(format!("{}: {error}", config.selection.name()));
            error.exit_code()
        }
        // Interrupted: report and leave at once; the dead-man switch will
        // notice the missing finish ping, and the metrics stay as they were.
        Err(error) => {
            log::error!("{}: {error}", config.selection.name());
            if config.output == Output::Json {
                for &job in config.jobs.iter().skip(records.len()) {
                    report::json_only(&RunRecord::not_started(job, error.clone()), &config);
                }
            }
            return error.exit_code();
        }
    };

    if running_jobs
        && !records.is_empty()
        && let Some(path) = &config.metrics_file
        && let Err(e) = metrics::update(path, &records, SystemTime::now())
    {
        log::warn!(
            "{}: cannot write the metrics file {}: {e}",
            config.selection.name(),
            path.display()
        );
    }
    if let Some(target) = &ping {
        let summary = stopped_by.unwrap_or_else(|| {
            let lines: Vec<String> = records.iter().map(report::summary).collect();
            lines.join("\n")
        });
        ping::finish(target, &run_id, exit, &summary);
    }
    exit
}
