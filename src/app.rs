//! One invocation from start to finish, as a few named steps: load the
//! configuration, the start ping, the jobs, the metrics file, the finish
//! ping, the exit status. The pings and the jobs run under one
//! `interrupt::Watch`, so a signal cuts any of them short.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::cli::Cli;
use crate::config::{self, Config, Mode};
use crate::duration::format_duration;
use crate::error::{Error, code};
use crate::job::Selection;
use crate::run::JobRecord;
use crate::{interrupt, lock, metrics, ping, random, report, run};

/// Runs everything the command line asks for and returns the exit status.
pub fn execute(cli: &Cli) -> u8 {
    let started = Instant::now();
    let config = match config::load(cli) {
        Ok(config) => config,
        Err(refusal) => {
            return account_for_stdout(cli.job, refuse_configuration(cli, *refusal, started));
        }
    };
    for warning in &config.warnings {
        log::warn!("{}: {warning}", config.selection.name());
    }
    for origin in &config.origins {
        if config.dry_run {
            log::info!("{}: {origin}", config.selection.name());
        } else {
            log::debug!("{}: {origin}", config.selection.name());
        }
    }
    let level = if config.dry_run {
        log::Level::Warn
    } else {
        log::Level::Debug
    };
    for warning in &config.dry_run_warnings {
        log::log!(level, "{}: {warning}", config.selection.name());
    }
    let invocation_id = random::uuid_v4();
    if config.dry_run {
        // The lock file is opened (created if need be) as a real run would,
        // but not locked: a dry run must never make a real run exit 75.
        if let Some(path) = &config.lock_file
            && let Err(error) = lock::check(path)
        {
            let refusal = config::Refusal {
                error,
                monitors: Vec::new(),
                ping_timeout: config.ping_timeout,
            };
            return account_for_stdout(cli.job, refuse_configuration(cli, refusal, started));
        }
        report::dry_run(&config, &invocation_id);
        return account_for_stdout(config.selection, code::OK);
    }
    // Health checks (--pending) are not runs of the job: no metrics, and
    // the configuration gives them no monitors.
    let triggering = config.mode == Mode::Trigger;
    let monitors = config.monitors.clone();
    let watch = interrupt::Watch::start();
    let config = Arc::new(config);
    if let Err(error) = wait_jitter(&watch, &config)
        .and_then(|()| start_ping(&watch, &monitors, &invocation_id, config.ping_timeout))
    {
        report::cut_short(&config, None, &config.jobs, &error);
        return account_for_stdout(config.selection, error.exit_code());
    }

    let (records, in_flight, stopped) = run_jobs_until_signal(&watch, &config, &invocation_id);
    if let Some(error) = &stopped {
        let ended = records.len() + usize::from(in_flight.is_some());
        report::cut_short(&config, in_flight.as_ref(), &config.jobs[ended..], error);
        // Interrupted: leave at once. The dead-man switch notices the
        // missing finish ping, and the metrics stay as they were.
        if matches!(error, Error::Interrupted { .. }) {
            return account_for_stdout(config.selection, error.exit_code());
        }
    }
    let exit = match &stopped {
        Some(error) => error.exit_code(),
        None => first_failure(&records),
    };
    // Before the finish ping, so the monitor sees the status cron sees.
    let exit = account_for_stdout(config.selection, exit);
    if triggering && !records.is_empty() {
        write_metrics(&config, &records);
    }
    // Built only for a monitor: the summary lines cost a little.
    if !monitors.is_empty() {
        let summary = match &stopped {
            Some(error) => format!("{}: {error}", config.selection.name()),
            None => {
                let lines: Vec<String> = records.iter().map(report::summary).collect();
                lines.join("\n")
            }
        };
        let ending = Ending {
            exit_code: exit,
            summary: crate::sanitize::redact(&summary).into_owned(),
            duration: started.elapsed(),
            counts: counts(&records),
        };
        finish_ping(
            &watch,
            config.selection.name(),
            monitors,
            invocation_id,
            ending,
            config.ping_timeout,
        );
    }
    exit
}

/// `--jitter`: waits its delay before anything is locked or sent. A signal
/// meanwhile stops the invocation at once, with nothing sent.
fn wait_jitter(watch: &interrupt::Watch, config: &Config) -> Result<(), Error> {
    let Some(jitter) = &config.jitter else {
        return Ok(());
    };
    let delay = jitter.delay(config.selection.name(), random::fraction());
    let how = format!(
        "{} (--jitter {}{})",
        format_duration(delay),
        format_duration(jitter.window),
        if jitter.seed.is_some() {
            ", --jitter-seed"
        } else {
            ""
        }
    );
    report::log_with_fields(
        log::Level::Info,
        &[(
            "jitter_ms",
            log::kv::Value::from(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
        )],
        &format!("{}: waiting {how} before the run", config.selection.name()),
    );
    interrupt::set_phase(format!("waiting {how} before the run; nothing was sent"));
    watch.run(move || std::thread::sleep(delay))
}

/// Tells each monitor the invocation has started, within `limit`; a signal
/// meanwhile stops the invocation before any job.
fn start_ping(
    watch: &interrupt::Watch,
    monitors: &[ping::Monitor],
    invocation_id: &str,
    limit: Duration,
) -> Result<(), Error> {
    if monitors.is_empty() {
        return Ok(());
    }
    interrupt::set_phase("sending the start ping");
    let (monitors, id) = (monitors.to_vec(), invocation_id.to_owned());
    watch.run(move || ping::start(&monitors, &id, limit))
}

/// How the invocation ended, as the finish ping tells it.
struct Ending {
    exit_code: u8,
    /// One line per job, or one for the whole invocation.
    summary: String,
    duration: Duration,
    /// Decisions processed and failed, summed over the jobs that said.
    counts: (Option<u64>, Option<u64>),
}

/// Tells each monitor how the invocation ended, within `limit`. The jobs
/// are over and reported (log, JSON, metrics), so a signal meanwhile only
/// cuts the ping short, with a warning: the exit status stays the jobs',
/// so that nothing disagrees with it.
fn finish_ping(
    watch: &interrupt::Watch,
    name: &str,
    monitors: Vec<ping::Monitor>,
    invocation_id: String,
    ending: Ending,
    limit: Duration,
) {
    interrupt::set_phase("sending the finish ping");
    let sent = watch.run(move || {
        let event = ping::Finish {
            exit_code: ending.exit_code,
            summary: &ending.summary,
            duration: ending.duration,
            processed: ending.counts.0,
            errors: ending.counts.1,
            hostname: None,
        };
        ping::finish(&monitors, &invocation_id, &event, limit);
    });
    if let Err(error) = sent {
        log::warn!("{name}: {error}; the finish ping was cut short, the exit status stands");
    }
}

/// Decisions processed and failed, summed over the jobs that reported them.
fn counts(records: &[JobRecord]) -> (Option<u64>, Option<u64>) {
    let sum = |values: Vec<Option<u64>>| {
        values
            .into_iter()
            .flatten()
            .reduce(|a, b| a.saturating_add(b))
    };
    let (processed, errors): (Vec<_>, Vec<_>) = records.iter().map(JobRecord::counts).unzip();
    (sum(processed), sum(errors))
}

/// A configuration that cannot be used: reported like any job that did not
/// start, and to the refusal's monitors (each one whose own URL is usable),
/// within its ping time limit.
fn refuse_configuration(cli: &Cli, refusal: config::Refusal, started: Instant) -> u8 {
    let config::Refusal {
        error,
        monitors,
        ping_timeout,
    } = refusal;
    report::not_started(
        cli.job,
        &cli.job.jobs(),
        cli.output,
        report::mode_name(cli.dry_run, cli.pending),
        &error,
    );
    if !monitors.is_empty() {
        let ending = Ending {
            exit_code: error.exit_code(),
            summary: crate::sanitize::redact(&format!("{}: {error}", cli.job.name())).into_owned(),
            duration: started.elapsed(),
            counts: (None, None),
        };
        finish_ping(
            &interrupt::Watch::start(),
            cli.job.name(),
            monitors,
            random::uuid_v4(),
            ending,
            ping_timeout,
        );
    }
    error.exit_code()
}

/// Runs the jobs on a worker thread, reporting each as it ends. Returns the
/// records of the jobs that ended, the job in flight when a signal came (as
/// far as it got), and, if the invocation was cut short, why: the lock was
/// not taken (held, or the file unusable) or a signal came.
fn run_jobs_until_signal(
    watch: &interrupt::Watch,
    config: &Arc<Config>,
    invocation_id: &str,
) -> (Vec<JobRecord>, Option<JobRecord>, Option<Error>) {
    let progress = Arc::new(run::Progress::default());
    let outcome = {
        let (config, progress) = (config.clone(), progress.clone());
        let invocation_id = invocation_id.to_owned();
        watch.run(move || {
            run::run_jobs(&config, &invocation_id, &progress, &mut |record| {
                report::emit(record, &config);
            })
        })
    };
    match outcome {
        Ok(Ok(())) => (progress.close(), None, None),
        Ok(Err(error)) => (progress.close(), None, Some(error)),
        Err(error) => {
            let (records, in_flight) = progress.interrupt(&error);
            (records, in_flight, Some(error))
        }
    }
}

/// A result that could not be written to stdout is lost: say so, and make
/// it the exit status (74) unless the invocation already failed. A reader
/// that went away (broken pipe) is not counted.
fn account_for_stdout(selection: Selection, exit: u8) -> u8 {
    let Some(error) = report::stdout_error() else {
        return exit;
    };
    log::error!(
        "{}: cannot write to stdout ({error}); the results printed there are lost",
        selection.name()
    );
    if exit == code::OK {
        code::IO_ERROR
    } else {
        exit
    }
}

/// The exit status of the first job that failed, or 0.
fn first_failure(records: &[JobRecord]) -> u8 {
    records
        .iter()
        .map(JobRecord::exit_code)
        .find(|&c| c != code::OK)
        .unwrap_or(code::OK)
}

/// Records the jobs in `--metrics-file`; a failure to write is a warning.
fn write_metrics(config: &Config, records: &[JobRecord]) {
    if let Some(path) = &config.metrics_file
        && let Err(e) = metrics::update(path, records, SystemTime::now())
    {
        log::warn!(
            "{}: cannot write the metrics file {}: {e}",
            config.selection.name(),
            path.display()
        );
    }
}
