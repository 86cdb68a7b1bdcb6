//! The two OCD background jobs: which endpoint each one triggers and what
//! request body it sends. The API contract (`docs/api-contract.md`) is
//! the source of these paths.

use std::fmt;

/// A background job of the OCD app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Rewards,
    Outcomes,
}

/// What `--job` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Selection {
    /// Reward calculation: POST /api/training/calculate-pending
    Rewards,
    /// Outcome tracking: POST /api/training/outcomes
    Outcomes,
    /// Both, rewards first: outcome tracking reads what reward calculation
    /// wrote in the same hour, as in the recommended :00/:15 schedule.
    All,
}

impl Selection {
    /// The jobs to run, in order.
    pub fn jobs(self) -> Vec<Job> {
        match self {
            Selection::Rewards => vec![Job::Rewards],
            Selection::Outcomes => vec![Job::Outcomes],
            Selection::All => vec![Job::Rewards, Job::Outcomes],
        }
    }

    /// The name on the command line, for log lines about the whole run.
    pub fn name(self) -> &'static str {
        match self {
            Selection::Rewards => "rewards",
            Selection::Outcomes => "outcomes",
            Selection::All => "all",
        }
    }
}

impl Job {
    /// The endpoint path, appended to the base URL (which may carry a prefix).
    pub fn path(self) -> &'static str {
        match self {
            Job::Rewards => "/api/training/calculate-pending",
            Job::Outcomes => "/api/training/outcomes",
        }
    }

    /// The field of the status (GET) answer that holds the pending count.
    pub fn pending_field(self) -> &'static str {
        match self {
            Job::Rewards => "pendingRewards",
            Job::Outcomes => "pendingCount",
        }
    }

    /// The name used on the command line and in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Job::Rewards => "rewards",
            Job::Outcomes => "outcomes",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The JSON request body: `{}` by default, `{"limit":N}` with `--limit`.
pub fn request_body(limit: Option<u32>) -> String {
    match limit {
        Some(n) => format!("{{\"limit\":{n}}}"),
        None => "{}".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json() {
        assert_eq!(request_body(None), "{}");
        let body: serde_json::Value = serde_json::from_str(&request_body(Some(50))).unwrap();
        assert_eq!(body, serde_json::json!({"limit": 50}));
    }

    #[test]
    fn paths_match_the_contract() {
        assert_eq!(Job::Rewards.path(), "/api/training/calculate-pending");
        assert_eq!(Job::Outcomes.path(), "/api/training/outcomes");
        assert_eq!(Job::Rewards.pending_field(), "pendingRewards");
        assert_eq!(Job::Outcomes.pending_field(), "pendingCount");
    }

    #[test]
    fn all_runs_rewards_first() {
        assert_eq!(Selection::Rewards.jobs(), [Job::Rewards]);
        assert_eq!(Selection::Outcomes.jobs(), [Job::Outcomes]);
        assert_eq!(Selection::All.jobs(), [Job::Rewards, Job::Outcomes]);
    }

    #[test]
    fn names_are_the_command_line_values() {
        assert_eq!(Selection::Rewards.name(), "rewards");
        assert_eq!(Selection::Outcomes.name(), "outcomes");
        assert_eq!(Selection::All.name(), "all");
        assert_eq!(Job::Rewards.to_string(), "rewards");
        assert_eq!(Job::Outcomes.to_string(), "outcomes");
    }
}
