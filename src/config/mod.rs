//! Raw flags + environment + the app's env files → a checked [`Config`].
//!
//! Everything that can be wrong with the configuration is found here, before
//! any socket is opened: a run with a bad key or URL must send nothing. The
//! precedence (flag > real environment > env files > default) lives in
//! [`chosen`] and [`Settings`] and nowhere else, the settings' names in
//! [`crate::setting`]. Each concern it draws on has its own file: the key
//! ([`key`]; its type is [`crate::secret`]), URLs ([`crate::target`]) and
//! their proxies ([`crate::proxy`]), the monitors' entries ([`monitor`]),
//! the env files ([`env_file`]), what Next.js makes of them ([`expand`])
//! and the CA bundle ([`ca`]). Error messages name both the flag and the
//! variable, and say where a bad value came from, but never echo the key.
//!
//! Below everything that reads it: it imports the command line and leaves
//! only, never the modules that run the jobs or send pings.

mod ca;
mod env_file;
mod environment;
mod expand;
mod key;
pub(crate) mod monitor;
mod shared_file;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::Certificate;

pub use monitor::Monitor;

use crate::cli::{Cli, DEFAULT_PING_TIMEOUT, Output, parse_ping_timeout};
use crate::error::Error;
use crate::fleet::{self, Jitter};
use crate::job::{self, Job, Mode, Selection};
use crate::secret::Secret;
use crate::setting::{self, Setting};
use crate::target::{self, Target};
use crate::trace::Trace;
use crate::{duration, random, sanitize};

/// The most monitors one invocation pings.
const MAX_MONITORS: usize = 16;

/// Where the base URL comes from when nothing sets it.
pub const DEFAULT_BASE_URL: &str = "http://localhost:3000";

/// A configuration that has passed every check. Its fields are private and
/// [`resolve`] is the only place one is built, so no other code can hold a
/// configuration that skipped a check; the rest of the program reads it.
pub struct Config {
    /// What `--job` said, for log lines about the whole invocation.
    selection: Selection,
    /// The jobs to run, in order.
    jobs: Vec<Job>,
    mode: Mode,
    output: Output,
    /// Where the OCD app listens.
    api: Target,
    /// Shared with a refusal found after the key was read, which needs it
    /// to keep the monitors that spell it from being told.
    key: Arc<Secret>,
    body: String,
    timeout: Duration,
    connect_timeout: Duration,
    retries: u32,
    max_item_errors: u64,
    /// `--ca-cert`: trust exactly these CAs instead of the system store.
    ca_certs: Option<Vec<Certificate<'static>>>,
    lock_file: Option<PathBuf>,
    /// The monitors to ping (`--ping-url`), in the order given; only a run
    /// of the job pings them (`Mode::runs_the_job`).
    monitors: Vec<Monitor>,
    /// How long the start pings, and then the finish pings, may take.
    ping_timeout: Duration,
    metrics_file: Option<PathBuf>,
    /// Things worth an operator's attention that do not stop the invocation
    /// and can be fixed on the spot (a `chmod`, a URL): logged on every run.
    warnings: Vec<String>,
    /// Where each setting came from (`API_BASE_URL from ./.env.local line
    /// 3`), for `--dry-run` and `-v`.
    origins: Vec<String>,
    /// `--jitter`: the wait before a run of the job (`Mode::runs_the_job`).
    jitter: Option<Jitter>,
    /// The scheduled time of this run's slot (Unix seconds), when a slot key
    /// is asked for (`--slot-period`, `OCD_CRON_SCHEDULED_TIME`).
    slot: Option<u64>,
    /// The trace the requests to the app belong to (`TRACEPARENT`).
    trace: Trace,
    /// Facts of the deployment that recur on every run and change only
    /// with the deployment (the key over plain http to a compose service):
    /// warnings in `--dry-run`, debug lines otherwise, so that `-q` keeps
    /// cron's mail for failures.
    dry_run_warnings: Vec<String>,
}

impl Config {
    /// What `--job` said, for log lines about the whole invocation.
    pub fn selection(&self) -> Selection {
        self.selection
    }

    /// The jobs to run, in order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn output(&self) -> Output {
        self.output
    }

    /// Where the OCD app listens.
    pub fn api(&self) -> &Target {
        &self.api
    }

    pub fn key(&self) -> &Secret {
        &self.key
    }

    /// The body of a job's POST.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// `--timeout`: the deadline of all the jobs, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }

    pub fn max_item_errors(&self) -> u64 {
        self.max_item_errors
    }

    /// `--ca-cert`: trust exactly these CAs instead of the system store.
    pub fn ca_certs(&self) -> Option<&[Certificate<'static>]> {
        self.ca_certs.as_deref()
    }

    pub fn lock_file(&self) -> Option<&Path> {
        self.lock_file.as_deref()
    }

    /// The monitors to ping, in the order given; only a run of the job
    /// pings them (`Mode::runs_the_job`).
    pub fn monitors(&self) -> &[Monitor] {
        &self.monitors
    }

    /// How long the start pings, and then the finish pings, may take.
    pub fn ping_timeout(&self) -> Duration {
        self.ping_timeout
    }

    pub fn metrics_file(&self) -> Option<&Path> {
        self.metrics_file.as_deref()
    }

    /// `--jitter`: the wait before a run of the job.
    pub fn jitter(&self) -> Option<&Jitter> {
        self.jitter.as_ref()
    }

    /// The scheduled time of this run's slot (Unix seconds), if a slot key
    /// is sent.
    pub fn slot(&self) -> Option<u64> {
        self.slot
    }

    /// The trace the requests to the app belong to.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// What the configuration tells the operator before anything is sent,
    /// each at its level: the warnings always; where the settings came
    /// from at info in a dry run and at debug otherwise; the facts of the
    /// deployment as warnings in a dry run and debug lines otherwise, so
    /// that `-q` keeps cron's mail for failures.
    pub fn notices(&self) -> impl Iterator<Item = (log::Level, &str)> {
        let (origin, fact) = if self.mode.is_dry_run() {
            (log::Level::Info, log::Level::Warn)
        } else {
            (log::Level::Debug, log::Level::Debug)
        };
        fn at(level: log::Level, lines: &[String]) -> impl Iterator<Item = (log::Level, &str)> {
            lines.iter().map(move |line| (level, line.as_str()))
        }
        at(log::Level::Warn, &self.warnings)
            .chain(at(origin, &self.origins))
            .chain(at(fact, &self.dry_run_warnings))
    }

    /// The refusal of this configuration for `error` found after loading
    /// (a dry run's lock file): reported as its jobs not started, to no
    /// monitor.
    pub fn refusal(&self, error: Error) -> Refusal {
        Refusal {
            error,
            selection: self.selection,
            output: self.output,
            mode: self.mode,
            monitors: Vec::new(),
            ping_timeout: self.ping_timeout,
        }
    }

    /// The endpoint of `job`, base URL and path prefix included.
    pub fn url(&self, job: Job) -> String {
        self.api.url(job.path())
    }
}

/// Reads a variable by name: the real environment in production, a table in tests.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where a setting's value came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Flag,
    Environment,
    /// An env file, as messages show its path, and the line.
    EnvFile {
        path: String,
        line: usize,
    },
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("from the command line"),
            Source::Environment => f.write_str("from the environment"),
            Source::EnvFile { path, line } => write!(f, "from {path} line {line}"),
            Source::Default => f.write_str("the default"),
        }
    }
}

/// The variables as the app sees them after Next's loader: the real
/// environment, and the env files merged and expanded over it. An empty
/// optional setting in the environment is taken as unset before the merge,
/// so it does not hide a file's value.
pub(crate) struct Settings<'a> {
    env: Lookup<'a>,
    merged: expand::Merged,
    /// The files read, in Next's order, as messages show them.
    paths: Vec<String>,
    /// The files, for the message when the key is found nowhere.
    files: Option<&'a env_file::EnvFiles>,
}

impl Settings<'_> {
    /// The setting's value (empty included) and where it came from.
    fn get(&self, setting: &Setting) -> Option<(String, Source)> {
        match self.merged.get(setting.variable) {
            Some(value) => Some((value.text.clone(), self.source(value.origin))),
            None => (self.env)(setting.variable).map(|v| (v, Source::Environment)),
        }
    }

    /// Two settings that give one thing two ways (the key, or the file
    /// holding it), from the source that decides: the real environment if
    /// it sets either, else the env files. So a unit's
    /// `INTERNAL_API_KEY_FILE` wins over the app's `.env`, and one source
    /// setting both is left for the caller to refuse.
    #[allow(clippy::type_complexity)]
    fn either(
        &self,
        one: &Setting,
        other: &Setting,
    ) -> (Option<(String, Source)>, Option<(String, Source)>) {
        let (mut one, mut other) = (self.get(one), self.get(other));
        let from_env = |s: &(String, Source)| s.1 == Source::Environment;
        if one.as_ref().is_some_and(from_env) || other.as_ref().is_some_and(from_env) {
            one = one.filter(from_env);
            other = other.filter(from_env);
        }
        (one, other)
    }

    /// What the expansion did to the setting, if a file set it.
    fn expansion(&self, setting: &Setting) -> Option<&expand::Value> {
        self.merged.get(setting.variable)
    }

    fn source(&self, origin: expand::Origin) -> Source {
        match origin {
            expand::Origin::Environment => Source::Environment,
            expand::Origin::File { file, line } => Source::EnvFile {
                path: self.paths[file].clone(),
                line,
            },
        }
    }
}

/// `lookup`, with an empty optional setting taken as unset.
fn without_empty_optional(lookup: Lookup<'_>) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| lookup(name).filter(|v| !(v.is_empty() && Setting::empty_is_unset(name)))
}

/// A refused configuration, with the monitors to tell: each usable entry
/// of the sources that could be read.
pub struct Refusal {
    pub error: Error,
    /// What the command line asked for: the refusal is reported as its
    /// jobs not started.
    pub selection: Selection,
    pub output: Output,
    pub mode: Mode,
    pub monitors: Vec<Monitor>,
    /// Their time limit: the one configured, or the default if that
    /// setting is what was refused.
    pub ping_timeout: Duration,
}

/// Reads the real environment and the env files, then resolves. A
/// refused configuration comes with the monitors it found (which only a
/// run of the job tells, `Mode::runs_the_job`) and their time limit.
pub fn load(cli: &Cli) -> Result<Config, Box<Refusal>> {
    let env = without_empty_optional(&real_env);
    let refuse = |error: Error, settings: Option<&Settings>, key: KeyRead| {
        let from_env = environment_only(&env);
        let settings = settings.unwrap_or(&from_env);
        // The key, if there is one, is scrubbed from whatever is shown; it
        // is read here only if the refusal came before it was.
        let unread;
        let key = match key {
            KeyRead::Yes(key) => Some(key),
            KeyRead::Refused => None,
            KeyRead::Not => {
                unread = key::resolve(settings, &mut Vec::new()).ok();
                unread.as_ref()
            }
        };
        if let Some(key) = key {
            crate::sanitize::hide_key(key.expose());
        }
        let monitors = usable_monitors(cli, &env, settings, key);
        let ping_timeout = resolve_ping_timeout(cli, settings).unwrap_or(DEFAULT_PING_TIMEOUT);
        Box::new(Refusal {
            error,
            selection: cli.job,
            output: cli.output,
            mode: mode(cli),
            monitors,
            ping_timeout,
        })
    };
    let files = env_file::read(
        &env_place(cli),
        real_env(setting::NODE_ENV.variable).as_deref() == Some("test"),
    )
    .map_err(|error| refuse(error, None, KeyRead::Not))?;
    for warning in &files.warnings {
        log::warn!("{}: {warning}", cli.job.name());
    }
    let pairs: Vec<&[env_file::Pair]> = files.read.iter().map(|f| f.pairs.as_slice()).collect();
    let paths: Vec<String> = files
        .read
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let merged = expand::merge(&pairs, &env)
        .map_err(|failure| refuse(expansion_error(&failure, &paths), None, KeyRead::Not))?;
    let settings = Settings {
        env: &env,
        merged,
        paths,
        files: Some(&files),
    };
    // Before any of them is opened for its role: no two settings may name
    // one file.
    let env_files: Vec<(String, PathBuf)> = files
        .read
        .iter()
        .map(|f| {
            let setting = match &cli.env_file {
                Some(_) => "--env-file".to_owned(),
                None => format!("the env file {}", f.path.display()),
            };
            (setting, f.path.clone())
        })
        .collect();
    let chain = env_files.len();
    shared_file::refuse_shared(&named_files(cli, &settings, env_files), chain)
        .map_err(|error| refuse(error, Some(&settings), KeyRead::Not))?;
    let mut warnings = Vec::new();
    let key = key::resolve(&settings, &mut warnings)
        .map_err(|error| refuse(error, Some(&settings), KeyRead::Refused))?;
    // From here on no text from outside can show the key.
    crate::sanitize::hide_key(key.expose());
    let key = Arc::new(key);
    build(cli, &env, &settings, key.clone(), warnings)
        .map_err(|error| refuse(error, Some(&settings), KeyRead::Yes(&key)))
}

/// Whether the key had been read when the configuration was refused: a
/// refusal never reads it a second time.
enum KeyRead<'a> {
    Not,
    Refused,
    Yes(&'a Secret),
}

/// Every file a setting names, with the setting's name: the lock file, the
/// metrics file, the key file, the CA bundle and `env_files` (each env file
/// that was read, named for messages).
fn named_files(
    cli: &Cli,
    settings: &Settings,
    env_files: Vec<(String, PathBuf)>,
) -> Vec<(String, PathBuf)> {
    let mut named = env_files;
    if let Some(path) = &cli.lock_file {
        named.push(("--lock-file".into(), path.clone()));
    }
    if let Some(path) = metrics_path(cli, settings) {
        named.push((setting::METRICS_FILE.name.into(), path));
    }
    if let Some(path) = ca_path(cli, settings) {
        named.push((setting::CA_CERT.name.into(), path));
    }
    if let Some(path) = key::file_path(settings) {
        named.push((setting::KEY_FILE.name.into(), path));
    }
    named
}

/// `--metrics-file` > `OCD_CRON_METRICS_FILE`.
fn metrics_path(cli: &Cli, settings: &Settings) -> Option<PathBuf> {
    a_path(cli.metrics_file.clone(), &setting::METRICS_FILE, settings)
}

/// `--ca-cert` > `OCD_CRON_CA_CERT`.
fn ca_path(cli: &Cli, settings: &Settings) -> Option<PathBuf> {
    a_path(cli.ca_cert.clone(), &setting::CA_CERT, settings)
}

/// A path setting: the variable's bytes are the path, exactly as given.
fn a_path(flag: Option<PathBuf>, setting: &Setting, settings: &Settings) -> Option<PathBuf> {
    chosen(flag, setting, settings, environment::path).map(|(path, _)| path)
}

/// Where the env files are: `--env-file`, else `--app-dir`, else
/// `OCD_CRON_APP_DIR`, else the working directory.
fn env_place(cli: &Cli) -> env_file::Place {
    if let Some(path) = &cli.env_file {
        return env_file::Place::File(path.clone());
    }
    let named = cli.app_dir.clone().or_else(|| {
        std::env::var_os(setting::APP_DIR.variable)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    });
    match named {
        Some(dir) => env_file::Place::AppDir { dir, named: true },
        None => env_file::Place::AppDir {
            dir: PathBuf::from("."),
            named: false,
        },
    }
}

/// The settings of the environment alone, when the files are unusable.
fn environment_only<'a>(env: Lookup<'a>) -> Settings<'a> {
    Settings {
        env,
        merged: expand::Merged::default(),
        paths: Vec::new(),
        files: None,
    }
}

/// The refusal of files whose expansion failed: the file, the line and the
/// name, never the value.
fn expansion_error(failure: &expand::Failure, paths: &[String]) -> Error {
    let why = match &failure.why {
        expand::Why::Endless => format!(
            "never ends (after {} replacements: it refers to itself, directly or through \
             other lines; Next's loader fails on it and skips the whole file)",
            expand::MAX_STEPS
        ),
        expand::Why::TooLarge => format!(
            "grows past {} MiB (Next's loader would grow it until the app runs out of memory)",
            expand::MAX_VALUE / (1024 * 1024)
        ),
        expand::Why::Builtin(name) => format!(
            "refers to ${name}, which is not set; Next's loader would insert JavaScript's \
             built-in {name} there, which ocd-cron does not imitate: set {name} or write \\$"
        ),
    };
    Error::Config(format!(
        "env file {} line {}: the $ expansion of {} {why}; fix that line",
        paths.get(failure.file).map_or("?", String::as_str),
        failure.line,
        failure.name
    ))
}

/// The monitors to tell of a refused configuration, from these sources:
/// every entry that parses and does not spell the key (if there is one),
/// and none if there are more entries than [`MAX_MONITORS`].
fn usable_monitors(
    cli: &Cli,
    env: Lookup,
    settings: &Settings,
    key: Option<&Secret>,
) -> Vec<Monitor> {
    let entries = ping_entries(cli, settings);
    // Over the cap the list is the configuration error being reported.
    if entries.len() > MAX_MONITORS {
        return Vec::new();
    }
    entries
        .into_iter()
        .filter(|(entry, _)| !key.is_some_and(|key| sanitize::spells(entry, key.expose())))
        .filter_map(|(entry, what)| monitor(&entry, &what, env).ok())
        .collect()
}

/// Refuses a URL setting that spells the key: it would be printed (dry
/// run, JSON, messages) and, for a monitor, sent to another host.
fn refuse_key_in(url: &str, key: &Secret, what: &str) -> Result<(), Error> {
    if sanitize::spells(url, key.expose()) {
        return Err(Error::Config(format!(
            "{what} contains the API key; the key is only ever sent in the \
             x-internal-api-key header, remove it from the URL"
        )));
    }
    Ok(())
}

/// The real environment, bytes that are not UTF-8 kept (see
/// [`environment`]).
fn real_env(name: &str) -> Option<String> {
    environment::read(name)
}

/// Applies precedence and validates: flag > `env` > `file` > default.
#[cfg(test)]
pub(crate) fn resolve(cli: &Cli, env: Lookup, settings: &Settings) -> Result<Config, Error> {
    let mut warnings = Vec::new();
    let key = key::resolve(settings, &mut warnings)?;
    build(cli, env, settings, Arc::new(key), warnings)
}

/// The checked configuration, from the key (read and checked) and its
/// warnings.
fn build(
    cli: &Cli,
    env: Lookup,
    settings: &Settings,
    key: Arc<Secret>,
    mut warnings: Vec<String>,
) -> Result<Config, Error> {
    let (base, source) = chosen(
        cli.base_url.clone(),
        &setting::BASE_URL,
        settings,
        str::to_owned,
    )
    .unwrap_or((DEFAULT_BASE_URL.into(), Source::Default));
    let what = format!("{} ({source})", setting::BASE_URL);
    refuse_key_in(&base, &key, &what)?;
    let api = target::check(&base, &what, env, environment::not_text).map_err(Error::Config)?;
    let ping_entries = ping_entries(cli, settings);
    for (entry, what) in &ping_entries {
        refuse_key_in(entry, &key, what)?;
    }
    let dry_run_warnings = cleartext_warning(&api).into_iter().collect();
    let first_route = cli.job.jobs()[0].path();
    warnings.extend(target::route_in_prefix(&api, first_route, &what));

    let ca_certs = match ca_path(cli, settings) {
        Some(path) => Some(ca::read_bundle(&path)?),
        None => None,
    };

    let metrics_file = metrics_path(cli, settings);
    if let Some(path) = &metrics_file {
        check_metrics_dir(path)?;
    }
    let monitors = resolve_ping(&ping_entries, env)?;
    let ping_timeout = resolve_ping_timeout(cli, settings)?;
    let jitter = resolve_jitter(cli, settings)?;
    let slot = resolve_slot(cli, env, settings, std::time::SystemTime::now())?;
    let (trace, ignored) = Trace::from_env(
        env(setting::TRACEPARENT.variable).as_deref(),
        env(setting::TRACESTATE.variable).as_deref(),
        random::random_bytes(),
    );
    if let Some(why) = ignored {
        log::debug!("{}: {}", cli.job.name(), sanitize::for_log(&why, 200));
    }
    warnings.extend(env_file_readable_by_others(settings));

    Ok(Config {
        selection: cli.job,
        jobs: cli.job.jobs(),
        mode: mode(cli),
        output: cli.output,
        api,
        key,
        body: job::request_body(cli.limit),
        timeout: cli.timeout,
        connect_timeout: cli.connect_timeout,
        retries: cli.retries,
        max_item_errors: cli.max_item_errors,
        ca_certs,
        lock_file: cli.lock_file.clone(),
        monitors,
        ping_timeout,
        metrics_file,
        warnings,
        // Shown only by a dry run and at debug level.
        origins: if cli.dry_run || log::log_enabled!(log::Level::Debug) {
            origins(cli, settings)
        } else {
            Vec::new()
        },
        jitter,
        slot,
        trace,
        dry_run_warnings,
    })
}

/// A warning if the key came from an env file other users can read.
fn env_file_readable_by_others(settings: &Settings) -> Option<String> {
    let (_, Source::EnvFile { path, .. }) = settings.get(&setting::KEY)? else {
        return None;
    };
    let file = settings
        .files?
        .read
        .iter()
        .find(|f| f.path.display().to_string() == path)?;
    key::readable_by_others(&file.path, &file.meta, "env file")
}

/// What the command line asks for.
fn mode(cli: &Cli) -> Mode {
    Mode::from_flags(cli.dry_run, cli.pending, cli.max_pending)
}

/// Where each setting that the environment or an env file gave came from,
/// for `--dry-run` and `-v`: never the value.
fn origins(cli: &Cli, settings: &Settings) -> Vec<String> {
    let overridden = [
        (&setting::BASE_URL, cli.base_url.is_some()),
        (&setting::PING_URL, !cli.ping_url.is_empty()),
        (&setting::METRICS_FILE, cli.metrics_file.is_some()),
        (&setting::CA_CERT, cli.ca_cert.is_some()),
        (&setting::KEY, false),
        (&setting::KEY_FILE, false),
    ];
    let mut lines = Vec::new();
    for (shown, by_flag) in overridden {
        if by_flag {
            continue;
        }
        let Some((value, source)) = settings.get(shown) else {
            continue;
        };
        if value.is_empty() && shown.empty_is_unset {
            continue;
        }
        let name = shown.variable;
        let expanded = match settings.expansion(shown) {
            Some(v) if !v.changed => "",
            Some(v) if v.origin == expand::Origin::Environment => {
                ", $ expanded as Next does because an env file sets it too"
            }
            Some(_) => ", $ expanded as Next does",
            None => "",
        };
        lines.push(format!("{name} {source}{expanded}"));
    }
    lines
}

/// `--jitter` > `OCD_CRON_JITTER`, with `--jitter-seed` >
/// `OCD_CRON_JITTER_SEED`.
fn resolve_jitter(cli: &Cli, settings: &Settings) -> Result<Option<Jitter>, Error> {
    let Some((window, _)) = parsed(
        cli.jitter,
        &setting::JITTER,
        settings,
        duration::parse_duration,
    )?
    else {
        return Ok(None);
    };
    let seed = chosen(
        cli.jitter_seed.clone(),
        &setting::JITTER_SEED,
        settings,
        str::to_owned,
    );
    Ok(Some(Jitter {
        window,
        seed: seed.map(|(seed, _)| seed),
    }))
}

/// The slot's scheduled time: `OCD_CRON_SCHEDULED_TIME` (the real
/// environment only: it changes with every run) or the start `now`,
/// truncated to `--slot-period` > `OCD_CRON_SLOT_PERIOD`; `None` when
/// neither the time nor the period is set.
fn resolve_slot(
    cli: &Cli,
    env: Lookup,
    settings: &Settings,
    now: std::time::SystemTime,
) -> Result<Option<u64>, Error> {
    let period = parsed(
        cli.slot_period,
        &setting::SLOT_PERIOD,
        settings,
        fleet::parse_period,
    )?
    .map(|(period, _)| period);
    let explicit = match env(setting::SCHEDULED_TIME.variable) {
        Some(text) => Some(fleet::parse_rfc3339(text.trim()).map_err(|why| {
            Error::Config(format!(
                "{}: {}",
                setting::SCHEDULED_TIME,
                sanitize::for_log(&why, 200)
            ))
        })?),
        None => None,
    };
    let start = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    Ok(fleet::scheduled(start, explicit, period))
}

/// A warning when the key would cross a network in clear: over plain http
/// to a host that is not this machine, or through a proxy that is not on
/// this machine. ureq tunnels through an http proxy with a plain TCP
/// connection (SOCKS proxies are refused in `target`), so for an `http://` base URL the request, key included,
/// is readable on the way to the proxy; for an `https://` base URL the key
/// is inside TLS end to end and the proxy sees only `CONNECT host:port`.
fn cleartext_warning(api: &Target) -> Option<String> {
    if api.scheme != "http" {
        return None;
    }
    let proxy = api.proxy.as_ref().filter(|proxy| {
        proxy.protocol() != ureq::ProxyProtocol::Https
            && !target::is_loopback(proxy.host().trim_start_matches('[').trim_end_matches(']'))
    });
    match proxy {
        Some(proxy) => Some(format!(
            "the key travels unencrypted over http through the proxy {}:{} to {}; \
             use an https URL in {}, or add {} to no_proxy if it can be reached directly",
            proxy.host(),
            proxy.port(),
            api.host,
            setting::BASE_URL,
            api.host
        )),
        None if !target::is_loopback(&api.host) => Some(format!(
            "the key travels unencrypted over http to {}; use an https URL in {}",
            api.host,
            setting::BASE_URL
        )),
        None => None,
    }
}

/// An optional setting, with its source; empty counts as unset.
fn optional(setting: &Setting, settings: &Settings) -> Option<(String, Source)> {
    settings.get(setting).filter(|(v, _)| !v.is_empty())
}

/// The precedence, in one place: the flag's value if it was given, else
/// the setting's (the real environment before the env files, as
/// [`Settings`] merged them; empty is unset) as `read` takes it, else
/// `None`; with where the value came from.
fn chosen<T>(
    flag: Option<T>,
    setting: &Setting,
    settings: &Settings,
    read: impl FnOnce(&str) -> T,
) -> Option<(T, Source)> {
    match flag {
        Some(value) => Some((value, Source::Flag)),
        None => optional(setting, settings).map(|(text, source)| (read(&text), source)),
    }
}

/// [`chosen`], for a setting whose text `parse` may refuse: a
/// configuration error naming the setting and where the value came from.
/// (A flag's value was parsed by the command line already.)
fn parsed<T, E: fmt::Display>(
    flag: Option<T>,
    setting: &Setting,
    settings: &Settings,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<(T, Source)>, Error> {
    match chosen(flag.map(Ok), setting, settings, parse) {
        None => Ok(None),
        Some((Ok(value), source)) => Ok(Some((value, source))),
        Some((Err(why), source)) => Err(Error::Config(format!("{setting} ({source}): {why}"))),
    }
}

/// The monitors of the ping entries ([`ping_entries`]), each checked.
fn resolve_ping(entries: &[(String, String)], env: Lookup) -> Result<Vec<Monitor>, Error> {
    // Each monitor is pinged on a thread of its own, all at once: a list
    // this long is a mistake (a pasted file), not a set of monitors.
    if entries.len() > MAX_MONITORS {
        return Err(Error::Config(format!(
            "{} names {} monitors, more than the {MAX_MONITORS} ocd-cron pings at once; keep \
             the ones you use",
            setting::PING_URL,
            entries.len()
        )));
    }
    entries
        .iter()
        .map(|(entry, what)| monitor(entry, what, env))
        .collect()
}

/// `--ping-timeout` > `OCD_CRON_PING_TIMEOUT` > the default.
fn resolve_ping_timeout(cli: &Cli, settings: &Settings) -> Result<Duration, Error> {
    let limit = parsed(
        cli.ping_timeout,
        &setting::PING_TIMEOUT,
        settings,
        parse_ping_timeout,
    )?;
    Ok(limit.map_or(DEFAULT_PING_TIMEOUT, |(limit, _)| limit))
}

/// The ping URLs, each with the name of its setting for messages. Every
/// `--ping-url` value, and the variable, is a list separated by white
/// space or commas (which URLs cannot hold unencoded); the flags replace
/// the variable's list. An empty variable is unset, like every optional
/// one; but a `--ping-url` that is empty or holds only separators is an
/// error, and so is a variable holding only separators: a dead-man switch
/// switched off by a half-filled template would stay silent.
fn ping_entries(cli: &Cli, settings: &Settings) -> Vec<(String, String)> {
    let flags = (!cli.ping_url.is_empty()).then(|| cli.ping_url.clone());
    let one = |text: &str| vec![text.to_owned()];
    let Some((values, source)) = chosen(flags, &setting::PING_URL, settings, one) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for value in values {
        let list: Vec<&str> = value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .collect();
        if list.is_empty() {
            entries.push((value.clone(), format!("{} ({source})", setting::PING_URL)));
        }
        for entry in list {
            entries.push((
                entry.to_owned(),
                format!("{} ({source})", setting::PING_URL),
            ));
        }
    }
    if entries.len() > 1 {
        let count = entries.len();
        for (i, (_, what)) in entries.iter_mut().enumerate() {
            what.push_str(&format!(", entry {} of {count},", i + 1));
        }
    }
    entries
}

/// One ping URL, checked like the base URL (scheme, host, port, proxy).
fn monitor(entry: &str, what: &str, env: Lookup) -> Result<Monitor, Error> {
    if environment::not_text(entry) {
        return Err(Error::Config(format!(
            "{what} is not text: it holds bytes that are not UTF-8 (or a NUL)"
        )));
    }
    Monitor::parse(entry, what, env)
}

/// The metrics file is written next to itself (then renamed), so its
/// directory must exist; finding out after the job ran would lose the run.
fn check_metrics_dir(path: &Path) -> Result<(), Error> {
    if path.file_name().is_none() || !crate::files::directory(path).is_dir() {
        return Err(Error::Config(format!(
            "{} {}: the directory does not exist; point it into the node_exporter textfile \
             directory",
            setting::METRICS_FILE,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::HashMap;

    fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["ocd-cron"];
        if !args.contains(&"--job") {
            argv.extend(["--job", "rewards"]);
        }
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap()
    }

    /// The settings of `env` and one env file, `app.env`, holding `file`.
    pub(crate) fn settings_with<'a>(env: Lookup<'a>, file: &[(&str, &str)]) -> Settings<'a> {
        let pairs: Vec<env_file::Pair> = file
            .iter()
            .enumerate()
            .map(|(i, (name, value))| env_file::Pair {
                name: name.to_string(),
                value: value.to_string(),
                line: i + 1,
            })
            .collect();
        Settings {
            env,
            merged: expand::merge(&[&pairs], env).unwrap(),
            paths: vec!["app.env".into()],
            files: None,
        }
    }

    fn resolve_with(
        args: &[&str],
        env: &[(&str, &str)],
        file: &[(&str, &str)],
    ) -> Result<Config, Error> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |n: &str| env.get(n).cloned();
        let env = without_empty_optional(&lookup);
        resolve(&cli(args), &env, &settings_with(&env, file))
    }

    const KEY: (&str, &str) = ("INTERNAL_API_KEY", "k3y");

    #[test]
    fn jitter_and_slot_settings_follow_the_same_precedence() {
        let config = |args: &[&str], env: &[(&str, &str)], file: &[(&str, &str)]| {
            resolve_with(args, env, file).unwrap()
        };
        assert_eq!(config(&[], &[KEY], &[]).jitter, None);
        assert_eq!(config(&[], &[KEY], &[]).slot, None);
        let file = [
            ("OCD_CRON_JITTER", "30s"),
            ("OCD_CRON_JITTER_SEED", "file"),
            ("OCD_CRON_SLOT_PERIOD", "1h"),
        ];
        let from_file = config(&[], &[KEY], &file);
        let jitter = from_file.jitter.unwrap();
        assert_eq!(jitter.window, Duration::from_secs(30));
        assert_eq!(jitter.seed.as_deref(), Some("file"));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let slot = from_file.slot.unwrap();
        assert!(
            slot % 3600 == 0 && slot <= now && now - slot < 3600 + 5,
            "{slot}"
        );
        let env = [
            KEY,
            ("OCD_CRON_JITTER", "20s"),
            ("OCD_CRON_JITTER_SEED", "env"),
            ("OCD_CRON_SLOT_PERIOD", "60"),
            ("OCD_CRON_SCHEDULED_TIME", "2026-12-03T14:29:59Z"),
        ];
        let from_env = config(&[], &env, &file);
        let jitter = from_env.jitter.unwrap();
        assert_eq!(jitter.window, Duration::from_secs(20));
        assert_eq!(jitter.seed.as_deref(), Some("env"));
        assert_eq!(from_env.slot, Some(1_796_308_140)); // 14:29:00Z
        let flags = [
            "--jitter",
            "10s",
            "--jitter-seed",
            "flag",
            "--slot-period",
            "15m",
        ];
        let from_flags = config(&flags, &env, &file);
        let jitter = from_flags.jitter.unwrap();
        assert_eq!(jitter.window, Duration::from_secs(10));
        assert_eq!(jitter.seed.as_deref(), Some("flag"));
        assert_eq!(from_flags.slot, Some(1_796_307_300)); // 14:15:00Z
        // Empty is unset, as for every optional setting (a downward-API
        // annotation the Pod lacks).
        let empty = [KEY, ("OCD_CRON_SCHEDULED_TIME", "")];
        assert_eq!(config(&[], &empty, &[]).slot, None);
        // The scheduled time comes from the real environment only.
        let only_file = [("OCD_CRON_SCHEDULED_TIME", "2026-12-03T14:29:59Z")];
        assert_eq!(config(&[], &[KEY], &only_file).slot, None);
        // A health check answers now: it is no run of the job, which
        // alone waits.
        assert!(!config(&["--pending"], &env, &[]).mode.runs_the_job());
    }

    #[test]
    fn the_ping_timeout_follows_the_precedence_and_its_bounds() {
        let limit = |args: &[&str], env: &[(&str, &str)], file: &[(&str, &str)]| {
            resolve_with(args, env, file)
                .map(|c| c.ping_timeout)
                .map_err(|e| e.to_string())
        };
        assert_eq!(limit(&[], &[KEY], &[]), Ok(Duration::from_secs(10)));
        let file = [("OCD_CRON_PING_TIMEOUT", "30s")];
        assert_eq!(limit(&[], &[KEY], &file), Ok(Duration::from_secs(30)));
        let env = [KEY, ("OCD_CRON_PING_TIMEOUT", "1500ms")];
        assert_eq!(limit(&[], &env, &file), Ok(Duration::from_millis(1500)));
        let flag = ["--ping-timeout", "1m"];
        assert_eq!(limit(&flag, &env, &file), Ok(Duration::from_secs(60)));
        // Empty is unset, as for every optional setting.
        let empty = [KEY, ("OCD_CRON_PING_TIMEOUT", "")];
        assert_eq!(limit(&[], &empty, &[]), Ok(Duration::from_secs(10)));
        let error =
            |env: &[(&str, &str)], file: &[(&str, &str)]| limit(&[], env, file).unwrap_err();
        assert_eq!(
            error(&[KEY], &[("OCD_CRON_PING_TIMEOUT", "2m")]),
            "configuration: --ping-timeout / OCD_CRON_PING_TIMEOUT (from app.env line 1): \
             '2m' is longer than the maximum of 1m"
        );
        assert_eq!(
            error(&[KEY, ("OCD_CRON_PING_TIMEOUT", "0s")], &[]),
            "configuration: --ping-timeout / OCD_CRON_PING_TIMEOUT (from the environment): \
             '0s' is zero; the duration must be positive"
        );
    }

    #[test]
    fn the_trace_comes_from_traceparent_in_the_environment() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let config = resolve_with(&[], &[KEY, ("TRACEPARENT", parent)], &[]).unwrap();
        assert_eq!(config.trace.id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let file = [("TRACEPARENT", parent)];
        let config = resolve_with(&[], &[KEY, ("TRACEPARENT", "")], &file).unwrap();
        assert_ne!(config.trace.id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn precedence_is_flag_then_env_then_file_then_default() {
        let url = |args: &[&str], env: &[(&str, &str)], file: &[(&str, &str)]| {
            resolve_with(args, env, file).unwrap().url(Job::Rewards)
        };
        let path = "/api/training/calculate-pending";
        assert_eq!(
            url(&[], &[KEY], &[]),
            format!("http://localhost:3000{path}")
        );
        assert_eq!(
            url(&[], &[KEY], &[("API_BASE_URL", "http://file:1")]),
            format!("http://file:1{path}")
        );
        assert_eq!(
            url(
                &[],
                &[KEY, ("API_BASE_URL", "http://env:2")],
                &[("API_BASE_URL", "http://file:1")]
            ),
            format!("http://env:2{path}")
        );
        assert_eq!(
            url(
                &["--base-url", "http://flag:3"],
                &[KEY, ("API_BASE_URL", "http://env:2")],
                &[("API_BASE_URL", "http://file:1")]
            ),
            format!("http://flag:3{path}")
        );
    }

    #[test]
    fn origins_name_the_file_and_line_or_the_environment_and_say_what_expansion_did() {
        let config = resolve_with(
            &["--dry-run", "--ping-url", "https://hc-ping.com/x"],
            &[("INTERNAL_API_KEY", "k3y$x"), ("x", "-y")],
            &[
                ("API_BASE_URL", "http://h:1"),
                ("INTERNAL_API_KEY", "other"),
                ("OCD_CRON_PING_URL", "https://hc-ping.com/y"),
                ("OCD_CRON_METRICS_FILE", ""),
            ],
        )
        .unwrap();
        assert_eq!(config.key.expose(), "k3y-y");
        assert_eq!(
            config.origins,
            [
                "API_BASE_URL from app.env line 1",
                "INTERNAL_API_KEY from the environment, $ expanded as Next does because an env \
                 file sets it too",
            ]
        );
        let config = resolve_with(
            &["--dry-run"],
            &[("B", "b")],
            &[("INTERNAL_API_KEY", "k3y-$B")],
        )
        .unwrap();
        assert_eq!(
            config.origins,
            ["INTERNAL_API_KEY from app.env line 1, $ expanded as Next does"]
        );
        let config = resolve_with(&["--dry-run"], &[("INTERNAL_API_KEY", "k3y")], &[]).unwrap();
        assert_eq!(config.origins, ["INTERNAL_API_KEY from the environment"]);
        // Not worth building for a run that shows none.
        let config = resolve_with(&[], &[("INTERNAL_API_KEY", "k3y")], &[]).unwrap();
        assert!(config.origins.is_empty());
    }

    #[test]
    fn more_monitors_than_the_cap_are_refused() {
        let list = |n: usize| {
            (0..n)
                .map(|i| format!("https://hc-ping.com/check-{i}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let at_cap = list(MAX_MONITORS);
        let config = resolve_with(&[], &[KEY, ("OCD_CRON_PING_URL", &at_cap)], &[]).unwrap();
        assert_eq!(config.monitors.len(), MAX_MONITORS);
        let over = list(1000);
        let msg = match resolve_with(&[], &[KEY, ("OCD_CRON_PING_URL", &over)], &[]) {
            Err(Error::Config(msg)) => msg,
            _ => panic!("1000 monitors accepted"),
        };
        assert!(
            msg.contains("names 1000 monitors, more than the 16"),
            "{msg}"
        );
    }

    #[test]
    fn a_configuration_error_is_pinged_to_each_usable_monitor_up_to_the_cap() {
        let usable = |list: &str| {
            let env = |n: &str| match n {
                "OCD_CRON_PING_URL" => Some(list.to_owned()),
                "INTERNAL_API_KEY" => Some("k3y-k3y-k3y".to_owned()),
                _ => None,
            };
            let key = Secret::new("k3y-k3y-k3y".into());
            usable_monitors(&cli(&[]), &env, &settings_with(&env, &[]), Some(&key))
                .iter()
                .map(|m| m.address())
                .collect::<Vec<_>>()
        };
        let list = |n: usize| {
            (0..n)
                .map(|i| format!("http://10.0.0.{i}/ping"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(usable(&list(MAX_MONITORS)).len(), MAX_MONITORS);
        assert!(usable(&list(MAX_MONITORS + 1)).is_empty());
        // One entry spelling the key and one that is no URL: both left out,
        // the others still pinged.
        let shown = usable("http://10.0.0.1/k3y-k3y-k3y,not a url,http://10.0.0.2/p");
        assert_eq!(shown, ["10.0.0.2:80"]);
    }

    #[test]
    fn a_pending_check_pings_nobody_but_its_ping_urls_are_still_checked() {
        let ping = ("OCD_CRON_PING_URL", "https://hc-ping.com/abc");
        let config = resolve_with(&["--pending"], &[KEY, ping], &[]).unwrap();
        assert!(!config.mode.runs_the_job(), "only a run of the job pings");
        assert_eq!(config.monitors.len(), 1);
        let config = resolve_with(&[], &[KEY, ping], &[]).unwrap();
        assert!(config.mode.runs_the_job());
        assert_eq!(config.monitors.len(), 1);
        let bad = ("OCD_CRON_PING_URL", "ftp://hc-ping.com/abc");
        assert!(matches!(
            resolve_with(&["--pending"], &[KEY, bad], &[]),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn a_url_setting_that_spells_the_key_is_refused() {
        for (args, env, what) in [
            (vec!["--base-url", "http://ocd/k3y"], vec![], "--base-url"),
            (
                vec![],
                vec![("OCD_CRON_PING_URL", "http://hc/k3y")],
                "--ping-url / OCD_CRON_PING_URL",
            ),
        ] {
            let mut all = vec![KEY];
            all.extend_from_slice(&env);
            match resolve_with(&args, &all, &[]) {
                Err(Error::Config(msg)) => assert!(
                    msg.starts_with(what) && msg.contains("contains the API key"),
                    "{msg}"
                ),
                other => panic!("{what}: {:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn ping_urls_are_lists_and_flags_replace_the_variable() {
        let hosts = |args: &[&str], env: &[(&str, &str)], file: &[(&str, &str)]| {
            let mut all = vec![KEY];
            all.extend_from_slice(env);
            let config = resolve_with(args, &all, file).unwrap();
            config
                .monitors
                .iter()
                .map(|m| m.address())
                .collect::<Vec<_>>()
        };
        let list = ("OCD_CRON_PING_URL", "http://a/1, http://b/2\nhttp://a/3");
        assert_eq!(hosts(&[], &[list], &[]), ["a:80", "b:80", "a:80"]);
        assert_eq!(
            hosts(&[], &[], &[list]),
            ["a:80", "b:80", "a:80"],
            "from the env file"
        );
        let flags = [
            "--ping-url",
            "http://b/1",
            "--ping-url",
            "http://a/2,http://b/3",
        ];
        assert_eq!(
            hosts(&flags, &[list], &[]),
            ["b:80", "a:80", "b:80"],
            "flags replace the variable"
        );
        assert_eq!(
            hosts(&[], &[("OCD_CRON_PING_URL", "http://b/9")], &[list]),
            ["b:80"],
            "the environment replaces the env file"
        );

        let refused = |args: &[&str], env: &[(&str, &str)]| {
            let mut all = vec![KEY];
            all.extend_from_slice(env);
            match resolve_with(args, &all, &[]) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted {args:?} {env:?}"),
            }
        };
        let error = refused(
            &[],
            &[("OCD_CRON_PING_URL", "http://a/1 pingdom+http://a/2")],
        );
        assert!(
            error.contains("--ping-url / OCD_CRON_PING_URL (from the environment), entry 2 of 2, names the monitor kind 'pingdom'"),
            "{error}"
        );
        let error = refused(&["--ping-url", ""], &[]);
        assert!(
            error.contains(
                "--ping-url / OCD_CRON_PING_URL (from the command line) is not an absolute URL"
            ),
            "{error}"
        );
        let error = refused(&["--ping-url", " , "], &[]);
        assert!(
            error.contains("(from the command line) contains white space"),
            "{error}"
        );
    }

    #[test]
    fn empty_optional_settings_mean_unset() {
        let empty = [
            ("API_BASE_URL", ""),
            ("OCD_CRON_PING_URL", ""),
            ("OCD_CRON_METRICS_FILE", ""),
            ("OCD_CRON_CA_CERT", ""),
        ];
        let c = resolve_with(&[], &[KEY], &empty).unwrap();
        assert_eq!(
            c.url(Job::Rewards),
            "http://localhost:3000/api/training/calculate-pending"
        );
        assert!(c.monitors.is_empty() && c.metrics_file.is_none() && c.ca_certs.is_none());
        let mut env = empty.to_vec();
        env.push(KEY);
        let c = resolve_with(&[], &env, &[("API_BASE_URL", "http://file:1")]).unwrap();
        assert_eq!(
            c.api.host, "file",
            "an empty variable does not hide the file's"
        );
        let err = resolve_with(&[], &[("INTERNAL_API_KEY", "")], &[])
            .err()
            .unwrap();
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[test]
    fn path_prefix_is_joined_without_double_slash() {
        for base in ["https://h/ocd", "https://h/ocd/", "https://h/ocd//"] {
            let c = resolve_with(&["--base-url", base, "--job", "outcomes"], &[KEY], &[]).unwrap();
            assert_eq!(
                c.url(Job::Outcomes),
                "https://h/ocd/api/training/outcomes",
                "{base}"
            );
        }
        let c = resolve_with(&["--base-url", "http://[::1]:8080/"], &[KEY], &[]).unwrap();
        assert_eq!(
            c.url(Job::Rewards),
            "http://[::1]:8080/api/training/calculate-pending"
        );
        assert_eq!(c.api.host, "::1");
    }

    #[test]
    fn proxy_follows_curl_rules() {
        let c = resolve_with(&[], &[KEY, ("HTTPS_PROXY", "http://127.0.0.1:9")], &[]).unwrap();
        assert!(c.api.proxy.is_none(), "HTTPS_PROXY must not capture http");
        let c = resolve_with(&[], &[KEY, ("http_proxy", "http://127.0.0.1:9")], &[]).unwrap();
        assert_eq!(c.api.proxy.unwrap().port(), 9);
    }

    #[test]
    fn plain_http_warns_only_off_the_machine() {
        let warned = |url: &str| {
            let config = resolve_with(&["--base-url", url], &[KEY], &[]).unwrap();
            assert!(config.warnings.is_empty(), "not in every run");
            !config.dry_run_warnings.is_empty()
        };
        assert!(!warned("http://localhost:3000"));
        assert!(!warned("http://127.0.0.1:3000"));
        assert!(!warned("http://[::1]:3000"));
        assert!(!warned("https://ocd.example.com"));
        assert!(warned("http://ocd.example.com"));
        assert!(warned("http://10.0.0.5:3000"));
    }

    #[test]
    fn plain_http_through_a_remote_proxy_warns_whatever_the_host() {
        let warning = |url: &str, proxy: &'static str| {
            resolve_with(
                &["--base-url", url],
                &[KEY, ("http_proxy", proxy), ("https_proxy", proxy)],
                &[],
            )
            .unwrap()
            .dry_run_warnings
            .join("\n")
        };
        let remote = warning("http://localhost:3000", "http://10.0.0.9:3128");
        assert!(
            remote.contains("unencrypted over http through the proxy 10.0.0.9:3128 to localhost"),
            "{remote}"
        );
        assert!(
            warning("http://ocd.internal", "http://proxy.example:3128")
                .contains("through the proxy proxy.example:3128")
        );
        // Inside TLS the proxy sees only the CONNECT.
        assert_eq!(
            warning("https://ocd.example.com", "http://10.0.0.9:3128"),
            ""
        );
        // A proxy on this machine: only the host decides.
        assert_eq!(
            warning("http://localhost:3000", "http://127.0.0.1:3128"),
            ""
        );
        assert!(!warning("http://ocd.internal", "http://127.0.0.1:3128").contains("proxy"));
        assert!(!warning("http://ocd.internal", "http://127.0.0.1:3128").is_empty());
        // An https proxy is reached over TLS; the proxy itself is trusted.
        assert_eq!(
            warning("http://localhost:3000", "https://10.0.0.9:3129"),
            ""
        );
    }

    #[test]
    fn the_metrics_file_goes_into_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_metrics_dir(&dir.path().join("ocd.prom")).is_ok());
        // No directory part: the working directory, which exists.
        assert!(check_metrics_dir(Path::new("ocd.prom")).is_ok());
        for bad in [dir.path().join("nope/ocd.prom"), dir.path().join("..")] {
            let error = check_metrics_dir(&bad).unwrap_err().to_string();
            assert!(error.contains("the directory does not exist"), "{error}");
        }
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        fn table(pairs: &[(&str, String)]) -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        }

        proptest! {
            /// Any base URL, ping URL, proxy variable and no_proxy list,
            /// from flags, environment or env file: a configuration or a
            /// configuration error, never a panic.
            #[test]
            fn any_urls_and_proxy_variables_resolve_or_are_refused(
                base in ".*",
                base_like in "(https?|HTTP|ftp)://(\\[[0-9a-f:]{0,12}\\]|[a-z0-9.@-]{0,12})(:[0-9]{0,7})?(/[^ ]{0,12})?",
                proxy in "(https?|socks5?|socks4a)?(://)?[a-z0-9.:@\\[\\]-]{0,20}(/.{0,5})?",
                no_proxy in "([*.a-z0-9:/\\[\\]-]{0,16}[, ]?){0,4}",
                timeout in ".{0,12}",
            ) {
                for base in [base, base_like] {
                    let env = table(&[
                        ("INTERNAL_API_KEY", "k3y".into()),
                        ("http_proxy", proxy.clone()),
                        ("https_proxy", proxy.clone()),
                        ("ALL_PROXY", proxy.clone()),
                        ("no_proxy", no_proxy.clone()),
                        ("OCD_CRON_PING_URL", base.clone()),
                    ]);
                    let lookup = |n: &str| env.get(n).cloned();
                    let file = settings_with(&lookup, &[("API_BASE_URL", &base)]);
                    let _ = resolve(&cli(&[]), &lookup, &file);
                    if let Ok(cli) = Cli::try_parse_from([
                        "ocd-cron", "--job", "rewards", "--base-url", &base, "--timeout", &timeout,
                    ]) {
                        let _ = resolve(&cli, &lookup, &file);
                    }
                    let _ = crate::proxy::select("http", &base, &lookup);
                }
            }

            /// Any bytes as an env file: values, or a refused expansion
            /// naming a line of it; never a panic.
            #[test]
            fn any_env_file_reads_or_is_refused(
                bytes in proptest::collection::vec(any::<u8>(), 0..400),
                lines in "([A-Z_]{0,8}(=|: )?[\"'`$\\{}a-z #=]{0,12}\n?){0,6}",
            ) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("env");
                for content in [bytes, lines.into_bytes()] {
                    std::fs::write(&path, &content).unwrap();
                    let files = env_file::read(&env_file::Place::File(path.clone()), false).unwrap();
                    let pairs: Vec<_> = files.read.iter().map(|f| f.pairs.as_slice()).collect();
                    if let Err(failure) = expand::merge(&pairs, &|_| None) {
                        let lines = 1 + content.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
                        prop_assert!(failure.line >= 1 && failure.line <= lines);
                    }
                }
            }
        }
    }
}
