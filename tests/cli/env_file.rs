//! The env file's syntax as the binary reads it (Node's dotenv: nothing is
//! expanded).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::common::{KEY, REWARDS_OK, Server, respond, run};

fn write(path: &Path, content: &str, mode: u32) {
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn references_are_not_expanded_so_a_doubling_file_costs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    // Expanded, V39 alone would be 2^39 times "ab": what made the process
    // allocate gigabytes and abort.
    let mut content = String::from("V0=ab\n");
    for i in 1..40 {
        content.push_str(&format!("V{i}=${{V{}}}${{V{}}}\n", i - 1, i - 1));
    }
    content.push_str("API_BASE_URL=http://127.0.0.1:9/a$V0\n");
    assert!(content.len() < 1000);
    write(&file, &content, 0o600);
    run(
        &[
            "--job",
            "rewards",
            "--dry-run",
            "--env-file",
            file.to_str().unwrap(),
        ],
        &[("INTERNAL_API_KEY", KEY), ("V0", "expanded")],
    )
    .assert_code(0)
    .assert_ended_within(Duration::from_secs(10))
    .assert_stdout_contains("POST http://127.0.0.1:9/a$V0/api/training/calculate-pending\n");
}

#[test]
fn a_dollar_in_the_key_reaches_the_server_as_written() {
    let server = Server::start(vec![respond(200, REWARDS_OK)]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    write(
        &file,
        &format!("INTERNAL_API_KEY=abc$HOME\nAPI_BASE_URL={}\n", server.url()),
        0o600,
    );
    run(
        &["--job", "rewards", "--env-file", file.to_str().unwrap()],
        &[("HOME", "/root")],
    )
    .assert_code(0);
    let requests = server.assert_requests(1);
    // Compared, never printed: it is the key.
    assert!(
        requests[0].header("x-internal-api-key") == Some("abc$HOME"),
        "the key in the env file was changed on the way to the server"
    );
}

#[test]
fn a_malformed_line_is_refused_by_number_even_where_node_would_skip_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    write(
        &file,
        &format!("# app\nexport API_BASE_URL=http://127.0.0.1:9\nINTERNAL_API_KEY {KEY}\n"),
        0o600,
    );
    run(
        &["--job", "rewards", "--env-file", file.to_str().unwrap()],
        &[],
    )
    .assert_code(78)
    .assert_stderr_contains("app.env is malformed at line 3 (not KEY=value");
}
