//! The jobs of one invocation, in order, under one `--timeout` deadline,
//! each becoming one [`JobRecord`]: the record every report, metric and
//! ping is made from. Each job's request is built here, by [`request`],
//! which the dry run prints: what it shows is what a run sends.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::{self, Budget, HeaderValue, Method, Request, RetryResult, USER_AGENT};
use crate::config::Config;
use crate::duration;
use crate::error::{self, Error};
use crate::fleet;
use crate::interrupt::Phase;
use crate::job::{Job, Mode};
use crate::lock;
use crate::outcome::{self, JobReport, PendingReport};
use crate::random;
use crate::time;

/// What one job of an invocation came to.
#[derive(Debug)]
pub struct JobRecord {
    pub job: Job,
    /// The request's `Idempotency-Key`; `None` if nothing was sent.
    pub request_id: Option<String>,
    /// The last HTTP status received, if any response came.
    pub http_status: Option<u16>,
    /// The trace id the request carried in `traceparent`; `None` if
    /// nothing was sent.
    pub trace_id: Option<String>,
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
    /// `--pending`: how many decisions wait.
    Pending(PendingReport),
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
            trace_id: None,
            attempts: 0,
            max_attempts: 0,
            elapsed: Duration::ZERO,
            result: Err(error),
        }
    }

    /// `--pending`: the count and the server's message, whether or not the
    /// count is over `--max-pending`.
    pub fn pending(&self) -> Option<(u64, Option<&str>)> {
        match &self.result {
            Ok(Success::Pending(report)) => Some((report.count, report.message.as_deref())),
            Err(Error::Backlog {
                pending, message, ..
            }) => Some((*pending, message.as_deref())),
            _ => None,
        }
    }

    /// Decisions processed and failed, as far as the server said.
    pub fn counts(&self) -> (Option<u64>, Option<u64>) {
        match &self.result {
            Ok(Success::Triggered(report)) => (report.processed, report.errors),
            Err(Error::JobFailed {
                processed, errors, ..
            }) => (*processed, *errors),
            _ => (None, None),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match &self.result {
            Ok(_) => error::code::OK,
            Err(error) => error.exit_code(),
        }
    }
}

/// The request id of each selected job, in order, sent as its
/// `Idempotency-Key`: with a `slot` (its scheduled time), the job's slot
/// key, which every runner of that slot sends alike; else the first is
/// `invocation_id` (which also pairs the monitor's start and finish pings),
/// and each later job gets its own.
pub fn request_ids(jobs: &[Job], invocation_id: &str, slot: Option<u64>) -> Vec<String> {
    (0..jobs.len())
        .map(|i| {
            if let Some(at) = slot {
                fleet::slot_key(jobs[i].name(), at)
            } else if i == 0 {
                invocation_id.to_owned()
            } else {
                random::uuid_v4()
            }
        })
        .collect()
}

/// The request for `job` as `config` describes it: a POST that runs the
/// job, or a GET for `--pending` (as [`Mode::triggers`] says), with
/// `request_id` as its `Idempotency-Key` and `span` as its span's parent
/// id in `traceparent`. Pure: the run sends exactly this, and the dry run
/// prints it.
pub fn request<'a>(config: &'a Config, job: Job, request_id: &str, span: [u8; 8]) -> Request<'a> {
    let method = if config.mode().triggers() {
        Method::Post
    } else {
        Method::Get
    };
    let mut headers = vec![
        ("user-agent", HeaderValue::Plain(USER_AGENT.into())),
        ("accept", HeaderValue::Plain("application/json".into())),
    ];
    if method == Method::Post {
        headers.push((
            "content-type",
            HeaderValue::Plain("application/json".into()),
        ));
        headers.push(("idempotency-key", HeaderValue::Plain(request_id.into())));
    }
    // A child span of the invocation's trace for this job's request (its
    // retries included); only the app gets it, never a monitor.
    headers.push((
        "traceparent",
        HeaderValue::Plain(config.trace().child(span)),
    ));
    if let Some(state) = config.trace().state() {
        headers.push(("tracestate", HeaderValue::Plain(state.to_owned())));
    }
    headers.push(("x-internal-api-key", HeaderValue::Secret(config.key())));
    let url = config.url(job);
    Request {
        label: job.name().into(),
        method,
        shown: url.clone(),
        url,
        host: config.api().host.clone(),
        headers,
        body: (method == Method::Post).then(|| config.body().to_owned()),
        describe: &Error::to_string,
    }
}

/// A new span's id for [`request`]: random, one per job.
pub fn new_span() -> [u8; 8] {
    random::random_bytes()[..8].try_into().expect("eight bytes")
}

/// The records of an invocation as the jobs end, and how far the job in
/// flight has got, kept where the main thread can read them when a signal
/// cuts the run short. One lock guards both, so each job is reported
/// exactly once: by the worker as it ends, or as interrupted.
#[derive(Default)]
pub struct Progress(Mutex<Ledger>);

#[derive(Default)]
struct Ledger {
    finished: Vec<JobRecord>,
    current: Option<InFlight>,
    /// Set once the records have been taken: nothing more is reported.
    closed: bool,
    /// The first failure to report a record (a result that could not be
    /// written), kept for whoever accounts for it.
    unreported: Option<io::Error>,
}

/// A job that has started and not yet ended.
struct InFlight {
    job: Job,
    /// The `Idempotency-Key`, if the request carries one.
    request_id: Option<String>,
    /// The trace id of its `traceparent`.
    trace_id: Option<String>,
    attempts: u32,
    http_status: Option<u16>,
    max_attempts: u32,
    started: Instant,
}

impl Progress {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A panic elsewhere cannot leave the ledger half-updated: every
        // change is a single assignment or push.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn begin(
        &self,
        job: Job,
        ids: (Option<String>, Option<String>),
        max_attempts: u32,
        started: Instant,
    ) {
        let (request_id, trace_id) = ids;
        self.ledger().current = Some(InFlight {
            job,
            request_id,
            trace_id,
            attempts: 0,
            http_status: None,
            max_attempts,
            started,
        });
    }

    fn advance(&self, attempts: u32, http_status: Option<u16>) {
        if let Some(current) = &mut self.ledger().current {
            current.attempts = attempts;
            current.http_status = http_status;
        }
    }

    /// The job in flight has ended: `report` it, unless the invocation was
    /// already reported as interrupted, keeping the first failure to.
    fn end(&self, record: JobRecord, report: &mut dyn FnMut(&JobRecord) -> io::Result<()>) {
        let mut ledger = self.ledger();
        if ledger.closed {
            return;
        }
        ledger.current = None;
        if let Err(error) = report(&record) {
            ledger.unreported.get_or_insert(error);
        }
        ledger.finished.push(record);
    }

    /// The first failure to report a record, if there was one; asked once
    /// the records are taken.
    pub fn unreported(&self) -> Option<io::Error> {
        self.ledger().unreported.take()
    }

    /// The records of the jobs that ended; nothing is reported after this.
    pub fn close(&self) -> Vec<JobRecord> {
        let mut ledger = self.ledger();
        ledger.closed = true;
        ledger.current = None;
        std::mem::take(&mut ledger.finished)
    }

    /// Like [`close`](Self::close), at an interruption: also the record of
    /// the job in flight, as far as it got, failed with `error`.
    pub fn interrupt(&self, error: &Error) -> (Vec<JobRecord>, Option<JobRecord>) {
        let mut ledger = self.ledger();
        ledger.closed = true;
        let in_flight = ledger.current.take().map(|c| JobRecord {
            job: c.job,
            request_id: c.request_id.filter(|_| c.attempts > 0),
            http_status: c.http_status,
            trace_id: c.trace_id.filter(|_| c.attempts > 0),
            attempts: c.attempts,
            max_attempts: c.max_attempts,
            elapsed: c.started.elapsed(),
            result: Err(error.clone()),
        });
        (std::mem::take(&mut ledger.finished), in_flight)
    }
}

/// Runs the selected jobs in order under one `--timeout` deadline, each
/// even if the one before failed, handing each record to `report` as soon
/// as it exists and keeping it in `progress`, and telling `phase` what each
/// waits for. Fails before any job only if the `--lock-file` cannot be
/// taken. A dry run does not come here: it only shows each [`request`].
pub fn run_jobs(
    config: &Config,
    invocation_id: &str,
    progress: &Progress,
    phase: &Phase,
    report: &mut dyn FnMut(&JobRecord) -> io::Result<()>,
) -> Result<(), Error> {
    // Held until this function returns (or the process ends).
    let _lock = match &config.lock_file() {
        Some(path) => Some(lock::acquire(path)?),
        None => None,
    };
    let started = Instant::now();
    let budget = Budget {
        max_attempts: config.retries().saturating_add(1),
        deadline: time::deadline(started, config.timeout()),
        timeout: config.timeout(),
        setting: "--timeout",
        // The deadline alone bounds what the API may ask for.
        max_server_wait: Duration::MAX,
    };
    let agent = client::agent(config.api(), config.connect_timeout(), config.ca_certs());
    let ids = request_ids(config.jobs(), invocation_id, config.slot());
    for (&job, request_id) in config.jobs().iter().zip(ids) {
        let job_started = Instant::now();
        let request = request(config, job, &request_id, new_span());
        log::debug!(
            "{job}: {} {}{}, deadline {}, up to {} attempts",
            request.method.as_str(),
            request.url,
            if request.method == Method::Post {
                format!(" (request {request_id})")
            } else {
                String::new()
            },
            duration::format_duration(config.timeout()),
            budget.max_attempts
        );
        // Only an id that was sent is reported: a GET carries none, and a
        // job whose deadline had passed sent nothing.
        let sent_id = (request.method == Method::Post).then_some(request_id);
        let trace_id = Some(config.trace().id().to_owned());
        progress.begin(
            job,
            (sent_id.clone(), trace_id.clone()),
            budget.max_attempts,
            job_started,
        );
        let advance = |attempts, status| progress.advance(attempts, status);
        let RetryResult {
            result,
            status,
            attempts,
        } = match config.mode() {
            Mode::Pending { max } => client::send_reporting_progress(
                &agent,
                &request,
                &budget,
                phase,
                |response| {
                    outcome::classify_pending(&request.url, job, response, max)
                        .map(Success::Pending)
                },
                advance,
            ),
            Mode::Trigger | Mode::DryRun { .. } => client::send_reporting_progress(
                &agent,
                &request,
                &budget,
                phase,
                |response| {
                    outcome::classify(&request.url, response, config.max_item_errors())
                        .map(Success::Triggered)
                },
                advance,
            ),
        };
        let record = JobRecord {
            job,
            request_id: sent_id.filter(|_| attempts > 0),
            http_status: status,
            trace_id: trace_id.filter(|_| attempts > 0),
            attempts,
            max_attempts: budget.max_attempts,
            elapsed: job_started.elapsed(),
            result,
        };
        progress.end(record, report);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Signal;

    fn interrupted() -> Error {
        Error::Interrupted {
            signal: Signal::Term,
            during: "while waiting".into(),
        }
    }

    fn ended(job: Job) -> JobRecord {
        JobRecord {
            result: Ok(Success::Pending(PendingReport::default())),
            ..JobRecord::not_started(job, interrupted())
        }
    }

    const KEY: &str = "k3y-for-the-request-builder";

    /// The configuration `args` and the environment `env` make, with the
    /// key and a base URL with a path prefix.
    fn config(args: &[&str], env: &[(&str, &str)]) -> Config {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["ocd-cron"].iter().chain(args)).unwrap();
        let env: Vec<(String, String)> = [
            ("INTERNAL_API_KEY", KEY),
            ("API_BASE_URL", "http://127.0.0.1:3000/ocd"),
        ]
        .iter()
        .chain(env)
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        let lookup = |name: &str| env.iter().rfind(|(n, _)| n == name).map(|(_, v)| v.clone());
        let settings = crate::config::tests::settings_with(&lookup, &[]);
        crate::config::resolve(&cli, &lookup, &settings).unwrap()
    }

    /// The headers of `request`, the key as sent.
    fn headers(request: &Request<'_>) -> Vec<(&'static str, String)> {
        request
            .headers
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    HeaderValue::Plain(v) => v.clone(),
                    HeaderValue::Secret(key) => format!("{} as {}", value.shown(), key.expose()),
                };
                (*name, value)
            })
            .collect()
    }

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const SPAN: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    #[test]
    fn a_trigger_posts_the_body_with_its_id_trace_and_key() {
        let config = config(
            &["--job", "outcomes", "--limit", "7"],
            &[("TRACEPARENT", PARENT), ("TRACESTATE", "v=1")],
        );
        let request = request(&config, Job::Outcomes, "id-1", SPAN);
        assert_eq!(request.label, "outcomes");
        assert_eq!(request.method, Method::Post);
        let url = "http://127.0.0.1:3000/ocd/api/training/outcomes";
        assert_eq!((request.url.as_str(), request.shown.as_str()), (url, url));
        assert_eq!(request.host, "127.0.0.1");
        assert_eq!(request.body.as_deref(), Some(r#"{"limit":7}"#));
        let agent = format!("ocd-cron/{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(
            headers(&request),
            [
                ("user-agent", agent),
                ("accept", "application/json".into()),
                ("content-type", "application/json".into()),
                ("idempotency-key", "id-1".into()),
                (
                    "traceparent",
                    "00-0af7651916cd43dd8448eb211c80319c-0102030405060708-01".into()
                ),
                ("tracestate", "v=1".into()),
                (
                    "x-internal-api-key",
                    format!("{} as {KEY}", crate::sanitize::MASK)
                ),
            ]
        );
        let error = Error::Config("x".into());
        assert_eq!((request.describe)(&error), error.to_string());
    }

    #[test]
    fn a_pending_check_gets_without_a_body_or_an_id() {
        let config = config(&["--job", "rewards", "--pending"], &[]);
        let request = request(&config, Job::Rewards, "id-1", SPAN);
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.url,
            "http://127.0.0.1:3000/ocd/api/training/calculate-pending"
        );
        assert_eq!(request.body, None);
        let names: Vec<_> = request.headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            ["user-agent", "accept", "traceparent", "x-internal-api-key"]
        );
        let traceparent = &headers(&request)[2].1;
        assert!(
            traceparent.ends_with("-0102030405060708-01"),
            "{traceparent}"
        );
        assert_eq!(traceparent.len(), PARENT.len());
    }

    #[test]
    fn a_dry_run_builds_the_request_it_is_a_dry_run_of() {
        for (args, method) in [
            (&["--job", "rewards", "--dry-run"][..], Method::Post),
            (&["--job", "rewards", "--dry-run", "--pending"], Method::Get),
        ] {
            let config = config(args, &[]);
            let dry = request(&config, Job::Rewards, "id", SPAN);
            assert_eq!(dry.method, method, "{args:?}");
            assert_eq!(dry.body.is_some(), method == Method::Post, "{args:?}");
        }
    }

    #[test]
    fn each_span_is_new() {
        assert_ne!(new_span(), new_span());
    }

    #[test]
    fn the_first_failure_to_report_is_kept_and_reporting_goes_on() {
        let progress = Progress::default();
        let mut reported = Vec::new();
        let mut report = |record: &JobRecord| {
            reported.push(record.job);
            Err(io::Error::other(format!("{} lost", record.job)))
        };
        for job in [Job::Rewards, Job::Outcomes] {
            progress.begin(job, (None, None), 1, Instant::now());
            progress.end(ended(job), &mut report);
        }
        assert_eq!(reported, [Job::Rewards, Job::Outcomes]);
        assert_eq!(progress.close().len(), 2);
        let failure = progress.unreported().expect("a failure");
        assert_eq!(failure.to_string(), "rewards lost");
        assert!(progress.unreported().is_none(), "accounted for once");
    }

    #[test]
    fn counts_are_what_the_server_said_for_a_job_that_ran() {
        let with = |result| JobRecord {
            result,
            ..JobRecord::not_started(Job::Rewards, interrupted())
        };
        let report = JobReport {
            processed: Some(7),
            errors: Some(1),
            message: None,
        };
        assert_eq!(
            with(Ok(Success::Triggered(report))).counts(),
            (Some(7), Some(1))
        );
        let failed = Error::JobFailed {
            reason: "2 decisions failed".into(),
            processed: Some(5),
            errors: Some(2),
            message: None,
        };
        assert_eq!(with(Err(failed)).counts(), (Some(5), Some(2)));
        let pending = PendingReport {
            count: 9,
            message: None,
        };
        assert_eq!(with(Ok(Success::Pending(pending))).counts(), (None, None));
        assert_eq!(with(Err(interrupted())).counts(), (None, None));
    }

    #[test]
    fn the_first_job_uses_the_invocation_id_and_each_later_one_its_own() {
        assert_eq!(request_ids(&[Job::Outcomes], "inv", None), ["inv"]);
        let ids = request_ids(&[Job::Rewards, Job::Outcomes], "inv", None);
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], "inv");
        assert_eq!(ids[1].len(), 36, "a UUID: {}", ids[1]);
        assert_ne!(
            ids[1],
            request_ids(&[Job::Rewards, Job::Outcomes], "inv", None)[1]
        );
    }

    #[test]
    fn with_a_slot_each_job_sends_its_slot_key() {
        assert_eq!(
            request_ids(&[Job::Rewards, Job::Outcomes], "inv", Some(1_796_299_200)),
            [
                "rewards@2026-12-03T12:00:00Z",
                "outcomes@2026-12-03T12:00:00Z"
            ]
        );
    }

    #[test]
    fn an_interruption_reports_the_job_in_flight_as_far_as_it_got() {
        let progress = Progress::default();
        let mut reported = Vec::new();
        progress.begin(Job::Rewards, (Some("id-1".into()), None), 3, Instant::now());
        progress.end(ended(Job::Rewards), &mut |r| {
            reported.push(r.job);
            Ok(())
        });
        progress.begin(
            Job::Outcomes,
            (Some("id-2".into()), Some("t".into())),
            3,
            Instant::now(),
        );
        progress.advance(1, None);
        progress.advance(2, Some(503));
        let (finished, in_flight) = progress.interrupt(&interrupted());
        assert_eq!(reported, [Job::Rewards]);
        assert_eq!(finished.len(), 1);
        let record = in_flight.expect("the job in flight");
        assert_eq!(record.job, Job::Outcomes);
        assert_eq!(record.attempts, 2);
        assert_eq!(record.max_attempts, 3);
        assert_eq!(record.http_status, Some(503));
        assert_eq!(record.request_id.as_deref(), Some("id-2"));
        assert_eq!(record.trace_id.as_deref(), Some("t"));
        assert_eq!(record.exit_code(), 143);
    }

    #[test]
    fn an_id_never_sent_is_not_reported() {
        let progress = Progress::default();
        progress.begin(
            Job::Rewards,
            (Some("id".into()), Some("t".into())),
            3,
            Instant::now(),
        );
        let (_, in_flight) = progress.interrupt(&interrupted());
        let record = in_flight.unwrap();
        assert_eq!((record.attempts, record.request_id), (0, None));
        assert_eq!(record.trace_id, None);
    }

    #[test]
    fn nothing_is_reported_after_the_records_were_taken() {
        let progress = Progress::default();
        progress.begin(Job::Rewards, (None, None), 1, Instant::now());
        assert!(progress.close().is_empty());
        let mut reported = 0;
        progress.end(ended(Job::Rewards), &mut |_| {
            reported += 1;
            Ok(())
        });
        assert_eq!(reported, 0, "a job is reported once");
        let (finished, in_flight) = progress.interrupt(&interrupted());
        assert!(finished.is_empty() && in_flight.is_none());
    }
}
