//! The binary: parse, set up logging, run, report once, exit with the code
//! `error` assigns.

use std::process::ExitCode;

use ocd_cron::logging::{self, Verbosity};
use ocd_cron::{Error, cli, config, interrupt};

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are "errors" to clap, but not to the user.
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            return ExitCode::from(Error::Usage(e).exit_code());
        }
    };
    logging::init(match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    });
    let result = config::load(&cli).and_then(|config| {
        for warning in &config.warnings {
            log::warn!("{}: {warning}", cli.job);
        }
        interrupt::run_until_signal(move || ocd_cron::run(&config))?
    });
    match result {
        Ok(summary) => {
            log::info!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            log::error!("{}: {error}", cli.job);
            ExitCode::from(error.exit_code())
        }
    }
}
