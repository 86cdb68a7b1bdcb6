//! The man page and shell completions, generated from the clap definition.
//! `examples/gen_assets.rs` writes them; `tests/cli/assets.rs` fails when the
//! checked-in copies no longer match the CLI.
//!
//! The man page takes NAME and OPTIONS from clap_mangen and writes the rest
//! itself, so that it has the sections a man page has (clap_mangen puts the
//! `--help` epilogue under EXTRA and has no option values in SYNOPSIS).
//! ENVIRONMENT and EXIT STATUS come from the same lists as `--help`
//! (`cli::ENVIRONMENT`, `error::EXIT_STATUS_TABLE`), so they cannot drift.

use clap_complete::Shell;
use clap_mangen::Man;

/// Each generated file: its path from the crate root, and its content.
pub fn render() -> Vec<(&'static str, Vec<u8>)> {
    let command = ocd_cron::cli::command();
    let mut files = vec![("doc/ocd-cron.1", man_page(&command).into_bytes())];
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

/// The man page, in roff.
pub fn man_page(command: &clap::Command) -> String {
    let man = Man::new(command.clone());
    let clap_part = |render: fn(&Man, &mut dyn std::io::Write) -> std::io::Result<()>| {
        let mut out = Vec::new();
        render(&man, &mut out).expect("render a man page section");
        String::from_utf8(out).expect("roff is UTF-8")
    };
    let version = env!("CARGO_PKG_VERSION");
    let mut page = format!(
        ".TH OCD\\-CRON 1 {} \"ocd\\-cron {version}\" \"User Commands\"\n",
        release_date(version)
    );
    page.push_str(&clap_part(Man::render_name_section));
    page.push_str(&synopsis(command));
    page.push_str(DESCRIPTION);
    page.push_str(&clap_part(Man::render_options_section));
    page.push_str(&environment());
    page.push_str(FILES);
    page.push_str(&monitors());
    page.push_str(&exit_status());
    page.push_str(EXAMPLES);
    page.push_str(SEE_ALSO);
    tidy(&page)
}

/// The date of this version's entry in CHANGELOG.md: stable between
/// builds, and it changes only with a release.
fn release_date(version: &str) -> String {
    let changelog = include_str!("../../CHANGELOG.md");
    let heading = format!("## [{version}] - ");
    changelog
        .lines()
        .find_map(|line| line.strip_prefix(&heading))
        .map(|date| date.trim().to_owned())
        .unwrap_or_else(|| panic!("CHANGELOG.md has no `{heading}<date>` heading"))
}

/// SYNOPSIS with every option and its value, from the clap definition.
fn synopsis(command: &clap::Command) -> String {
    // Built, so that --help and --version are among the arguments.
    let mut command = command.clone();
    command.build();
    let mut text = String::from(".SH SYNOPSIS\n.B ocd\\-cron\n");
    let mut optional = Vec::new();
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        let long = arg
            .get_long()
            .map(|l| format!("\\fB\\-\\-{}\\fR", escape(l)));
        let short = arg.get_short().map(|s| format!("\\fB\\-{s}\\fR"));
        let takes_value = arg.get_action().takes_values();
        let value = if !takes_value {
            String::new()
        } else if !arg.get_possible_values().is_empty() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .map(|v| format!("\\fI{}\\fR", escape(v.get_name())))
                .collect();
            format!(" {}", values.join("|"))
        } else {
            let name = arg
                .get_value_names()
                .and_then(|names| names.first().map(|n| n.to_string()))
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            format!(" \\fI{}\\fR", escape(&name))
        };
        let names = match (short, long) {
            (Some(s), Some(l)) => format!("{s}|{l}"),
            (s, l) => s.or(l).unwrap_or_default(),
        };
        let item = format!("{names}{value}");
        if arg.is_required_set() {
            text.push_str(&item);
            text.push('\n');
        } else {
            optional.push(format!("[{item}]"));
        }
    }
    for item in optional {
        text.push_str(&item);
        text.push('\n');
    }
    text
}

const DESCRIPTION: &str = r#".SH DESCRIPTION
.B ocd\-cron
triggers one of the OCD application's background jobs, reward calculation or
outcome tracking, with one authenticated HTTP POST, and exits with a status
that says what went wrong.
It is meant for crontab, systemd timers, Kubernetes CronJobs and CI steps.
.PP
Connection failures and HTTP 408, 429, 500, 502, 503 and 504 are retried
(honouring Retry\-After, else 1 s, 2 s, 4 s ... with jitter), all within the
one
.B \-\-timeout
deadline; nothing else is.
Redirects are never followed, so the key cannot travel to another host.
The key is checked before anything is sent, and never printed at any log
level.
.PP
Each job logs one line on standard error; with
.B \-\-output json
standard output carries one JSON object per job.
With
.BR \-\-pending ,
standard output is the count of pending decisions: just the number for one
job, and a line
.RI \(dq job\ count \(dq
per job for
.BR \-\-job\ all ,
also when
.B \-\-max\-pending
is exceeded (exit 1).
"#;

/// ENVIRONMENT, from `cli::ENVIRONMENT`.
fn environment() -> String {
    let mut text = String::from(".SH ENVIRONMENT\n");
    for entry in ocd_cron::cli::ENVIRONMENT {
        text.push_str(&format!(
            ".TP\n.B {}\n{}\n",
            escape(&entry.names()),
            escape(entry.meaning)
        ));
    }
    text.push_str(&format!(
        ".PP\n{}\n",
        escape(&ocd_cron::cli::environment_note())
    ));
    text
}

const FILES: &str = r#".SH FILES
.TP
.I .env.production.local .env.local .env.production .env
The app's env files, read as
.B next start
reads them (with
.BR NODE_ENV=test :
.IR ".env.test.local .env.test .env" ),
from the working directory or
.BR \-\-app\-dir :
the first that sets a name wins,
.B $VAR
and
.B ${VAR:\-default}
are expanded, and
.B \e$
is a literal dollar, so the key sent is the one the app checks.
.B \-\-env\-file
names one file to read instead (which must exist and be a regular file).
In the working directory, a file that is not a regular file (a directory
such as a Python virtualenv) is skipped, and so, with a warning, is one that
another user owns or that others can write.
If the file that gave the key is readable by others, or by a group this
process is not in, a warning is logged.
.TP
.RI "the file named by " INTERNAL_API_KEY_FILE
The key, read whole; a trailing newline is ignored.
The same warning applies when it is readable by others, or by a group this
process is not in.
.TP
\fB\-\-lock\-file\fR \fIPATH\fR
Created with mode 0600 if missing, never followed if a symlink, and locked
with
.BR flock (2)
for the run.
.TP
\fB\-\-metrics\-file\fR \fIPATH\fR
Replaced atomically after each run (a temporary file in the same directory,
then
.BR rename (2)),
mode 0644 whatever the umask.
A symlink, device, FIFO or directory at the path is left alone, with a
warning.
.TP
\fB\-\-ca\-cert\fR \fIPATH\fR
A PEM bundle of CA certificates; only these are trusted for https.
"#;

/// MONITORS, from `cli::MONITORS`: one tagged paragraph per monitor.
fn monitors() -> String {
    let mut text = String::from(".SH MONITORS\n");
    text.push_str(&escape(
        "--ping-url takes the URL the monitor's page shows; the kind is \
         recognised from it (any URL of no other kind is healthchecks), or \
         named in front of it (kind+URL). Each monitor \
         gets its start ping before the first job and its finish ping after the \
         last; the API key is never sent to it.",
    ));
    text.push('\n');
    for (kind, url, start, finish) in ocd_cron::cli::MONITORS {
        text.push_str(&format!(
            ".TP 4\n.B {kind}\n{}\n.br\nstart: {}; finish: {}\n",
            escape(url),
            escape(start),
            escape(finish)
        ));
    }
    text
}

/// EXIT STATUS, from `error::EXIT_STATUS_TABLE`: one tagged paragraph per
/// code, which wraps cleanly at any width.
fn exit_status() -> String {
    let mut text = String::from(".SH EXIT STATUS\n");
    for (code, meaning) in ocd_cron::error::EXIT_STATUS_TABLE {
        text.push_str(&format!(".TP 5\n.B {code}\n{}\n", escape(meaning)));
    }
    text.push_str(
        ".PP\nThe codes from 64 to 78 are those of\n.BR sysexits (3);\n\
         130 and 143 are the shell's 128 + signal number.\n",
    );
    text
}

const EXAMPLES: &str = r#".SH EXAMPLES
Check the configuration and see the request, sending nothing:
.PP
.RS 4
.EX
ocd\-cron \-\-job=rewards \-\-env\-file=/srv/ocd/.env \-\-dry\-run
.EE
.RE
.PP
Run reward calculation from crontab at minute 0, skipping a run while the
last one still holds the lock, and mailing only failures.
A crontab line cannot be continued with a backslash (crontab would take
the next line for a variable assignment and run the job without its
options), so it stays one line, however long:
.PP
.RS 4
.EX
0 * * * * /usr/local/bin/ocd\-cron \-\-job=rewards \-\-app\-dir=/srv/ocd \-\-lock\-file=/var/lib/ocd\-cron/rewards.lock \-\-timeout=5m \-q
.EE
.RE
.PP
Both jobs, one JSON object per job on standard output:
.PP
.RS 4
.EX
ocd\-cron \-\-job=all \-\-output=json
.EE
.RE
.PP
The backlog, as a number for a script:
.PP
.RS 4
.EX
n=$(ocd\-cron \-\-job=rewards \-\-pending) || exit
echo \(dq$n decisions wait\(dq
.EE
.RE
.PP
On each of several hosts: start within 30 s, at an offset fixed per host,
and send one Idempotency\-Key per hour, the same on every host, with JSON
log lines:
.PP
.RS 4
.EX
0 * * * * /usr/local/bin/ocd\-cron \-\-job=rewards \-\-app\-dir=/srv/ocd \-\-jitter=30s \-\-jitter\-seed=\(dq$(hostname)\(dq \-\-slot\-period=1h \-\-log\-format=json
.EE
.RE
"#;

const SEE_ALSO: &str = r#".SH SEE ALSO
.BR crontab (5),
.BR systemd.timer (5),
.BR sysexits (3),
.BR flock (2).
.PP
The README and
.I docs/
in the source distribution: operations, security, files, monitors, install,
performance, and the API contract.
"#;

/// Roff text: backslashes and hyphens escaped, a leading `.` or `'`
/// guarded, `code` in bold.
fn escape(text: &str) -> String {
    let mut out = String::new();
    let mut bold = false;
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '`' => {
                out.push_str(if bold { "\\fR" } else { "\\fB" });
                bold = !bold;
            }
            c => out.push(c),
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// Makes the roff lint-clean without changing what it renders: no trailing
/// spaces, no `.br` around a blank line (clap_mangen's way of starting a
/// paragraph), and no text line over 80 bytes (roff joins text lines, so
/// breaking one between words changes nothing), except between `.EX` and
/// `.EE`: there roff does not fill, a line break is one in the output, and
/// a crontab line broken in two is two lines in a crontab.
fn tidy(page: &str) -> String {
    let page = page.replace("\n.br\n\n.br\n", "\n.sp\n");
    let mut out = String::new();
    let mut example = false;
    for line in page.lines().map(str::trim_end) {
        match line {
            ".EX" => example = true,
            ".EE" => example = false,
            _ => {}
        }
        if example || line.starts_with('.') || line.starts_with('\'') || line.len() <= 80 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut current = String::new();
        let mut words: Vec<String> = Vec::new();
        for word in line.split(' ') {
            // `\ ` is a space that must not break a line.
            match words.last_mut() {
                Some(last) if last.ends_with('\\') => {
                    last.push(' ');
                    last.push_str(word);
                }
                _ => words.push(word.to_owned()),
            }
        }
        for word in &words {
            if !current.is_empty() && current.len() + 1 + word.len() > 80 {
                push_text_line(&mut out, &current);
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        push_text_line(&mut out, &current);
    }
    out
}

/// A text line; one that now starts with `.` or `'` would be read as a
/// request, so it is guarded.
fn push_text_line(out: &mut String, line: &str) {
    if line.starts_with('.') || line.starts_with('\'') {
        out.push_str("\\&");
    }
    out.push_str(line);
    out.push('\n');
}
