//! `--metrics-file`: the last run of each job in Prometheus' text format,
//! for node_exporter's textfile collector.
//!
//! One file may serve both jobs (and `--job all`): the file is read, only the
//! series of the jobs that just ran are replaced, and the result is written
//! to a temporary file in the same directory and renamed over the old one,
//! so the collector never reads half a file. Runs of different jobs may
//! finish together, so the read-modify-write holds an `flock` on the
//! directory itself: a lock file next to the metrics would be clutter in
//! the collector's directory, and the directory is always there.
//!
//! The tool often runs as root, so the write must never replace anything
//! but our own file: the target must be absent or a regular file (a
//! symlink, device, FIFO or directory there draws a warning and nothing is
//! written, so `OCD_CRON_METRICS_FILE=/dev/null` cannot replace
//! `/dev/null`), and the temporary file gets an unpredictable name and is
//! created exclusively without following symlinks, so nothing planted in
//! the directory can redirect the write. Metrics are not secret: the file
//! is 0644 whatever the umask, so node_exporter can read it under a
//! service's `UMask=0077`. The time of the last success is
//! carried over from the previous file when a run fails; a job that has never
//! succeeded reports 0, so `time() - ocd_cron_last_success_timestamp_seconds`
//! alerts on it too. Counts the server did not report are `NaN`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, Permissions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::duration::format_duration;
use crate::error::Error;
use crate::files::{self, ReadError};
use crate::random;
use crate::run::{JobRecord, Success};

/// Every metric written: name and help text.
const METRICS: &[(&str, &str)] = &[
    (
        "ocd_cron_last_run_timestamp_seconds",
        "Unix time at which the last run of the job ended.",
    ),
    (
        "ocd_cron_last_success_timestamp_seconds",
        "Unix time at which the last successful run of the job ended (0: never).",
    ),
    (
        "ocd_cron_last_exit_code",
        "Exit status of the last run of the job (see ocd-cron --help).",
    ),
    (
        "ocd_cron_last_duration_seconds",
        "Wall time of the last run of the job, retries included.",
    ),
    (
        "ocd_cron_last_processed",
        "Decisions the last run of the job processed, as the server reported.",
    ),
    (
        "ocd_cron_last_item_errors",
        "Decisions that failed inside the last run of the job, as the server reported.",
    ),
];

/// (metric, job) → sample value, as text.
type Series = BTreeMap<(String, String), String>;

/// How long to wait for another run to finish updating the same directory:
/// an update takes milliseconds, so this only ends a wait on a stuck holder.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Records `records` in the file at `path`, keeping other jobs' series.
pub fn update(path: &Path, records: &[JobRecord], now: SystemTime) -> io::Result<()> {
    let dir = files::directory(path);
    // Held until the new file is in place.
    let _lock = lock_directory(dir, LOCK_WAIT)?;
    let mut series = match files::read(path, files::METRICS_FILE) {
        Ok(text) if is_ours(&text) => parse(&String::from_utf8_lossy(&text)),
        // Anything else at the path (the app's .env given by mistake, a
        // file another tool writes) is not ours to replace.
        Ok(_) => {
            return Err(io::Error::other(format!(
                "it exists and is not an ocd-cron metrics file (it does not start with \
                 `# HELP ocd_cron_`); nothing was written, point {} at a file of its own",
                crate::setting::METRICS_FILE
            )));
        }
        Err(ReadError::Missing(_)) => Series::new(),
        Err(e) => return Err(io::Error::other(format!("it {e}; nothing was written"))),
    };
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    for record in records {
        let job = record.job.name().to_owned();
        let mut set = |metric: &str, value: String| {
            series.insert((metric.to_owned(), job.clone()), value);
        };
        let (processed, errors) = match &record.result {
            Ok(Success::Triggered(report)) => (report.processed, report.errors),
            Err(Error::JobFailed {
                processed, errors, ..
            }) => (*processed, *errors),
            _ => (None, None),
        };
        set("ocd_cron_last_run_timestamp_seconds", format!("{now:.3}"));
        set("ocd_cron_last_exit_code", record.exit_code().to_string());
        set(
            "ocd_cron_last_duration_seconds",
            format!("{:.3}", record.elapsed.as_secs_f64()),
        );
        set("ocd_cron_last_processed", count(processed));
        set("ocd_cron_last_item_errors", count(errors));
        let success = "ocd_cron_last_success_timestamp_seconds";
        if record.result.is_ok() {
            set(success, format!("{now:.3}"));
        } else {
            series
                .entry((success.to_owned(), job.clone()))
                .or_insert_with(|| "0".into());
        }
    }
    write_atomically(dir, path, &render(&series))
}

/// Whether `text` is a metrics file this tool wrote (or an empty file, as
/// `touch` or a provisioning tool leaves it).
fn is_ours(text: &[u8]) -> bool {
    text.iter().all(u8::is_ascii_whitespace) || text.starts_with(b"# HELP ocd_cron_")
}

fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "NaN".into(), |n| n.to_string())
}

/// Reads back the samples of our metrics; anything else is dropped.
fn parse(text: &str) -> Series {
    let mut series = Series::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, rest)) = line.split_once("{job=\"") else {
            continue;
        };
        let Some((job, value)) = rest.split_once("\"} ") else {
            continue;
        };
        if METRICS.iter().any(|(m, _)| *m == name) {
            series.insert((name.to_owned(), job.to_owned()), value.trim().to_owned());
        }
    }
    series
}

fn render(series: &Series) -> String {
    let mut text = String::new();
    for (metric, help) in METRICS {
        text.push_str(&format!("# HELP {metric} {help}\n# TYPE {metric} gauge\n"));
        for ((name, job), value) in series {
            if name == metric {
                text.push_str(&format!("{metric}{{job=\"{job}\"}} {value}\n"));
            }
        }
    }
    text
}

/// An exclusive `flock` on `dir`, waiting up to `wait` for another
/// run's update. Where the file system cannot lock (some network file
/// systems), the update goes ahead unserialised rather than not at all.
fn lock_directory(dir: &Path, wait: Duration) -> io::Result<Option<File>> {
    let locked = |file: File| -> io::Result<Option<File>> {
        let deadline = crate::time::deadline(Instant::now(), wait);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(io::Error::other(format!(
                        "another process has held a lock on the directory {} for {}; nothing was written",
                        dir.display(),
                        format_duration(wait)
                    )));
                }
                Err(TryLockError::Error(e)) => {
                    log::debug!("cannot lock {} ({e}); updating unserialised", dir.display());
                    return Ok(None);
                }
            }
        }
    };
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
    {
        Ok(file) => locked(file),
        Err(e) => {
            log::debug!(
                "cannot open {} to lock it ({e}); updating unserialised",
                dir.display()
            );
            Ok(None)
        }
    }
}

/// Writes `content` to a new file in `dir`, then renames it over `path`.
fn write_atomically(dir: &Path, path: &Path, content: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("not a file name"))?;
    // A name no one can guess, created only if nothing is there (O_EXCL
    // never follows a symlink; O_NOFOLLOW says so twice): a planted link
    // cannot redirect the write. The leading dot and `.tmp` keep it out of
    // the collector's `*.prom`.
    let temp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        random::uuid_v4()
    ));
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temp)
        .and_then(|mut file| {
            // The mode given to open is cut by the umask; this is not.
            file.set_permissions(Permissions::from_mode(0o644))?;
            file.write_all(content.as_bytes())?;
            file.sync_all()
        });
    if let Err(e) = result {
        // Remove only what this run created: an existing name is not ours.
        if e.kind() != io::ErrorKind::AlreadyExists {
            let _ = std::fs::remove_file(&temp);
        }
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    // Make the rename itself durable; the metrics are right either way.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Job;
    use crate::outcome::JobReport;

    fn record(job: Job, result: Result<Success, Error>) -> JobRecord {
        JobRecord {
            job,
            request_id: Some("r".into()),
            http_status: Some(200),
            trace_id: None,
            attempts: 1,
            max_attempts: 3,
            elapsed: Duration::from_millis(1500),
            result,
        }
    }

    fn ran(processed: u64) -> Result<Success, Error> {
        Ok(Success::Triggered(JobReport {
            processed: Some(processed),
            errors: Some(0),
            message: None,
        }))
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn jobs_share_a_file_and_failures_keep_the_last_success() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ocd_cron.prom");
        update(&path, &[record(Job::Rewards, ran(42))], at(1000)).unwrap();
        update(&path, &[record(Job::Outcomes, ran(7))], at(2000)).unwrap();
        let failed = Err(Error::Connect {
            url: "u".into(),
            reason: "r".into(),
        });
        update(&path, &[record(Job::Rewards, failed)], at(3000)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in [
            "ocd_cron_last_run_timestamp_seconds{job=\"rewards\"} 3000.000",
            "ocd_cron_last_success_timestamp_seconds{job=\"rewards\"} 1000.000",
            "ocd_cron_last_exit_code{job=\"rewards\"} 69",
            "ocd_cron_last_processed{job=\"rewards\"} NaN",
            "ocd_cron_last_duration_seconds{job=\"rewards\"} 1.500",
            "ocd_cron_last_success_timestamp_seconds{job=\"outcomes\"} 2000.000",
            "ocd_cron_last_processed{job=\"outcomes\"} 7",
            "ocd_cron_last_exit_code{job=\"outcomes\"} 0",
            "# TYPE ocd_cron_last_item_errors gauge",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert_eq!(text.matches("# HELP").count(), METRICS.len());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_file_that_is_not_ours_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        std::fs::write(&path, "INTERNAL_API_KEY=k\nDATABASE_URL=postgres://\n").unwrap();
        let err = update(&path, &[record(Job::Rewards, ran(1))], at(10)).unwrap_err();
        assert!(
            err.to_string().contains("is not an ocd-cron metrics file"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "INTERNAL_API_KEY=k\nDATABASE_URL=postgres://\n"
        );
        // An empty file (touched in advance) is ours to fill, and so is
        // what we wrote.
        std::fs::write(&path, "").unwrap();
        update(&path, &[record(Job::Rewards, ran(1))], at(10)).unwrap();
        update(&path, &[record(Job::Outcomes, ran(2))], at(20)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("ocd_cron_last_processed{job=\"rewards\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ocd_cron_last_processed{job=\"outcomes\"} 2\n"),
            "{text}"
        );
    }

    #[test]
    fn updates_of_one_directory_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let wait = Duration::from_millis(200);
        let first = lock_directory(dir.path(), wait).unwrap();
        assert!(first.is_some(), "the directory is locked");
        // flock conflicts between two opens even within one process.
        let started = Instant::now();
        let error = lock_directory(dir.path(), wait).unwrap_err();
        assert!(started.elapsed() >= wait, "gave up before the wait");
        assert!(
            error
                .to_string()
                .contains("another process has held a lock"),
            "{error}"
        );
        drop(first);
        assert!(lock_directory(dir.path(), wait).unwrap().is_some());
    }

    #[test]
    fn only_our_samples_are_read_back() {
        let series = parse(concat!(
            "# HELP ocd_cron_last_exit_code x\n",
            "ocd_cron_last_exit_code{job=\"rewards\"} 0\n",
            "node_load1{job=\"rewards\"} 9\n",
            "ocd_cron_last_exit_code 1\n",
        ));
        let keys: Vec<_> = series.keys().collect();
        assert_eq!(
            keys,
            [&("ocd_cron_last_exit_code".to_owned(), "rewards".to_owned())]
        );
    }

    #[test]
    fn a_job_that_never_succeeded_reports_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        let failed = Err(Error::JobFailed {
            reason: "r".into(),
            processed: Some(3),
            errors: Some(5),
            message: None,
        });
        update(&path, &[record(Job::Outcomes, failed)], at(10)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("ocd_cron_last_success_timestamp_seconds{job=\"outcomes\"} 0\n"));
        assert!(text.contains("ocd_cron_last_item_errors{job=\"outcomes\"} 5\n"));
        assert!(text.contains("ocd_cron_last_exit_code{job=\"outcomes\"} 1\n"));
    }

    #[test]
    fn the_file_is_world_readable_and_replaces_only_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        update(&path, &[record(Job::Rewards, ran(1))], at(10)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);

        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("link.prom");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = update(&link, &[record(Job::Rewards, ran(1))], at(10)).unwrap_err();
        assert!(
            err.to_string().contains("is a symlink, not a regular file"),
            "{err}"
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

        let sub = dir.path().join("sub.prom");
        std::fs::create_dir(&sub).unwrap();
        let err = update(&sub, &[record(Job::Rewards, ran(1))], at(10)).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        assert!(err.to_string().contains("nothing was written"), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 4, "no temporary file is left behind");
    }
}
