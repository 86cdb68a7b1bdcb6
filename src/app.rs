//! One invocation from start to finish, as a few named steps: load the
//! configuration, the start ping, the jobs and their reports; then, once
//! the exit status is final (a result lost on stdout counted in, once),
//! the metrics file and the finish ping. The pings and the jobs run under
//! one `interrupt::Watch`, so a signal cuts any of them short, and one
//! `interrupt::Phase` says what was cut short.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::cli::Cli;
use crate::config::{self, Config, Monitor};
use crate::duration::format_duration;
use crate::error::{Error, code};
use crate::interrupt::{Phase, Watch};
use crate::job::Selection;
use crate::run::JobRecord;
use crate::{lock, metrics, ping, random, report, run};

/// Runs everything the command line asks for and returns the exit status.
pub fn execute(cli: &Cli) -> u8 {
    let started = Instant::now();
    let ended = invoke(cli, started);
    // Before the finish ping, so the monitor sees the status cron sees.
    let exit = account_for_stdout(cli.job, ended.exit, ended.unwritten);
    if let Some(finish) = ended.finish {
        finish.run(exit);
    }
    exit
}

/// How an invocation ended, up to its reports.
struct Ended {
    /// The exit status, before a result lost on stdout is counted in.
    exit: u8,
    /// The first failure to write a result to stdout.
    unwritten: Option<io::Error>,
    /// What is left to do once the exit status is final.
    finish: Option<Finish>,
}

impl Ended {
    /// An invocation that ends with its reports: nothing is left to do.
    fn at(exit: u8, written: io::Result<()>) -> Ended {
        Ended {
            exit,
            unwritten: written.err(),
            finish: None,
        }
    }
}

/// The configuration, then a dry run, or the jitter, the start ping and
/// the jobs, each reported as it ends.
fn invoke(cli: &Cli, started: Instant) -> Ended {
    let config = match config::load(cli) {
        Ok(config) => config,
        Err(refusal) => return refuse_configuration(*refusal, started),
    };
    for (level, notice) in config.notices() {
        log::log!(level, "{}: {notice}", config.selection().name());
    }
    let invocation_id = random::uuid_v4();
    if config.mode().is_dry_run() {
        // The lock file is opened (created if need be) as a real run would,
        // but not locked: a dry run must never make a real run exit 75.
        if let Some(path) = config.lock_file()
            && let Err(error) = lock::check(path)
        {
            return refuse_configuration(config.refusal(error), started);
        }
        return Ended::at(code::OK, report::dry_run(&config, &invocation_id));
    }
    // Health checks (--pending) are not runs of the job: no jitter, no
    // pings, no metrics.
    let runs_the_job = config.mode().runs_the_job();
    let monitors = if runs_the_job {
        config.monitors().to_vec()
    } else {
        Vec::new()
    };
    let watch = Watch::start();
    let phase = Phase::default();
    let config = Arc::new(config);
    let waited = if runs_the_job {
        wait_jitter(&watch, &phase, &config)
    } else {
        Ok(())
    };
    if let Err(error) = waited.and_then(|()| {
        start_ping(
            &watch,
            &phase,
            &monitors,
            &invocation_id,
            config.ping_timeout(),
        )
    }) {
        let written = report::cut_short(&config, None, config.jobs(), &error);
        return Ended::at(error.exit_code(), written);
    }

    let jobs = run_jobs_until_signal(&watch, &phase, &config, &invocation_id);
    let Jobs {
        records,
        in_flight,
        stopped,
        mut unwritten,
    } = jobs;
    if let Some(error) = &stopped {
        let ended = records.len() + usize::from(in_flight.is_some());
        let written =
            report::cut_short(&config, in_flight.as_ref(), &config.jobs()[ended..], error);
        unwritten = unwritten.or(written.err());
        // Interrupted: leave at once. The dead-man switch notices the
        // missing finish ping, and the metrics stay as they were.
        if matches!(error, Error::Interrupted { .. }) {
            return Ended {
                exit: error.exit_code(),
                unwritten,
                finish: None,
            };
        }
    }
    let exit = match &stopped {
        Some(error) => error.exit_code(),
        None => first_failure(&records),
    };
    // Built only for a monitor: the summary lines cost a little.
    let summary = match &stopped {
        _ if monitors.is_empty() => String::new(),
        Some(error) => format!("{}: {error}", config.selection().name()),
        None => {
            let lines: Vec<String> = records.iter().map(report::summary).collect();
            lines.join("\n")
        }
    };
    let counts = counts(&records);
    let metrics = match config.metrics_file() {
        Some(path) if runs_the_job && !records.is_empty() => Some((path.to_owned(), records)),
        _ => None,
    };
    Ended {
        exit,
        unwritten,
        finish: Some(Finish {
            watch,
            phase,
            name: config.selection().name(),
            metrics,
            monitors,
            invocation_id,
            summary,
            counts,
            started,
            ping_timeout: config.ping_timeout(),
        }),
    }
}

/// What is left of an invocation once its exit status is final: the
/// metrics file, then the finish ping, which both tell that status.
struct Finish {
    /// Kept to the end: a signal meanwhile cuts the finish ping short.
    watch: Watch,
    phase: Phase,
    name: &'static str,
    /// `--metrics-file` and the records of the jobs that ended, for a run
    /// of the job.
    metrics: Option<(PathBuf, Vec<JobRecord>)>,
    /// The monitors to tell how the invocation ended, and what to tell
    /// them but the status.
    monitors: Vec<Monitor>,
    invocation_id: String,
    summary: String,
    counts: (Option<u64>, Option<u64>),
    started: Instant,
    ping_timeout: Duration,
}

impl Finish {
    fn run(self, exit: u8) {
        if let Some((path, records)) = &self.metrics {
            write_metrics(self.name, path, records);
        }
        if !self.monitors.is_empty() {
            self.ping(exit);
        }
    }

    /// Tells each monitor how the invocation ended, within the ping time
    /// limit. The jobs are over and reported (log, JSON, metrics), so a
    /// signal meanwhile only cuts the ping short, with a warning: the exit
    /// status stays the jobs', so that nothing disagrees with it.
    fn ping(self, exit: u8) {
        let Finish {
            watch,
            phase,
            name,
            monitors,
            invocation_id,
            summary,
            counts: (processed, errors),
            started,
            ping_timeout,
            ..
        } = self;
        phase.set("sending the finish ping");
        let on_worker = phase.clone();
        let duration = started.elapsed();
        let sent = watch.run(&phase, move || {
            let event = ping::Finish {
                exit_code: exit,
                summary: &summary,
                duration,
                processed,
                errors,
                hostname: None,
            };
            ping::finish(&monitors, &invocation_id, &event, ping_timeout, &on_worker);
        });
        if let Err(error) = sent {
            log::warn!("{name}: {error}; the finish ping was cut short, the exit status stands");
        }
    }
}

/// `--jitter`: waits its delay before anything is locked or sent. A signal
/// meanwhile stops the invocation at once, with nothing sent.
fn wait_jitter(watch: &Watch, phase: &Phase, config: &Config) -> Result<(), Error> {
    let Some(jitter) = &config.jitter() else {
        return Ok(());
    };
    let delay = jitter.delay(config.selection().name(), random::fraction());
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
        &format!(
            "{}: waiting {how} before the run",
            config.selection().name()
        ),
    );
    phase.set(format!("waiting {how} before the run; nothing was sent"));
    watch.run(phase, move || std::thread::sleep(delay))
}

/// Tells each monitor the invocation has started, within `limit`; a signal
/// meanwhile stops the invocation before any job.
fn start_ping(
    watch: &Watch,
    phase: &Phase,
    monitors: &[Monitor],
    invocation_id: &str,
    limit: Duration,
) -> Result<(), Error> {
    if monitors.is_empty() {
        return Ok(());
    }
    phase.set("sending the start ping");
    let (monitors, id, on_worker) = (monitors.to_vec(), invocation_id.to_owned(), phase.clone());
    watch.run(phase, move || {
        ping::start(&monitors, &id, limit, &on_worker)
    })
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
/// start, and, for a run of the job, to the refusal's monitors (each one
/// whose own URL is usable), within its ping time limit, once the exit
/// status is final.
fn refuse_configuration(refusal: config::Refusal, started: Instant) -> Ended {
    let config::Refusal {
        error,
        selection,
        output,
        mode,
        monitors,
        ping_timeout,
    } = refusal;
    let written = report::not_started(selection, &selection.jobs(), output, mode, &error);
    let mut ended = Ended::at(error.exit_code(), written);
    if mode.runs_the_job() && !monitors.is_empty() {
        ended.finish = Some(Finish {
            watch: Watch::start(),
            phase: Phase::default(),
            name: selection.name(),
            metrics: None,
            monitors,
            invocation_id: random::uuid_v4(),
            summary: format!("{}: {error}", selection.name()),
            counts: (None, None),
            started,
            ping_timeout,
        });
    }
    ended
}

/// The jobs of an invocation, as far as they got.
struct Jobs {
    /// The records of the jobs that ended.
    records: Vec<JobRecord>,
    /// The job in flight when a signal came, as far as it got.
    in_flight: Option<JobRecord>,
    /// Why the invocation was cut short, if it was: the lock was not taken
    /// (held, or the file unusable) or a signal came.
    stopped: Option<Error>,
    /// The first failure to write a job's result to stdout.
    unwritten: Option<io::Error>,
}

/// Runs the jobs on a worker thread, reporting each as it ends.
fn run_jobs_until_signal(
    watch: &Watch,
    phase: &Phase,
    config: &Arc<Config>,
    invocation_id: &str,
) -> Jobs {
    let progress = Arc::new(run::Progress::default());
    let outcome = {
        let (config, progress, on_worker) = (config.clone(), progress.clone(), phase.clone());
        let invocation_id = invocation_id.to_owned();
        watch.run(phase, move || {
            run::run_jobs(
                &config,
                &invocation_id,
                &progress,
                &on_worker,
                &mut |record| report::emit(record, &config),
            )
        })
    };
    let (records, in_flight, stopped) = match outcome {
        Ok(Ok(())) => (progress.close(), None, None),
        Ok(Err(error)) => (progress.close(), None, Some(error)),
        Err(error) => {
            let (records, in_flight) = progress.interrupt(&error);
            (records, in_flight, Some(error))
        }
    };
    Jobs {
        records,
        in_flight,
        stopped,
        unwritten: progress.unreported(),
    }
}

/// A result that could not be written to stdout (`unwritten`) is lost: say
/// so, and make it the exit status (74) unless the invocation already
/// failed. A reader that went away (broken pipe) is not counted.
fn account_for_stdout(selection: Selection, exit: u8, unwritten: Option<io::Error>) -> u8 {
    let Some(error) = unwritten else {
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
fn write_metrics(name: &str, path: &std::path::Path, records: &[JobRecord]) {
    if let Err(e) = metrics::update(path, records, SystemTime::now()) {
        log::warn!(
            "{name}: cannot write the metrics file {}: {e}",
            path.display()
        );
    }
}
