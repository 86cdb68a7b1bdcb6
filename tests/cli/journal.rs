//! Under systemd: when stderr is the journal (`JOURNAL_STREAM` names it),
//! log lines carry syslog priorities instead of timestamps.
//!
//! The journal run starts the binary itself: its stderr must be a file whose
//! identity `JOURNAL_STREAM` can name, not the pipe [`run`] reads.

use crate::common::{KEY, REWARDS_OK, Server, respond, respond_with, run};

#[test]
fn under_systemd_lines_carry_syslog_priorities_and_no_timestamps() {
    use std::os::unix::fs::MetadataExt;
    let server = Server::start(vec![
        respond_with(500, &[("retry-after", "0")], "{}"),
        respond(200, REWARDS_OK),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("journal");
    let log = std::fs::File::create(&log_path).unwrap();
    let meta = log.metadata().unwrap();
    let journal = format!("{}:{}", meta.dev(), meta.ino());
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
        .args(["--job", "rewards", "--retries", "1"])
        .env_clear()
        .env("INTERNAL_API_KEY", KEY)
        .env("API_BASE_URL", server.url())
        .env("JOURNAL_STREAM", &journal)
        .current_dir(dir.path())
        .stderr(log)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() == 2, "{text}");
    // A retry is information, not a warning: a run that then succeeds
    // leaves `journalctl -p warning` empty.
    assert!(
        lines[0].starts_with("<6>rewards: attempt 1/2 failed"),
        "{text}"
    );
    assert!(lines[1].starts_with("<6>rewards: processed 42"), "{text}");
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "no timestamps: {text}"
    );

    // Half a match is no match: the file's device with another inode, or
    // its inode on another device, is another stream.
    for (dev, ino) in [(meta.dev(), meta.ino() + 1), (meta.dev() + 1, meta.ino())] {
        let log = std::fs::File::create(&log_path).unwrap();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_ocd-cron"))
            .args(["--job", "rewards", "--dry-run"])
            .env_clear()
            .env("INTERNAL_API_KEY", KEY)
            .env("JOURNAL_STREAM", format!("{dev}:{ino}"))
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0));
        let text = std::fs::read_to_string(&log_path).unwrap();
        assert!(text.starts_with('['), "{dev}:{ino}: {text}");
    }

    // The same stream without JOURNAL_STREAM (or with another stream's
    // identity) gets ordinary timestamped lines.
    let other = run(
        &["--job", "rewards", "--dry-run"],
        &[("INTERNAL_API_KEY", KEY), ("JOURNAL_STREAM", "1:1")],
    );
    assert!(
        other.stderr.starts_with('[') && other.stderr.contains("Z INFO ] rewards: dry run"),
        "{other}"
    );
}
