//! The binary: parse the command line, set up logging, run, exit with the
//! status `error` assigns.

use std::io::Write;
use std::process::ExitCode;

use ocd_cron::error::code;
use ocd_cron::logging::{self, Verbosity};
use ocd_cron::{app, cli};

fn main() -> ExitCode {
    ocd_cron::ignore_file_size_signal();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let printed = e.print().and_then(|()| std::io::stdout().flush());
            // --help and --version are "errors" to clap, but not to the user.
            if !e.use_stderr() {
                return match printed {
                    // A reader that went away (`| head`) had what it wanted.
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        // Not eprintln!, which panics (and a release build
                        // aborts) when stderr cannot be written either.
                        let _ =
                            writeln!(std::io::stderr(), "ocd-cron: cannot write to stdout ({e})");
                        ExitCode::from(code::IO_ERROR)
                    }
                    _ => ExitCode::SUCCESS,
                };
            }
            return ExitCode::from(code::USAGE);
        }
    };
    logging::init(match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    });
    ExitCode::from(app::execute(&cli))
}
