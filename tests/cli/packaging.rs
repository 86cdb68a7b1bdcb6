//! The files that only the Debian package and the PM2 recipe use are accepted
//! by the real binary and say what the package needs them to say: the cron
//! file's job lines (commented out), the example env file (no key), the
//! packaged service (the example's, with the package's binary path),
//! cargo-deb's assets, and the PM2 ecosystem file; also the scheduled
//! workflow's cached build. `scripts/check-package` and `scripts/check-pm2`
//! check the built package and a real PM2; this file keeps the quick part
//! in `cargo test`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{KEY, repo_file};

const BINARY: &str = env!("CARGO_BIN_EXE_ocd-cron");

/// A private (0600) copy of `content` in `dir`.
fn private_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Runs the binary with an empty environment in an empty directory.
fn run(args: &[String]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(BINARY)
        .args(args)
        .env_clear()
        .current_dir(cwd.path())
        .output()
        .unwrap()
}

/// Asserts that `args` plus `--dry-run` is accepted without a warning.
fn accepted(origin: &str, args: &[String]) {
    let mut args = args.to_vec();
    args.push("--dry-run".into());
    let output = run(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{origin}: {args:?} refused:\n{stderr}"
    );
    assert!(!stderr.contains("WARN"), "{origin}: a warning:\n{stderr}");
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
}

/// Replaces the paths of --env-file and --lock-file by files in `dir`.
fn swap_paths(args: &[&str], env_file: &Path, dir: &Path) -> Vec<String> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some(("--env-file", _)) => format!("--env-file={}", env_file.display()),
            Some(("--lock-file", path)) => {
                let name = Path::new(path).file_name().unwrap();
                format!("--lock-file={}", dir.join(name).display())
            }
            _ => (*arg).to_owned(),
        })
        .collect()
}

fn env_with_key() -> String {
    format!("INTERNAL_API_KEY={KEY}\nAPI_BASE_URL=https://ocd.example.com\n")
}

#[test]
fn cron_file_job_lines_are_commented_out_and_accepted() {
    let cron = repo_file("pkg/cron.d/ocd-cron");
    assert!(
        cron.lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')),
        "every line of the packaged cron file must be a comment until configured"
    );
    let dir = tempfile::tempdir().unwrap();
    let env_file = private_file(dir.path(), "ocd-cron.env", &env_with_key());
    let mut jobs = Vec::new();
    for line in cron.lines().filter_map(|l| l.strip_prefix('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        // minute hour day month weekday user command args...
        if words.len() < 7 || words[0].parse::<u32>().is_err() {
            continue;
        }
        assert_eq!(words[1..5], ["*", "*", "*", "*"], "hourly: {line}");
        assert_eq!(words[5], "root", "the user field: {line}");
        assert_eq!(words[6], "/usr/bin/ocd-cron", "the packaged binary: {line}");
        assert!(
            words.contains(&"--env-file=/etc/ocd-cron/ocd-cron.env"),
            "the packaged env file: {line}"
        );
        assert!(words.iter().any(|w| w.starts_with("--lock-file=/run/")));
        accepted(
            "pkg/cron.d/ocd-cron",
            &swap_paths(&words[7..], &env_file, dir.path()),
        );
        jobs.push((words[0].to_owned(), words[7].to_owned()));
    }
    assert_eq!(
        jobs,
        [
            ("0".to_owned(), "--job=rewards".to_owned()),
            ("15".to_owned(), "--job=outcomes".to_owned())
        ]
    );
}

#[test]
fn example_env_file_holds_no_key_and_works_once_the_key_is_added() {
    let example = repo_file("pkg/ocd-cron.env");
    let dir = tempfile::tempdir().unwrap();
    let as_shipped = private_file(dir.path(), "shipped.env", &example);
    let output = run(&[
        "--job=rewards".into(),
        format!("--env-file={}", as_shipped.display()),
        "--dry-run".into(),
    ]);
    assert_eq!(output.status.code(), Some(78), "no key, no run");
    assert!(String::from_utf8_lossy(&output.stderr).contains("INTERNAL_API_KEY is not set"));

    // Uncommenting the lines, as an operator would, gives a working file.
    let filled = example
        .replace("#INTERNAL_API_KEY=", &format!("INTERNAL_API_KEY={KEY}"))
        .replace(
            "#API_BASE_URL=http://localhost:3000",
            "API_BASE_URL=http://localhost:3000",
        );
    assert_ne!(filled, example);
    let filled = private_file(dir.path(), "filled.env", &filled);
    accepted(
        "pkg/ocd-cron.env",
        &[
            "--job=all".into(),
            format!("--env-file={}", filled.display()),
        ],
    );
}

/// The packaged service is the example one with the package's binary path;
/// only the comments on how to install it differ.
#[test]
fn packaged_service_is_the_example_with_the_packaged_path() {
    let example = repo_file("examples/systemd/ocd-cron@.service");
    let packaged = repo_file("pkg/systemd/ocd-cron@.service");
    let common = |text: &str| -> String {
        let start = text
            .find("# Change settings with a drop-in")
            .expect("the drop-in section");
        text[start..].to_owned()
    };
    assert_eq!(
        common(&packaged),
        common(&example).replace("/usr/local/bin/ocd-cron", "/usr/bin/ocd-cron"),
        "pkg/systemd/ocd-cron@.service has drifted from examples/systemd/ocd-cron@.service"
    );
    assert!(packaged.contains("\nExecStart=/usr/bin/ocd-cron "));
    assert!(!packaged.contains("/usr/local/bin"));
    assert!(packaged.contains("LoadCredential=ocd-cron.env:/etc/ocd-cron/ocd-cron.env\n"));
}

/// Every file cargo-deb is told to package exists (the build only finds out
/// after compiling), and the units come in the layout the package promises.
#[test]
fn cargo_deb_assets_exist() {
    let manifest = repo_file("Cargo.toml");
    let table = &manifest[manifest
        .find("[package.metadata.deb]")
        .expect("cargo-deb metadata")..];
    let assets: Vec<(&str, &str, &str)> = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[\"")?.strip_suffix("\"],"))
        .map(|l| {
            let parts: Vec<&str> = l.split("\", \"").collect();
            assert_eq!(parts.len(), 3, "source, destination, mode: {l}");
            (parts[0], parts[1], parts[2])
        })
        .collect();
    assert!(assets.len() >= 15, "{assets:?}");
    for (source, dest, mode) in &assets {
        if let Some((dir, pattern)) = source.split_once("/*") {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let docs = std::fs::read_dir(&dir).unwrap().flatten();
            assert!(
                docs.filter(|e| e.file_name().to_string_lossy().ends_with(pattern))
                    .count()
                    > 0,
                "cargo-deb asset {source} matches nothing"
            );
        } else if !source.starts_with("target/") {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(source);
            assert!(path.is_file(), "cargo-deb asset {source} is missing");
        }
        // Scripts are shipped executable, wherever they go.
        let expected_mode = match *dest {
            "usr/bin/" => "755",
            "etc/ocd-cron/" => "600",
            _ if source.ends_with(".sh") => "755",
            _ => "644",
        };
        assert_eq!(*mode, expected_mode, "{source} -> {dest}");
    }
    let dests: Vec<&str> = assets.iter().map(|(_, dest, _)| *dest).collect();
    for dest in [
        "usr/bin/",
        "usr/share/man/man1/",
        "usr/share/bash-completion/completions/ocd-cron",
        "usr/share/zsh/vendor-completions/",
        "usr/share/fish/vendor_completions.d/",
        "lib/systemd/system/",
        "etc/cron.d/",
        "etc/ocd-cron/",
    ] {
        assert!(dests.contains(&dest), "nothing installed to {dest}");
    }
    // Units are plain assets: cargo-deb's systemd-units table would enable
    // and start them on install.
    for line in manifest.lines().map(str::trim_start) {
        assert!(
            !line.starts_with("[package.metadata.deb.systemd-units")
                && !line.starts_with("systemd-units")
                && !line.starts_with("maintainer-scripts"),
            "{line}"
        );
    }
}

/// The ecosystem file, evaluated by node as PM2 does, names the binary,
/// schedules and options the recipe promises, and its command lines pass
/// --dry-run. `scripts/check-pm2` runs it under a real PM2.
#[test]
fn pm2_ecosystem_file_is_accepted() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED the PM2 ecosystem check: node is not installed");
        return;
    }
    let app_dir = tempfile::tempdir().unwrap();
    let config = app_dir.path().join("ecosystem.config.js");
    std::fs::write(&config, repo_file("examples/pm2/ecosystem.config.js")).unwrap();
    let env_file = private_file(app_dir.path(), ".env", &env_with_key());
    let output = Command::new("node")
        .args([
            "-e",
            "console.log(JSON.stringify(require(process.argv[1])))",
        ])
        .arg(&config)
        .env("OCD_CRON", BINARY)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let apps = config["apps"].as_array().expect("apps");
    assert_eq!(apps.len(), 2, "one app per job");
    for (app, (job, schedule)) in apps
        .iter()
        .zip([("rewards", "0 * * * *"), ("outcomes", "15 * * * *")])
    {
        assert_eq!(app["name"], format!("ocd-cron-{job}"));
        assert_eq!(app["script"], BINARY, "$OCD_CRON chooses the binary");
        assert_eq!(app["interpreter"], "none");
        assert_eq!(app["autorestart"], false);
        assert_eq!(app["cron_restart"], schedule);
        assert_eq!(app["cwd"], app_dir.path().to_str().unwrap());
        let args: Vec<&str> = app["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(args.contains(&format!("--job={job}").as_str()));
        assert!(
            args.contains(&format!("--app-dir={}", app_dir.path().display()).as_str()),
            "the app's env files, next to the ecosystem file: {args:?}"
        );
        accepted(
            "ecosystem.config.js",
            &swap_paths(&args, &env_file, app_dir.path()),
        );
    }
}

/// The scheduled workflow builds only when its cached binary is stale.
#[test]
fn github_actions_recipe_builds_only_on_a_cache_miss() {
    let workflow = repo_file("examples/ci/github-actions.yml");
    let id = workflow
        .lines()
        .find_map(|l| l.trim().strip_prefix("id: "))
        .expect("a step with an id");
    let cache_step = workflow
        .find("uses: actions/cache@")
        .expect("an actions/cache step");
    let build_step = workflow
        .find("run: cargo install --locked --path .")
        .expect("the build step");
    assert!(cache_step < build_step);
    assert!(
        workflow.contains(&format!(
            "if: steps.{id}.outputs.cache-hit != 'true'\n        run: cargo install --locked --path ."
        )),
        "the build step must be skipped on a cache hit"
    );
    assert!(workflow.contains("path: ~/.cargo/bin/ocd-cron"));
    assert!(workflow.contains("hashFiles('Cargo.lock', 'Cargo.toml', 'src/**')"));
}
