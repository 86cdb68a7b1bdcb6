//! The man page and shell completions, generated from the clap definition.
//! `examples/gen_assets.rs` writes them; `tests/cli/assets.rs` fails when the
//! checked-in copies no longer match the CLI.

use clap_complete::Shell;

/// Each generated file: its path from the crate root, and its content.
pub fn render() -> Vec<(&'static str, Vec<u8>)> {
    let command = ocd_cron::cli::command();
    let mut man = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut man)
        .expect("render the man page");
    let mut files = vec![("doc/ocd-cron.1", man)];
    for (shell, path) in [
        (Shell::Bash, "completions/ocd-cron.bash"),
        (Shell::Zsh, "completions/_ocd-cron"),
        (Shell::Fish, "completions/ocd-cron.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command.clone(), "ocd-cron", &mut out);
        files.push((path, out));
    }
    files
}
