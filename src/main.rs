//! The binary: parse the command line, set up logging, run, exit with the
//! status `error` assigns.

use std::io::Write;
use std::process::ExitCode;

use ocd_cron::error::code;
use ocd_cron::logging::{self, Format, Verbosity};
use ocd_cron::{app, cli};

fn main() -> ExitCode {
    ocd_cron::ignore_file_size_signal();
    // Known before clap parses, so that its usage errors are JSON too.
    let json = logging::json_requested(&std::env::args_os().collect::<Vec<_>>());
    let complain = |message: &str, exit: u8| {
        if json {
            logging::write_json(
                log::Level::Error,
                None,
                message,
                &[("exit_status", exit.into())],
            );
        } else {
            // Not eprintln!, which panics (and a release build aborts)
            // when stderr cannot be written either.
            let _ = writeln!(std::io::stderr(), "ocd-cron: {message}");
        }
    };
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" to clap, but not to the user.
            if !e.use_stderr() {
                let printed = e.print().and_then(|()| std::io::stdout().flush());
                return match printed {
                    // A reader that went away (`| head`) had what it wanted.
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        complain(&format!("cannot write to stdout ({e})"), code::IO_ERROR);
                        ExitCode::from(code::IO_ERROR)
                    }
                    _ => ExitCode::SUCCESS,
                };
            }
            if json {
                let text = e.render().to_string();
                complain(text.trim().trim_start_matches("error: "), code::USAGE);
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code::USAGE);
        }
    };
    let (format, bad_format) = match (cli.log_format, logging::format_from_env()) {
        (Some(format), _) | (None, Ok(Some(format))) => (format, None),
        (None, Ok(None)) => (Format::Text, None),
        (None, Err(value)) => (Format::Text, Some(value)),
    };
    logging::init(
        match (cli.quiet, cli.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        },
        format,
        cli.job.name(),
    );
    if let Some(value) = bad_format {
        log::error!(
            "{}: configuration: {} '{value}' is neither text nor json; nothing was sent",
            cli.job.name(),
            ocd_cron::setting::LOG_FORMAT.variable
        );
        return ExitCode::from(code::CONFIG);
    }
    ExitCode::from(app::execute(&cli))
}
