//! The checked-in man page and completions match the CLI.

use crate::common::assets;

#[test]
fn man_page_and_completions_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, expected) in assets::render() {
        let actual = std::fs::read(root.join(path)).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is out of date with the CLI: run `cargo run --example gen_assets` and commit the result"
        );
    }
}

#[test]
fn man_page_documents_the_exit_statuses() {
    let (_, man) = &assets::render()[0];
    let man = String::from_utf8_lossy(man);
    for needle in ["\\-\\-job", "INTERNAL_API_KEY", "EXIT STATUS", "143"] {
        assert!(man.contains(needle), "{needle} missing from the man page");
    }
}
