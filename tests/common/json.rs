//! The results `--output json` prints, one object per job.

use serde_json::Value;

use super::Run;

impl Run {
    /// The JSON objects the run printed, one per stdout line.
    #[track_caller]
    pub fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

/// Asserts the documented schema: every field present, with its type.
#[track_caller]
pub fn assert_schema(object: &Value) {
    let fields = [
        "job",
        "mode",
        "ok",
        "exit_code",
        "http_status",
        "processed",
        "errors",
        "pending",
        "message",
        "error",
        "attempts",
        "duration_ms",
        "request_id",
    ];
    let map = object.as_object().expect("an object");
    for field in fields {
        assert!(map.contains_key(field), "{field} missing from {object}");
    }
    assert!(map["job"].is_string() && map["mode"].is_string() && map["ok"].is_boolean());
    assert!(map["exit_code"].is_u64() && map["attempts"].is_u64() && map["duration_ms"].is_u64());
    for nullable_number in ["http_status", "processed", "errors", "pending"] {
        assert!(
            map[nullable_number].is_null() || map[nullable_number].is_u64(),
            "{nullable_number} in {object}"
        );
    }
    for nullable_string in ["message", "error", "request_id"] {
        assert!(
            map[nullable_string].is_null() || map[nullable_string].is_string(),
            "{nullable_string} in {object}"
        );
    }
    assert_eq!(
        map["ok"].as_bool(),
        Some(map["exit_code"] == 0),
        "ok agrees with exit_code: {object}"
    );
    assert_eq!(
        map["error"].is_null(),
        map["ok"].as_bool().unwrap(),
        "error is null exactly on success: {object}"
    );
}
