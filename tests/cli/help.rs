//! What an operator sees from the command line itself: `--help`,
//! `--version`, and the README's copy of the exit-status table.

use crate::common::{repo_file, run};

#[test]
fn help_documents_options_environment_and_every_exit_status() {
    let run = run(&["--help"], &[]);
    run.assert_code(0);
    for needle in [
        "--job",
        "--limit",
        "--base-url",
        "--env-file",
        "--app-dir",
        "--timeout",
        "--connect-timeout",
        "--retries",
        "--max-item-errors",
        "--quiet",
        "--verbose",
        "INTERNAL_API_KEY",
        "API_BASE_URL",
        "OCD_CRON_APP_DIR",
        "NODE_ENV",
        "EXIT STATUS",
    ] {
        run.assert_stdout_contains(needle);
    }
    for (code, meaning) in ocd_cron::error::EXIT_STATUS_TABLE {
        run.assert_stdout_contains(&format!("{code:>3}  {meaning}"));
    }
}

#[test]
fn version_prints_the_version() {
    let run = run(&["--version"], &[]);
    run.assert_code(0);
    assert_eq!(
        run.stdout.trim(),
        concat!("ocd-cron ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn readme_exit_table_matches_the_code() {
    let readme = repo_file("README.md");
    for (code, meaning) in ocd_cron::error::EXIT_STATUS_TABLE {
        let row = format!("| {code} | {} |", meaning.replace('|', "\\|"));
        assert!(readme.contains(&row), "README lacks the row `{row}`");
    }
}

#[test]
fn readme_monitor_table_matches_the_code() {
    let readme = repo_file("README.md");
    let cell = |text: &str| {
        if text == "none" {
            text.to_owned()
        } else {
            format!("`{text}`")
        }
    };
    for (kind, url, start, finish) in ocd_cron::cli::MONITORS {
        let row = format!(
            "| `{kind}` | `{url}` | {} | {} |",
            cell(start),
            cell(finish)
        );
        assert!(readme.contains(&row), "README lacks the row\n{row}");
    }
}
