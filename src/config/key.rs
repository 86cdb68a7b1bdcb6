//! The API key: from `INTERNAL_API_KEY` or the file `INTERNAL_API_KEY_FILE`
//! names, which of the two sources wins, what makes a key unusable, and the
//! warning for a key file other users can read. No message here quotes the
//! key.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use super::Settings;
use crate::error::Error;
use crate::files;
use crate::secret::Secret;
use crate::setting::{APP_DIR, KEY, KEY_FILE};

/// Values the OCD documentation uses as examples. A key still set to one of
/// them is a deployment that was never finished, not a secret.
const PLACEHOLDER_KEYS: &[&str] = &[
    "your-secret-api-key-here",
    "your-secret-key",
    "change-me-in-production",
];

/// The key from `INTERNAL_API_KEY` or the file named by
/// `INTERNAL_API_KEY_FILE`. The real environment is consulted first, then
/// the env files, so a unit's `INTERNAL_API_KEY_FILE` wins over the app's
/// `.env`; one of the two sources setting both is ambiguous and refused.
pub(super) fn resolve(settings: &Settings, warnings: &mut Vec<String>) -> Result<Secret, Error> {
    match settings.either(&KEY, &KEY_FILE) {
        (Some((_, key_source)), Some((_, file_source))) => {
            let sources = if key_source == file_source {
                key_source.to_string()
            } else {
                format!("{key_source} and {file_source}")
            };
            Err(Error::Config(format!(
                "both {KEY} and {KEY_FILE} are set ({sources}); drop one of them (keep \
                 {KEY_FILE} for a mounted secret)"
            )))
        }
        (Some((value, source)), None) => {
            let label = format!("{KEY} ({source})");
            let expansion = settings.expansion(&KEY);
            if let Some(v) = expansion.filter(|v| v.swallowed)
                && !value.is_empty()
            {
                warnings.push(format!(
                    "{label}: a $ followed by a name that is not set was replaced by nothing, as \
                     the app's Next.js loader does, so the app and ocd-cron use {} of the {} \
                     characters written; if the key really holds a $, write it as \\$",
                    value.chars().count(),
                    v.written
                ));
            }
            if value.is_empty() && expansion.is_some_and(|v| v.written > 0) {
                return Err(Error::Config(format!(
                    "{label} is empty after $ expansion (a $ followed by a name that is not set \
                     is replaced by nothing, as the app's Next.js loader does); write \\$ for a \
                     literal dollar, or set the key the OCD server has in its {KEY}"
                )));
            }
            check(value, &label)
        }
        (None, Some((path, source))) if path.is_empty() => Err(Error::Config(format!(
            "{KEY_FILE} ({source}) is empty; set it to the path of the file holding the key, or \
             unset it"
        ))),
        (None, Some((path, source))) => {
            let path = super::environment::path(&path);
            let label = format!("the key in {KEY_FILE} {}", path.display());
            let (bytes, meta) = files::read_with_metadata(&path, files::KEY_FILE).map_err(|e| {
                Error::Config(format!(
                    "{KEY_FILE} {} ({source}) {e}; point it at the file holding the key, readable \
                     by this user",
                    path.display()
                ))
            })?;
            warnings.extend(readable_by_others(&path, &meta, "key file"));
            // Not UTF-8 is not a key either: `check` refuses the
            // replacement characters without quoting them.
            // A byte-order mark is how some editors start a text file,
            // not part of the key (the env file skips one too).
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let text = String::from_utf8_lossy(bytes);
            check(text.trim_end_matches(['\n', '\r']).to_owned(), &label)
        }
        (None, None) => {
            let searched = settings
                .files
                .map(|files| format!(", nor in {}", files.searched()))
                .unwrap_or_default();
            Err(Error::Config(format!(
                "{KEY} is not set: not in the environment{searched}; put it in one of the app's \
                 env files, name the app's directory with {APP_DIR} or an env file with \
                 --env-file, or name a file holding the key in {KEY_FILE}"
            )))
        }
    }
}

/// Rejects a key that cannot work, without ever quoting it. `label` says
/// where it came from.
fn check(value: String, label: &str) -> Result<Secret, Error> {
    let problem = if value.is_empty() {
        Some("is empty")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some(
            "contains a character that is not visible ASCII (a space, a line break, a control or non-ASCII character)",
        )
    } else if PLACEHOLDER_KEYS.contains(&value.as_str()) {
        Some("is still a placeholder from the OCD documentation")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::Config(format!(
            "{label} {problem}; set it to the key the OCD server has in its {KEY}"
        ))),
        None => Ok(Secret::new(value)),
    }
}

/// A warning if the key in `path`, whose metadata (from the open file it
/// was read through) is `meta`, can be read by other users: the file is
/// readable by others, or by a group this process is not in. A group of our
/// own (Kubernetes' `fsGroup`, a service's group) is the intended reader.
pub(super) fn readable_by_others(path: &Path, meta: &Metadata, what: &str) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = meta.permissions().mode() & 0o777;
    let by_others = mode & 0o004 != 0;
    let by_foreign_group = mode & 0o040 != 0 && !in_own_groups(meta.gid());
    let readers = if by_others {
        "any user".to_owned()
    } else {
        format!("group {}, which this process is not in", meta.gid())
    };
    (by_others || by_foreign_group).then(|| {
        format!(
            "{what} {} holds the key and is readable by {readers} (mode {mode:04o}); chmod 600 it",
            path.display()
        )
    })
}

/// The file [`resolve`] reads the key from, if it reads one. Known before
/// the file is read, so that a key file that is also another setting's
/// file is refused without touching it.
pub(super) fn file_path(settings: &Settings) -> Option<PathBuf> {
    match settings.either(&KEY, &KEY_FILE) {
        (None, Some((path, _))) if !path.is_empty() => Some(super::environment::path(&path)),
        _ => None,
    }
}

/// Whether `gid` is this process's effective group or a supplementary one.
fn in_own_groups(gid: u32) -> bool {
    // SAFETY: getegid takes no arguments and cannot fail.
    if unsafe { libc::getegid() } == gid {
        return true;
    }
    // SAFETY: with a size of 0 getgroups only reports how many groups there
    // are and writes nothing, so a null pointer is allowed.
    let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    if count <= 0 {
        return false;
    }
    let mut groups = vec![0 as libc::gid_t; count as usize];
    // SAFETY: the buffer holds `count` entries, the size passed, so
    // getgroups writes within it; it returns how many it filled.
    let filled = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
    filled > 0 && groups[..filled as usize].contains(&gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_with(env: &[(&str, &str)], file: &[(&str, &str)]) -> Result<Secret, Error> {
        let env: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |n: &str| env.get(n).cloned();
        resolve(
            &crate::config::tests::settings_with(&lookup, file),
            &mut Vec::new(),
        )
    }

    fn key_error(result: Result<Secret, Error>) -> String {
        match result {
            Err(Error::Config(msg)) => msg,
            Err(other) => panic!("expected a config error, got {other}"),
            Ok(_) => panic!("expected a config error, got a key"),
        }
    }

    /// `file_path` names the file `resolve` reads, from the same source.
    #[test]
    fn the_key_file_is_known_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let (env_key, file_key) = (dir.path().join("env-key"), dir.path().join("file-key"));
        std::fs::write(&env_key, "from-env-k3y").unwrap();
        std::fs::write(&file_key, "from-file-k3y").unwrap();
        let (e, f) = (env_key.to_str().unwrap(), file_key.to_str().unwrap());
        let path = |env: &[(&str, &str)], file: &[(&str, &str)]| {
            let env: std::collections::HashMap<String, String> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let lookup = |n: &str| env.get(n).cloned();
            file_path(&crate::config::tests::settings_with(&lookup, file))
        };
        type Pairs<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Pairs, Pairs, Option<&str>); 7] = [
            (
                &[("INTERNAL_API_KEY_FILE", e)],
                &[("INTERNAL_API_KEY_FILE", f)],
                Some(e),
            ),
            (&[], &[("INTERNAL_API_KEY_FILE", f)], Some(f)),
            (
                &[("INTERNAL_API_KEY", "k3y-k3y")],
                &[("INTERNAL_API_KEY_FILE", f)],
                None,
            ),
            (&[], &[("INTERNAL_API_KEY", "k3y-k3y")], None),
            (
                &[("INTERNAL_API_KEY_FILE", "")],
                &[("INTERNAL_API_KEY_FILE", f)],
                None,
            ),
            (
                &[("INTERNAL_API_KEY_FILE", e), ("INTERNAL_API_KEY", "x")],
                &[],
                None,
            ),
            (&[], &[], None),
        ];
        for (env, file, expected) in cases {
            assert_eq!(
                path(env, file).as_deref(),
                expected.map(Path::new),
                "{env:?} {file:?}"
            );
            let read = key_with(env, file).ok().map(|key| key.expose().to_owned());
            let from = |p: &str| {
                if p == e {
                    "from-env-k3y"
                } else {
                    "from-file-k3y"
                }
            };
            if let Some(expected) = expected {
                assert_eq!(read.as_deref(), Some(from(expected)), "{env:?} {file:?}");
            }
        }
    }

    #[test]
    fn a_key_file_readable_by_others_draws_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "k").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            readable_by_others(&path, &std::fs::metadata(&path).unwrap(), "key file"),
            None
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        let warning =
            readable_by_others(&path, &std::fs::metadata(&path).unwrap(), "key file").unwrap();
        assert!(
            warning.contains("readable by any user (mode 0604)"),
            "{warning}"
        );
        assert!(warning.contains("chmod 600"), "{warning}");
    }

    #[test]
    fn a_key_file_readable_by_a_foreign_group_names_the_group() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "k").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            readable_by_others(&path, &std::fs::metadata(&path).unwrap(), "key file"),
            None,
            "our own group"
        );
        // A group this process is not in: only root may give the file one.
        let foreign = (60000..65000).find(|&gid| !in_own_groups(gid)).unwrap();
        if let Err(e) = std::os::unix::fs::chown(&path, None, Some(foreign)) {
            eprintln!("skipped: cannot give the key file another group ({e})");
            return;
        }
        let warning =
            readable_by_others(&path, &std::fs::metadata(&path).unwrap(), "key file").unwrap();
        assert!(
            warning.contains(&format!(
                "readable by group {foreign}, which this process is not in (mode 0640)"
            )),
            "{warning}"
        );
        // A foreign group without the read bit reads nothing.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            readable_by_others(&path, &std::fs::metadata(&path).unwrap(), "key file"),
            None,
            "mode 0600"
        );
    }

    #[test]
    fn an_empty_key_file_variable_is_empty_not_missing() {
        for (env, file, source) in [
            (
                &[("INTERNAL_API_KEY_FILE", "")][..],
                &[][..],
                "from the environment",
            ),
            (
                &[][..],
                &[("INTERNAL_API_KEY_FILE", "")][..],
                "from app.env line 1",
            ),
        ] {
            let msg = key_error(key_with(env, file));
            assert!(
                msg.starts_with(&format!("INTERNAL_API_KEY_FILE ({source}) is empty; ")),
                "{msg}"
            );
            assert!(!msg.contains("cannot be read"), "{msg}");
        }
    }

    #[test]
    fn a_key_whose_dollar_swallowed_a_part_draws_a_warning_and_empty_is_refused() {
        let env = |_: &str| None;
        let mut warnings = Vec::new();
        let settings =
            crate::config::tests::settings_with(&env, &[("INTERNAL_API_KEY", "k3y$Zq9")]);
        let key = resolve(&settings, &mut warnings).unwrap();
        assert_eq!(key.expose(), "k3y");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0]
                .starts_with("INTERNAL_API_KEY (from app.env line 1): a $ followed by a name")
                && warnings[0].contains("use 3 of the 7 characters written")
                && warnings[0].contains(r"write it as \$"),
            "{}",
            warnings[0]
        );
        assert!(!warnings[0].contains("Zq9"));
        for written in ["k3y\\$Zq9", "${A:-k3y}", "$B", "k3y"] {
            let mut warnings = Vec::new();
            let settings = crate::config::tests::settings_with(
                &env,
                &[("B", "k3y"), ("INTERNAL_API_KEY", written)],
            );
            resolve(&settings, &mut warnings).unwrap();
            assert!(warnings.is_empty(), "{written}: {warnings:?}");
        }
        let settings = crate::config::tests::settings_with(&env, &[("INTERNAL_API_KEY", "$Zq9")]);
        let msg = key_error(resolve(&settings, &mut Vec::new()));
        assert!(
            msg.contains("(from app.env line 1) is empty after $ expansion"),
            "{msg}"
        );
        assert!(!msg.contains("Zq9"), "{msg}");
    }

    #[test]
    fn key_from_file_and_env_beats_file() {
        let from_file = key_with(&[], &[("INTERNAL_API_KEY", "filekey")]).unwrap();
        assert_eq!(from_file.expose(), "filekey");
        let from_env = key_with(
            &[("INTERNAL_API_KEY", "k3y")],
            &[("INTERNAL_API_KEY", "filekey")],
        )
        .unwrap();
        assert_eq!(from_env.expose(), "k3y");
    }

    #[test]
    fn rejects_bad_keys_without_quoting_them() {
        assert!(key_error(key_with(&[], &[])).contains("INTERNAL_API_KEY is not set"));
        for (bad, says) in [
            ("", "is empty"),
            ("abc def", "not visible ASCII"),
            ("abc\r\nx-evil: 1", "not visible ASCII"),
            ("clé", "not visible ASCII"),
            ("your-secret-api-key-here", "placeholder"),
            ("your-secret-key", "placeholder"),
            ("change-me-in-production", "placeholder"),
        ] {
            let msg = key_error(key_with(&[("INTERNAL_API_KEY", bad)], &[]));
            assert!(msg.contains(says), "{bad:?}: {msg}");
            if bad.len() > 3 && !says.contains("placeholder") {
                assert!(!msg.contains(bad), "key leaked: {msg}");
            }
        }
    }

    #[test]
    fn a_key_file_that_holds_no_key_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        let path = key_file.to_str().unwrap();
        for (content, says) in [
            (&b""[..], "is empty"),
            (b"\n", "is empty"),
            (b"\xEF\xBB\xBF\r\n", "is empty"),
            (b"k3y\xFF\xFEk3y", "not visible ASCII"),
        ] {
            std::fs::write(&key_file, content).unwrap();
            let msg = key_error(key_with(&[("INTERNAL_API_KEY_FILE", path)], &[]));
            assert!(msg.contains(says), "{content:?}: {msg}");
            assert!(!msg.contains("k3y") && !msg.contains('\u{FFFD}'), "{msg}");
        }
    }

    #[test]
    fn key_file_in_the_environment_beats_a_key_in_the_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "from-file\r\n").unwrap();
        let path = key_file.to_str().unwrap();
        let c = key_with(
            &[("INTERNAL_API_KEY_FILE", path)],
            &[("INTERNAL_API_KEY", "dotenv-key")],
        )
        .unwrap();
        assert_eq!(c.expose(), "from-file");
        let msg = key_error(key_with(
            &[],
            &[("INTERNAL_API_KEY", "a"), ("INTERNAL_API_KEY_FILE", path)],
        ));
        assert!(
            msg.contains(
                "both INTERNAL_API_KEY and INTERNAL_API_KEY_FILE are set (from app.env line 1 \
                 and from app.env line 2)"
            ),
            "{msg}"
        );
        std::fs::write(&key_file, "\u{feff}from-file\n").unwrap();
        let c = key_with(&[("INTERNAL_API_KEY_FILE", path)], &[]).unwrap();
        assert_eq!(
            c.expose(),
            "from-file",
            "a byte-order mark is not part of the key"
        );
        std::fs::write(&key_file, "your-secret-key\n").unwrap();
        let msg = key_error(key_with(&[("INTERNAL_API_KEY_FILE", path)], &[]));
        assert!(msg.contains("the key in INTERNAL_API_KEY_FILE"), "{msg}");
        assert!(msg.contains("placeholder"), "{msg}");
    }
}
