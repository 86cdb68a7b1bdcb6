//! The deployment recipes we ship are accepted by the real binary: every
//! `ocd-cron` command line in crontab.example, the systemd units, the
//! Kubernetes manifest and the CI workflow runs with `--dry-run`, its paths
//! swapped for temporary files. The units also pass `systemd-analyze verify`
//! where that tool exists, and the health-check script is run for real.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{KEY, Server, repo_file, respond};

const BINARY: &str = env!("CARGO_BIN_EXE_ocd-cron");

/// A private directory with a key file and an env file holding the key.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [
            ("internal-api-key", format!("{KEY}\n")),
            (
                "env",
                format!("INTERNAL_API_KEY={KEY}\nAPI_BASE_URL=https://ocd.example.com\n"),
            ),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        // An app's directory whose .env.local holds the key.
        let app = dir.path().join("app");
        std::fs::create_dir(&app).unwrap();
        std::fs::copy(dir.path().join("env"), app.join(".env.local")).unwrap();
        Files { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    /// Replaces absolute paths in an argument by files in this directory.
    fn swap(&self, arg: &str) -> String {
        match arg.split_once('=') {
            Some((flag @ "--env-file", _)) => format!("{flag}={}", self.path("env")),
            Some((flag @ "--app-dir", _)) => format!("{flag}={}", self.path("app")),
            Some((flag @ ("--lock-file" | "--metrics-file"), _)) => {
                format!("{flag}={}", self.path(flag.trim_start_matches("--")))
            }
            _ => arg.to_owned(),
        }
    }
}

/// Runs the binary with `--dry-run` added and asserts it accepted the line.
fn accepts(origin: &str, args: &[String], env: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(args)
        .arg("--dry-run")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{origin}: {args:?} was refused:\n{stderr}"
    );
    assert!(
        stdout.contains("POST ") || stdout.contains("\"mode\":\"dry-run\""),
        "{origin}: {stdout}"
    );
    assert!(
        !stderr.contains("WARN"),
        "{origin}: the recipe draws a warning:\n{stderr}"
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
}

/// The words of a command line from `ocd-cron` up to a redirection.
fn command_words(line: &str) -> Option<Vec<&str>> {
    let start = line
        .find("/usr/local/bin/ocd-cron")
        .or_else(|| line.find("ocd-cron --"))?;
    Some(
        line[start..]
            .split_whitespace()
            .skip(1)
            .take_while(|w| !w.starts_with(">>") && !w.starts_with("2>"))
            .collect(),
    )
}

#[test]
fn crontab_lines_are_accepted() {
    let files = Files::new();
    let lines: Vec<_> = repo_file("crontab.example")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2, "rewards and outcomes");
    for line in &lines {
        let args: Vec<String> = command_words(line)
            .unwrap()
            .iter()
            .map(|w| files.swap(w))
            .collect();
        accepts("crontab.example", &args, &[]);
    }
}

/// `Environment=NAME=value` lines of a unit, `%d` and `%i` expanded.
fn unit_env(unit: &str, files: &Files, instance: &str) -> Vec<(String, String)> {
    unit.lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v
                .replace("%d", files.dir.path().to_str().unwrap())
                .replace("%i", instance);
            (k.to_owned(), v)
        })
        .collect()
}

#[test]
fn systemd_units_are_accepted_and_verify() {
    let files = Files::new();
    let unit = repo_file("examples/systemd/ocd-cron@.service");
    let exec: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("ExecStart="))
        .collect();
    assert_eq!(exec.len(), 1);
    for instance in ["rewards", "outcomes"] {
        let args: Vec<String> = command_words(exec[0])
            .unwrap()
            .iter()
            .map(|w| files.swap(&w.replace("%i", instance)))
            .collect();
        accepts(
            "ocd-cron@.service",
            &args,
            &unit_env(&unit, &files, instance),
        );
    }

    let Some(analyze) = which("systemd-analyze") else {
        eprintln!("SKIPPED systemd-analyze verify: systemd-analyze is not installed");
        return;
    };
    // Verify copies whose ExecStart names the binary just built (verify
    // checks that the command exists).
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for name in [
        "ocd-cron@.service",
        "ocd-cron-rewards.timer",
        "ocd-cron-outcomes.timer",
    ] {
        let text = repo_file(&format!("examples/systemd/{name}"))
            .replace("/usr/local/bin/ocd-cron", BINARY);
        std::fs::write(dir.path().join(name), text).unwrap();
        names.push(format!("./{name}"));
    }
    names.push("./ocd-cron@rewards.service".into());
    let output = Command::new(analyze)
        .args(["verify", "--man=no"])
        .args(&names)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    // verify reports unknown settings as warnings but still exits 0.
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze verify complained:\n{stderr}"
    );
}

/// `command:` + `args:` flow sequences and `name:`/`value:` env pairs of a
/// container in the manifest.
#[test]
fn kubernetes_cronjobs_are_accepted() {
    let files = Files::new();
    let manifest = repo_file("examples/kubernetes/cronjob.yaml");
    let documents: Vec<&str> = manifest.split("\n---\n").collect();
    assert_eq!(documents.len(), 2, "two CronJobs");
    for (doc, job) in documents.iter().zip(["rewards", "outcomes"]) {
        for needle in [
            "concurrencyPolicy: Forbid",
            "backoffLimit: 0",
            "startingDeadlineSeconds:",
            "activeDeadlineSeconds:",
            "secretName:",
        ] {
            assert!(doc.contains(needle), "{job}: {needle} missing");
        }
        let array = |key: &str| -> Vec<String> {
            let line = doc
                .lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .unwrap_or_else(|| panic!("{key} missing"));
            serde_json::from_str(line.trim()).unwrap()
        };
        assert_eq!(array("command:"), ["/usr/local/bin/ocd-cron"]);
        let args = array("args:");
        assert!(args.contains(&format!("--job={job}")));
        let mut env = Vec::new();
        let lines: Vec<&str> = doc.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if let (Some(name), Some(value)) = (
                pair[0].strip_prefix("- name: "),
                pair[1].strip_prefix("value: "),
            ) {
                let value = value.trim_matches('"');
                let value = if name == "INTERNAL_API_KEY_FILE" {
                    files.path("internal-api-key")
                } else {
                    value.to_owned()
                };
                env.push((name.to_owned(), value));
            }
        }
        assert!(
            env.iter().any(|(k, _)| k == "INTERNAL_API_KEY_FILE"),
            "the key comes from a mounted Secret"
        );
        accepts("cronjob.yaml", &args, &env);
        // activeDeadlineSeconds leaves ocd-cron time to report its own deadline.
        let deadline: u64 = doc
            .lines()
            .find_map(|l| l.trim().strip_prefix("activeDeadlineSeconds: "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            deadline > 300,
            "activeDeadlineSeconds {deadline} must exceed --timeout=5m"
        );
    }
}

#[test]
fn ci_workflow_command_is_accepted() {
    let workflow = repo_file("examples/ci/github-actions.yml");
    let line = workflow
        .lines()
        .find_map(|l| l.trim().strip_prefix("run: ocd-cron "))
        .expect("a run: ocd-cron step");
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let env = [
        ("INTERNAL_API_KEY".to_owned(), KEY.to_owned()),
        (
            "API_BASE_URL".to_owned(),
            "https://ocd.example.com".to_owned(),
        ),
    ];
    accepts("github-actions.yml", &args, &env);
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// Runs examples/healthcheck.sh with ocd-cron on its PATH.
/// Runs examples/healthcheck.sh with `PATH` (the built binary's directory
/// first unless `path` is given), `OCD_CRON` if given, and the API at
/// `base_url`; its exit status and stdout, which must not show the key.
fn healthcheck_with(
    path: Option<&str>,
    ocd_cron: Option<&str>,
    base_url: &str,
    args: &[&str],
) -> (i32, String) {
    let bin_dir = Path::new(BINARY).parent().unwrap().to_str().unwrap();
    let path = path.map_or_else(|| format!("{bin_dir}:/usr/bin:/bin"), str::to_owned);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcheck.sh");
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("/bin/sh");
    command
        .arg(script)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("INTERNAL_API_KEY", KEY)
        .env("API_BASE_URL", base_url)
        .current_dir(dir.path());
    if let Some(ocd_cron) = ocd_cron {
        command.env("OCD_CRON", ocd_cron);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!stdout.contains(KEY));
    (output.status.code().unwrap_or(-1), stdout)
}

fn healthcheck(server: &Server, args: &[&str]) -> (i32, String) {
    healthcheck_with(None, None, &server.url(), args)
}

#[test]
fn healthcheck_is_unknown_without_the_binary_and_takes_its_path() {
    // Not on PATH (an empty directory: a packaged /usr/bin/ocd-cron must not
    // count): the check could not run, which is UNKNOWN (3), not CRITICAL.
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let url = "https://ocd.example.com";
    let (code, out) = healthcheck_with(Some(empty), None, url, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("UNKNOWN - ocd-cron not found or not executable"),
        "{out}"
    );
    let (code, out) = healthcheck_with(Some(empty), Some("/nonexistent/ocd-cron"), url, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("UNKNOWN - /nonexistent/ocd-cron not found"),
        "{out}"
    );
    // OCD_CRON names the binary when PATH does not have it.
    let (code, out) = healthcheck_with(
        Some("/usr/bin:/bin"),
        Some(BINARY),
        url,
        &["10", "20", "--dry-run"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rewards:config-ok outcomes:config-ok"),
        "{out}"
    );
}

#[test]
fn healthcheck_script_reports_ok_warning_critical_unknown() {
    let counts = || {
        Server::start(vec![
            respond(
                200,
                r#"{"pendingRewards":42,"message":"42 decisions are ready"}"#,
            ),
            respond(200, r#"{"pendingCount":3}"#),
        ])
    };
    let (code, out) = healthcheck(&counts(), &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        "OK - decisions pending: rewards=42 outcomes=3 | rewards_pending=42;500;2000;0 outcomes_pending=3;500;2000;0"
    );
    let (code, out) = healthcheck(&counts(), &["10", "100"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("WARNING - decisions pending: rewards=42"),
        "{out}"
    );
    let (code, out) = healthcheck(&counts(), &["10", "20"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("CRITICAL - decisions pending"), "{out}");
    let down = Server::start(vec![respond(503, "")]);
    let (code, out) = healthcheck(&down, &["10", "20", "--retries", "0"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.starts_with("CRITICAL - ocd-cron could not read the pending counts (exit 69)"),
        "{out}"
    );
    let refused = Server::start(vec![respond(401, r#"{"error":"Unauthorized"}"#)]);
    let (code, out) = healthcheck(&refused, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("UNKNOWN - the OCD API refused the key"),
        "{out}"
    );
    let unused = Server::start(vec![respond(500, "")]);
    let (code, out) = healthcheck(&unused, &["10", "20", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rewards:config-ok outcomes:config-ok"),
        "{out}"
    );
    assert_eq!(unused.connections(), 0);
}
