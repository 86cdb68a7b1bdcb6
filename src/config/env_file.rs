//! The env file (`./.env` or `--env-file`): `KEY=value` pairs read without
//! touching the process environment, so the app's own `.env` can serve as
//! is. A parse error reports the line number, never the line, which may
//! hold the key.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Error;

/// The env file read when `--env-file` is not given; a missing one is fine.
pub const DEFAULT_ENV_FILE: &str = ".env";

/// Reads `KEY=value` pairs from the env file without touching the process
/// environment. `--env-file` must exist; the default `./.env` may not.
pub fn read(explicit: Option<&Path>) -> Result<HashMap<String, String>, Error> {
    let path = explicit.unwrap_or(Path::new(DEFAULT_ENV_FILE));
    let fail = |why: String| {
        Error::Config(format!(
            "env file {} {why}; fix it or point --env-file at another file",
            path.display()
        ))
    };
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e))
            if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(HashMap::new());
        }
        Err(dotenvy::Error::Io(e)) => return Err(fail(format!("cannot be read ({e})"))),
        Err(e) => return Err(fail(format!("cannot be read ({e})"))),
    };
    let mut values = HashMap::new();
    for item in iter {
        match item {
            Ok((name, value)) => {
                values.insert(name, value);
            }
            // The parser hands back the offending line, which may hold the
            // key: only its number is reported.
            Err(dotenvy::Error::LineParse(line, _)) => {
                return Err(fail(format!(
                    "is malformed at {}",
                    line_number(path, &line).map_or("a line".into(), |n| format!("line {n}"))
                )));
            }
            Err(dotenvy::Error::Io(e)) => return Err(fail(format!("cannot be read ({e})"))),
            Err(_) => return Err(fail("cannot be parsed".into())),
        }
    }
    Ok(values)
}

/// The 1-based number of the line where `needle` starts in the file.
fn line_number(path: &Path, needle: &str) -> Option<usize> {
    let content = std::fs::read_to_string(path).ok()?;
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
    fn explicit_env_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = read(Some(&missing)).err().unwrap();
        assert_eq!(err.exit_code(), 78);
        assert!(err.to_string().contains("nope"));
    }
}
