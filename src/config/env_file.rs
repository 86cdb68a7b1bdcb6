//! The app's env files: which ones Next.js reads and in which order, how
//! each is read (only regular files, under a size cap, and in the working
//! directory only if no one else could have written them), and their
//! syntax, that of the dotenv Next bundles. What they mean together, `$`
//! expansion included, is `expand`'s.
//!
//! `next start` loads `.env.production.local`, `.env.local`,
//! `.env.production` and `.env` from the app's directory (with
//! `NODE_ENV=test`: `.env.test.local`, `.env.test`, `.env`), and the app
//! compares the key header with what they give it. So with no `--env-file`
//! the same files are read from the same directory (the working directory,
//! or `--app-dir`); `--env-file` names one file and nothing else.
//!
//! No message here quotes a line of a file: any of them may hold the key.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::files::{self, ReadError};

/// Where the env files are read from.
#[derive(Clone, Debug)]
pub enum Place {
    /// `--env-file`: this file, which must exist.
    File(PathBuf),
    /// Next's files in this directory, named with `--app-dir` or
    /// `OCD_CRON_APP_DIR` (which must exist), or the working directory.
    AppDir { dir: PathBuf, named: bool },
}

/// The files Next reads, the first that sets a name winning.
pub fn chain(test: bool) -> &'static [&'static str] {
    if test {
        &[".env.test.local", ".env.test", ".env"]
    } else {
        &[
            ".env.production.local",
            ".env.local",
            ".env.production",
            ".env",
        ]
    }
}

/// An env file that was read.
#[derive(Debug)]
pub struct EnvFile {
    /// As messages show it: `./.env.local` in the working directory.
    pub path: PathBuf,
    /// Of the descriptor read (`fstat`).
    pub meta: Metadata,
    pub pairs: Vec<Pair>,
}

/// The env files read, and what was looked for.
#[derive(Debug)]
pub struct EnvFiles {
    pub read: Vec<EnvFile>,
    /// Where they were looked for.
    place: Place,
    test: bool,
    /// Why a file present was not read (not a regular file, or not
    /// trusted), for that message too.
    pub ignored: Vec<String>,
    /// Warnings to show whatever happens next.
    pub warnings: Vec<String>,
}

impl EnvFiles {
    /// Where the files were looked for, which were read and which left
    /// out, for the message when the key is found nowhere (built only
    /// then: it asks for the working directory).
    pub fn searched(&self) -> String {
        let (dir, named) = match &self.place {
            Place::File(path) => {
                return format!("the env file {} (--env-file)", path.display());
            }
            Place::AppDir { dir, named } => (dir, *named),
        };
        let shown_dir = if named {
            format!("{} ({})", dir.display(), crate::setting::APP_DIR)
        } else {
            let cwd = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".into());
            format!("{cwd} (the working directory; cron starts jobs in $HOME)")
        };
        let list = chain(self.test).join(", ");
        let mut searched = if self.read.is_empty() {
            format!("the app's env files in {shown_dir}: none of {list} is there")
        } else {
            let read: Vec<String> = self
                .read
                .iter()
                .map(|f| {
                    f.path
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            format!(
                "the app's env files in {shown_dir}: {} read (of {list})",
                read.join(", ")
            )
        };
        if !self.ignored.is_empty() {
            searched.push_str(&format!(" ({})", self.ignored.join("; ")));
        }
        searched
    }
}

/// Reads the env files of `place`; `test` when `NODE_ENV=test`.
pub fn read(place: &Place, test: bool) -> Result<EnvFiles, Error> {
    match place {
        Place::File(path) => {
            let mut files = EnvFiles {
                place: place.clone(),
                test,
                read: Vec::new(),
                ignored: Vec::new(),
                warnings: Vec::new(),
            };
            match read_one(path, Role::Named) {
                Ok(file) => files.read.extend(file),
                Err(Skip::Refused(error)) => return Err(error),
                // Neither happens to a named file, which is read or refused.
                Err(Skip::Ignored(why) | Skip::Untrusted(why)) => files.ignored.push(why),
            }
            Ok(files)
        }
        Place::AppDir { dir, named } => read_chain(dir, *named, test),
    }
}

fn read_chain(dir: &Path, named: bool, test: bool) -> Result<EnvFiles, Error> {
    if named {
        let problem = match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => None,
            Ok(_) => Some("is not a directory".to_owned()),
            Err(e) => Some(format!("cannot be used ({e})")),
        };
        if let Some(problem) = problem {
            return Err(Error::Config(format!(
                "{} {} {problem}; name the directory the OCD app runs in (where its .env files \
                 are)",
                crate::setting::APP_DIR,
                dir.display()
            )));
        }
    }
    let names = chain(test);
    let mut files = EnvFiles {
        place: Place::AppDir {
            dir: dir.to_path_buf(),
            named,
        },
        test,
        read: Vec::new(),
        ignored: Vec::new(),
        warnings: Vec::new(),
    };
    let role = if named {
        Role::InNamedDir
    } else {
        Role::InWorkingDir
    };
    for name in names {
        match read_one(&dir.join(name), role) {
            Ok(file) => files.read.extend(file),
            Err(Skip::Ignored(why)) => files.ignored.push(why),
            Err(Skip::Untrusted(warning)) => {
                files
                    .ignored
                    .push(format!("{} is not trusted", dir.join(name).display()));
                files.warnings.push(warning);
            }
            Err(Skip::Refused(error)) => return Err(error),
        }
    }
    Ok(files)
}

/// How a file came to be read, which decides what a problem with it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `--env-file`: it must exist and be a regular file.
    Named,
    /// Next's files in `--app-dir`: each may be missing.
    InNamedDir,
    /// Next's files in the working directory: each may be missing, and is
    /// read only if this user or root could have written it.
    InWorkingDir,
}

/// Why a file was not read.
enum Skip {
    /// Not a file Next reads either (a directory: a Python virtualenv is
    /// often called `.env`, and cron starts jobs in `$HOME`).
    Ignored(String),
    /// In the working directory, writable by someone else: the warning.
    Untrusted(String),
    Refused(Error),
}

/// One env file; `None` when a file of the chain is missing.
fn read_one(path: &Path, role: Role) -> Result<Option<EnvFile>, Skip> {
    let fail = |why: String| {
        let fix = match role {
            Role::Named => "fix it or point --env-file at another file",
            _ => "fix it, or name the file to read with --env-file",
        };
        Skip::Refused(Error::Config(format!(
            "env file {} {why}; {fix}",
            path.display()
        )))
    };
    let (content, meta) = match files::read_with_metadata(path, files::ENV_FILE) {
        Ok(read) => read,
        Err(ReadError::Missing(_)) if role != Role::Named => return Ok(None),
        // Next never reads a directory, socket or device. It does read a
        // FIFO, which this tool never does: one in a directory named on
        // purpose is refused, so that no file the app reads is silently
        // left out.
        Err(ReadError::NotRegular(what))
            if role == Role::InWorkingDir || (role == Role::InNamedDir && what != "a FIFO") =>
        {
            let why = format!("{} is {what}, not an env file; ignored", path.display());
            log::debug!("{why} (name one with --env-file)");
            return Err(Skip::Ignored(why));
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    // The operator named --env-file or --app-dir; the working directory is
    // only wherever the job happened to start, and may be a stranger's.
    if role == Role::InWorkingDir
        && let Some(Untrusted { problem, fix }) = untrusted(&meta)
    {
        let place = std::env::current_dir()
            .map(|dir| format!(" in {}", dir.display()))
            .unwrap_or_default();
        return Err(Skip::Untrusted(format!(
            "{}{place} {problem}: whoever wrote it could send the key elsewhere, so it is \
             ignored; name the app's directory with --app-dir or the file with --env-file if \
             you trust it, or {fix}",
            path.display()
        )));
    }
    // Node reads the file as UTF-8, replacing what is not.
    let text = String::from_utf8_lossy(&content);
    Ok(Some(EnvFile {
        path: path.to_path_buf(),
        meta,
        pairs: parse(&text),
    }))
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

/// One `NAME=value` of an env file, as Next's dotenv reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub name: String,
    /// Quotes stripped, `\n` and `\r` unescaped in double quotes; not yet
    /// expanded.
    pub value: String,
    /// 1-based, counting CRLF and lone CR as one line end, as Node does.
    pub line: usize,
}

/// The pairs in `text`, in the order JavaScript iterates the object that
/// dotenv builds (names that are array indices first, by value, then the
/// others in the order first seen), a later line replacing the value of
/// an earlier one of the same name. What is not an assignment is skipped,
/// as Node skips it.
///
/// This follows dotenv 16.3.1's `parse`, the one Next bundles: its line
/// expression applied again and again from where the last match ended, at
/// the start of a line, followed by a trim, a quote strip and, for values
/// that start with a double quote, `\n` and `\r`. The expression is written
/// out below as the decisions a backtracking matcher makes; each step
/// notes the part of the expression it stands for.
pub fn parse(text: &str) -> Vec<Pair> {
    // `replace(/\r\n?/gm, "\n")`.
    let normalized;
    let text = if text.contains('\r') {
        normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        text
    };
    let mut closers = Closers::default();
    let mut pairs: Vec<Pair> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let (mut line, mut counted) = (1, 0);
    let mut at = 0;
    while let Some(start) = line_start_from(text, at) {
        let Some(found) = assignment_at(text, start, &mut closers) else {
            // Every line start up to the first character that is not white
            // space leads to that character, and fails there too.
            let blank = skip_space(text, start);
            if blank == text.len() {
                break;
            }
            at = next_char(text, blank);
            continue;
        };
        line += text[counted..found.name_at].matches('\n').count();
        counted = found.name_at;
        at = found.end;
        // `t[name] = value` on a plain object: an assignment to `__proto__`
        // sets nothing.
        if found.name == "__proto__" {
            continue;
        }
        let value = unquote(found.raw);
        match index.get(found.name) {
            Some(&i) => {
                pairs[i].value = value;
                pairs[i].line = line;
            }
            None => {
                index.insert(found.name, pairs.len());
                pairs.push(Pair {
                    name: found.name.to_owned(),
                    value,
                    line,
                });
            }
        }
    }
    // Stable: the other names keep the order they were first seen in.
    pairs.sort_by_key(|pair| array_index(&pair.name).map_or(u64::MAX, u64::from));
    pairs
}

/// What the line expression matched.
struct Found<'t> {
    name_at: usize,
    name: &'t str,
    /// Group 2, or empty when it did not take part.
    raw: &'t str,
    /// Where the match ended: the next search starts there.
    end: usize,
}

/// JavaScript's line terminators: where `^` and `$` match in a multiline
/// expression, and what `.` does not match.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
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

/// `[\w.-]`: ASCII only, as in an expression without the `u` flag.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn next_char(text: &str, at: usize) -> usize {
    at + text[at..].chars().next().map_or(1, char::len_utf8)
}

/// `at` moved past white space.
fn skip_space(text: &str, at: usize) -> usize {
    text[at..]
        .find(|c: char| !is_space(c))
        .map_or(text.len(), |i| at + i)
}

/// The first position at or after `at` where `^` matches in multiline
/// mode: the start of the text, or just after a line terminator.
fn line_start_from(text: &str, at: usize) -> Option<usize> {
    if at >= text.len() {
        return None;
    }
    if at == 0
        || text[..at]
            .chars()
            .next_back()
            .is_some_and(is_line_terminator)
    {
        return Some(at);
    }
    text[at..]
        .char_indices()
        .find(|&(_, c)| is_line_terminator(c))
        .map(|(i, c)| at + i + c.len_utf8())
        .filter(|&start| start < text.len())
}

/// The expression matched at the line start `start`, if it matches there.
fn assignment_at<'t>(text: &'t str, start: usize, closers: &mut Closers) -> Option<Found<'t>> {
    // `\s*` can only end where the next character is not white space:
    // what follows it starts with `e` of export or a name character.
    let first = skip_space(text, start);
    // `(?:export\s+)?`, tried with export first.
    if let Some(after) = text[first..].strip_prefix("export")
        && after.starts_with(is_space)
    {
        let name_at = skip_space(text, text.len() - after.len());
        if let Some(found) = name_and_value(text, name_at, closers) {
            return Some(found);
        }
    }
    name_and_value(text, first, closers)
}

/// `([\w.-]+)(?:\s*=\s*?|:\s+?)(value)?\s*(?:#.*)?(?:$|$)` at `at`. Once
/// the name and the separator match, the rest always does (see [`value`]).
fn name_and_value<'t>(text: &'t str, at: usize, closers: &mut Closers) -> Option<Found<'t>> {
    // The name is as long as it can be: a shorter one would be followed by
    // a name character, which neither separator starts with.
    let name_end = text[at..]
        .find(|c: char| !is_name_char(c))
        .map_or(text.len(), |i| at + i);
    if name_end == at {
        return None;
    }
    let name = &text[at..name_end];
    // `\s*=\s*?`: white space (line breaks included), `=`, and none of the
    // lazy white space, since the rest matches from there.
    let equals = skip_space(text, name_end);
    let value_at = if text[equals..].starts_with('=') {
        equals + 1
    } else {
        // `:\s+?`: a colon right after the name, and exactly one white
        // space character.
        let space = text[name_end..].strip_prefix(':')?.chars().next()?;
        if !is_space(space) {
            return None;
        }
        name_end + 1 + space.len_utf8()
    };
    let (raw, end) = value(text, value_at, closers);
    Some(Found {
        name_at: at,
        name,
        raw,
        end,
    })
}

/// Group 2 at `at`, and the end of the match. Its alternatives in order:
/// a value in single quotes, in double quotes, in backticks (each after
/// optional white space, line breaks included), then `[^#\r\n]+`; then
/// none. The rest of the expression, `\s*(?:#.*)?$`, always matches after
/// an unquoted value or none, since that stops only at `#`, a line feed or
/// the end.
fn value<'t>(text: &'t str, at: usize, closers: &mut Closers) -> (&'t str, usize) {
    let open = skip_space(text, at);
    if let Some(quote) = text[open..]
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"' | '`'))
        && let Some((close, end)) = closers.close(text, open, quote)
    {
        return (&text[at..=close], end);
    }
    let plain_end = text[at..]
        .find(['#', '\n', '\r'])
        .map_or(text.len(), |i| at + i);
    let raw = &text[at..plain_end];
    let end = rest(text, plain_end).unwrap_or(plain_end);
    (raw, end)
}

/// Where a quoted value opening at a given quote closes, for each kind of
/// quote, found once per file. `'(?:\\'|[^'])*'` (or its `"` and `` ` ``
/// forms) can close at the first quote that does not follow a backslash,
/// else, backtracking, at one that does, the last first; it closes at the
/// first of these after which the rest of the expression ([`rest`])
/// matches. Whether it does depends only on where the quote is, so the
/// quotes are classified once: scanning from each opening instead would
/// take time that grows with the square of the file.
#[derive(Default)]
struct Closers {
    kinds: Vec<(char, QuoteKind)>,
}

struct QuoteKind {
    /// Quotes that do not follow a backslash, in order.
    plain: Vec<usize>,
    /// Quotes that follow one and after which the rest matches, in order.
    escaped_closing: Vec<usize>,
}

impl Closers {
    /// The closing quote of the value opening at `open`, and where the
    /// match ends.
    fn close(&mut self, text: &str, open: usize, quote: char) -> Option<(usize, usize)> {
        let i = match self.kinds.iter().position(|(q, _)| *q == quote) {
            Some(i) => i,
            None => {
                self.kinds.push((quote, QuoteKind::of(text, quote)));
                self.kinds.len() - 1
            }
        };
        let kind = &self.kinds[i].1;
        let after = |list: &[usize]| list.partition_point(|&q| q <= open);
        let plain = kind.plain.get(after(&kind.plain)).copied();
        if let Some(plain) = plain
            && let Some(end) = rest(text, plain + 1)
        {
            return Some((plain, end));
        }
        let limit = plain.unwrap_or(text.len());
        let before = kind.escaped_closing.partition_point(|&q| q < limit);
        let close = *kind.escaped_closing[..before].last()?;
        (close > open).then(|| (close, rest(text, close + 1).unwrap_or(close + 1)))
    }
}

impl QuoteKind {
    fn of(text: &str, quote: char) -> QuoteKind {
        let bytes = text.as_bytes();
        let (mut plain, mut escaped_closing) = (Vec::new(), Vec::new());
        // Quotes and backslashes are ASCII: scanning bytes finds whole
        // characters only.
        for (i, &b) in bytes.iter().enumerate() {
            if b != quote as u8 {
                continue;
            }
            if i > 0 && bytes[i - 1] == b'\\' {
                if rest(text, i + 1).is_some() {
                    escaped_closing.push(i);
                }
            } else {
                plain.push(i);
            }
        }
        QuoteKind {
            plain,
            escaped_closing,
        }
    }
}

/// `\s*(?:#.*)?(?:$|$)` at `at`: where the match ends, if it does. The
/// greedy `\s*` gives back white space until `$` can match: at the end, at
/// a `#` comment (which runs to a line terminator), or before the last line
/// terminator in the white space.
fn rest(text: &str, at: usize) -> Option<usize> {
    let after = skip_space(text, at);
    if after == text.len() {
        return Some(after);
    }
    if text[after..].starts_with('#') {
        return Some(
            text[after..]
                .find(is_line_terminator)
                .map_or(text.len(), |i| after + i),
        );
    }
    text[at..after].rfind(is_line_terminator).map(|i| at + i)
}

/// What dotenv does with group 2: `trim()`, then
/// `replace(/^(['"`])([\s\S]*)\1$/gm, "$2")`, then, if the trimmed value
/// started with a double quote, `\n` and `\r` become a line feed and a
/// carriage return.
fn unquote(raw: &str) -> String {
    let trimmed = raw.trim_matches(is_space);
    let stripped = strip_quotes(trimmed);
    if trimmed.starts_with('"') {
        stripped.replace("\\n", "\n").replace("\\r", "\r")
    } else {
        stripped
    }
}

/// `replace(/^(['"`])([\s\S]*)\1$/gm, "$2")`: from each line start (in the
/// multiline sense) that holds a quote, up to the last same quote that ends
/// a line, the quotes are dropped; the search goes on after each match.
fn strip_quotes(value: &str) -> String {
    // Only a quote at the start or after a line terminator can begin a match.
    let starts_with_quote = value.starts_with(['\'', '"', '`']);
    if !starts_with_quote && !value.contains(is_line_terminator) {
        return value.to_owned();
    }
    // For each quote, the last one that ends a line: where the greedy
    // `[\s\S]*` stops, whichever line start the match begins at.
    let last_closing = |quote: char| {
        value
            .char_indices()
            .rev()
            .find(|&(i, c)| {
                c == quote && value[i + 1..].chars().next().is_none_or(is_line_terminator)
            })
            .map(|(i, _)| i)
    };
    let closing = [
        ('\'', last_closing('\'')),
        ('"', last_closing('"')),
        ('`', last_closing('`')),
    ];
    let mut out = String::with_capacity(value.len());
    let mut copied = 0;
    let mut at = 0;
    while at < value.len() {
        let line_start = at == 0
            || value[..at]
                .chars()
                .next_back()
                .is_some_and(is_line_terminator);
        let close = value[at..].chars().next().and_then(|c| {
            closing
                .iter()
                .find(|(quote, _)| *quote == c)
                .and_then(|(_, close)| *close)
        });
        if line_start && let Some(close) = close.filter(|&close| close > at) {
            out.push_str(&value[copied..at]);
            out.push_str(&value[at + 1..close]);
            copied = close + 1;
            at = close + 1;
            continue;
        }
        at = next_char(value, at);
    }
    out.push_str(&value[copied..]);
    out
}

/// The value of a name that is a JavaScript array index (`0` to
/// 4294967294, written without leading zeros): such properties come first
/// when an object is iterated.
pub(super) fn array_index(name: &str) -> Option<u32> {
    if name.is_empty() || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse::<u32>().ok().filter(|&n| n != u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> HashMap<String, String> {
        parse(text).into_iter().map(|p| (p.name, p.value)).collect()
    }

    fn value(text: &str) -> String {
        let values = parsed(text);
        assert_eq!(values.len(), 1, "{text:?}: {values:?}");
        values.into_values().next().unwrap()
    }

    fn read_file(path: &Path) -> Result<EnvFiles, Error> {
        read(&Place::File(path.to_path_buf()), false)
    }

    fn values(files: &EnvFiles) -> HashMap<String, String> {
        files
            .read
            .iter()
            .flat_map(|f| f.pairs.iter().map(|p| (p.name.clone(), p.value.clone())))
            .collect()
    }

    #[test]
    fn pairs_are_read_without_touching_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "# app\nOCD_ENV_FILE_TEST=1\nB='two words'\n").unwrap();
        let values = values(&read_file(&path).unwrap());
        assert_eq!(values["OCD_ENV_FILE_TEST"], "1");
        assert_eq!(values["B"], "two words");
        assert!(std::env::var_os("OCD_ENV_FILE_TEST").is_none());
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "\u{feff}API_BASE_URL=http://h:1\nB=2\n").unwrap();
        let values = values(&read_file(&path).unwrap());
        assert_eq!(values["API_BASE_URL"], "http://h:1");
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_as_node_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, b"A=\xff\nB=ok\n").unwrap();
        let values = values(&read_file(&path).unwrap());
        assert_eq!(values["A"], "\u{fffd}");
        assert_eq!(values["B"], "ok");
    }

    #[test]
    fn a_named_env_file_must_exist_and_be_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_file(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory, not a regular file"), "{err}");
        let err = read_file(&dir.path().join("nope")).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(
            err.to_string()
                .ends_with("; fix it or point --env-file at another file"),
            "{err}"
        );
        // A file of the chain was not named: the fix is to name one.
        std::fs::write(dir.path().join(".env"), "x".repeat(2 << 20)).unwrap();
        let place = Place::AppDir {
            dir: dir.path().to_path_buf(),
            named: true,
        };
        let err = read(&place, false).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "/.env is larger than 1 MiB; fix it, or name the file to read with --env-file"
            ),
            "{err}"
        );
    }

    #[test]
    fn the_chain_is_read_in_nexts_order_and_its_files_may_be_missing() {
        let dir = tempfile::tempdir().unwrap();
        let place = |named| Place::AppDir {
            dir: dir.path().to_path_buf(),
            named,
        };
        let none = read(&place(true), false).unwrap();
        assert!(none.read.is_empty());
        assert!(
            none.searched().contains(
                "none of .env.production.local, .env.local, .env.production, .env is there"
            ),
            "{}",
            none.searched()
        );
        for name in [".env", ".env.local", ".env.test", ".env.production.local"] {
            std::fs::write(dir.path().join(name), format!("A={name}\n")).unwrap();
        }
        // A directory is skipped, as Next skips it.
        std::fs::create_dir(dir.path().join(".env.production")).unwrap();
        let names = |files: &EnvFiles| -> Vec<String> {
            files
                .read
                .iter()
                .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let files = read(&place(true), false).unwrap();
        assert_eq!(
            names(&files),
            [".env.production.local", ".env.local", ".env"]
        );
        assert_eq!(files.ignored.len(), 1, "{:?}", files.ignored);
        assert!(
            files
                .searched()
                .contains(".env.production.local, .env.local, .env read"),
            "{}",
            files.searched()
        );
        let files = read(&place(true), true).unwrap();
        assert_eq!(names(&files), [".env.test", ".env"]);
        let files = read(&place(false), false).unwrap();
        assert_eq!(
            names(&files),
            [".env.production.local", ".env.local", ".env"]
        );
    }

    #[test]
    fn only_the_working_directorys_files_must_be_ours_and_not_writable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let working = read(
            &Place::AppDir {
                dir: dir.path().to_path_buf(),
                named: false,
            },
            false,
        )
        .unwrap();
        assert!(working.read.is_empty());
        assert_eq!(working.warnings.len(), 1, "{:?}", working.warnings);
        assert!(working.warnings[0].contains("is writable by its group and by any user"));
        let named = read(
            &Place::AppDir {
                dir: dir.path().to_path_buf(),
                named: true,
            },
            false,
        )
        .unwrap();
        assert_eq!((named.read.len(), named.warnings.len()), (1, 0));
        let file = read_file(&path).unwrap();
        assert_eq!((file.read.len(), file.warnings.len()), (1, 0));
    }

    #[test]
    fn a_named_app_dir_must_be_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        for (path, why) in [
            (file, "is not a directory"),
            (dir.path().join("nope"), "cannot be used"),
        ] {
            let err = read(
                &Place::AppDir {
                    dir: path,
                    named: true,
                },
                false,
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains(why) && err.contains(": --app-dir / OCD_CRON_APP_DIR "),
                "{err}"
            );
        }
    }

    #[test]
    fn references_are_left_to_the_expansion() {
        assert_eq!(value("K=s3cr3t$HOME"), "s3cr3t$HOME");
        assert_eq!(value("K=\"${HOME}\""), "${HOME}");
        assert_eq!(value("K=\\$x"), "\\$x");
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
        // A plain value that starts with a double quote is unescaped too.
        assert_eq!(value(r#"K="a\nb" x"#), "\"a\nb\" x");
    }

    #[test]
    fn quoted_values_may_span_lines_and_start_on_the_next_one() {
        let values = parsed("A=\"one\ntwo\"\nB='x\n\ny' # c\nC=3\n");
        assert_eq!(values["A"], "one\ntwo");
        assert_eq!(values["B"], "x\n\ny");
        assert_eq!(values["C"], "3");
        assert_eq!(value("A=\"one\r\ntwo\"\r\n"), "one\ntwo");
        let values = parsed("A=\"1\"\nB=\"\"\nC=\"3\" # c\n");
        assert_eq!(
            (&*values["A"], &*values["B"], &*values["C"]),
            ("1", "", "3")
        );
        assert_eq!(value("K=\n'next'"), "next");
        assert_eq!(value("K\n=split"), "split");
    }

    #[test]
    fn a_quoted_value_may_close_at_a_quote_after_a_backslash() {
        // No plain quote after the opening one: the last quote after a
        // backslash that ends its line closes it, lines later.
        let values = parsed("K='a\nb\\'\nC=3\n");
        assert_eq!(values["K"], "a\nb\\");
        assert_eq!(values["C"], "3");
        // The first plain quote after it is followed by more than a
        // comment: back to the one after a backslash, before it.
        let values = parsed("K='a\nb\\'\nC='c' d\n");
        assert_eq!(values["K"], "a\nb\\");
        assert_eq!(values["C"], "'c' d");
        // Of several after a backslash, the last that ends its line, not
        // the first.
        let values = parsed("K='a\\' b\n\\' \nC=1\n");
        assert_eq!(values["K"], "a\\' b\n\\");
        // One before the opening quote does not count.
        let values = parsed("X=a\\'\nK='abc\n");
        assert_eq!(values["K"], "'abc");
    }

    #[test]
    fn unclosed_and_early_closed_quotes_are_taken_as_node_takes_them() {
        assert_eq!(parsed("A='abc\nB=2\n")["A"], "'abc");
        assert_eq!(parsed("A='abc\nB=2\n")["B"], "2");
        assert_eq!(value("K='k3y' x'"), "k3y' x");
        assert_eq!(value("K=\"abc\" def"), "\"abc\" def");
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
    fn what_is_not_an_assignment_is_skipped() {
        for text in [
            "garbage\nA=1\n",
            "A:1\nA=1",
            "TWO WORDS=2\nA=1",
            "clé=2\nA=1",
            "=v\nA=1",
        ] {
            let values = parsed(text);
            assert_eq!(
                values.get("A").map(String::as_str),
                Some("1"),
                "{text:?}: {values:?}"
            );
        }
        assert!(parsed("NAME\nexport\nexport A\n").is_empty());
    }

    #[test]
    fn a_later_duplicate_wins_in_the_place_of_the_first() {
        let pairs = parse("A=1\nB=2\nA=3\n");
        assert_eq!(
            pairs[0],
            Pair {
                name: "A".into(),
                value: "3".into(),
                line: 3
            }
        );
        assert_eq!(pairs[1].name, "B");
    }

    #[test]
    fn names_that_are_array_indices_come_first_and_proto_is_dropped() {
        let names: Vec<String> = parse("b=1\n10=2\n2=3\n01=4\n__proto__=5\n4294967295=6\n")
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["2", "10", "b", "01", "4294967295"]);
    }

    #[test]
    fn lines_are_counted_as_node_counts_them() {
        let lines: Vec<usize> = parse("A=1\r\n\nB='x\ny'\rC=3\n\n\n  D=4")
            .iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, [1, 3, 5, 8]);
    }

    #[test]
    fn files_built_to_make_a_backtracking_parser_slow_are_read_in_one_pass() {
        // Each a megabyte: quadratic work would take hours, not moments.
        for line in [
            "K='\\'x\n",
            "K=\"\\\"\n",
            "K='x\u{2028}'x\u{2028}\n",
            "K=`\n",
        ] {
            let text = line.repeat((1 << 20) / line.len());
            assert!(parse(&text).len() <= 1);
        }
        let text = format!("K='{}", "'x\u{2028}".repeat(200_000));
        assert_eq!(parse(&text).len(), 1);
    }

    #[test]
    fn a_line_separator_ends_a_quoted_value_but_not_a_plain_one() {
        let values = parsed("K=k3y\u{2028}A=1\nB='b'\u{2028}C=2\n");
        assert_eq!(values["K"], "k3y\u{2028}A=1");
        assert!(!values.contains_key("A"));
        assert_eq!(values["B"], "b");
        assert_eq!(values["C"], "2");
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

        proptest! {
            /// Any text made of the syntax's pieces: names and values no
            /// larger in total than the input, lines within it; never a
            /// panic.
            #[test]
            fn any_input_parses_within_its_size(
                bytes in proptest::collection::vec(any::<u8>(), 0..600),
                text in "((export )?[A-Za-z_.$-]{0,6}[ \t]{0,2}(=|: |:)?[ \t]{0,2}[\"'`$\\\\{}a-z #=\t\r\n\u{2028}\u{feff}]{0,16}\r?\n?){0,8}",
            ) {
                for input in [String::from_utf8_lossy(&bytes).into_owned(), text] {
                    let pairs = parse(&input);
                    let size: usize = pairs.iter().map(|p| p.name.len() + p.value.len()).sum();
                    prop_assert!(size <= input.len());
                    let lines = 1 + input.matches(['\n', '\r']).count();
                    prop_assert!(pairs.iter().all(|p| p.line >= 1 && p.line <= lines));
                }
            }
        }
    }
}
