//! One file named for two purposes: refused before anything is sent.
//!
//! The lock file, the metrics file, the env files, the key file and the CA
//! bundle each have one job. Named twice, one role breaks the other: a
//! metrics file that is the lock file is replaced (a new inode) while the
//! run holds the lock, so a second run takes a lock on the new file and
//! sends the job again. Files that exist are compared by device and inode,
//! which sees through links and spellings; a file yet to be created (the
//! lock file, the metrics file) by its path, with the directory resolved
//! as the OS sees it where it exists.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::error::Error;

/// What makes two paths the same file.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Identity {
    Inode { device: u64, inode: u64 },
    Path(PathBuf),
}

/// Refuses any two of `files` (the setting's name for messages, the path)
/// that are the same file, naming both settings. The first `env_files` are
/// the app's env files, which may be one another: a chain such as
/// `.env.production -> .env` is only read, as Next reads it.
pub(super) fn refuse_shared(files: &[(String, PathBuf)], env_files: usize) -> Result<(), Error> {
    let mut seen: HashMap<Identity, &(String, PathBuf)> = HashMap::new();
    for (i, named) in files.iter().enumerate() {
        let (setting, path) = named;
        let id = identity(path);
        if let Some(&(first, first_path)) = seen.get(&id) {
            // The first of a pair comes before it: both are env files.
            if i < env_files {
                continue;
            }
            let how = if first_path == path {
                format!("both name {}", path.display())
            } else {
                format!(
                    "{} and {} are the same file",
                    first_path.display(),
                    path.display()
                )
            };
            return Err(Error::Config(format!(
                "{first} and {setting} name one file ({how}); each needs a file of its own"
            )));
        }
        seen.insert(id, named);
    }
    Ok(())
}

fn identity(path: &Path) -> Identity {
    match std::fs::metadata(path) {
        Ok(meta) => Identity::Inode {
            device: meta.dev(),
            inode: meta.ino(),
        },
        Err(_) => Identity::Path(normalised(path)),
    }
}

/// `path` made absolute, its directory resolved (links and `..` as the OS
/// follows them) where it exists, or else lexically.
fn normalised(path: &Path) -> PathBuf {
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_owned());
    let lexical = lexically(&absolute);
    match (lexical.parent(), lexical.file_name()) {
        (Some(dir), Some(name)) => match std::fs::canonicalize(dir) {
            Ok(dir) => dir.join(name),
            Err(_) => lexical,
        },
        _ => lexical,
    }
}

/// `.` removed and `..` applied to the components before it.
fn lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(files: &[(&str, &Path)]) -> Option<String> {
        let files: Vec<(String, PathBuf)> = files
            .iter()
            .map(|(name, path)| (name.to_string(), path.to_path_buf()))
            .collect();
        refuse_shared(&files, 0).err().map(|e| e.to_string())
    }

    #[test]
    fn the_same_file_however_named_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lock");
        std::fs::write(&file, "").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let hard = dir.path().join("hard");
        std::fs::hard_link(&file, &hard).unwrap();
        let dotted = dir.path().join("sub/../lock");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for other in [&file, &link, &hard, &dotted] {
            let error = refused(&[("--lock-file", &file), ("--metrics-file", other)])
                .unwrap_or_else(|| panic!("{} accepted", other.display()));
            assert!(
                error.contains("--lock-file and --metrics-file name one file"),
                "{error}"
            );
        }
        let error = refused(&[("--lock-file", &file), ("--metrics-file", &file)]).unwrap();
        assert!(
            error.contains(&format!("both name {}", file.display())),
            "{error}"
        );
        let error = refused(&[("a", &file), ("b", &dir.path().join("x")), ("c", &link)]).unwrap();
        assert!(error.contains("a and c name one file"), "{error}");
        assert!(error.contains("are the same file"), "{error}");
    }

    #[test]
    fn env_files_may_be_one_another_but_no_other_setting() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join(".env");
        std::fs::write(&env, "").unwrap();
        let production = dir.path().join(".env.production");
        std::os::unix::fs::symlink(&env, &production).unwrap();
        let files = |names: &[(&str, &Path)]| -> Vec<(String, PathBuf)> {
            names
                .iter()
                .map(|(n, p)| (n.to_string(), p.to_path_buf()))
                .collect()
        };
        let chain = files(&[("env a", &production), ("env b", &env)]);
        assert!(refuse_shared(&chain, 2).is_ok());
        let with_key = files(&[("env a", &production), ("env b", &env), ("key", &env)]);
        let error = refuse_shared(&with_key, 2).unwrap_err().to_string();
        assert!(error.contains("env a and key name one file"), "{error}");
        assert!(refuse_shared(&chain, 1).is_err());
    }

    #[test]
    fn files_yet_to_be_created_are_compared_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new");
        let spelled = dir.path().join("./sub/../new");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(refused(&[("a", &new), ("b", &spelled)]).is_some());
        let linked_dir = dir.path().join("via");
        std::os::unix::fs::symlink(dir.path(), &linked_dir).unwrap();
        assert!(refused(&[("a", &new), ("b", &linked_dir.join("new"))]).is_some());
        let missing = dir.path().join("no/such/dir/x");
        let missing_spelled = dir.path().join("no/such/./dir/../dir/x");
        assert!(refused(&[("a", &missing), ("b", &missing_spelled)]).is_some());
        // Different files, and a file and a new name beside it.
        let other = dir.path().join("other");
        std::fs::write(&other, "").unwrap();
        assert_eq!(refused(&[("a", &new), ("b", &other)]), None);
        assert_eq!(
            refused(&[("a", &new), ("b", &dir.path().join("new2"))]),
            None
        );
        assert_eq!(refused(&[]), None);
    }

    #[test]
    fn a_relative_path_is_the_working_directorys() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            normalised(Path::new("x.lock")),
            cwd.canonicalize().unwrap().join("x.lock")
        );
        assert_eq!(lexically(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(lexically(Path::new("/../a")), PathBuf::from("/a"));
    }
}
