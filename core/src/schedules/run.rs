//! What a scheduled run's workspace says about the run: still working (so the task's next due
//! time is skipped), completed, or failed; and the name a run gives its workspace.

use crate::create::{DisplayName, NAME_MAX_CHARS};
use crate::enums::WorkspaceStatus;

/// What the workspaces and sessions domains know about a run's workspace.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunFacts<'a> {
    /// `None`: the workspace no longer exists.
    pub status: Option<WorkspaceStatus>,
    /// Its first session has not taken the task's prompt yet.
    pub first_prompt_pending: bool,
    /// An agent of the workspace is mid-turn, has messages queued or is starting.
    pub agent_busy: bool,
    /// Any session was ever created in the workspace.
    pub has_had_sessions: bool,
    pub setup_error: Option<&'a str>,
    /// The last error of the workspace's agent, if its turn failed.
    pub agent_error: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Why the run is not over, as the end of "the previous run's workspace is still …".
    Working(&'static str),
    Completed,
    Failed(String),
}

/// The run is over once its workspace's first turn has ended (or the workspace failed or went);
/// a workspace that waits on the user after its turn does not hold the task back.
pub fn run_state(facts: RunFacts<'_>) -> RunState {
    use WorkspaceStatus::*;
    let Some(status) = facts.status else {
        return RunState::Failed("The run's workspace no longer exists".into());
    };
    match status {
        New | Provisioning => RunState::Working("being set up"),
        Failed => RunState::Failed(match facts.setup_error {
            Some(error) => format!("The workspace's setup failed: {error}"),
            None => "The workspace's setup failed".into(),
        }),
        Archiving | Archived => RunState::Completed,
        Ready if facts.first_prompt_pending => RunState::Working("starting its agent"),
        Ready if facts.agent_busy => RunState::Working("working"),
        Ready => match facts.agent_error {
            Some(error) => RunState::Failed(format!("The agent's turn failed: {error}")),
            None if !facts.has_had_sessions => {
                RunState::Failed("The workspace's agent session did not start".into())
            }
            None => RunState::Completed,
        },
    }
}

/// The workspace name of a run: the task's name and the due time on the task's clock, the
/// task's name shortened so that the whole stays within the name limit.
pub fn run_name(task: &str, local_time: &str) -> DisplayName {
    let suffix = format!(" · {local_time}");
    let room = NAME_MAX_CHARS.saturating_sub(suffix.chars().count());
    let task: String = task.trim().chars().take(room).collect();
    DisplayName::parse("name", &format!("{}{suffix}", task.trim_end()))
        .or_else(|_| DisplayName::parse("name", local_time))
        .unwrap_or_else(|_| DisplayName::parse("name", "Scheduled run").expect("a valid name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use WorkspaceStatus::*;

    #[test]
    fn a_run_is_over_when_its_first_turn_ends() {
        let ready = RunFacts {
            status: Some(Ready),
            has_had_sessions: true,
            ..RunFacts::default()
        };
        let cases: Vec<(RunFacts<'_>, RunState)> = vec![
            (
                RunFacts {
                    status: Some(New),
                    ..ready
                },
                RunState::Working("being set up"),
            ),
            (
                RunFacts {
                    status: Some(Provisioning),
                    ..ready
                },
                RunState::Working("being set up"),
            ),
            (
                RunFacts {
                    first_prompt_pending: true,
                    has_had_sessions: false,
                    ..ready
                },
                RunState::Working("starting its agent"),
            ),
            (
                RunFacts {
                    agent_busy: true,
                    ..ready
                },
                RunState::Working("working"),
            ),
            // Busy wins over an error of an earlier turn: the agent is at it again.
            (
                RunFacts {
                    agent_busy: true,
                    agent_error: Some("crashed"),
                    ..ready
                },
                RunState::Working("working"),
            ),
            (ready, RunState::Completed),
            (
                RunFacts {
                    status: Some(Archived),
                    ..ready
                },
                RunState::Completed,
            ),
            (
                RunFacts {
                    status: Some(Archiving),
                    ..ready
                },
                RunState::Completed,
            ),
            (
                RunFacts {
                    agent_error: Some("rate limited"),
                    ..ready
                },
                RunState::Failed("The agent's turn failed: rate limited".into()),
            ),
            (
                RunFacts {
                    has_had_sessions: false,
                    ..ready
                },
                RunState::Failed("The workspace's agent session did not start".into()),
            ),
            (
                RunFacts {
                    status: Some(Failed),
                    setup_error: Some("exit 1"),
                    ..ready
                },
                RunState::Failed("The workspace's setup failed: exit 1".into()),
            ),
            (
                RunFacts {
                    status: None,
                    ..ready
                },
                RunState::Failed("The run's workspace no longer exists".into()),
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(run_state(facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn run_names_fit_the_name_limit() {
        assert_eq!(
            run_name("Nightly deps", "2026-03-29 09:00").as_str(),
            "Nightly deps · 2026-03-29 09:00"
        );
        let long = "x".repeat(NAME_MAX_CHARS);
        let name = run_name(&long, "2026-03-29 09:00");
        assert_eq!(name.as_str().chars().count(), NAME_MAX_CHARS);
        assert!(name.as_str().ends_with(" · 2026-03-29 09:00"));
    }
}
