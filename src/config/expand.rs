//! What Next.js makes of the app's env files: the merge of
//! `loadEnvConfig` (`@next/env`) and the `$` expansion of the dotenv-expand
//! it bundles, so that ocd-cron sends the key the app compares with.
//!
//! Written out from Next 16's loader and checked against it on a corpus
//! its own code produced (`scripts/next-env-corpus`). For each file, from
//! the first to the last: every name is expanded in the order JavaScript
//! iterates the file's pairs, starting from the value the process
//! environment already holds for that name if it holds one (earlier files
//! write theirs there), else from the file's; then every expanded pair is
//! written into that environment. At the end, a name the real environment
//! did not hold takes the value of the first file that set it; a name it
//! did hold keeps what the last expansion wrote. One expansion repeats:
//! find the last `$` not preceded by a backslash, match
//! `\${?(\w+)(?::-([^}\\]*))?}?` there, and replace the first occurrence
//! of the matched text (which may be an earlier one) with the environment's
//! value, else the default, else the file's own value of that name, else
//! nothing, JavaScript's replacement patterns (`$$`, `$&`, `` $` ``, `$'`)
//! included; it stops when no `$` is left or the last one matches nothing.
//! Then `\$` becomes `$`.
//!
//! Next's expansion has no bounds: a value that refers to itself overflows
//! its stack (Next then skips the whole file), and replacement patterns can
//! double a value at each step until the process runs out of memory. Here
//! each value may take [`MAX_STEPS`] replacements and grow to [`MAX_VALUE`]
//! bytes, and all of them together [`MAX_WORK`] bytes of scanning; past
//! that the configuration is refused, naming the file and line.

use std::collections::HashMap;

use super::env_file::{Pair, array_index};

/// Replacements in one value. Node's own stack allows about 4,000 on the
/// machine this was measured on; no real value needs a tenth of that.
pub const MAX_STEPS: usize = 1000;
/// The largest value an expansion may produce (the env file cap).
pub const MAX_VALUE: usize = 1024 * 1024;
/// Bytes scanned by every expansion of one load together.
const MAX_WORK: usize = 64 * 1024 * 1024;

/// Names that a JavaScript object has without setting them: a reference to
/// one that is not set finds a function (or an object) on its prototype,
/// which Next turns into text or calls. Refused rather than imitated.
const BUILTINS: &[&str] = &[
    "constructor",
    "__defineGetter__",
    "__defineSetter__",
    "hasOwnProperty",
    "__lookupGetter__",
    "__lookupSetter__",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toString",
    "valueOf",
    "__proto__",
    "toLocaleString",
];

/// A variable's value as the app sees it, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    pub origin: Origin,
    /// A `$NAME` with nothing set under that name (and no default) was
    /// replaced by nothing: the `$` swallowed part of what was written.
    pub swallowed: bool,
    /// Characters in the value as written, before expansion.
    pub written: usize,
    /// Whether expansion changed what was written.
    pub changed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The real environment's value, which Next expands when a file also
    /// sets the name (a name no file sets is not in [`Merged`]).
    Environment,
    /// The `file`th file read (in the order given), at `line`.
    File { file: usize, line: usize },
}

/// Why the files could not be expanded, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub file: usize,
    pub line: usize,
    pub name: String,
    pub why: Why,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// More than [`MAX_STEPS`] replacements: a value that refers to itself.
    Endless,
    /// Over [`MAX_VALUE`] bytes, or [`MAX_WORK`] in all.
    TooLarge,
    /// A reference to one of [`BUILTINS`] that is not set.
    Builtin(String),
}

/// The variables the files set, as the app sees them after
/// `loadEnvConfig`; a name no file sets is the environment's own business.
#[derive(Debug, Default)]
pub struct Merged {
    values: HashMap<String, Value>,
}

impl Merged {
    /// The value of `name`, if a file sets it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

/// Reads the environment: the real one, or a table in tests.
pub type Environment<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Merges and expands the pairs of `files`, first file first, over `env`.
pub fn merge(files: &[&[Pair]], env: Environment) -> Result<Merged, Failure> {
    // Node's `process.env` does not show a variable whose name is an array
    // index (`2`) until one is written: to Next such names start unset.
    let env = |name: &str| match array_index(name) {
        Some(_) => None,
        None => env(name),
    };
    // What the loader writes into the process environment, over `env`.
    let mut process_env: HashMap<String, Value> = HashMap::new();
    let mut first: HashMap<String, Value> = HashMap::new();
    let mut work = MAX_WORK;
    for (file, pairs) in files.iter().enumerate() {
        let position: HashMap<&str, usize> = pairs
            .iter()
            .enumerate()
            .map(|(i, pair)| (pair.name.as_str(), i))
            .collect();
        let mut parsed: Vec<String> = pairs.iter().map(|pair| pair.value.clone()).collect();
        let mut values = Vec::with_capacity(pairs.len());
        for (i, pair) in pairs.iter().enumerate() {
            // `hasOwnProperty(process.env, name) ? process.env[name] :
            // parsed[name]`.
            let start = process_env
                .get(&pair.name)
                .map(|v| v.text.clone())
                .or_else(|| env(&pair.name))
                .unwrap_or_else(|| parsed[i].clone());
            let lookup = |name: &str, default: Option<&str>| -> Result<String, Why> {
                let set = process_env
                    .get(name)
                    .map(|v| v.text.clone())
                    .or_else(|| env(name));
                match set {
                    Some(text) if !text.is_empty() => return Ok(text),
                    None if BUILTINS.contains(&name) => return Err(Why::Builtin(name.into())),
                    _ => {}
                }
                if let Some(default) = default.filter(|d| !d.is_empty()) {
                    return Ok(default.to_owned());
                }
                match position.get(name) {
                    Some(&j) => Ok(parsed[j].clone()),
                    None if BUILTINS.contains(&name) => Err(Why::Builtin(name.into())),
                    None => Ok(String::new()),
                }
            };
            let (text, swallowed) =
                interpolate(&start, lookup, &mut work).map_err(|why| Failure {
                    file,
                    line: pair.line,
                    name: pair.name.clone(),
                    why,
                })?;
            let text = text.replace("\\$", "$");
            parsed[i] = text.clone();
            let origin = if env(&pair.name).is_some() {
                Origin::Environment
            } else {
                Origin::File {
                    file,
                    line: pair.line,
                }
            };
            values.push(Value {
                changed: text != start,
                text,
                origin,
                swallowed,
                written: start.chars().count(),
            });
        }
        for (pair, value) in pairs.iter().zip(values) {
            // `typeof firstValues[name] === "undefined"`: never so for a
            // name the object inherits.
            if env(&pair.name).is_none()
                && !first.contains_key(&pair.name)
                && !BUILTINS.contains(&pair.name.as_str())
            {
                first.insert(pair.name.clone(), value.clone());
            }
            process_env.insert(pair.name.clone(), value);
        }
    }
    // `Object.assign(process.env, firstValues)`.
    process_env.extend(first);
    Ok(Merged {
        values: process_env,
    })
}

/// dotenv-expand's `_interpolate` on `value`, with `lookup(name, default)`
/// for what replaces a reference; whether a reference was replaced by
/// nothing.
fn interpolate(
    value: &str,
    lookup: impl Fn(&str, Option<&str>) -> Result<String, Why>,
    work: &mut usize,
) -> Result<(String, bool), Why> {
    let mut text = value.to_owned();
    let mut swallowed = false;
    for _ in 0..=MAX_STEPS {
        // Each step scans the whole value, the last one too.
        *work = work.checked_sub(text.len()).ok_or(Why::TooLarge)?;
        let Some(dollar) = last_unescaped_dollar(&text) else {
            return Ok((text, swallowed));
        };
        let Some(reference) = reference_at(&text, dollar) else {
            return Ok((text, swallowed));
        };
        let replacement = lookup(reference.name, reference.default)?;
        swallowed |= replacement.is_empty() && reference.default.is_none();
        let matched = &text[dollar..reference.end];
        // `String.prototype.replace` with a string: its first occurrence.
        let at = text.find(matched).unwrap_or(dollar);
        let with = substitution(&replacement, matched, &text, at);
        if text.len() - matched.len() + with.len() > MAX_VALUE {
            return Err(Why::TooLarge);
        }
        text = format!("{}{with}{}", &text[..at], &text[at + matched.len()..]);
    }
    Err(Why::Endless)
}

/// The last `$` that does not follow a backslash.
fn last_unescaped_dollar(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .rev()
        .find(|&i| bytes[i] == b'$' && (i == 0 || bytes[i - 1] != b'\\'))
}

/// `\${?([\w]+)(?::-([^}\\]*))?}?` matched at `dollar`.
struct Reference<'t> {
    name: &'t str,
    default: Option<&'t str>,
    /// Where the match ends.
    end: usize,
}

fn reference_at(text: &str, dollar: usize) -> Option<Reference<'_>> {
    let word = |at: usize| {
        text[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(text.len(), |i| at + i)
    };
    let mut at = dollar + 1;
    // `{?` would give the brace back when no name follows it, but then no
    // name follows the `$` either: no match, whichever way.
    if text[at..].starts_with('{') {
        at += 1;
    }
    let name_end = word(at);
    if name_end == at {
        return None;
    }
    let name = &text[at..name_end];
    let mut end = name_end;
    let mut default = None;
    if text[end..].starts_with(":-") {
        let from = end + 2;
        end = text[from..]
            .find(['}', '\\'])
            .map_or(text.len(), |i| from + i);
        default = Some(&text[from..end]);
    }
    if text[end..].starts_with('}') {
        end += 1;
    }
    Some(Reference { name, default, end })
}

/// JavaScript's `GetSubstitution` for a replacement string, a pattern that
/// is a string (no captures): `$$`, `$&`, `` $` `` and `$'` are replaced;
/// any other `$` stays.
fn substitution(replacement: &str, matched: &str, text: &str, at: usize) -> String {
    if !replacement.contains('$') {
        return replacement.to_owned();
    }
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => out.push('$'),
            Some('&') => out.push_str(matched),
            Some('`') => out.push_str(&text[..at]),
            Some('\'') => out.push_str(&text[at + matched.len()..]),
            _ => {
                out.push('$');
                continue;
            }
        }
        chars.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env_file::{chain, parse};
    use serde_json::Value as Json;

    /// The corpus Next's own loader wrote (`scripts/next-env-corpus`).
    fn corpus() -> Vec<Json> {
        let text = include_str!("../../tests/fixtures/next-env/corpus.json");
        let corpus: Json = serde_json::from_str(text).unwrap();
        corpus["cases"].as_array().unwrap().clone()
    }

    /// A case's files in Next's order (directories left out), as bytes.
    fn case_files(case: &Json) -> Vec<(String, Vec<u8>)> {
        let test = case["env"]["NODE_ENV"] == "test";
        chain(test)
            .iter()
            .filter_map(|name| {
                if let Some(bytes) = case["files_bytes"][*name].as_str() {
                    return Some((name.to_string(), bytes.chars().map(|c| c as u8).collect()));
                }
                let text = case["files"][*name].as_str()?;
                Some((name.to_string(), text.as_bytes().to_vec()))
            })
            .collect()
    }

    fn case_env(case: &Json) -> HashMap<String, String> {
        case["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    }

    /// What Next's loader says of a case: the values, or that it failed.
    fn next_failed(case: &Json) -> bool {
        !case["errors"].as_array().unwrap().is_empty() || case.get("crash").is_some()
    }

    fn pair(name: &str, value: &str, line: usize) -> Pair {
        Pair {
            name: name.into(),
            value: value.into(),
            line,
        }
    }

    fn merged(pairs: Vec<Pair>) -> Result<Merged, Failure> {
        merge(&[&pairs], &|_| None)
    }

    #[test]
    fn a_value_may_grow_to_a_mebibyte_and_all_of_them_take_64_mib_of_work() {
        let big = "x".repeat(MAX_VALUE);
        let at_cap = merged(vec![pair("A", &big, 1), pair("B", "$A", 2)]).unwrap();
        assert_eq!(at_cap.get("B").unwrap().text.len(), MAX_VALUE);
        let over = merged(vec![pair("A", &format!("{big}x"), 1), pair("B", "$A", 2)]);
        let failure = over.err().unwrap();
        assert_eq!((failure.line, failure.why), (2, Why::TooLarge));
        // Twenty references to 300 KB: 6 MB of work, well within the bound.
        let mut pairs = vec![pair("A", &"x".repeat(300_000), 1)];
        pairs.extend((0..20).map(|i| pair(&format!("B{i}"), "$A", i + 2)));
        assert!(merged(pairs).is_ok());
        // Two hundred and fifty: over the bound.
        let mut pairs = vec![pair("A", &"x".repeat(300_000), 1)];
        pairs.extend((0..250).map(|i| pair(&format!("B{i}"), "$A", i + 2)));
        let failure = merged(pairs).err().unwrap();
        assert_eq!(failure.why, Why::TooLarge);
        assert!(failure.line > 200, "{failure:?}");
    }

    #[test]
    fn a_reference_to_an_inherited_name_is_refused_even_with_a_default() {
        for value in ["$toString", "${constructor:-d}", "x${valueOf}"] {
            let failure = merged(vec![pair("K", value, 3)]).err().unwrap();
            assert!(matches!(failure.why, Why::Builtin(_)), "{value}");
            assert_eq!(failure.line, 3);
        }
        // Set in the environment, it is an ordinary name.
        let env = |name: &str| (name == "toString").then(|| "t".to_owned());
        let values = merge(&[&[pair("K", "${toString:-d}", 1)]], &env).unwrap();
        assert_eq!(values.get("K").unwrap().text, "t");
    }

    #[test]
    fn every_case_agrees_with_nexts_own_loader() {
        let (mut compared, mut refused_builtins) = (0, 0);
        for case in corpus() {
            let name = case["name"].as_str().unwrap();
            let env = case_env(&case);
            let files = case_files(&case);
            let loaded: Vec<&str> = case["loaded"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            if !next_failed(&case) {
                let ours: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(ours, loaded, "{name}: the files read");
            }
            let pairs: Vec<Vec<Pair>> = files
                .iter()
                .map(|(_, bytes)| parse(&String::from_utf8_lossy(bytes)))
                .collect();
            let files: Vec<&[Pair]> = pairs.iter().map(Vec::as_slice).collect();
            let merged = merge(&files, &|n| env.get(n).cloned());
            if next_failed(&case) {
                assert!(merged.is_err(), "{name}: Next failed, ocd-cron did not");
                continue;
            }
            let merged = match merged {
                Ok(merged) => merged,
                Err(Failure {
                    why: Why::Builtin(builtin),
                    ..
                }) => {
                    let text = serde_json::to_string(&case["files"]).unwrap();
                    assert!(text.contains(&builtin), "{name}");
                    refused_builtins += 1;
                    continue;
                }
                Err(failure) => panic!("{name}: refused, Next was not: {failure:?}"),
            };
            for (var, expected) in case["expected"].as_object().unwrap() {
                let ours = merged
                    .get(var)
                    .map(|v| v.text.clone())
                    .or_else(|| env.get(var).filter(|_| array_index(var).is_none()).cloned());
                assert_eq!(ours.as_deref(), expected.as_str(), "{name}: {var}");
                compared += 1;
            }
        }
        assert!(compared > 2000, "{compared} values compared");
        assert!(refused_builtins <= 3, "{refused_builtins} cases refused");
    }
}
