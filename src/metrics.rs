//! `--metrics-file`: the last run of each job in Prometheus' text format,
//! for node_exporter's textfile collector.
//!
//! One file may serve both jobs (and `--job all`): the file is read, only the
//! series of the jobs that just ran are replaced, and the result is written
//! to a temporary file in the same directory and renamed over the old one,
//! so the collector never reads half a file. The time of the last success is
//! carried over from the previous file when a run fails; a job that has never
//! succeeded reports 0, so `time() - ocd_cron_last_success_timestamp_seconds`
//! alerts on it too. Counts the server did not report are `NaN`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;
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

/// Records `records` in the file at `path`, keeping other jobs' series.
pub fn update(path: &Path, records: &[JobRecord], now: SystemTime) -> std::io::Result<()> {
    let mut series = match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Series::new(),
        Err(e) => return Err(e),
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
    write_atomically(path, &render(&series))
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

/// Writes `content` next to `path`, then renames it over `path`.
fn write_atomically(path: &Path, content: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let temp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(content.as_bytes())?;
        file.sync_all()
    });
    match result.and_then(|()| std::fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Job;
    use crate::outcome::JobReport;
    use std::time::Duration;

    fn record(job: Job, result: Result<Success, Error>) -> JobRecord {
        JobRecord {
            job,
            request_id: Some("r".into()),
            http_status: Some(200),
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
}
