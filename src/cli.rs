//! The command line: every flag, its help text, and the `--help` epilogue
//! with the environment variables and the exit-status table.
//!
//! Only parsing happens here. Values that depend on the environment or the
//! env file are resolved and checked in `config`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::duration::{parse_duration, parse_duration_at_most};
use crate::error::EXIT_STATUS_TABLE;
use crate::job::Selection;
use crate::setting::{self, Setting};

/// Trigger an OCD background job with one authenticated POST, and exit with a
/// status that says exactly what happened.
// These doc comments are the --help text, where `<URL>` is the usual way to
// write a placeholder; rustdoc would read it as an HTML tag.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Parser, Debug)]
#[command(name = "ocd-cron", version)]
pub struct Cli {
    /// The job to trigger: rewards (POST /api/training/calculate-pending),
    /// outcomes (POST /api/training/outcomes), or all (rewards, then
    /// outcomes even if rewards failed; the exit status is the first
    /// failure's).
    #[arg(short, long, value_enum, value_name = "JOB")]
    pub job: Selection,

    /// Batch size, sent as {"limit": N}. Without it the body is {} and the
    /// server uses its own default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "pending")]
    pub limit: Option<u32>,

    /// Base URL of the OCD app, path prefix included. Overrides API_BASE_URL.
    #[arg(long, value_name = "URL", value_parser = Text)]
    pub base_url: Option<String>,

    /// Read only this env file, instead of the app's env files. It must
    /// exist and be a regular file.
    #[arg(long, value_name = "PATH", conflicts_with = "app_dir")]
    pub env_file: Option<PathBuf>,

    /// The OCD app's directory: read its env files as `next start` does
    /// (.env.production.local, .env.local, .env.production, .env; the first
    /// that sets a name wins, $VAR expanded) from there instead of from
    /// the working directory. Overrides OCD_CRON_APP_DIR.
    #[arg(long, value_name = "DIR")]
    pub app_dir: Option<PathBuf>,

    /// Deadline for the whole run, retries and waits included
    /// (500ms, 30s, 2m, 1h, or bare seconds; at most 24h).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Deadline for establishing each TCP connection (at most 24h).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Extra attempts for retryable failures (connection errors, 408, 429,
    /// 500, 502, 503, 504), all within --timeout.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,

    /// Succeed even if the server reports up to N decisions that failed
    /// inside an otherwise completed run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_item_errors: u64,

    /// Take an exclusive lock on this file (created 0600) before sending
    /// anything; if another run holds it, exit 75 at once. Released when the
    /// process ends, however it ends.
    #[arg(long, value_name = "PATH")]
    pub lock_file: Option<PathBuf>,

    /// Trust exactly the CA certificates in this PEM bundle for https,
    /// instead of the system trust store (for internal CAs).
    /// Overrides OCD_CRON_CA_CERT.
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,

    /// Print the result on stdout as one JSON object per job (also for
    /// failures and configuration errors); logs stay on stderr.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub output: Output,

    /// Resolve and check the configuration (the --lock-file is opened, not
    /// locked), print the requests and monitor pings a run would send (the
    /// key and the secret parts of monitor URLs masked), send nothing, exit
    /// 0 or 78.
    #[arg(long)]
    pub dry_run: bool,

    /// Ask how many decisions are pending (GET on the job's endpoint)
    /// instead of running the job, and print the count. The OCD
    /// deployment's GET route must accept the key.
    #[arg(long)]
    pub pending: bool,

    /// With --pending: exit 1 when more than N decisions are pending (the
    /// count is printed all the same).
    #[arg(long, value_name = "N", requires = "pending")]
    pub max_pending: Option<u64>,

    /// Report the run to a monitor: healthchecks.io, Cronitor, Sentry
    /// Crons, Uptime Kuma, Better Stack or Dead Man's Snitch, recognised
    /// from the URL the monitor's page shows (or named, as in
    /// cronitor+https://host/p/KEY/rewards). Repeat it for several
    /// monitors; all are pinged at once, each ping within --ping-timeout.
    /// A failed ping is only a warning. Overrides OCD_CRON_PING_URL (a
    /// list separated by spaces, commas or newlines).
    #[arg(long, value_name = "URL", value_parser = Text)]
    pub ping_url: Vec<String>,

    /// Time limit for the pings before the jobs, and again for those after
    /// them (all monitors at once, 3 attempts each); a ping not accepted
    /// within it is only a warning [default: 10s; at most 1m]. Overrides
    /// OCD_CRON_PING_TIMEOUT.
    #[arg(long, value_name = "DURATION", value_parser = parse_ping_timeout)]
    pub ping_timeout: Option<Duration>,

    /// Write Prometheus metrics (textfile-collector format) to this file
    /// after the run, atomically, mode 0644. Its directory must exist.
    /// Overrides OCD_CRON_METRICS_FILE.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    /// Wait a random delay of up to DURATION before the run (after the
    /// checks, before the lock, the pings and the requests), so that hosts
    /// on one schedule do not hit the app in the same second. Not counted
    /// in --timeout; not for --pending. Overrides OCD_CRON_JITTER.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub jitter: Option<Duration>,

    /// With --jitter: the same delay on every run for this seed and job, so
    /// each host keeps its offset (--jitter-seed "$(hostname)", or %H in a
    /// systemd unit). Overrides OCD_CRON_JITTER_SEED.
    #[arg(long, value_name = "SEED")]
    pub jitter_seed: Option<String>,

    /// Send a slot key as the Idempotency-Key instead of a new UUID: the job
    /// and the scheduled time (OCD_CRON_SCHEDULED_TIME, else the start)
    /// truncated to PERIOD, the schedule's interval
    /// (rewards@2026-12-03T14:00:00Z with 1h). Every runner of a slot sends
    /// the same key; the next slot another. Overrides OCD_CRON_SLOT_PERIOD.
    #[arg(long, value_name = "PERIOD", value_parser = crate::fleet::parse_period)]
    pub slot_period: Option<u64>,

    /// Log lines on stderr as text, or as one JSON object per line (time,
    /// level, job, message, and the run's request id, attempt, HTTP status,
    /// duration, exit status, trace id) for log shippers. Overrides
    /// OCD_CRON_LOG_FORMAT.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<crate::logging::Format>,

    /// Only warnings and errors: a run that succeeds prints nothing,
    /// retries included, unless a warning asks for a fix (a key file others
    /// can read, a base URL that looks wrong, a failed ping), so cron mails
    /// only failures. RUST_LOG=error silences the warnings too.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Debug detail: URL, timings, headers sent (never the key).
    #[arg(short, long)]
    pub verbose: bool,
}

/// How long the pings before the jobs, and those after them, may take
/// when neither `--ping-timeout` nor `OCD_CRON_PING_TIMEOUT` says.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest ping time limit: the start pings delay the jobs, and a
/// monitor that needs more than a minute to take a ping is down.
pub const MAX_PING_TIMEOUT: Duration = Duration::from_secs(60);

/// `--ping-timeout` / `OCD_CRON_PING_TIMEOUT`: a duration of at most
/// [`MAX_PING_TIMEOUT`].
pub fn parse_ping_timeout(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_PING_TIMEOUT, "1m")
}

/// A flag whose value is text (a URL): one that is not UTF-8 is refused
/// naming the flag, which clap's own message does not.
#[derive(Clone)]
struct Text;

impl clap::builder::TypedValueParser for Text {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value.to_str().map(str::to_owned).ok_or_else(|| {
            let flag = arg
                .and_then(clap::Arg::get_long)
                .map_or_else(|| "a flag".to_owned(), |long| format!("--{long}"));
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                format!(
                    "{flag} is not text: it holds bytes that are not UTF-8, which no URL has\n"
                ),
            )
            .with_cmd(command)
        })
    }
}

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Nothing on stdout for a job run (the log line on stderr says it
    /// all); the count for --pending; the requests and pings for --dry-run.
    Text,
    /// One JSON object per job, on one line.
    Json,
}

/// The complete command definition, `--help` epilogue included; also the
/// source of the man page and shell completions.
pub fn command() -> clap::Command {
    Cli::command().after_long_help(epilogue())
}

/// Parses `std::env::args`. The `--help` epilogue (the environment and the
/// exit statuses, wrapped) costs more to build than the rest of a run's
/// start, so it is built only when help was asked for.
pub fn parse() -> Result<Cli, clap::Error> {
    let mut matches = match Cli::command().try_get_matches() {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => command().try_get_matches()?,
        other => other?,
    };
    Cli::from_arg_matches_mut(&mut matches)
}

/// One entry of the environment list: the settings it is about (their
/// names from [`setting`]), or the variables of the libraries and the
/// system ocd-cron honours, and what it does.
pub struct EnvEntry {
    pub settings: &'static [&'static Setting],
    /// Variables that are not settings of the table.
    pub others: &'static str,
    pub meaning: &'static str,
}

impl EnvEntry {
    /// The variables, as the list shows them.
    pub fn names(&self) -> String {
        let mut names: Vec<&str> = self.settings.iter().map(|s| s.variable).collect();
        names.extend(Some(self.others).filter(|o| !o.is_empty()));
        names.join(", ")
    }
}

const fn entry(settings: &'static [&'static Setting], meaning: &'static str) -> EnvEntry {
    EnvEntry {
        settings,
        others: "",
        meaning,
    }
}

/// The environment variables and what each does: shown by `--help` and in
/// the man page's ENVIRONMENT section, from this one list.
pub const ENVIRONMENT: &[EnvEntry] = &[
    entry(
        &[&setting::KEY],
        "Required (or INTERNAL_API_KEY_FILE). Sent as the x-internal-api-key header; never printed, never accepted as a flag.",
    ),
    entry(
        &[&setting::KEY_FILE],
        "A file holding the key instead (a Docker or Kubernetes secret, a systemd credential); a trailing newline is ignored.",
    ),
    entry(
        &[&setting::BASE_URL],
        "Where the OCD app listens, path prefix included [default: http://localhost:3000]. --base-url overrides it.",
    ),
    entry(
        &[&setting::CA_CERT],
        "PEM bundle of CA certificates to trust for https instead of the system store. --ca-cert overrides it.",
    ),
    entry(
        &[&setting::PING_URL],
        "As --ping-url, which overrides it: one URL, or several separated by spaces, commas or newlines.",
    ),
    entry(
        &[&setting::PING_TIMEOUT],
        "As --ping-timeout, which overrides it.",
    ),
    entry(
        &[&setting::METRICS_FILE],
        "As --metrics-file, which overrides it.",
    ),
    entry(
        &[&setting::APP_DIR],
        "As --app-dir, which overrides it: the directory whose env files are read; read from the real environment only.",
    ),
    entry(
        &[&setting::NODE_ENV],
        "test: read the app's test env files (.env.test.local, .env.test, .env), as Next does; any other value changes nothing.",
    ),
    entry(
        &[
            &setting::JITTER,
            &setting::JITTER_SEED,
            &setting::SLOT_PERIOD,
        ],
        "As --jitter, --jitter-seed and --slot-period, which override them.",
    ),
    entry(
        &[&setting::SCHEDULED_TIME],
        "The scheduled time of this run (RFC 3339, as a Kubernetes CronJob's batch.kubernetes.io/cronjob-scheduled-timestamp): turns on the slot key and names its slot. Real environment only.",
    ),
    entry(
        &[&setting::LOG_FORMAT],
        "As --log-format (text or json), which overrides it. Real environment only.",
    ),
    entry(
        &[&setting::TRACEPARENT, &setting::TRACESTATE],
        "W3C trace context of the caller: each request to the app is sent as a child span of it; without it, as a new trace. Real environment only.",
    ),
    EnvEntry {
        settings: &[],
        others: "RUST_LOG",
        meaning: "Log filter; overrides -q and -v (debug, warn, ...). The HTTP and TLS libraries show only their warnings unless named (ureq=debug, rustls=debug).",
    },
    EnvEntry {
        settings: &[],
        others: "http_proxy, https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY, no_proxy, NO_PROXY",
        meaning: "Proxies, by curl's rules; read from the real environment only.",
    },
];

/// What the environment section adds after the list.
pub fn environment_note() -> String {
    let empty: Vec<&str> = setting::ALL
        .iter()
        .filter(|s| s.empty_is_unset && s.in_env_files)
        .map(|s| s.variable)
        .collect();
    let (last, rest) = empty.split_last().expect("settings where empty is unset");
    format!(
        "All but RUST_LOG, the proxies and those read from the real environment only \
         (NODE_ENV, OCD_CRON_APP_DIR and the others marked so) may also come from the app's \
         env files, read as next start reads them: .env.production.local, .env.local, \
         .env.production, .env (with NODE_ENV=test: .env.test.local, .env.test, .env) in the \
         working directory or --app-dir, the first that sets a name winning, $VAR and \
         ${{VAR:-default}} expanded, \\$ for a literal dollar; or from the one file --env-file \
         names. The real environment beats the files, and flags beat both. An empty {} or {last} \
         counts as unset; an empty key is an error. DATABASE_URL is not needed.",
        rest.join(", ")
    )
}

/// The monitors `--ping-url` speaks, for the man page and the README (a
/// test checks the README's table against it): the kind (the `<kind>+`
/// prefix that names it), the URL to paste, the start ping and the finish
/// ping. Any URL of no other kind is healthchecks. docs/monitors.md has the
/// full table; `config::monitor` recognises the URLs.
pub const MONITORS: &[(&str, &str, &str, &str)] = &[
    (
        "healthchecks",
        "https://hc-ping.com/<uuid>",
        "GET <url>/start",
        "POST <url>/<exit status>, the summary as body",
    ),
    (
        "cronitor",
        "https://cronitor.link/p/<api-key>/<monitor-key>",
        "GET <url>?state=run",
        "GET <url>?state=complete or fail, with status code, message, metrics",
    ),
    (
        "sentry",
        "https://<host>/api/<project>/cron/<slug>/<public-key>/",
        "GET <url>?status=in_progress",
        "GET <url>?status=ok or error, with the duration",
    ),
    (
        "uptime-kuma",
        "https://<host>/api/push/<token>",
        "none",
        "GET <url>?status=up or down, with msg and ping",
    ),
    (
        "betterstack",
        "https://uptime.betterstack.com/api/v1/heartbeat/<token>",
        "none",
        "GET <url> on success, POST <url>/<exit status> on failure",
    ),
    (
        "deadmanssnitch",
        "https://nosnch.in/<token>",
        "none",
        "GET <url>?s=<exit status>&m=<summary>",
    ),
];

/// The environment variables and the exit-status table, for `--help`.
fn epilogue() -> String {
    let mut text = String::from("ENVIRONMENT:\n");
    for entry in ENVIRONMENT {
        text.push_str(&format!("  {}\n", entry.names()));
        text.push_str(&wrap(entry.meaning, 10, 80));
    }
    text.push('\n');
    text.push_str(&wrap(&environment_note(), 0, 80));
    text.push_str("\nEXIT STATUS:\n");
    for (code, meaning) in EXIT_STATUS_TABLE {
        text.push_str(&format!("  {code:>3}  {meaning}\n"));
    }
    text
}

/// `text` in lines of at most `width` columns (a longer word stands
/// alone), each indented by `indent` spaces.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            out.push_str(&format!("{:indent$}{line}\n", ""));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{:indent$}{line}\n", ""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_every_variable_within_80_columns() {
        let help = epilogue();
        for entry in ENVIRONMENT {
            let name = entry.names();
            assert!(help.contains(&format!("\n  {name}\n")), "{name}");
        }
        let environment = help.split("EXIT STATUS").next().unwrap();
        for line in environment.lines() {
            assert!(line.len() <= 80 || !line.contains(' '), "{line:?}");
        }
    }

    #[test]
    fn every_setting_is_listed_once_and_its_flag_exists() {
        let flags: Vec<String> = Cli::command()
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for setting in setting::ALL {
            let listed = ENVIRONMENT
                .iter()
                .filter(|e| e.settings.contains(setting))
                .count();
            assert_eq!(listed, 1, "{}", setting.variable);
            if let Some(flag) = setting.flag {
                assert!(flags.iter().any(|f| f == flag), "{flag}");
            }
        }
    }

    #[test]
    fn an_entry_is_named_by_its_variables() {
        let names: Vec<String> = ENVIRONMENT.iter().map(EnvEntry::names).collect();
        assert_eq!(names[0], "INTERNAL_API_KEY");
        assert!(
            names.contains(&"OCD_CRON_JITTER, OCD_CRON_JITTER_SEED, OCD_CRON_SLOT_PERIOD".into())
        );
        assert!(names.contains(&"RUST_LOG".into()));
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("http_proxy, https_proxy"))
        );
    }

    #[test]
    fn the_note_names_the_settings_where_empty_is_unset() {
        assert!(environment_note().contains(
            "An empty API_BASE_URL, OCD_CRON_CA_CERT, OCD_CRON_PING_URL or \
             OCD_CRON_METRICS_FILE counts as unset; an empty key is an error."
        ));
        assert!(environment_note().contains("${VAR:-default} expanded, \\$ for"));
    }

    #[test]
    fn wrap_fills_lines_up_to_the_width() {
        // Indent, words and spaces exactly at the width, and one over.
        assert_eq!(wrap("aa bb cc", 2, 7), "  aa bb\n  cc\n");
        assert_eq!(wrap("aa bb", 2, 6), "  aa\n  bb\n");
        assert_eq!(wrap("aa bb", 0, 5), "aa bb\n");
        assert_eq!(wrap("toolongword x", 0, 5), "toolongword\nx\n");
        assert_eq!(wrap("", 4, 80), "");
    }

    #[test]
    fn the_ping_timeout_is_a_positive_duration_of_at_most_a_minute() {
        assert_eq!(parse_ping_timeout("1m"), Ok(MAX_PING_TIMEOUT));
        assert_eq!(parse_ping_timeout("60000ms"), Ok(MAX_PING_TIMEOUT));
        assert_eq!(parse_ping_timeout("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(
            parse_ping_timeout(" 60001ms"),
            Err("'60001ms' is longer than the maximum of 1m".into())
        );
        assert!(parse_ping_timeout("0").unwrap_err().contains("zero"));
        assert_eq!(
            parse_ping_timeout("99999999999999999999999"),
            Err("'99999999999999999999999' is longer than the maximum of 1m".into())
        );
        assert_eq!(DEFAULT_PING_TIMEOUT, Duration::from_secs(10));
    }

    #[test]
    fn help_lists_every_exit_status() {
        let help = epilogue();
        for (code, meaning) in EXIT_STATUS_TABLE {
            assert!(help.contains(&format!("{code:>3}  {meaning}")));
        }
    }
}
