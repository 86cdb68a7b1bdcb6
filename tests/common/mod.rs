//! What the black-box tests share: a scripted loopback server to play the
//! OCD API, a helper that runs the real binary, and assertions on both.

pub mod assets;
mod http;
mod json;
mod run;
mod server;
mod tls;

pub use http::Request;
pub use json::assert_schema;
pub use run::{Run, leaks, run, run_against, run_in, spawn_in};
pub use server::{Server, Step, closed_port, respond, respond_with, test_ca};

/// The key every test configures; [`run`] fails any test whose output shows it.
pub const KEY: &str = "t3st-k3y-5c8a1f0e9d";

/// The rewards route's answer on success.
pub const REWARDS_OK: &str =
    r#"{"success":true,"processed":42,"errors":0,"message":"Processed 42 decisions, 0 errors"}"#;

/// The outcomes route's answer on success.
pub const OUTCOMES_OK: &str = r#"{"success":true,"processed":7,"errors":0}"#;
