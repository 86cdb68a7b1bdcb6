//! `--lock-file`: at most one run at a time per lock file.
//!
//! An OS file lock (`flock`), not a PID file: the kernel releases it when the
//! process ends, however it ends (crash, SIGKILL, OOM), so a stale lock cannot
//! block every later run. The file is created 0600 and opened with
//! `O_NOFOLLOW`, so a symlink planted at the path cannot make the tool create
//! or truncate a file elsewhere.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::Error;

/// Holds the lock until dropped (or the process ends).
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

/// Takes the lock without waiting: [`Error::Locked`] if another run holds it,
/// a config error if the file cannot be opened.
pub fn acquire(path: &Path) -> Result<LockGuard, Error> {
    let shown = path.display().to_string();
    let fail = |why: String| {
        Error::Config(format!(
            "--lock-file {shown} {why}; point it at a writable path such as /run/lock/ocd-cron.lock"
        ))
    };
    let file = open(path).map_err(|e| {
        if is_symlink_refusal(&e) {
            fail("is a symlink, which is refused".into())
        } else {
            fail(format!("cannot be opened ({e})"))
        }
    })?;
    match file.try_lock() {
        Ok(()) => Ok(LockGuard { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::Locked { path: shown }),
        Err(TryLockError::Error(e)) => Err(fail(format!("cannot be locked ({e})"))),
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
        .custom_flags(libc::O_NOFOLLOW)
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
}
