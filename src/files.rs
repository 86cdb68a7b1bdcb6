//! Reading the files an operator names (key file, env file, CA bundle, the
//! old metrics file): only regular files, only up to a size cap per kind.
//!
//! The tool often runs unattended and as root, so a wrong path must not
//! hang it or eat memory: a FIFO would block `open` and `read` forever (no
//! deadline covers configuration), `/dev/zero` never ends, and opening some
//! devices has side effects (a watchdog starts counting). So a path is
//! checked with `stat` first (no device is ever opened on purpose), then
//! opened with `O_NONBLOCK` (a FIFO swapped in after the check cannot block
//! the open) and checked again on the opened descriptor, which is what is
//! actually read; at most cap + 1 bytes are read, so even a file that grows
//! or lies about its size costs at most the cap.
//!
//! The caps are far above any real file of each kind and far below what
//! could hurt a small host; they are listed for operators in
//! `docs/files.md`.

use std::fs::{FileType, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What kind of file is read: how much of it is accepted, and whether a
/// symlink at the path is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub cap: u64,
    /// Kubernetes secrets, systemd credentials and system CA bundles are
    /// symlinks, so configuration files are followed; the metrics file is
    /// one this tool replaces, and a symlink there is refused.
    pub follow_symlinks: bool,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// `INTERNAL_API_KEY_FILE`: a key is a few dozen bytes.
pub const KEY_FILE: Kind = Kind {
    cap: 64 * KIB,
    follow_symlinks: true,
};
/// `./.env` or `--env-file`: the app's own `.env` is a few KiB.
pub const ENV_FILE: Kind = Kind {
    cap: MIB,
    follow_symlinks: true,
};
/// `--ca-cert` / `OCD_CRON_CA_CERT`: a full system bundle is about 220 KiB.
pub const CA_BUNDLE: Kind = Kind {
    cap: MIB,
    follow_symlinks: true,
};
/// The previous `--metrics-file`: this tool writes about 2 KiB.
pub const METRICS_FILE: Kind = Kind {
    cap: MIB,
    follow_symlinks: false,
};

/// Why a file was not read. The text completes "FILE …" in a message, and
/// never quotes the content (a key file's content is the key).
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at the path (callers decide whether that is fine).
    Missing(io::Error),
    /// A directory, FIFO, socket or device: what it is.
    NotRegular(&'static str),
    /// Larger than the cap of its kind.
    TooLarge(u64),
    /// Anything else: permissions, I/O errors.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Missing(e) | ReadError::Io(e) => write!(f, "cannot be read ({e})"),
            ReadError::NotRegular(what) => write!(f, "is {what}, not a regular file"),
            ReadError::TooLarge(cap) => write!(f, "is larger than {}", size(*cap)),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        match e.kind() {
            io::ErrorKind::NotFound => ReadError::Missing(e),
            // O_NOFOLLOW on a symlink fails with ELOOP.
            _ if e.raw_os_error() == Some(libc::ELOOP) => ReadError::NotRegular("a symlink"),
            _ => ReadError::Io(e),
        }
    }
}

/// The whole content of the regular file at `path`, at most `kind.cap`
/// bytes of it; anything else is an error that says why.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    read_with_metadata(path, kind).map(|(content, _)| content)
}

/// [`read`], with the metadata of the descriptor that was read (`fstat`):
/// the owner and mode of the file actually read, whatever the path points
/// to by now.
pub fn read_with_metadata(path: &Path, kind: Kind) -> Result<(Vec<u8>, Metadata), ReadError> {
    let before = if kind.follow_symlinks {
        std::fs::metadata(path)?
    } else {
        std::fs::symlink_metadata(path)?
    };
    check(&before, kind)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(open_flags(kind))
        .open(path)?;
    // The descriptor is what is read: whatever the path pointed to before
    // the open no longer matters.
    let meta = file.metadata()?;
    check(&meta, kind)?;
    let mut content = Vec::new();
    file.take(kind.cap + 1).read_to_end(&mut content)?;
    if content.len() as u64 > kind.cap {
        return Err(ReadError::TooLarge(kind.cap));
    }
    Ok((content, meta))
}

/// What guards the open against a path swapped after the check: a FIFO
/// cannot block it, a terminal does not become the controlling one, and
/// where symlinks are refused, one swapped in fails with ELOOP. Only a race
/// shows them, so they are tested here rather than through `read`.
fn open_flags(kind: Kind) -> libc::c_int {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !kind.follow_symlinks {
        flags |= libc::O_NOFOLLOW;
    }
    flags
}

/// Refuses anything but a regular file within the cap.
fn check(meta: &Metadata, kind: Kind) -> Result<(), ReadError> {
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular(describe(meta.file_type())));
    }
    if meta.len() > kind.cap {
        return Err(ReadError::TooLarge(kind.cap));
    }
    Ok(())
}

/// What a file that is not a regular file is, with its article.
pub fn describe(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symlink"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// A cap in the unit operators read it in: "64 KiB", "1 MiB".
fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The directory a file at `path` is in, `.` for a bare name: where a
/// file written next to itself and renamed (the metrics file) is created,
/// so configuration checks it exists before the run.
pub fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_is_in_the_working_directory() {
        assert_eq!(directory(Path::new("ocd.prom")), Path::new("."));
        assert_eq!(directory(Path::new("./ocd.prom")), Path::new("."));
        assert_eq!(
            directory(Path::new("/var/lib/t/ocd.prom")),
            Path::new("/var/lib/t")
        );
    }

    const SMALL: Kind = Kind {
        cap: 8,
        follow_symlinks: true,
    };

    fn mkfifo(path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path and a plain mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn reads_a_regular_file_up_to_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345678").unwrap();
        assert_eq!(read(&path, SMALL).unwrap(), b"12345678");
        std::fs::write(&path, b"123456789").unwrap();
        let err = read(&path, SMALL).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge(8)), "{err:?}");
        assert_eq!(err.to_string(), "is larger than 8 bytes");
        // A file that says it is empty but is not (as /proc's files do) is
        // still held to the cap, not cut to it.
        let proc = Path::new("/proc/self/status");
        if proc.exists() {
            assert_eq!(std::fs::metadata(proc).unwrap().len(), 0);
            let err = read(proc, SMALL).unwrap_err();
            assert!(matches!(err, ReadError::TooLarge(8)), "{err:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        assert_eq!(
            read(&fifo, SMALL).unwrap_err().to_string(),
            "is a FIFO, not a regular file"
        );
        assert_eq!(
            read(dir.path(), SMALL).unwrap_err().to_string(),
            "is a directory, not a regular file"
        );
        assert_eq!(
            read(Path::new("/dev/zero"), SMALL).unwrap_err().to_string(),
            "is a character device, not a regular file"
        );
        let missing = read(&dir.path().join("nope"), SMALL).unwrap_err();
        assert!(matches!(missing, ReadError::Missing(_)), "{missing:?}");
        assert!(missing.to_string().starts_with("cannot be read ("));
    }

    #[test]
    fn symlinks_are_followed_only_where_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link, SMALL).unwrap(), b"x");
        let strict = Kind {
            follow_symlinks: false,
            ..SMALL
        };
        assert_eq!(
            read(&link, strict).unwrap_err().to_string(),
            "is a symlink, not a regular file"
        );
        assert_eq!(read(&target, strict).unwrap(), b"x");
    }

    #[test]
    fn a_path_swapped_after_the_check_cannot_block_or_be_a_symlink() {
        let guards = libc::O_NONBLOCK | libc::O_NOCTTY;
        assert_eq!(open_flags(KEY_FILE), guards);
        assert_eq!(open_flags(METRICS_FILE), guards | libc::O_NOFOLLOW);
        // What O_NOFOLLOW's failure means, and only that.
        let from = |errno| ReadError::from(io::Error::from_raw_os_error(errno)).to_string();
        assert_eq!(from(libc::ELOOP), "is a symlink, not a regular file");
        assert!(from(libc::EACCES).starts_with("cannot be read ("));
        assert!(matches!(
            ReadError::from(io::Error::from_raw_os_error(libc::ENOENT)),
            ReadError::Missing(_)
        ));
    }

    #[test]
    fn the_caps_are_the_documented_ones() {
        assert_eq!(KEY_FILE.cap, 65_536);
        assert_eq!(ENV_FILE.cap, 1_048_576);
        assert_eq!(CA_BUNDLE.cap, 1_048_576);
        assert_eq!(METRICS_FILE.cap, 1_048_576);
        let follow = [KEY_FILE, ENV_FILE, CA_BUNDLE, METRICS_FILE].map(|k| k.follow_symlinks);
        assert_eq!(follow, [true, true, true, false]);
    }

    #[test]
    fn sizes_read_as_operators_write_them() {
        assert_eq!(size(64 * KIB), "64 KiB");
        assert_eq!(size(MIB), "1 MiB");
        assert_eq!(size(1500), "1500 bytes");
        assert_eq!(size(3 * MIB + 1), "3145729 bytes");
    }
}
