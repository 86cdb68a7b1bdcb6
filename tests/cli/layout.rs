//! The module order docs/development.md draws is the source's: every
//! `use crate::` (and `crate::` path) of a module names only modules of a
//! lower layer, so calls go one way and no cycle can form. Reads the source
//! tree; runs no binary.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::repo_file;

/// The layers of the module map, top first: the lines of the fenced block
/// after "Calls go one way" in docs/development.md, one layer per line,
/// modules separated by spaces.
fn documented_layers() -> Vec<Vec<String>> {
    let doc = repo_file("docs/development.md");
    let after = doc
        .split_once("<!-- layers -->\n```text\n")
        .expect("docs/development.md has the layers block")
        .1;
    let block = after.split_once("```").expect("the layers block ends").0;
    block
        .lines()
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .filter(|layer: &Vec<String>| !layer.is_empty())
        .collect()
}

/// Each top-level module of src/ and the top-level modules its code (not
/// its unit tests) names through `crate::` (or `ocd_cron::`, in main.rs).
fn imports() -> BTreeMap<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files = Vec::new();
    collect(&root, &mut files);
    for file in files {
        let relative = file.strip_prefix(&root).unwrap();
        let module = relative
            .iter()
            .next()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let code = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => &text[..at],
            None => &text[..],
        };
        let names = graph.entry(module.clone()).or_default();
        // The code without its comment lines, as one text: a `use` group
        // that rustfmt wraps spans several lines.
        let code: String = code
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for prefix in ["crate::", "ocd_cron::"] {
            for (at, _) in code.match_indices(prefix) {
                names.extend(named(&code[at + prefix.len()..]));
            }
        }
        // What the crate root re-exports (a function, not a module) is
        // the crate's, not a module's.
        names.retain(|name| *name != module && is_module(&root, name));
        names.sort();
        names.dedup();
    }
    graph
}

/// The modules a path after `crate::` names: `x::…` or `{x, y::z, …}`.
fn named(path: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    match path.strip_prefix('{') {
        Some(list) => {
            // Only the first segment of each item at the top of the braces.
            let mut depth = 0;
            let mut items = vec![String::new()];
            for c in list.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(String::new()),
                    _ if depth == 0 => items.last_mut().unwrap().push(c),
                    _ => {}
                }
            }
            items
                .iter()
                .map(|item| ident(item.trim()))
                .filter(|name| !name.is_empty() && name != "self")
                .collect()
        }
        None => vec![ident(path)]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect(),
    }
}

fn is_module(root: &Path, name: &str) -> bool {
    root.join(format!("{name}.rs")).is_file() || root.join(name).join("mod.rs").is_file()
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_modules_of_lower_layers() {
    let layers = documented_layers();
    let layer_of = |module: &str| layers.iter().position(|l| l.iter().any(|m| m == module));
    let graph = imports();
    let mut wrong = Vec::new();
    for (module, names) in &graph {
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(module) else {
            wrong.push(format!("{module} is not in the documented layers"));
            continue;
        };
        for name in names {
            match layer_of(name) {
                Some(layer) if layer > own => {}
                Some(_) => wrong.push(format!("{module} imports {name}, which is not below it")),
                None => wrong.push(format!("{module} imports {name}, not in the layers")),
            }
        }
    }
    for layer in &layers {
        for module in layer {
            if !graph.contains_key(module) {
                wrong.push(format!(
                    "the layers name {module}, which src/ does not have"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_import_reader_sees_braces_and_paths() {
    assert_eq!(named("error::Error;"), ["error"]);
    assert_eq!(
        named("{interrupt, lock::{self, Lock}, metrics};"),
        ["interrupt", "lock", "metrics"]
    );
    assert_eq!(named("{self, x}"), ["x"]);
    assert_eq!(
        named("{\n    a::B,\n    c::{d, e},\n};\nfn f() {}"),
        ["a", "c"]
    );
}
