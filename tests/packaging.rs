//! Recipe behaviour that `tests/recipes.rs` does not cover: the health
//! check's answer when the binary is missing, and the scheduled workflow's
//! cached build. It stands alone (no shared test module), so it can move with
//! the test layout.

use std::path::Path;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_ocd-cron");
const KEY: &str = "packaging-test-key-0123456789";

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn healthcheck(path: &str, ocd_cron: Option<&str>, args: &[&str]) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcheck.sh");
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("/bin/sh");
    command
        .arg(script)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("INTERNAL_API_KEY", KEY)
        .env("API_BASE_URL", "https://ocd.example.com")
        .current_dir(dir.path());
    if let Some(ocd_cron) = ocd_cron {
        command.env("OCD_CRON", ocd_cron);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!stdout.contains(KEY));
    (output.status.code().unwrap_or(-1), stdout)
}

#[test]
fn healthcheck_is_unknown_without_the_binary_and_takes_its_path() {
    // Not on PATH (an empty directory: a packaged /usr/bin/ocd-cron must not
    // count): the check could not run, which is UNKNOWN (3), not CRITICAL.
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let (code, out) = healthcheck(empty, None, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("UNKNOWN - ocd-cron not found or not executable"),
        "{out}"
    );
    let (code, out) = healthcheck(empty, Some("/nonexistent/ocd-cron"), &[]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("UNKNOWN - /nonexistent/ocd-cron not found"),
        "{out}"
    );
    // OCD_CRON names the binary when PATH does not have it.
    let (code, out) = healthcheck("/usr/bin:/bin", Some(BINARY), &["10", "20", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rewards:config-ok outcomes:config-ok"),
        "{out}"
    );
}

/// The scheduled workflow builds only when its cached binary is stale.
#[test]
fn github_actions_recipe_builds_only_on_a_cache_miss() {
    let workflow = read("examples/ci/github-actions.yml");
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
