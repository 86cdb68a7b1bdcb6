//! Running the real binary, and what a test asserts about a run.

use std::fmt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{KEY, SECRETS, Server};

/// Whether `text` shows a secret of [`SECRETS`]: plainly, percent-encoded
/// (in whole or in part), or split across the rows of a hex dump (16 bytes
/// a row, the printable column last), which a plain substring check would
/// miss.
pub fn leaks(text: &str) -> bool {
    let dump_columns: String = text
        .lines()
        .filter_map(|line| line.rsplit_once("  ").map(|(_, column)| column))
        .filter(|column| column.chars().count() <= 16)
        .collect();
    let decoded = percent_decoded(text);
    SECRETS.iter().any(|secret| {
        text.contains(secret) || decoded.contains(secret) || dump_columns.contains(secret)
    })
}

/// `text` with every `%XX` replaced by the byte it encodes.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    args: Vec<String>,
}

/// The assertions a test makes about a run. Each returns the run, so they
/// chain, and prints the whole run when it fails.
impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert!(self.code == code, "expected exit status {code}\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_stdout_is(&self, expected: &str) -> &Run {
        assert!(
            self.stdout == expected,
            "expected stdout {expected:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_is(&self, expected: &str) -> &Run {
        assert!(
            self.stderr == expected,
            "expected stderr {expected:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, fragment: &str) -> &Run {
        assert!(
            self.stdout.contains(fragment),
            "stdout lacks {fragment:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, fragment: &str) -> &Run {
        assert!(
            self.stderr.contains(fragment),
            "stderr lacks {fragment:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_lacks(&self, fragment: &str) -> &Run {
        assert!(
            !self.stderr.contains(fragment),
            "stderr shows {fragment:?}\n{self}"
        );
        self
    }

    /// Asserts that stderr has exactly `n` lines.
    #[track_caller]
    pub fn assert_stderr_lines(&self, n: usize) -> &Run {
        let lines = self.stderr.lines().count();
        assert!(lines == n, "expected {n} stderr lines, got {lines}\n{self}");
        self
    }

    /// Asserts that the run took less than `limit`.
    #[track_caller]
    pub fn assert_ended_within(&self, limit: Duration) -> &Run {
        assert!(
            self.elapsed < limit,
            "expected to end within {limit:?}\n{self}"
        );
        self
    }

    /// Asserts that the run took `least` or longer.
    #[track_caller]
    pub fn assert_lasted_at_least(&self, least: Duration) -> &Run {
        assert!(
            self.elapsed >= least,
            "expected to last {least:?} or more\n{self}"
        );
        self
    }
}

/// The command line, the exit status, the time taken and both streams.
impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "ocd-cron {:?} exited {} after {:?}",
            self.args, self.code, self.elapsed
        )?;
        writeln!(f, "--- stdout\n{}", self.stdout)?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}

/// Longest a single run may take before the test fails instead of hanging.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Runs `ocd-cron` in an empty temporary directory (so no stray `.env` is
/// read) with only `env` in its environment.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), args, env)
}

/// Like [`run`], in `dir`. Fails the test if the key shows up in the output.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    spawn_in(dir, args, env).finish()
}

/// A run of the binary still in progress.
pub struct Running {
    child: Child,
    started: Instant,
    args: Vec<String>,
}

/// Starts the binary in `dir` without waiting for it.
pub fn spawn_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
    spawn_adjusted(dir, args, env, |_| {})
}

/// Like [`run`], with the command changed by `adjust` before it starts
/// (credentials, for instance).
pub fn run_adjusted(args: &[&str], env: &[(&str, &str)], adjust: impl FnOnce(&mut Command)) -> Run {
    let dir = tempfile::tempdir().unwrap();
    spawn_adjusted(dir.path(), args, env, adjust).finish()
}

fn spawn_adjusted(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    adjust: impl FnOnce(&mut Command),
) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocd-cron"));
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    adjust(&mut command);
    let child = command.spawn().expect("start ocd-cron");
    Running {
        child,
        started: Instant::now(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `INT`) to the running binary.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit, at most [`RUN_LIMIT`]; the output is collected
    /// meanwhile, so a chatty run cannot fill the pipe and stall.
    pub fn finish(self) -> Run {
        let Running {
            child,
            started,
            args,
        } = self;
        let pid = child.id();
        let (done, finished) = mpsc::channel();
        thread::spawn(move || done.send(child.wait_with_output()));
        let Ok(output) = finished.recv_timeout(RUN_LIMIT) else {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("ocd-cron {args:?} still running after {RUN_LIMIT:?}");
        };
        let output = output.unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
            args,
        };
        assert_sound(&output, &run.to_string());
        run
    }
}

/// What every run of the binary must be, whatever else a test expects: no
/// secret in any output, and no crash. A death by signal (SIGABRT from a
/// release build's panic, SIGSEGV) or a debug build's panic fails the test.
pub fn assert_sound(output: &Output, what: &str) {
    use std::os::unix::process::ExitStatusExt;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        !leaks(&stdout) && !leaks(&stderr),
        "a secret leaked into the output: {what}"
    );
    assert!(
        output.status.signal().is_none(),
        "ocd-cron was killed by signal {:?}\n{what}",
        output.status.signal()
    );
    assert!(!stderr.contains("panicked at"), "ocd-cron panicked\n{what}");
}

/// Runs with the test key and `server` as the base URL.
pub fn run_against(server: &Server, args: &[&str]) -> Run {
    let url = server.url();
    run(args, &[("INTERNAL_API_KEY", KEY), ("API_BASE_URL", &url)])
}
