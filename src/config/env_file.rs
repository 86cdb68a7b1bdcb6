//! The env file (`./.env` or `--env-file`): `KEY=value` pairs read without
//! touching the process environment, so the app's own `.env` can serve as
//! is. A parse error reports the line number, never the line, which may
//! hold the key.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Error;
use crate::files::{self, ReadError};

/// The env file read when `--env-file` is not given; a missing one is fine.
pub const DEFAULT_ENV_FILE: &str = ".env";

/// Reads `KEY=value` pairs from the env file without touching the process
/// environment. `--env-file` must be a regular file; the default `./.env`
/// may be missing, and is ignored when it is not a regular file (cron starts
/// jobs in `$HOME`, where a Python virtualenv is often called `.env`).
pub fn read(explicit: Option<&Path>) -> Result<HashMap<String, String>, Error> {
    match explicit {
        Some(path) => read_from(path, false),
        None => read_from(Path::new(DEFAULT_ENV_FILE), true),
    }
}

/// [`read`] from `path`; `default` when it is `./.env`, which may be absent.
/// Separate so that tests can point the default case at a scratch directory
/// instead of the process's working directory.
fn read_from(path: &Path, default: bool) -> Result<HashMap<String, String>, Error> {
    let fail = |why: String| {
        Error::Config(format!(
            "env file {} {why}; fix it or point --env-file at another file",
            path.display()
        ))
    };
    let content = match files::read(path, files::ENV_FILE) {
        Ok(content) => content,
        Err(ReadError::Missing(_)) if default => return Ok(HashMap::new()),
        Err(ReadError::NotRegular(what)) if default => {
            log::debug!(
                "./{DEFAULT_ENV_FILE} is {what}, not an env file; ignored (name one with --env-file)"
            );
            return Ok(HashMap::new());
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    // Editors on Windows and Node's dotenv accept a byte-order mark; the
    // parser would read it as part of the first name.
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&content);
    let mut values = HashMap::new();
    for item in dotenvy::from_read_iter(content) {
        match item {
            Ok((name, value)) => {
                values.insert(name, value);
            }
            // The parser hands back the offending line, which may hold the
            // key: only its number is reported.
            Err(dotenvy::Error::LineParse(line, _)) => {
                return Err(fail(format!(
                    "is malformed at {}",
                    line_number(content, &line).map_or("a line".into(), |n| format!("line {n}"))
                )));
            }
            Err(dotenvy::Error::Io(e)) => return Err(fail(format!("cannot be read ({e})"))),
            Err(_) => return Err(fail("cannot be parsed".into())),
        }
    }
    Ok(values)
}

/// The 1-based number of the line where `needle` starts in `content`.
fn line_number(content: &[u8], needle: &str) -> Option<usize> {
    let content = String::from_utf8_lossy(content);
    let at = content.find(needle.lines().next().unwrap_or(needle))?;
    Some(content[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_read_without_touching_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "# app\nOCD_ENV_FILE_TEST=1\nB='two words'\n").unwrap();
        let values = read(Some(&path)).unwrap();
        assert_eq!(values["OCD_ENV_FILE_TEST"], "1");
        assert_eq!(values["B"], "two words");
        assert!(std::env::var_os("OCD_ENV_FILE_TEST").is_none());
    }

    #[test]
    fn line_numbers_do_not_quote_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\n# comment\nINTERNAL_API_KEY='s3cr3t\n").unwrap();
        let err = read(Some(&path)).err().unwrap().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "\u{feff}API_BASE_URL=http://h:1\nB=2\n").unwrap();
        let values = read(Some(&path)).unwrap();
        assert_eq!(values["API_BASE_URL"], "http://h:1");
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn explicit_env_file_must_be_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("is a directory, not a regular file"), "{err}");
    }

    #[test]
    fn the_default_env_file_may_be_missing_or_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        // A Python virtualenv called .env, or no .env at all.
        assert_eq!(read_from(dir.path(), true).unwrap().len(), 0);
        assert_eq!(read_from(&dir.path().join("nope"), true).unwrap().len(), 0);
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\n").unwrap();
        assert_eq!(read_from(&path, true).unwrap()["A"], "1");
        assert!(read_from(dir.path(), false).is_err());
        assert!(read_from(&dir.path().join("nope"), false).is_err());
    }

    #[test]
    fn explicit_env_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = read(Some(&missing)).err().unwrap();
        assert_eq!(err.exit_code(), 78);
        assert!(err.to_string().contains("nope"));
    }
}
