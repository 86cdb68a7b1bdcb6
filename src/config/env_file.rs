//! The env file (`./.env` or `--env-file`): `KEY=value` pairs read without
//! touching the process environment, so the app's own `.env` can serve as
//! is. A parse error reports the line number, never the line, which may
//! hold the key.
//!
//! The syntax is that of Node's `dotenv` (v16, `parse` in its
//! `lib/main.js`), which the app's `.env` is written for: in particular
//! nothing is expanded (`$HOME` is five characters) and backslashes are
//! kept, except `\n` and `\r` inside double quotes. The one deliberate
//! difference: where Node silently skips a line that is not an assignment,
//! or takes a value with an unclosed quote literally, this reader refuses
//! the file and names the line, so a typo cannot quietly drop or alter the
//! key. Every value is a piece of the file, at most shortened, so a file
//! of N bytes gives at most N bytes of names and values.

use std::collections::HashMap;
use std::fmt;
use std::fs::Metadata;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::files::{self, ReadError};

/// The env file read when `--env-file` is not given; a missing one is fine.
pub const DEFAULT_ENV_FILE: &str = ".env";

/// Reads `KEY=value` pairs from the env file without touching the process
/// environment. `--env-file` must be a regular file; the default `./.env`
/// may be missing, and is ignored when it is not a regular file (cron starts
/// jobs in `$HOME`, where a Python virtualenv is often called `.env`) or
/// when someone other than this user or root could have written it.
/// With the values comes the file's metadata (`fstat` of what was read),
/// `None` when no file was read.
pub fn read(explicit: Option<&Path>) -> Result<(HashMap<String, String>, Option<Metadata>), Error> {
    match explicit {
        Some(path) => read_from(path, false),
        None => read_from(Path::new(DEFAULT_ENV_FILE), true),
    }
}

/// [`read`] from `path`; `default` when it is `./.env`, which may be absent.
/// Separate so that tests can point the default case at a scratch directory
/// instead of the process's working directory.
fn read_from(
    path: &Path,
    default: bool,
) -> Result<(HashMap<String, String>, Option<Metadata>), Error> {
    let fail = |why: String| {
        Error::Config(format!(
            "env file {} {why}; fix it or point --env-file at another file",
            path.display()
        ))
    };
    let (content, meta) = match files::read_with_metadata(path, files::ENV_FILE) {
        Ok(read) => read,
        Err(ReadError::Missing(_)) if default => return Ok((HashMap::new(), None)),
        Err(ReadError::NotRegular(what)) if default => {
            log::debug!(
                "./{DEFAULT_ENV_FILE} is {what}, not an env file; ignored (name one with --env-file)"
            );
            return Ok((HashMap::new(), None));
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    // The operator named --env-file; the implicit ./.env is only wherever
    // the job happened to start, and may be a stranger's.
    if default && let Some(problem) = untrusted(&meta) {
        warn_once(&problem);
        return Ok((HashMap::new(), None));
    }
    let values = parse(&content).map_err(|e| fail(e.to_string()))?;
    Ok((values, Some(meta)))
}

/// Why the implicit `./.env` may have been written by someone else: it is
/// owned by neither this process's effective user nor root, or its group
/// or other users may write it. `meta` is the opened file's (`fstat`).
fn untrusted(meta: &Metadata) -> Option<Untrusted> {
    // SAFETY: geteuid takes no arguments and cannot fail.
    untrusted_as(meta, unsafe { libc::geteuid() })
}

/// [`untrusted`] for a process whose effective user is `euid`: tests run
/// as one user, and need to see the others' view too.
fn untrusted_as(meta: &Metadata, euid: u32) -> Option<Untrusted> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o777;
    let foreign = meta.uid() != euid && meta.uid() != 0;
    let writers = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("its group and by any user"),
        (true, false) => Some("its group"),
        (false, true) => Some("any user"),
        (false, false) => None,
    };
    let owner = foreign.then(|| {
        format!(
            "is owned by uid {}, neither this user (uid {euid}) nor root",
            meta.uid()
        )
    });
    let writable = writers.map(|w| format!("is writable by {w} (mode {mode:04o})"));
    let (problem, fix) = match (owner, writable) {
        (None, None) => return None,
        (Some(owner), Some(writable)) => (
            format!("{owner} and {writable}"),
            "chown it to this user and chmod go-w it",
        ),
        (Some(owner), None) => (owner, "chown it to this user"),
        (None, Some(writable)) => (writable, "chmod go-w it"),
    };
    Some(Untrusted { problem, fix })
}

/// What is wrong with an untrusted `./.env`, and the command that fixes it.
#[derive(Debug, PartialEq, Eq)]
struct Untrusted {
    problem: String,
    fix: &'static str,
}

/// The warning for an untrusted `./.env`, once per process (the file is
/// read again to find the monitors when the configuration is refused).
fn warn_once(Untrusted { problem, fix }: &Untrusted) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    let place = std::env::current_dir()
        .map(|dir| format!(" in {}", dir.display()))
        .unwrap_or_default();
    log::warn!(
        "./{DEFAULT_ENV_FILE}{place} {problem}: whoever wrote it could send the key \
         elsewhere, so it is ignored; name it with --env-file if you trust it, or {fix}"
    );
}

/// Why the env file was refused: the line, never its text.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    /// 1-based, counting lone CRs and CRLFs as line ends, as Node does.
    pub line: usize,
    pub why: Why,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Why {
    NotUtf8,
    NotAssignment,
    UnclosedQuote,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.why {
            Why::NotUtf8 => "not UTF-8 text",
            Why::NotAssignment => "not KEY=value, a # comment or blank",
            Why::UnclosedQuote => {
                "a quoted value does not end with its quote; only a # comment may follow it"
            }
        };
        write!(f, "is malformed at line {} ({why})", self.line)
    }
}

/// The pairs in `content`, a later one replacing an earlier one of the same
/// name, or the first line that is not an assignment, a comment or blank.
pub fn parse(content: &[u8]) -> Result<HashMap<String, String>, Malformed> {
    let content = normalize_line_ends(content);
    let text = std::str::from_utf8(&content).map_err(|e| Malformed {
        line: 1 + content[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        why: Why::NotUtf8,
    })?;
    let mut values = HashMap::new();
    let (mut at, mut line) = (0, 1);
    while at < text.len() {
        let (pair, end) = statement(text, at).map_err(|why| Malformed { line, why })?;
        if let Some((name, value)) = pair {
            values.insert(name, value);
        }
        // `end` is the line feed ending the statement's last line, or the
        // end of the text.
        line += 1 + text[at..end].matches('\n').count();
        at = end + 1;
    }
    Ok(values)
}

/// CRLF and lone CR become LF, everywhere (inside quotes too), as in Node.
fn normalize_line_ends(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    let mut bytes = content.iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'\r' {
            bytes.next_if_eq(&&b'\n');
            out.push(b'\n');
        } else {
            out.push(b);
        }
    }
    out
}

/// White space as JavaScript's `\s` and `trim()` know it, byte-order mark
/// included (which is how Node accepts one at the start of the file).
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Node's `[\w.-]`.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The index of the line feed ending the line that holds `at`, or the end.
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

/// `at` moved past white space, up to `end`.
fn skip_space(text: &str, at: usize, end: usize) -> usize {
    text[at..end]
        .find(|c: char| !is_space(c))
        .map_or(end, |i| at + i)
}

type Pair = (String, String);

/// The statement starting at the line that begins at `at`: a pair (or
/// nothing, for a comment or blank line), and where its last line ends.
fn statement(text: &str, at: usize) -> Result<(Option<Pair>, usize), Why> {
    let end = line_end(text, at);
    let start = skip_space(text, at, end);
    if start == end || text[start..].starts_with('#') {
        return Ok((None, end));
    }
    // `export NAME=…`, though `export=…` names a variable "export".
    if let Some(after) = text[start..end].strip_prefix("export")
        && after.starts_with(is_space)
    {
        let name = skip_space(text, end - after.len(), end);
        match assignment(text, name, end) {
            Err(Why::NotAssignment) => {}
            other => return other.map(|(pair, end)| (Some(pair), end)),
        }
    }
    assignment(text, start, end).map(|(pair, end)| (Some(pair), end))
}

/// `NAME=value` or `NAME: value` starting at `at`, on the line ending at
/// `end` (a quoted value may go on over further lines).
fn assignment(text: &str, at: usize, end: usize) -> Result<(Pair, usize), Why> {
    let bytes = text.as_bytes();
    let name_end = text[at..end]
        .bytes()
        .position(|b| !is_name_char(b))
        .map_or(end, |i| at + i);
    if name_end == at {
        return Err(Why::NotAssignment);
    }
    let name = text[at..name_end].to_owned();
    let after_space = skip_space(text, name_end, end);
    let value_at = if bytes.get(after_space) == Some(&b'=') {
        after_space + 1
    } else if bytes.get(name_end) == Some(&b':') && text[name_end + 1..end].starts_with(is_space) {
        name_end + 1
    } else {
        return Err(Why::NotAssignment);
    };
    let value_at = skip_space(text, value_at, end);
    match bytes.get(value_at) {
        // value_at is at most `end`, where a line feed or the end of the
        // text is: a quote found there opens a value on this line.
        Some(&quote @ (b'\'' | b'"' | b'`')) => {
            let (value, end) = quoted(text, value_at, quote)?;
            Ok(((name, value), end))
        }
        _ => {
            let raw = &text[value_at..end];
            let raw = raw.find('#').map_or(raw, |i| &raw[..i]);
            Ok(((name, raw.trim_matches(is_space).to_owned()), end))
        }
    }
}

/// The value in the quotes opening at `open`, and the end of the line of
/// its closing quote. As Node's expression does, the closing quote is the
/// first one not preceded by a backslash, else (backtracking) the last
/// preceded by one before it, and so on back: the first after which the
/// line holds only white space and perhaps a `#` comment. In double quotes
/// `\n` and `\r` become a line feed and a carriage return; nothing else is
/// unescaped (Node keeps `\"` as two characters).
fn quoted(text: &str, open: usize, quote: u8) -> Result<(String, usize), Why> {
    let bytes = text.as_bytes();
    let body = open + 1;
    let mut escaped = Vec::new();
    let mut plain = None;
    // Quotes and backslashes are ASCII: they never occur inside a UTF-8
    // sequence, so scanning bytes finds only whole characters.
    for (i, &b) in bytes.iter().enumerate().skip(body) {
        if b == quote {
            // bytes[i - 1] is at least the opening quote, never before it.
            if bytes[i - 1] == b'\\' {
                escaped.push(i);
            } else {
                plain = Some(i);
                break;
            }
        }
    }
    for close in plain.into_iter().chain(escaped.into_iter().rev()) {
        let end = line_end(text, close);
        let rest = skip_space(text, close + 1, end);
        if rest == end || bytes[rest] == b'#' {
            let inner = &text[body..close];
            let value = if quote == b'"' {
                unescape_line_breaks(inner)
            } else {
                inner.to_owned()
            };
            return Ok((value, end));
        }
    }
    Err(Why::UnclosedQuote)
}

/// `\n` → line feed and `\r` → carriage return, left to right.
fn unescape_line_breaks(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('n')) => {
                chars.next();
                out.push('\n');
            }
            ('\\', Some('r')) => {
                chars.next();
                out.push('\r');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> HashMap<String, String> {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn value(text: &str) -> String {
        let values = parsed(text);
        assert_eq!(values.len(), 1, "{text:?}: {values:?}");
        values.into_values().next().unwrap()
    }

    fn refused(text: &str) -> Malformed {
        match parse(text.as_bytes()) {
            Err(e) => e,
            Ok(values) => panic!("{text:?} was accepted: {values:?}"),
        }
    }

    #[test]
    fn pairs_are_read_without_touching_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "# app\nOCD_ENV_FILE_TEST=1\nB='two words'\n").unwrap();
        let (values, _) = read(Some(&path)).unwrap();
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
        let (values, _) = read(Some(&path)).unwrap();
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
        assert_eq!(read_from(dir.path(), true).unwrap().0.len(), 0);
        assert_eq!(
            read_from(&dir.path().join("nope"), true).unwrap().0.len(),
            0
        );
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\n").unwrap();
        assert_eq!(read_from(&path, true).unwrap().0["A"], "1");
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

    #[test]
    fn nothing_is_expanded() {
        assert_eq!(value("K=s3cr3t$HOME"), "s3cr3t$HOME");
        assert_eq!(value("K=\"${HOME}\""), "${HOME}");
        let doubling: String = (1..40)
            .map(|i| format!("V{i}=${{V{}}}${{V{}}}\n", i - 1, i - 1))
            .collect();
        let values = parsed(&format!("V0=ab\n{doubling}"));
        assert_eq!(values["V39"], "${V38}${V38}");
        assert_eq!(values.len(), 40);
    }

    #[test]
    fn plain_values_are_trimmed_and_end_at_a_hash() {
        assert_eq!(value("K=  two words  "), "two words");
        assert_eq!(value("K=abc # note"), "abc");
        // Node ends a plain value at any '#', not only after a space.
        assert_eq!(value("K=abc#def"), "abc");
        assert_eq!(value("K=#all comment"), "");
        assert_eq!(value("K="), "");
        assert_eq!(value("K=a=b"), "a=b");
        assert_eq!(value("K=\\n\\$x"), "\\n\\$x", "backslashes are kept");
        assert_eq!(value("K=\u{a0}nbsp\u{a0}"), "nbsp", "JavaScript's trim");
    }

    #[test]
    fn quotes_are_stripped_and_keep_what_is_inside() {
        assert_eq!(value("K='a # b'"), "a # b");
        assert_eq!(value("K=\"  padded  \""), "  padded  ");
        assert_eq!(value("K=`back tick`"), "back tick");
        assert_eq!(value("K = \"spaced\"  # comment"), "spaced");
        assert_eq!(value("K='x'#c"), "x");
        assert_eq!(value("K=''"), "");
        assert_eq!(value("K=a'b\"c"), "a'b\"c", "quotes inside a plain value");
    }

    #[test]
    fn only_double_quotes_turn_backslash_n_and_r_into_line_breaks() {
        assert_eq!(value(r#"K="a\nb\rc\td""#), "a\nb\rc\\td");
        assert_eq!(value(r#"K="a\\nb""#), "a\\\nb");
        assert_eq!(value(r"K='a\nb'"), r"a\nb");
        assert_eq!(value(r"K=`a\nb`"), r"a\nb");
        // Node keeps an escaped quote as two characters.
        assert_eq!(value(r#"K="say \"hi\"""#), r#"say \"hi\""#);
        assert_eq!(value(r"K='it\'s'"), r"it\'s");
        // A backslash before what has to be the closing quote.
        assert_eq!(value(r"K='ends\'"), r"ends\");
    }

    #[test]
    fn quoted_values_may_span_lines() {
        let values = parsed("A=\"one\ntwo\"\nB='x\n\ny' # c\nC=3\n");
        assert_eq!(values["A"], "one\ntwo");
        assert_eq!(values["B"], "x\n\ny");
        assert_eq!(values["C"], "3");
        // CRLF inside a value becomes LF, as in Node.
        assert_eq!(value("A=\"one\r\ntwo\"\r\n"), "one\ntwo");
        // A value ends at its own closing quote, not at a later line's.
        let values = parsed("A=\"1\"\nB=\"\"\nC=\"3\" # c\n");
        assert_eq!(
            (&*values["A"], &*values["B"], &*values["C"]),
            ("1", "", "3")
        );
        // Line numbers go on counting after a value of several lines.
        assert_eq!(refused("A='1\n2'\nB=2\noops\n").line, 4);
    }

    #[test]
    fn export_comments_blank_lines_and_colons() {
        let values = parsed(
            "# comment\n\n   \n  # indented\nexport A=1\nexport  B = 2\n  C=3\nD: 4\nexport=5\nx.y-z=6\n",
        );
        let expected = [
            ("A", "1"),
            ("B", "2"),
            ("C", "3"),
            ("D", "4"),
            ("export", "5"),
            ("x.y-z", "6"),
        ];
        assert_eq!(values.len(), expected.len(), "{values:?}");
        for (name, value) in expected {
            assert_eq!(values[name], value, "{name}");
        }
    }

    #[test]
    fn a_later_duplicate_wins() {
        assert_eq!(parsed("A=1\nA=2\n")["A"], "2");
    }

    #[test]
    fn crlf_cr_and_byte_order_mark() {
        let values = parsed("\u{feff}A=1\r\nB=\"2\"\r\nC=3\rD=4");
        assert_eq!(values["A"], "1");
        assert_eq!(values["B"], "2");
        assert_eq!(values["C"], "3");
        assert_eq!(values["D"], "4");
        assert_eq!(refused("A=1\r\nB=2\rnope\r\n").line, 3);
    }

    #[test]
    fn what_is_not_an_assignment_is_refused_by_line_number() {
        for (text, line) in [
            ("A=1\nINTERNAL_API_KEY s3cr3t\n", 2),
            ("NAME\n", 1),
            ("A=1\n\n$X=1\n", 3),
            ("TWO WORDS=1\n", 1),
            ("A:1\n", 1),
            ("A :1\n", 1),
            ("export\n", 1),
            ("export A\n", 1),
            ("=value\n", 1),
            ("clé=1\n", 1),
        ] {
            let e = refused(text);
            assert_eq!(
                e,
                Malformed {
                    line,
                    why: Why::NotAssignment
                },
                "{text:?}"
            );
            assert!(!e.to_string().contains("s3cr3t"), "{e}");
        }
    }

    #[test]
    fn a_quote_that_is_not_closed_is_refused() {
        for (text, line) in [
            ("A=1\nK='s3cr3t\n", 2),
            ("K=\"abc\nB=2\n", 1),
            ("K=\"abc\" def\n", 1),
            ("K='a'\"b\"\n", 1),
            ("export K=`x\n", 1),
        ] {
            let e = refused(text);
            assert_eq!(
                e,
                Malformed {
                    line,
                    why: Why::UnclosedQuote
                },
                "{text:?}"
            );
            assert!(e.to_string().contains(&format!("line {line} ")), "{e}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_by_line_number() {
        let e = parse(b"A=1\nB=\xff\n").unwrap_err();
        assert_eq!(
            e,
            Malformed {
                line: 2,
                why: Why::NotUtf8
            }
        );
        assert_eq!(e.to_string(), "is malformed at line 2 (not UTF-8 text)");
    }

    #[test]
    fn an_implicit_env_file_must_be_ours_and_not_writable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\n").unwrap();
        let problem = |mode| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            untrusted(&std::fs::metadata(&path).unwrap()).map(|u| {
                assert_eq!(u.fix, "chmod go-w it");
                u.problem
            })
        };
        assert_eq!(problem(0o600), None);
        assert_eq!(problem(0o644), None);
        assert_eq!(
            problem(0o666).unwrap(),
            "is writable by its group and by any user (mode 0666)"
        );
        assert_eq!(
            problem(0o620).unwrap(),
            "is writable by its group (mode 0620)"
        );
        assert_eq!(
            problem(0o602).unwrap(),
            "is writable by any user (mode 0602)"
        );
        // Another owner: only root may give the file one.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Err(e) = std::os::unix::fs::chown(&path, Some(65534), None) {
            eprintln!("skipped: cannot give the file another owner ({e})");
            return;
        }
        let Untrusted { problem, fix } = untrusted(&std::fs::metadata(&path).unwrap()).unwrap();
        assert_eq!(fix, "chown it to this user");
        assert!(
            problem.starts_with("is owned by uid 65534, neither this user (uid "),
            "{problem}"
        );
        assert!(problem.ends_with(") nor root"), "{problem}");
    }

    #[test]
    fn trust_depends_on_who_runs_it() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let meta = || std::fs::metadata(&path).unwrap();
        if meta().uid() == 0 {
            // Root's file: trusted by any user.
            assert_eq!(untrusted_as(&meta(), 1000), None, "owned by root");
            // An ordinary user's file from here on.
            std::os::unix::fs::chown(&path, Some(1000), None).unwrap();
        }
        let owner = meta().uid();
        assert_eq!(untrusted_as(&meta(), owner), None, "its owner's own file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
        let fix = |euid| untrusted_as(&meta(), euid).map(|u| u.fix);
        assert_eq!(fix(owner), Some("chmod go-w it"));
        assert_eq!(
            fix(owner + 1),
            Some("chown it to this user and chmod go-w it")
        );
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        /// The total size of names and values.
        fn size(values: &HashMap<String, String>) -> usize {
            values.iter().map(|(k, v)| k.len() + v.len()).sum()
        }

        proptest! {
            /// Any bytes, or any text made of the syntax's pieces: pairs
            /// no larger in total than the input, or a line number within
            /// it; never a panic.
            #[test]
            fn any_input_parses_within_its_size_or_names_a_line(
                bytes in proptest::collection::vec(any::<u8>(), 0..600),
                text in "((export )?[A-Za-z_.$-]{0,6}[ \t]{0,2}(=|: |:)?[ \t]{0,2}[\"'`$\\\\{}a-z #=\t\r\n\u{feff}]{0,16}\r?\n?){0,8}",
            ) {
                for input in [bytes, text.into_bytes()] {
                    match parse(&input) {
                        Ok(values) => prop_assert!(size(&values) <= input.len()),
                        Err(e) => {
                            let lines = 1 + input.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
                            prop_assert!(e.line >= 1 && e.line <= lines, "{:?}", e);
                        }
                    }
                }
            }
        }
    }
}
