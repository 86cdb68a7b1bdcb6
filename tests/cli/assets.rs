//! The checked-in man page and completions match the CLI.

use crate::common::assets;

#[test]
fn man_page_and_completions_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, expected) in assets::render() {
        let actual = std::fs::read(root.join(path)).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is out of date with the CLI: run `cargo run --example gen_assets` and commit the result"
        );
    }
}

#[test]
fn man_page_documents_the_exit_statuses() {
    let (_, man) = &assets::render()[0];
    let man = String::from_utf8_lossy(man);
    for needle in ["\\-\\-job", "INTERNAL_API_KEY", "EXIT STATUS", "143"] {
        assert!(man.contains(needle), "{needle} missing from the man page");
    }
}

#[test]
fn man_page_is_lint_clean() {
    // mandoc reports style problems too (lines over 80 bytes, trailing
    // spaces), so a clean run also means the page renders well at 80
    // columns. .ci/run installs it; elsewhere the check is skipped, loudly.
    let probe = std::process::Command::new("mandoc").arg("-V").output();
    if probe.is_err() {
        eprintln!(
            "SKIPPED man_page_is_lint_clean: mandoc is not installed (apt-get install mandoc)"
        );
        return;
    }
    let (path, man) = &assets::render()[0];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ocd-cron.1");
    std::fs::write(&file, man).unwrap();
    let lint = std::process::Command::new("mandoc")
        .args(["-Tlint", "-Wstyle"])
        .arg(&file)
        .output()
        .expect("run mandoc");
    let report =
        String::from_utf8_lossy(&lint.stdout).into_owned() + &String::from_utf8_lossy(&lint.stderr);
    assert!(
        lint.status.success() && report.trim().is_empty(),
        "mandoc -Tlint finds problems in {path}:\n{report}"
    );
}

#[test]
fn man_page_has_the_usual_sections_in_order() {
    let (_, man) = &assets::render()[0];
    let man = String::from_utf8_lossy(man);
    let headings: Vec<&str> = man.lines().filter_map(|l| l.strip_prefix(".SH ")).collect();
    assert_eq!(
        headings,
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "ENVIRONMENT",
            "FILES",
            "MONITORS",
            "EXIT STATUS",
            "EXAMPLES",
            "SEE ALSO"
        ]
    );
    assert!(
        man.contains("[\\fB\\-\\-timeout\\fR \\fIDURATION\\fR]"),
        "SYNOPSIS shows option values"
    );
    for (code, _) in ocd_cron::error::EXIT_STATUS_TABLE {
        assert!(man.contains(&format!(".TP 5\n.B {code}\n")), "{code}");
    }
    for (kind, ..) in ocd_cron::cli::MONITORS {
        assert!(man.contains(&format!(".TP 4\n.B {kind}\n")), "{kind}");
    }
}
