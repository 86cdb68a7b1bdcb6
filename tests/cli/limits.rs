//! Limits a service manager or a shell sets (tasks, file size) and nowhere
//! to write: the run degrades or fails with its documented status, never
//! dies of a signal or a panic.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use crate::common::{KEY, OUTCOMES_OK, REWARDS_OK, Run, Server, respond, run_adjusted};

/// A writer whose every write fails (ENOSPC).
fn full() -> Stdio {
    Stdio::from(File::options().write(true).open("/dev/full").unwrap())
}

#[test]
fn help_and_version_with_nowhere_to_write_exit_74() {
    for flag in ["--help", "-h", "--version", "-V"] {
        let run = run_adjusted(&[flag], &[], |command| {
            command.stdout(full()).stderr(full());
        });
        run.assert_code(74);
    }
}

#[test]
fn runs_with_nowhere_to_write_keep_their_status() {
    let key = [("INTERNAL_API_KEY", crate::common::KEY)];
    let closed = crate::common::closed_port();
    let base = format!("http://127.0.0.1:{closed}");
    for (args, code) in [
        (vec!["--job", "rewards", "--dry-run"], 74),
        (vec!["--job", "nope"], 64),
        (
            vec!["--job", "rewards", "--retries", "0", "--base-url", &base],
            69,
        ),
        (
            vec![
                "--job",
                "all",
                "--output",
                "json",
                "--retries",
                "0",
                "--base-url",
                &base,
            ],
            69,
        ),
    ] {
        let run = run_adjusted(&args, &key, |command| {
            command.stdout(full()).stderr(full());
        });
        run.assert_code(code);
    }
}

/// A user no process of this machine runs as: RLIMIT_NPROC counts the
/// tasks of the real user, and does not apply to root.
const NOBODY: u32 = 61_234;

/// Runs as [`NOBODY`] with `tasks` tasks in all (1: no thread but the main
/// one; 2: one more), as `TasksMax=` or a pids cgroup would; `None` when
/// the test cannot change user (not root).
fn run_with_tasks(tasks: u64, args: &[&str], env: &[(&str, &str)]) -> Option<Run> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root can run the binary as another user");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let cwd = dir.path().to_owned();
    let run = run_adjusted(args, env, |command| {
        command.current_dir(&cwd);
        // SAFETY: between fork and exec the child makes only system calls,
        // which allocate nothing and take no lock. The limit is set after
        // the user is changed: set before, a user already at the limit
        // would make exec itself fail.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: tasks,
                    rlim_max: tasks,
                };
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(NOBODY) != 0
                    || libc::setuid(NOBODY) != 0
                    || libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    Some(run)
}

#[test]
fn without_threads_the_run_works_on_one_and_pings_its_end() {
    for tasks in [1, 2, 3] {
        for (status, body, code) in [(200, REWARDS_OK, 0), (401, "{}", 77)] {
            let api = Server::start(vec![respond(status, body)]);
            let pings = Server::start(vec![respond(200, "OK")]);
            let (api_url, ping_url) = (api.url(), pings.url());
            let env = [
                ("INTERNAL_API_KEY", KEY),
                ("API_BASE_URL", api_url.as_str()),
            ];
            let args = [
                "--job",
                "rewards",
                "--ping-url",
                &ping_url,
                "--ping-url",
                &ping_url,
            ];
            let Some(run) = run_with_tasks(tasks, &args, &env) else {
                return;
            };
            run.assert_code(code);
            api.assert_requests(1);
            // Two monitors, a start and a finish ping each.
            let seen = pings.assert_requests(4);
            let finish = format!("/{code}?rid=");
            assert_eq!(
                seen.iter().filter(|r| r.path.contains(&finish)).count(),
                2,
                "{run}"
            );
        }
    }
}

#[test]
fn without_threads_names_are_looked_up_and_both_jobs_run() {
    let api = Server::start(vec![respond(200, REWARDS_OK), respond(200, OUTCOMES_OK)]);
    let base = format!("http://localhost:{}", api.port());
    let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", base.as_str())];
    let Some(run) = run_with_tasks(1, &["--job", "all", "--output", "json"], &env) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 2, "{run}");
    api.assert_requests(2);
    let Some(run) = run_with_tasks(1, &["--job", "rewards", "--dry-run"], &env) else {
        return;
    };
    run.assert_code(0);
}

/// Runs with writes limited to files of `bytes` bytes (`LimitFSIZE=`,
/// `ulimit -f`), stdout going to `stdout` if given.
fn run_with_file_size(
    bytes: u64,
    args: &[&str],
    env: &[(&str, &str)],
    stdout: Option<&std::path::Path>,
) -> Run {
    run_adjusted(args, env, |command| {
        if let Some(path) = stdout {
            command.stdout(File::create(path).unwrap());
        }
        // SAFETY: between fork and exec the child makes one system call,
        // which allocates nothing and takes no lock.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    })
}

#[test]
fn a_metrics_file_past_the_size_limit_is_a_warning_and_leaves_nothing_behind() {
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let pings = Server::start(vec![respond(200, "OK")]);
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd.prom");
    let (api_url, ping_url) = (api.url(), pings.url());
    let env = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", api_url.as_str()),
    ];
    let args = [
        "--job",
        "rewards",
        "--ping-url",
        &ping_url,
        "--metrics-file",
        metrics.to_str().unwrap(),
    ];
    run_with_file_size(64, &args, &env, None)
        .assert_code(0)
        .assert_stderr_contains("cannot write the metrics file")
        .assert_stderr_contains("File too large");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let seen = pings.assert_requests(2);
    assert!(seen[1].path.contains("/0?rid="), "{}", seen[1].path);
}

#[test]
fn output_past_the_size_limit_is_an_io_error_and_still_pinged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for flag in ["--help", "--version"] {
        run_with_file_size(4, &[flag], &[], Some(&out)).assert_code(74);
    }
    let api = Server::start(vec![respond(200, REWARDS_OK)]);
    let pings = Server::start(vec![respond(200, "OK")]);
    let (api_url, ping_url) = (api.url(), pings.url());
    let env = [
        ("INTERNAL_API_KEY", KEY),
        ("API_BASE_URL", api_url.as_str()),
    ];
    let json = [
        "--job",
        "rewards",
        "--output",
        "json",
        "--ping-url",
        &ping_url,
    ];
    run_with_file_size(64, &json, &env, Some(&out))
        .assert_code(74)
        .assert_stderr_contains("cannot write to stdout");
    let seen = pings.assert_requests(2);
    assert!(seen[1].path.contains("/74?rid="), "{}", seen[1].path);
    run_with_file_size(64, &["--job", "rewards", "--dry-run"], &env, Some(&out)).assert_code(74);
}

#[test]
fn too_few_open_files_is_a_documented_failure_and_seven_are_enough() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("ocd.prom");
    let lock = dir.path().join("ocd.lock");
    for files in [4, 5, 6, 7] {
        let api = Server::start(vec![respond(200, REWARDS_OK)]);
        let url = api.url();
        let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
        let args = [
            "--job",
            "rewards",
            "--retries",
            "0",
            "--metrics-file",
            metrics.to_str().unwrap(),
            "--lock-file",
            lock.to_str().unwrap(),
        ];
        let run = run_adjusted(&args, &env, |command| {
            // SAFETY: between fork and exec the child makes only system
            // calls, which allocate nothing and take no lock.
            unsafe {
                command.pre_exec(move || {
                    // Only stdin, stdout and stderr go across the exec: a
                    // descriptor the test runner left open would take a
                    // slot under the limit. (Close-on-exec ones, std's
                    // error pipe among them, go anyway.)
                    for fd in 3..1024 {
                        let flags = libc::fcntl(fd, libc::F_GETFD);
                        if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                            libc::close(fd);
                        }
                    }
                    let limit = libc::rlimit {
                        rlim_cur: files,
                        rlim_max: files,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        });
        if files == 7 {
            run.assert_code(0);
            continue;
        }
        // Which open fails first depends on what is already open: the
        // lock file (78, naming the limit) or the connection (69).
        assert!([69, 78].contains(&run.code), "{run}");
        assert!(
            run.stderr.to_lowercase().contains("too many open files"),
            "{run}"
        );
    }
}

/// Under a tight address-space limit (`LimitAS=`, `ulimit -v`) no thread is
/// started: their stacks would take what an allocation later needs, and a
/// failed allocation ends a process (SIGABRT) instead of failing a call.
#[test]
fn under_a_tight_address_space_limit_the_run_completes_on_one_thread() {
    for megabytes in [24, 40, 63, 64] {
        let api = Server::start_tls(vec![respond(200, REWARDS_OK), respond(200, OUTCOMES_OK)]);
        let pings = Server::start(vec![respond(200, "OK")]);
        let dir = tempfile::tempdir().unwrap();
        let metrics = dir.path().join("ocd.prom");
        let (url, ca) = (api.localhost_url(), crate::common::test_ca());
        let ping_ip = pings.url();
        let ping_name = format!("http://localhost:{}/by-name", pings.port());
        let env = [("INTERNAL_API_KEY", KEY), ("API_BASE_URL", url.as_str())];
        let args = [
            "--job",
            "all",
            "--ca-cert",
            &ca,
            "--ping-url",
            &ping_ip,
            "--ping-url",
            &ping_name,
            "--metrics-file",
            metrics.to_str().unwrap(),
            "-v",
        ];
        let bytes: u64 = megabytes * 1024 * 1024;
        let run = run_adjusted(&args, &env, |command| {
            // SAFETY: between fork and exec the child makes one system
            // call, which allocates nothing and takes no lock.
            unsafe {
                command.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: bytes,
                        rlim_max: bytes,
                    };
                    if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        });
        run.assert_code(0);
        // From 64 MiB on, threads as usual.
        if megabytes < 64 {
            run.assert_stderr_contains("working on one thread");
        } else {
            run.assert_stderr_lacks("working on one thread");
        }
        api.assert_requests(2);
        pings.assert_requests(4);
        assert!(metrics.exists(), "{run}");
    }
}
