//! Log set-up: env_logger on stderr with RFC 3339 UTC timestamps, the level
//! from `-q`/`-v` unless `RUST_LOG` says otherwise, and a guard that keeps
//! the key out of the log whatever `RUST_LOG` asks for.
//!
//! At trace level ureq's protocol crate (`ureq_proto`) hex-dumps every byte
//! sent, the `x-internal-api-key` header included. No filter string can be
//! trusted to exclude it (`RUST_LOG=ureq_proto::util=trace` is more specific
//! than any cap set here), so the guard wraps the logger itself and drops
//! those records before they are formatted.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// How much the operator asked to see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Installs the logger. Called once, before anything can fail.
pub fn init(verbosity: Verbosity) {
    let level = match verbosity {
        Verbosity::Quiet => LevelFilter::Warn,
        Verbosity::Normal => LevelFilter::Info,
        Verbosity::Verbose => LevelFilter::Debug,
    };
    let mut builder = env_logger::Builder::new();
    builder
        .filter_level(level)
        .format_timestamp_millis()
        .format_target(false);
    if let Ok(filters) = std::env::var("RUST_LOG") {
        builder.parse_filters(&filters);
    }
    let logger = builder.build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(Guarded(logger))).is_ok() {
        log::set_max_level(max);
    }
}

struct Guarded(env_logger::Logger);

/// Whether a record may be written at all, whatever the filter says.
fn allowed(metadata: &Metadata<'_>) -> bool {
    !(metadata.target().starts_with("ureq_proto") && metadata.level() > Level::Info)
}

impl Log for Guarded {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        allowed(metadata) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if allowed(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(target: &str, level: Level) -> bool {
        allowed(&Metadata::builder().target(target).level(level).build())
    }

    #[test]
    fn byte_dumps_never_pass() {
        assert!(!meta("ureq_proto::util", Level::Trace));
        assert!(!meta("ureq_proto", Level::Debug));
        assert!(meta("ureq_proto", Level::Warn));
        assert!(meta("ureq::run", Level::Debug));
        assert!(meta("ocd_cron", Level::Trace));
    }
}
