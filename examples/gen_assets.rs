//! Writes the man page (`doc/ocd-cron.1`) and the bash, zsh and fish
//! completions (`completions/`) from the clap definition:
//!
//! ```text
//! cargo run --example gen_assets
//! ```
//!
//! Run it after changing a flag or its help; `cargo test` fails until the
//! checked-in files match the CLI again.

#[path = "../tests/common/assets.rs"]
mod assets;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, content) in assets::render() {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent directory"))
            .expect("create the directory");
        std::fs::write(&path, content).expect("write the file");
        println!("wrote {}", path.display());
    }
}
