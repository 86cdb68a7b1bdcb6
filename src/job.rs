//! The two OCD background jobs: which endpoint each one triggers and what
//! request body it sends, and what an invocation does with them (its
//! [`Mode`]). The API contract (`docs/api-contract.md`) is the source of
//! these paths.

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

/// What an invocation does with its jobs, chosen by `--pending` and
/// `--dry-run`: the one place that decides what a mode sends, waits for
/// and records, and what it is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run the job (POST).
    Trigger,
    /// Only ask how much is pending (GET); `max` is `--max-pending`.
    Pending { max: Option<u64> },
    /// Show what a trigger (or, with `pending`, a `--pending` check)
    /// would send, and send nothing.
    DryRun { pending: bool },
}

impl Mode {
    /// The mode the flags choose: a dry run of whatever else they say.
    pub fn from_flags(dry_run: bool, pending: bool, max_pending: Option<u64>) -> Mode {
        match (dry_run, pending) {
            (true, pending) => Mode::DryRun { pending },
            (false, true) => Mode::Pending { max: max_pending },
            (false, false) => Mode::Trigger,
        }
    }

    /// The mode's name in JSON objects.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Trigger => "run",
            Mode::Pending { .. } => "pending",
            Mode::DryRun { .. } => "dry-run",
        }
    }

    /// Whether nothing is sent: the requests and pings are only shown.
    pub fn is_dry_run(self) -> bool {
        matches!(self, Mode::DryRun { .. })
    }

    /// Whether the job's request runs the job (a POST with a body and an
    /// `Idempotency-Key`) rather than asking how much is pending (a GET),
    /// sent or, in a dry run, shown. A run of the job also waits
    /// `--jitter` and pings the monitors, which a dry run shows too; a
    /// `--pending` check is not a run of the job and does neither.
    pub fn triggers(self) -> bool {
        matches!(self, Mode::Trigger | Mode::DryRun { pending: false })
    }

    /// Whether this invocation waits `--jitter`, pings the monitors and
    /// writes the metrics file: a real run of the job, not a `--pending`
    /// check (which only looks) nor a dry run (which only shows).
    pub fn runs_the_job(self) -> bool {
        self.triggers() && !self.is_dry_run()
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
    fn the_flags_choose_one_mode_and_a_dry_run_wins() {
        assert_eq!(Mode::from_flags(false, false, None), Mode::Trigger);
        assert_eq!(
            Mode::from_flags(false, true, Some(5)),
            Mode::Pending { max: Some(5) }
        );
        assert_eq!(
            Mode::from_flags(true, false, None),
            Mode::DryRun { pending: false }
        );
        assert_eq!(
            Mode::from_flags(true, true, Some(5)),
            Mode::DryRun { pending: true }
        );
    }

    #[test]
    fn each_mode_says_what_it_sends_and_does() {
        // (mode, name, dry run, POST, jitter + pings + metrics)
        for (mode, name, dry, triggers, runs) in [
            (Mode::Trigger, "run", false, true, true),
            (Mode::Pending { max: None }, "pending", false, false, false),
            (
                Mode::DryRun { pending: false },
                "dry-run",
                true,
                true,
                false,
            ),
            (
                Mode::DryRun { pending: true },
                "dry-run",
                true,
                false,
                false,
            ),
        ] {
            assert_eq!(mode.name(), name, "{mode:?}");
            assert_eq!(mode.is_dry_run(), dry, "{mode:?}");
            assert_eq!(mode.triggers(), triggers, "{mode:?}");
            assert_eq!(mode.runs_the_job(), runs, "{mode:?}");
        }
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
