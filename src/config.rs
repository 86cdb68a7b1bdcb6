//! Raw flags + environment + env file → a checked [`Config`].
//!
//! Everything that can be wrong with the configuration is found here, before
//! any socket is opened: a run with a bad key or URL must send nothing. The
//! precedence (flag > real environment > env file > default) lives in
//! [`resolve`] and nowhere else. Error messages name both the flag and the
//! variable, and say where a bad value came from, but never echo the key.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::tls::{Certificate, PemItem};

use crate::cli::{Cli, Output};
use crate::error::Error;
use crate::job::{self, Job, Selection};
use crate::proxy;

/// Where the base URL comes from when nothing sets it.
pub const DEFAULT_BASE_URL: &str = "http://localhost:3000";

/// The env file read when `--env-file` is not given; a missing one is fine.
pub const DEFAULT_ENV_FILE: &str = ".env";

/// Values the OCD documentation uses as examples. A key still set to one of
/// them is a deployment that was never finished, not a secret.
const PLACEHOLDER_KEYS: &[&str] = &[
    "your-secret-api-key-here",
    "your-secret-key",
    "change-me-in-production",
];

/// The API key. It cannot be printed by accident: `Debug` and `Display` show
/// `(redacted)`, and the only way to the value is [`Secret::expose`], used
/// once, where the header is set.
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// A configuration that has passed every check.
pub struct Config {
    /// What `--job` said, for log lines about the whole run.
    pub selection: Selection,
    /// The jobs to run, in order.
    pub jobs: Vec<Job>,
    pub mode: Mode,
    pub dry_run: bool,
    pub output: Output,
    /// Where the OCD app listens.
    pub api: Target,
    pub key: Secret,
    pub body: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retries: u32,
    pub max_item_errors: u64,
    /// `--ca-cert`: trust exactly these CAs instead of the system store.
    pub ca_certs: Option<Vec<Certificate<'static>>>,
    pub lock_file: Option<PathBuf>,
    /// The healthchecks-style ping endpoint, if any.
    pub ping: Option<Target>,
    pub metrics_file: Option<PathBuf>,
    /// Things worth an operator's attention that do not stop the run.
    pub warnings: Vec<String>,
}

impl Config {
    /// The endpoint of `job`, base URL and path prefix included.
    pub fn url(&self, job: Job) -> String {
        self.api.url(job.path())
    }
}

/// Run the job, or only ask how much is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Run,
    Pending { max: Option<u64> },
}

/// A checked base URL, and the proxy that reaches it.
#[derive(Clone, Debug)]
pub struct Target {
    /// `scheme://authority/prefix`, without a trailing slash.
    pub base: String,
    pub scheme: String,
    /// Without IPv6 brackets, lower case.
    pub host: String,
    /// The proxy chosen by curl's rules, already parsed.
    pub proxy: Option<ureq::Proxy>,
}

impl Target {
    /// The base joined with `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Reads a variable by name: the real environment in production, a table in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where a setting's value came from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Flag,
    Environment,
    EnvFile,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flag => "from the command line",
            Source::Environment => "from the environment",
            Source::EnvFile => "from the env file",
            Source::Default => "the default",
        })
    }
}

/// Reads the env file and the real environment, then resolves.
pub fn load(cli: &Cli) -> Result<Config, Error> {
    let file = read_env_file(cli.env_file.as_deref())?;
    let mut config = resolve(cli, &real_env, &file)?;
    if file.contains_key("INTERNAL_API_KEY") {
        let path = cli
            .env_file
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_ENV_FILE));
        config.warnings.extend(readable_by_others(path, "env file"));
    }
    Ok(config)
}

/// Only the ping target, for reporting a configuration error to the dead-man
/// switch when the rest of the configuration is unusable.
pub fn load_ping(cli: &Cli) -> Option<Target> {
    let file = read_env_file(cli.env_file.as_deref()).ok()?;
    resolve_ping(cli, &real_env, &file).ok().flatten()
}

fn real_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Applies precedence and validates: flag > `env` > `file` > default.
pub fn resolve(cli: &Cli, env: Lookup, file: &HashMap<String, String>) -> Result<Config, Error> {
    let lookup = |name: &str| setting(name, env, file);

    let mut warnings = Vec::new();
    let key = resolve_key(env, file, &mut warnings)?;

    let (base, source) = match &cli.base_url {
        Some(url) => (url.clone(), Source::Flag),
        None => lookup("API_BASE_URL").unwrap_or((DEFAULT_BASE_URL.into(), Source::Default)),
    };
    let api = target(&base, &format!("--base-url / API_BASE_URL ({source})"), env)?;
    if api.scheme == "http" && !is_loopback(&api.host) {
        warnings.push(format!(
            "the key travels unencrypted over http to {}; use an https URL in --base-url / API_BASE_URL",
            api.host
        ));
    }

    let ca_certs = match &cli.ca_cert {
        Some(path) => Some(read_ca_bundle(path)?),
        None => match lookup("OCD_CRON_CA_CERT") {
            Some((path, _)) => Some(read_ca_bundle(Path::new(&path))?),
            None => None,
        },
    };

    let metrics_file = match &cli.metrics_file {
        Some(path) => Some(path.clone()),
        None => lookup("OCD_CRON_METRICS_FILE").map(|(path, _)| PathBuf::from(path)),
    };
    if let Some(path) = &metrics_file {
        check_metrics_dir(path)?;
    }

    Ok(Config {
        selection: cli.job,
        jobs: cli.job.jobs(),
        mode: if cli.pending {
            Mode::Pending {
                max: cli.max_pending,
            }
        } else {
            Mode::Run
        },
        dry_run: cli.dry_run,
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
        ping: resolve_ping(cli, env, file)?,
        metrics_file,
        warnings,
    })
}

/// A variable from the real environment, else the env file, with its source.
fn setting(name: &str, env: Lookup, file: &HashMap<String, String>) -> Option<(String, Source)> {
    env(name)
        .map(|v| (v, Source::Environment))
        .or_else(|| file.get(name).map(|v| (v.clone(), Source::EnvFile)))
}

/// `--ping-url` > `OCD_CRON_PING_URL`, checked like the base URL.
fn resolve_ping(
    cli: &Cli,
    env: Lookup,
    file: &HashMap<String, String>,
) -> Result<Option<Target>, Error> {
    let value = match &cli.ping_url {
        Some(url) => Some((url.clone(), Source::Flag)),
        None => setting("OCD_CRON_PING_URL", env, file),
    };
    value
        .map(|(url, source)| {
            target(
                &url,
                &format!("--ping-url / OCD_CRON_PING_URL ({source})"),
                env,
            )
        })
        .transpose()
}

/// The metrics file is written next to itself (then renamed), so its
/// directory must exist; finding out after the job ran would lose the run.
fn check_metrics_dir(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if path.file_name().is_none() || !dir.is_dir() {
        return Err(Error::Config(format!(
            "--metrics-file / OCD_CRON_METRICS_FILE {}: the directory does not exist; \
             point it into the node_exporter textfile directory",
            path.display()
        )));
    }
    Ok(())
}

/// Checks a base URL and picks its proxy; `what` names the setting in errors.
fn target(value: &str, what: &str, env: Lookup) -> Result<Target, Error> {
    let (base, scheme, host) = parse_base(value).map_err(|why| {
        Error::Config(format!(
            "{what} {why}; expected an absolute URL such as \
             https://ocd.example.com or http://localhost:3000/prefix"
        ))
    })?;
    // Proxy variables are read from the real environment only: they belong
    // to the machine, not to the app's .env, and curl reads them the same way.
    let proxy = match proxy::select(&scheme, &host, env) {
        None => None,
        Some(choice) => Some(ureq::Proxy::new(&choice.url).map_err(|_| {
            Error::Config(format!(
                "{} is not a valid proxy URL; expected http://host:port",
                choice.variable
            ))
        })?),
    };
    Ok(Target {
        base,
        scheme,
        host,
        proxy,
    })
}

/// The key from `INTERNAL_API_KEY` or the file named by
/// `INTERNAL_API_KEY_FILE`. The real environment is consulted first, then
/// the env file, so a unit's `INTERNAL_API_KEY_FILE` wins over the app's
/// `.env`; one source setting both is ambiguous and refused.
fn resolve_key(
    env: Lookup,
    file: &HashMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Secret, Error> {
    let sources: [(Source, Lookup); 2] = [
        (Source::Environment, env),
        (Source::EnvFile, &|name| file.get(name).cloned()),
    ];
    for (source, get) in sources {
        match (get("INTERNAL_API_KEY"), get("INTERNAL_API_KEY_FILE")) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(format!(
                    "both INTERNAL_API_KEY and INTERNAL_API_KEY_FILE are set ({source}); \
                     drop one of them (keep INTERNAL_API_KEY_FILE for a mounted secret)"
                )));
            }
            (Some(value), None) => {
                return check_key(value, &format!("INTERNAL_API_KEY ({source})"));
            }
            (None, Some(path)) => {
                let label = format!("the key in INTERNAL_API_KEY_FILE {path}");
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::Config(format!(
                        "INTERNAL_API_KEY_FILE {path} ({source}) cannot be read ({e}); \
                         check the path and that this user may read it"
                    ))
                })?;
                warnings.extend(readable_by_others(Path::new(&path), "key file"));
                return check_key(text.trim_end_matches(['\n', '\r']).to_owned(), &label);
            }
            (None, None) => {}
        }
    }
    Err(Error::Config(
        "INTERNAL_API_KEY is not set; put it in the environment or in the env file \
         (./.env, or the file named by --env-file), or name a file holding it in \
         INTERNAL_API_KEY_FILE"
            .into(),
    ))
}

/// A warning if the key in `path` can be read by other users: the file is
/// readable by others, or by a group this process is not in. A group of our
/// own (Kubernetes' `fsGroup`, a service's group) is the intended reader.
fn readable_by_others(path: &Path, what: &str) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.permissions().mode() & 0o777;
    let by_others = mode & 0o004 != 0;
    let by_foreign_group = mode & 0o040 != 0 && !in_own_groups(meta.gid());
    (by_others || by_foreign_group).then(|| {
        format!(
            "{what} {} holds the key and is readable by group or others (mode {mode:04o}); chmod 600 it",
            path.display()
        )
    })
}

/// Whether `gid` is this process's effective group or a supplementary one.
fn in_own_groups(gid: u32) -> bool {
    // SAFETY: getegid cannot fail; getgroups is given a buffer of the size
    // it reported and returns how many entries it filled.
    unsafe {
        if libc::getegid() == gid {
            return true;
        }
        let count = libc::getgroups(0, std::ptr::null_mut());
        if count <= 0 {
            return false;
        }
        let mut groups = vec![0 as libc::gid_t; count as usize];
        let filled = libc::getgroups(count, groups.as_mut_ptr());
        filled > 0 && groups[..filled as usize].contains(&gid)
    }
}

/// Loopback hosts, where plain http never leaves the machine.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The certificates of a PEM bundle; anything else in it is ignored.
fn read_ca_bundle(path: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let fail = |why: String| {
        Error::Config(format!(
            "--ca-cert / OCD_CRON_CA_CERT {} {why}; it must be a PEM file of CA certificates",
            path.display()
        ))
    };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot be read ({e})")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(_) => return Err(fail("is not valid PEM".into())),
        }
    }
    if certs.is_empty() {
        return Err(fail("contains no certificate".into()));
    }
    Ok(certs)
}

/// Rejects a key that cannot work, without ever quoting it. `label` says
/// where it came from.
fn check_key(value: String, label: &str) -> Result<Secret, Error> {
    let problem = if value.is_empty() {
        Some("is empty")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some(
            "contains a character that is not visible ASCII (a space, a line break, a control or non-ASCII character)",
        )
    } else if PLACEHOLDER_KEYS.contains(&value.as_str()) {
        Some("is still a placeholder from the OCD documentation")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::Config(format!(
            "{label} {problem}; set it to the key the OCD server has in its INTERNAL_API_KEY"
        ))),
        None => Ok(Secret(value)),
    }
}

/// Checks a base URL (which may carry a path prefix) and splits off what the
/// rest of the tool needs: the base without a trailing slash, the scheme, and
/// the host without IPv6 brackets. The error completes "API_BASE_URL …".
fn parse_base(base: &str) -> Result<(String, String, String), String> {
    if base.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains white space or control characters".into());
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err("is not an absolute URL (it must start with http:// or https://)".into());
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "has scheme '{scheme}'; only http and https are supported"
        ));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err("has a query or fragment".into());
    }
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(
            "has credentials in it; the key goes in INTERNAL_API_KEY, nothing else is sent".into(),
        );
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("has an unclosed IPv6 bracket")?;
        match (after, after.strip_prefix(':')) {
            ("", _) => (host, None),
            (_, Some(port)) => (host, Some(port)),
            (_, None) => return Err("has an invalid port".into()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err("has an invalid port".into());
    }
    let base = format!("{scheme}://{authority}{}", prefix.trim_end_matches('/'));
    // Every path joined to it later starts with a plain ASCII segment.
    if format!("{base}/x").parse::<ureq::http::Uri>().is_err() {
        return Err("is not a valid URL".into());
    }
    Ok((base, scheme, host.to_ascii_lowercase()))
}

/// Reads `KEY=value` pairs from the env file without touching the process
/// environment. `--env-file` must exist; the default `./.env` may not.
pub fn read_env_file(explicit: Option<&Path>) -> Result<HashMap<String, String>, Error> {
    let path = explicit.unwrap_or(Path::new(DEFAULT_ENV_FILE));
    let fail = |why: String| {
        Error::Config(format!(
            "env file {} {why}; fix it or point --env-file at another file",
            path.display()
        ))
    };
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e))
            if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(HashMap::new());
        }
        Err(dotenvy::Error::Io(e)) => return Err(fail(format!("cannot be read ({e})"))),
        Err(e) => return Err(fail(format!("cannot be read ({e})"))),
    };
    let mut values = HashMap::new();
    for item in iter {
        match item {
            Ok((name, value)) => {
                values.insert(name, value);
            }
            // The parser hands back the offending line, which may hold the
            // key: only its number is reported.
            Err(dotenvy::Error::LineParse(line, _)) => {
                return Err(fail(format!(
                    "is malformed at {}",
                    line_number(path, &line).map_or("a line".into(), |n| format!("line {n}"))
                )));
            }
            Err(dotenvy::Error::Io(e)) => return Err(fail(format!("cannot be read ({e})"))),
            Err(_) => return Err(fail("cannot be parsed".into())),
        }
    }
    Ok(values)
}

/// The 1-based number of the line where `needle` starts in the file.
fn line_number(path: &Path, needle: &str) -> Option<usize> {
    let content = std::fs::read_to_string(path).ok()?;
    let at = content.find(needle.lines().next().unwrap_or(needle))?;
    Some(content[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["ocd-cron"];
        if !args.contains(&"--job") {
            argv.extend(["--job", "rewards"]);
        }
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap()
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
        let file: HashMap<String, String> = file
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(&cli(args), &|n| env.get(n).cloned(), &file)
    }

    fn config_error(result: Result<Config, Error>) -> String {
        match result {
            Err(Error::Config(msg)) => msg,
            Err(other) => panic!("expected a config error, got {other}"),
            Ok(_) => panic!("expected a config error, got a config"),
        }
    }

    const KEY: (&str, &str) = ("INTERNAL_API_KEY", "k3y");

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
    fn key_from_file_and_env_beats_file() {
        let from_file = resolve_with(&[], &[], &[("INTERNAL_API_KEY", "filekey")]).unwrap();
        assert_eq!(from_file.key.expose(), "filekey");
        let from_env = resolve_with(&[], &[KEY], &[("INTERNAL_API_KEY", "filekey")]).unwrap();
        assert_eq!(from_env.key.expose(), "k3y");
    }

    #[test]
    fn rejects_bad_keys_without_quoting_them() {
        assert!(config_error(resolve_with(&[], &[], &[])).contains("INTERNAL_API_KEY is not set"));
        for (bad, says) in [
            ("", "is empty"),
            ("abc def", "not visible ASCII"),
            ("abc\r\nx-evil: 1", "not visible ASCII"),
            ("clé", "not visible ASCII"),
            ("your-secret-api-key-here", "placeholder"),
            ("your-secret-key", "placeholder"),
            ("change-me-in-production", "placeholder"),
        ] {
            let msg = config_error(resolve_with(&[], &[("INTERNAL_API_KEY", bad)], &[]));
            assert!(msg.contains(says), "{bad:?}: {msg}");
            if bad.len() > 3 && !says.contains("placeholder") {
                assert!(!msg.contains(bad), "key leaked: {msg}");
            }
        }
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
    fn rejects_bad_base_urls() {
        for (bad, says) in [
            ("localhost:3000", "must start with http:// or https://"),
            ("example.com", "not an absolute URL"),
            ("ftp://h", "scheme 'ftp'"),
            ("http://", "no host"),
            ("http://user:pw@h", "credentials"),
            ("http://h/?a=1", "query or fragment"),
            ("http://h/#x", "query or fragment"),
            ("http://h:99999", "invalid port"),
            ("http://h:", "invalid port"),
            ("http://h :1", "white space"),
            ("http://[::1", "unclosed IPv6"),
        ] {
            let msg = config_error(resolve_with(&["--base-url", bad], &[KEY], &[]));
            assert!(msg.contains(says), "{bad:?}: {msg}");
            assert!(msg.contains("--base-url / API_BASE_URL"), "{msg}");
        }
    }

    #[test]
    fn proxy_follows_curl_rules() {
        let c = resolve_with(&[], &[KEY, ("HTTPS_PROXY", "http://127.0.0.1:9")], &[]).unwrap();
        assert!(c.api.proxy.is_none(), "HTTPS_PROXY must not capture http");
        let c = resolve_with(&[], &[KEY, ("http_proxy", "http://127.0.0.1:9")], &[]).unwrap();
        assert_eq!(c.api.proxy.unwrap().port(), 9);
    }

    #[test]
    fn env_file_line_numbers_do_not_quote_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\n# comment\nINTERNAL_API_KEY='s3cr3t\n").unwrap();
        let err = read_env_file(Some(&path)).err().unwrap().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn explicit_env_file_must_exist_default_may_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = read_env_file(Some(&missing)).err().unwrap();
        assert_eq!(err.exit_code(), 78);
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn key_file_in_the_environment_beats_a_key_in_the_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "from-file\r\n").unwrap();
        let path = key_file.to_str().unwrap();
        let c = resolve_with(
            &[],
            &[("INTERNAL_API_KEY_FILE", path)],
            &[("INTERNAL_API_KEY", "dotenv-key")],
        )
        .unwrap();
        assert_eq!(c.key.expose(), "from-file");
        let msg = config_error(resolve_with(
            &[],
            &[],
            &[("INTERNAL_API_KEY", "a"), ("INTERNAL_API_KEY_FILE", path)],
        ));
        assert!(
            msg.contains(
                "both INTERNAL_API_KEY and INTERNAL_API_KEY_FILE are set (from the env file)"
            ),
            "{msg}"
        );
        std::fs::write(&key_file, "your-secret-key\n").unwrap();
        let msg = config_error(resolve_with(&[], &[("INTERNAL_API_KEY_FILE", path)], &[]));
        assert!(msg.contains("the key in INTERNAL_API_KEY_FILE"), "{msg}");
        assert!(msg.contains("placeholder"), "{msg}");
    }

    #[test]
    fn plain_http_warns_only_off_the_machine() {
        let warned = |url: &str| {
            !resolve_with(&["--base-url", url], &[KEY], &[])
                .unwrap()
                .warnings
                .is_empty()
        };
        assert!(!warned("http://localhost:3000"));
        assert!(!warned("http://127.0.0.1:3000"));
        assert!(!warned("http://[::1]:3000"));
        assert!(!warned("https://ocd.example.com"));
        assert!(warned("http://ocd.example.com"));
        assert!(warned("http://10.0.0.5:3000"));
    }
}
