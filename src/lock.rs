//! `--lock-file`: at most one run at a time per lock file.
//!
//! An OS file lock (`flock`), not a PID file: the kernel releases it when the
//! process ends, however it ends (crash, SIGKILL, OOM), so a stale lock cannot
//! block every later run. The file is created 0600 and opened with
//! `O_NOFOLLOW`, so a symlink planted at the path cannot make the tool create
//! or truncate a file elsewhere; anything but a regular file there (a device,
//! a FIFO) is refused before it is opened, since opening some devices acts.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::Error;
use crate::files;

/// Holds the lock until dropped (or the process ends).
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

/// Takes the lock without waiting: [`Error::Locked`] if another run holds it,
/// a config error if the file cannot be opened.
pub fn acquire(path: &Path) -> Result<LockGuard, Error> {
    let file = open_checked(path)?;
    match file.try_lock() {
        Ok(()) => Ok(LockGuard { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            path: path.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(config_error(path, format!("cannot be locked ({e})"))),
    }
}

/// For `--dry-run`: opens the file as [`acquire`] does (creating it, as a
/// real run would), without locking it, so a real run that starts meanwhile
/// is not turned away. The file is left in place: removing a lock file
/// another run may have just opened would let a third run take a second
/// lock on a new file.
pub fn check(path: &Path) -> Result<(), Error> {
    open_checked(path).map(drop)
}

/// What to do instead, as crontab.example and docs/operations.md advise:
/// a lock per job (so the two jobs never turn each other away), in a
/// directory only the job's user can write (in a world-writable one such
/// as /tmp or /run/lock, another user could take the name first).
const ADVICE: &str = "use one lock file per job in a directory only the job's user can write, \
     e.g. --lock-file=/var/lib/ocd-cron/rewards.lock after \
     `install -d -m 700 -o USER /var/lib/ocd-cron` (not /tmp or /run/lock, which any user can write)";

fn config_error(path: &Path, why: String) -> Error {
    Error::Config(format!("--lock-file {} {why}; {ADVICE}", path.display()))
}

/// Why the lock file could not be opened: a missing directory by name,
/// anything else as the system says it.
fn open_failure(path: &Path, error: &std::io::Error) -> String {
    let directory = files::directory(path);
    match error.kind() {
        std::io::ErrorKind::NotFound if !directory.exists() => {
            format!(
                "cannot be created: its directory {} does not exist",
                directory.display()
            )
        }
        _ => format!("cannot be opened ({error})"),
    }
}

fn open_checked(path: &Path) -> Result<File, Error> {
    let not_regular = |file_type: std::fs::FileType| {
        config_error(
            path,
            format!("is {}, not a regular file", files::describe(file_type)),
        )
    };
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
        && !meta.file_type().is_symlink()
    {
        return Err(not_regular(meta.file_type()));
    }
    let file = open(path).map_err(|e| {
        if is_symlink_refusal(&e) {
            config_error(path, "is a symlink, which is refused".into())
        } else if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            // The path is fine; the limit on open files is what to change.
            Error::Config(format!(
                "--lock-file {} cannot be opened: too many open files ({e}); raise the \
                 limit on open files (LimitNOFILE=, ulimit -n)",
                path.display()
            ))
        } else {
            config_error(path, open_failure(path, &e))
        }
    })?;
    // Checked again on what was opened: the path may have changed since.
    match file.metadata() {
        Ok(meta) if meta.file_type().is_file() => Ok(file),
        Ok(meta) => Err(not_regular(meta.file_type())),
        Err(e) => Err(config_error(path, format!("cannot be examined ({e})"))),
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // Non-blocking, so a FIFO swapped in after the check cannot block;
        // no controlling terminal from a terminal swapped in (as files.rs).
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// `O_NOFOLLOW` on a symlink fails with ELOOP.
fn is_symlink_refusal(error: &std::io::Error) -> bool {
    error.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        let first = acquire(&path).unwrap();
        let second = acquire(&path).unwrap_err();
        assert_eq!(second.exit_code(), 75);
        assert!(second.to_string().contains("run.lock"));
        drop(first);
        acquire(&path).unwrap();
    }

    #[test]
    fn a_check_opens_like_a_run_but_does_not_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        check(&path).unwrap();
        assert!(path.exists(), "created as a real run would");
        let held = acquire(&path).unwrap();
        check(&path).unwrap();
        drop(held);
        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &link).unwrap();
        assert!(
            check(&link)
                .unwrap_err()
                .to_string()
                .contains("is a symlink")
        );
        let err = check(&dir.path().join("no/such/dir.lock")).unwrap_err();
        assert_eq!(err.exit_code(), 78);
    }

    #[test]
    fn lock_file_is_private_and_symlinks_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        drop(acquire(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &link).unwrap();
        let err = acquire(&link).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(err.to_string().contains("is a symlink"), "{err}");
        assert!(!dir.path().join("elsewhere").exists());
    }

    #[test]
    fn anything_but_a_regular_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = acquire(dir.path()).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(
            err.to_string()
                .contains("is a directory, not a regular file"),
            "{err}"
        );
        let err = check(Path::new("/dev/null")).unwrap_err();
        assert!(err.to_string().contains("is a character device"), "{err}");
        // Only ELOOP means a symlink: any other failure to open says what it is.
        let missing = dir.path().join("no/such");
        let err = acquire(&missing.join("dir.lock")).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "cannot be created: its directory {} does not exist",
                missing.display()
            )),
            "{err}"
        );
        assert!(!err.contains("symlink"), "{err}");
        // A "directory" that is a file exists: not the missing-directory case.
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let not_dir = acquire(&file.join("x.lock")).unwrap_err().to_string();
        assert!(not_dir.contains("cannot be opened ("), "{not_dir}");
        // Nor is a parent missing under a file: the failure is ENOTDIR.
        let under_file = acquire(&file.join("sub/x.lock")).unwrap_err().to_string();
        assert!(under_file.contains("cannot be opened ("), "{under_file}");
    }

    #[test]
    fn the_advice_is_what_the_docs_recommend() {
        let err = acquire(Path::new("/nonexistent-dir/x.lock")).unwrap_err();
        let text = err.to_string();
        assert!(text.ends_with(&format!("; {ADVICE}")), "{text}");
        assert!(ADVICE.contains("one lock file per job"));
        assert!(ADVICE.contains("/var/lib/ocd-cron/rewards.lock"));
        assert!(!ADVICE.contains("such as /run/lock"));
    }
}
