//! Every crontab block the project shows (the man page's EXAMPLES, the
//! README and docs/*.md, crontab.example, the package's /etc/cron.d file)
//! can be pasted into a crontab as is: each job is one line, and the real
//! `crontab` (Debian's, package `cron`, installed by .ci/run) installs it
//! with every job line carrying all the options it was shown with and no
//! stray variable assignment.
//!
//! Debian's crontab has no continuation lines and accepts a pasted
//! `\`-continued job without a word: it reads `    --env-file=/srv/ocd/.env \`
//! as the assignment of a variable called `--env-file`, and the job runs
//! without its options. `crontab -l` shows what was installed; per
//! crontab(5), each active line of it is either a job (five time fields,
//! or an `@` keyword, then the command) or a `name = value` assignment.

use std::path::Path;
use std::process::Command;

use crate::common::repo_file;

/// A block of crontab text as the project shows it, and where.
struct Block {
    origin: String,
    text: String,
}

/// Whether `line` is a cron job: an `@` keyword, or five time fields
/// (digits, `*`, `/`, `,`, `-`, or month and day names) before a command.
fn is_job(line: &str) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields.first() {
        Some(first) if first.starts_with('@') => fields.len() > 1,
        Some(_) => {
            fields.len() > 5
                && fields[..5].iter().all(|field| {
                    field
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
                })
                && fields[0].starts_with(|c: char| c.is_ascii_digit() || c == '*')
        }
        None => false,
    }
}

fn active(line: &str) -> bool {
    let line = line.trim_start();
    !line.is_empty() && !line.starts_with('#')
}

/// The jobs of a block as a reader sees them: a job line and the lines a
/// trailing `\` continues it with (what a shell would join), each job as
/// the options it shows.
fn shown_jobs(text: &str) -> Vec<Vec<String>> {
    let mut jobs: Vec<Vec<String>> = Vec::new();
    let mut continued = false;
    for line in text.lines() {
        let words = || {
            line.split_whitespace()
                .filter(|w| w.starts_with('-') && *w != "-")
                .map(str::to_owned)
        };
        if continued && let Some(job) = jobs.last_mut() {
            job.extend(words());
        } else if is_job(line) {
            jobs.push(words().collect());
        }
        continued = line.trim_end().ends_with('\\');
    }
    jobs
}

/// Checks an installed crontab (what `crontab -l` printed) against the
/// jobs shown: the same number of job lines, each with all its options,
/// and no assignment. Returns what is wrong, if anything.
fn judge(installed: &str, shown: &[Vec<String>]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut jobs = Vec::new();
    for line in installed.lines().filter(|l| active(l)) {
        if is_job(line) {
            jobs.push(line);
        } else {
            problems.push(format!("a stray assignment: {line:?}"));
        }
    }
    if jobs.len() != shown.len() {
        problems.push(format!(
            "{} job lines installed, {} shown",
            jobs.len(),
            shown.len()
        ));
    }
    for line in &jobs {
        // cron turns an unescaped % into a line break and feeds the rest to
        // the command's stdin; `crontab` accepts it without a word.
        let unescaped = line
            .char_indices()
            .any(|(i, c)| c == '%' && !line[..i].ends_with('\\'));
        if unescaped {
            problems.push(format!(
                "an unescaped % (cron cuts the line there): {line:?}"
            ));
        }
    }
    for (line, options) in jobs.iter().zip(shown) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for option in options {
            if !words.contains(&option.as_str()) {
                problems.push(format!(
                    "{option} was shown but is not on the job line {line:?}"
                ));
            }
        }
    }
    problems
}

/// The man page's `.EX` blocks that hold a crontab line, as a reader sees
/// them rendered.
fn man_page_blocks() -> Vec<Block> {
    let man = repo_file("doc/ocd-cron.1");
    man.split(".EX\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n.EE").map(|(block, _)| block))
        .map(|block| {
            block
                .replace("\\c\n", "")
                .replace("\\-", "-")
                .replace("\\e", "\\")
                .replace("\\(dq", "\"")
        })
        .filter(|text| text.lines().any(is_job))
        .map(|text| Block {
            origin: "doc/ocd-cron.1 EXAMPLES".into(),
            text: text + "\n",
        })
        .collect()
}

/// The fenced code blocks of a Markdown file that hold a crontab line.
fn markdown_blocks(path: &str) -> Vec<Block> {
    let text = repo_file(path);
    text.split("```")
        .skip(1)
        .step_by(2)
        .map(|block| block.split_once('\n').map_or("", |(_, body)| body))
        .filter(|body| body.lines().any(is_job))
        .map(|body| Block {
            origin: path.into(),
            text: body.into(),
        })
        .collect()
}

/// The package's /etc/cron.d file as a user crontab: its job lines
/// uncommented (it ships them commented out), without the user field
/// that only /etc/cron.d lines have.
fn cron_d_block() -> Block {
    let text = repo_file("pkg/cron.d/ocd-cron")
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(job) if is_job(job) => {
                let fields: Vec<&str> = job.split_whitespace().collect();
                assert_eq!(fields[5], "root", "the sixth field is the user: {line}");
                format!("{} {}", fields[..5].join(" "), fields[6..].join(" "))
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    Block {
        origin: "pkg/cron.d/ocd-cron".into(),
        text: text + "\n",
    }
}

fn shown_blocks() -> Vec<Block> {
    let mut blocks = man_page_blocks();
    blocks.push(Block {
        origin: "crontab.example".into(),
        text: repo_file("crontab.example"),
    });
    blocks.push(cron_d_block());
    let mut docs: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"))
            .unwrap()
            .map(|entry| format!("docs/{}", entry.unwrap().file_name().to_string_lossy()))
            .filter(|name| name.ends_with(".md"))
            .collect();
    docs.sort();
    docs.insert(0, "README.md".into());
    for doc in docs {
        blocks.extend(markdown_blocks(&doc));
    }
    blocks
}

/// What the man page showed before issue 19: the real crontab accepts it,
/// and the check must find what is wrong with it.
const CONTINUED: &str = "0 * * * * /usr/local/bin/ocd-cron --job=rewards \\
    --env-file=/srv/ocd/.env \\
    --lock-file=/var/lib/ocd-cron/rewards.lock --timeout=5m -q
";

#[test]
fn every_shown_crontab_job_is_one_line() {
    let blocks = shown_blocks();
    let origins: Vec<&str> = blocks.iter().map(|b| b.origin.as_str()).collect();
    for origin in [
        "doc/ocd-cron.1 EXAMPLES",
        "crontab.example",
        "pkg/cron.d/ocd-cron",
        "docs/operations.md",
    ] {
        assert!(
            origins.contains(&origin),
            "no crontab block found in {origin}"
        );
    }
    for block in &blocks {
        let jobs = shown_jobs(&block.text);
        assert!(!jobs.is_empty(), "{}: no job", block.origin);
        for line in block.text.lines().filter(|l| is_job(l)) {
            assert!(
                !line.trim_end().ends_with('\\'),
                "{}: a crontab line cannot be continued: {line}",
                block.origin
            );
            assert!(line.contains("--job="), "{}: {line}", block.origin);
        }
        // As shown, before any crontab reads it: every active line a job.
        let problems = judge(&block.text, &jobs);
        assert!(problems.is_empty(), "{}: {problems:#?}", block.origin);
    }
    assert!(!judge(CONTINUED, &shown_jobs(CONTINUED)).is_empty());
    let dated = "0 * * * * ocd-cron --job=rewards --jitter-seed=$(date +%F)\n";
    assert_eq!(
        judge(dated, &shown_jobs(dated)),
        [format!(
            "an unescaped % (cron cuts the line there): {:?}",
            dated.trim_end()
        )]
    );
    let escaped = dated.replace('%', "\\%");
    assert!(judge(&escaped, &shown_jobs(&escaped)).is_empty());
    // The check reads a continued job as its reader would.
    assert_eq!(
        shown_jobs(CONTINUED),
        [[
            "--job=rewards",
            "--env-file=/srv/ocd/.env",
            "--lock-file=/var/lib/ocd-cron/rewards.lock",
            "--timeout=5m",
            "-q"
        ]]
    );
}

/// The account whose crontab the check borrows, for an instant: one that
/// never has a crontab of its own.
const SCRATCH_USER: &str = "nobody";

/// Installs `text` as the scratch user's crontab with the real `crontab`
/// and returns what `crontab -l` then lists, or crontab's refusal.
fn install(text: &str) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crontab");
    std::fs::write(&file, text).unwrap();
    let crontab = |args: &[&str]| {
        Command::new("crontab")
            .args(["-u", SCRATCH_USER])
            .args(args)
            .output()
            .expect("run crontab")
    };
    let installed = crontab(&[file.to_str().unwrap()]);
    if !installed.status.success() {
        return Err(String::from_utf8_lossy(&installed.stderr).into_owned());
    }
    let listed = crontab(&["-l"]);
    let removed = crontab(&["-r"]);
    assert!(removed.status.success(), "crontab -r: {removed:?}");
    assert!(listed.status.success(), "crontab -l: {listed:?}");
    Ok(String::from_utf8_lossy(&listed.stdout).into_owned())
}

#[test]
fn the_real_crontab_installs_every_shown_block_with_all_its_options() {
    // Only as root, on an account that is not the developer's own: a
    // plain `crontab FILE` would replace the caller's crontab.
    let probe = Command::new("crontab").arg("-V").output();
    if probe.is_err() {
        eprintln!(
            "SKIPPED the_real_crontab_installs_every_shown_block: crontab is not installed (apt-get install cron)"
        );
        return;
    }
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED the_real_crontab_installs_every_shown_block: needs root, to borrow the crontab of {SCRATCH_USER}"
        );
        return;
    }
    // Another checkout's suite may be borrowing the same crontab.
    let lock =
        std::fs::File::create(std::env::temp_dir().join("ocd-cron-crontab-check.lock")).unwrap();
    lock.lock().unwrap();
    if Command::new("crontab")
        .args(["-u", SCRATCH_USER, "-l"])
        .output()
        .unwrap()
        .status
        .success()
    {
        eprintln!(
            "SKIPPED the_real_crontab_installs_every_shown_block: {SCRATCH_USER} has a crontab of its own, left alone"
        );
        return;
    }

    // The check itself, on what the man page used to show: crontab takes
    // it, and the check sees the job lose its options to two assignments.
    let installed = install(CONTINUED).expect("Debian's crontab accepts a continued line");
    let problems = judge(&installed, &shown_jobs(CONTINUED));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("stray assignment: \"    --env-file"))
            && problems.iter().any(
                |p| p.contains("--env-file=/srv/ocd/.env was shown but is not on the job line")
            ),
        "{problems:#?}"
    );

    for block in shown_blocks() {
        let installed = install(&block.text)
            .unwrap_or_else(|refusal| panic!("{}: crontab refused it: {refusal}", block.origin));
        let problems = judge(&installed, &shown_jobs(&block.text));
        assert!(
            problems.is_empty(),
            "{}, as crontab -l lists it:\n{installed}\n{problems:#?}",
            block.origin
        );
    }
}
