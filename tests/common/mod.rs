//! What the black-box tests share: a scripted loopback server to play the
//! OCD API, a helper that runs the real binary, and assertions on both.

pub mod assets;
pub mod http;
mod json;
mod run;
mod server;
mod tls;

pub use http::Request;
pub use json::assert_schema;
pub use run::{
    Run, assert_sound, leaks, percent_decoded, run, run_adjusted, run_against, run_in, spawn_in,
};
pub use server::{ClosedPort, Server, Step, closed_port, respond, respond_with, test_ca};

/// A file of this repository (a recipe, the manifest, the README).
pub fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The key every test configures; [`run`] fails any test whose output shows it.
pub const KEY: &str = "t3st-k3y-5c8a1f0e9d";

/// A monitor's token and a proxy's credentials, for the tests that need
/// one: like the key, [`run`] fails any test whose output shows them. The
/// password holds characters a URL must percent-encode (`/`, `:`, `@`).
pub const MONITOR_TOKEN: &str = "m0n1tor-T0ken-7c2e";
pub const PROXY_USER: &str = "pr0xy-us3r-4b1d";
pub const PROXY_PASSWORD: &str = "pr0xy/pa55:w0rd@9";

/// Every secret a test configures.
pub const SECRETS: [&str; 4] = [KEY, MONITOR_TOKEN, PROXY_USER, PROXY_PASSWORD];

/// The rewards route's answer on success.
pub const REWARDS_OK: &str =
    r#"{"success":true,"processed":42,"errors":0,"message":"Processed 42 decisions, 0 errors"}"#;

/// The outcomes route's answer on success.
pub const OUTCOMES_OK: &str = r#"{"success":true,"processed":7,"errors":0}"#;
