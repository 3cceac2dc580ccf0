//! The requests and resources of the scheduled-task routes, and the checks that turn a request
//! into a definition the server stores. Serde refuses what is malformed (`BAD_REQUEST`); the
//! parse names the first field whose value is not acceptable (`VALIDATION_FAILED`).

#[cfg(feature = "schedule-timing")]
use super::timing::Timing;
#[cfg(feature = "schedule-timing")]
use crate::create::{DisplayName, FieldError};
use crate::enums::{ExecutionStatus, RunTrigger};
use crate::ids::{ExecutionId, ProjectId, ScheduleId, Timestamp, WorkspaceId};
#[cfg(feature = "schedule-timing")]
use crate::sessions::{validate_agent_name, MessageText};
use serde::{Deserialize, Serialize};

/// Tasks one project may have.
pub const MAX_SCHEDULES_PER_PROJECT: usize = 100;
/// Executions kept per task; older ones are dropped as new ones are recorded.
pub const EXECUTIONS_KEPT: usize = 200;
/// Executions that come with each task in a project's list.
pub const RECENT_EXECUTIONS: usize = 10;

fn enabled_by_default() -> bool {
    true
}

/// `POST /api/projects/{projectId}/schedules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSchedule {
    pub name: String,
    pub prompt: String,
    /// A configured agent; absent: the project's, then the user's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub cron: String,
    pub time_zone: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

/// `PATCH /api/schedules/{id}`: absent fields stay as they are; `"agent": null` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_with::rust::double_option"
    )]
    pub agent: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A task as the server stores it, every value checked. Whether `agent` is a configured agent
/// is the server's to check: core does not know the settings.
#[cfg(feature = "schedule-timing")]
#[derive(Clone, Debug)]
pub struct ScheduleDefinition {
    pub name: DisplayName,
    pub prompt: MessageText,
    pub agent: Option<String>,
    /// The expression as given, trimmed.
    pub cron: String,
    pub time_zone: String,
    pub timing: Timing,
    pub enabled: bool,
}

#[cfg(feature = "schedule-timing")]
impl NewSchedule {
    pub fn parse(self) -> Result<ScheduleDefinition, FieldError> {
        definition(
            &self.name,
            &self.prompt,
            self.agent,
            &self.cron,
            &self.time_zone,
            self.enabled,
        )
    }
}

impl SchedulePatch {
    /// The task as it would be with the patch applied, checked whole.
    #[cfg(feature = "schedule-timing")]
    pub fn apply(self, current: &Schedule) -> Result<ScheduleDefinition, FieldError> {
        definition(
            self.name.as_deref().unwrap_or(&current.name),
            self.prompt.as_deref().unwrap_or(&current.prompt),
            self.agent.unwrap_or_else(|| current.agent.clone()),
            self.cron.as_deref().unwrap_or(&current.cron),
            self.time_zone.as_deref().unwrap_or(&current.time_zone),
            self.enabled.unwrap_or(current.enabled),
        )
    }

    /// Whether the patch changes when the task is due (so its next due time is computed anew).
    pub fn moves_due_time(&self, current: &Schedule) -> bool {
        let changed =
            |new: &Option<String>, old: &str| new.as_deref().is_some_and(|n| n.trim() != old);
        changed(&self.cron, &current.cron)
            || changed(&self.time_zone, &current.time_zone)
            || self.enabled.is_some_and(|e| e != current.enabled)
    }
}

#[cfg(feature = "schedule-timing")]
fn definition(
    name: &str,
    prompt: &str,
    agent: Option<String>,
    cron: &str,
    time_zone: &str,
    enabled: bool,
) -> Result<ScheduleDefinition, FieldError> {
    let name = DisplayName::parse("name", name)?;
    let prompt = MessageText::parse("prompt", prompt)?;
    if let Some(agent) = &agent {
        validate_agent_name(agent).map_err(|e| FieldError::new("agent", e.message))?;
    }
    let timing = Timing::parse(cron, time_zone)?;
    Ok(ScheduleDefinition {
        name,
        prompt,
        agent,
        cron: cron.trim().to_owned(),
        time_zone: time_zone.to_owned(),
        timing,
        enabled,
    })
}

/// A task, with when it is next due and its latest runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub id: ScheduleId,
    pub project_id: ProjectId,
    pub name: String,
    pub prompt: String,
    pub agent: Option<String>,
    pub cron: String,
    pub time_zone: String,
    pub enabled: bool,
    /// `None` while the task is disabled.
    pub next_due_at: Option<Timestamp>,
    /// `next_due_at` on the task's clock ([`super::CLOCK_FORMAT`]), as the server wrote it:
    /// the browser module carries no time-zone database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_on_clock: Option<String>,
    pub last_run_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The newest first, at most [`RECENT_EXECUTIONS`].
    pub recent_executions: Vec<Execution>,
}

/// One run of a task, or one due time it skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub id: ExecutionId,
    pub schedule_id: ScheduleId,
    pub trigger: RunTrigger,
    /// The due time the run stands for (`None` for Run now).
    pub due_at: Option<Timestamp>,
    pub status: ExecutionStatus,
    pub workspace_id: Option<WorkspaceId>,
    pub workspace_name: Option<String>,
    pub pr_url: Option<String>,
    pub pr_number: Option<u64>,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    pub started_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// When it ran (its due time, else its start) on its task's clock, as the server wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_clock: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: serde_json::Value) -> Result<NewSchedule, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn a_request_is_strict_about_its_shape() {
        let good =
            json!({"name": "Deps", "prompt": "Update", "cron": "0 9 * * 1", "timeZone": "UTC"});
        let parsed = request(good.clone()).unwrap();
        assert!(parsed.enabled, "enabled by default");
        let mut typo = good.clone();
        typo["timezone"] = json!("UTC");
        assert!(request(typo)
            .unwrap_err()
            .to_string()
            .contains("unknown field `timezone`"));
        let mut missing = good;
        missing.as_object_mut().unwrap().remove("cron");
        assert!(request(missing)
            .unwrap_err()
            .to_string()
            .contains("missing field `cron`"));
    }

    #[test]
    fn each_unacceptable_value_names_its_field() {
        let base = NewSchedule {
            name: "Deps".into(),
            prompt: "Update the dependencies".into(),
            agent: None,
            cron: "0 9 * * 1".into(),
            time_zone: "Europe/Berlin".into(),
            enabled: true,
        };
        assert_eq!(base.clone().parse().unwrap().cron, "0 9 * * 1");
        let cases: Vec<(NewSchedule, &str)> = vec![
            (
                NewSchedule {
                    name: " ".into(),
                    ..base.clone()
                },
                "name",
            ),
            (
                NewSchedule {
                    prompt: "\n".into(),
                    ..base.clone()
                },
                "prompt",
            ),
            (
                NewSchedule {
                    agent: Some("Bad Name".into()),
                    ..base.clone()
                },
                "agent",
            ),
            (
                NewSchedule {
                    cron: "every day".into(),
                    ..base.clone()
                },
                "cron",
            ),
            (
                NewSchedule {
                    time_zone: "Berlin".into(),
                    ..base.clone()
                },
                "timeZone",
            ),
        ];
        for (request, field) in cases {
            let error = request.parse().unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn a_patch_is_checked_with_what_it_leaves_unchanged() {
        let current = Schedule {
            id: ScheduleId::new("s"),
            project_id: ProjectId::new("p"),
            name: "Deps".into(),
            prompt: "Update".into(),
            agent: Some("claude".into()),
            cron: "0 9 * * 1".into(),
            time_zone: "UTC".into(),
            enabled: true,
            next_due_at: None,
            next_due_on_clock: None,
            last_run_at: None,
            created_at: Timestamp::from_millis(0).unwrap(),
            updated_at: Timestamp::from_millis(0).unwrap(),
            recent_executions: Vec::new(),
        };
        let patch: SchedulePatch = serde_json::from_value(json!({"agent": null})).unwrap();
        assert!(!patch.moves_due_time(&current));
        let applied = patch.apply(&current).unwrap();
        assert_eq!((applied.agent, applied.cron.as_str()), (None, "0 9 * * 1"));
        let patch: SchedulePatch =
            serde_json::from_value(json!({"timeZone": "Mars/Olympus"})).unwrap();
        assert!(patch.moves_due_time(&current));
        assert_eq!(patch.apply(&current).unwrap_err().field, "timeZone");
        let same: SchedulePatch =
            serde_json::from_value(json!({"cron": " 0 9 * * 1 ", "enabled": true})).unwrap();
        assert!(!same.moves_due_time(&current));
        assert!(serde_json::from_value::<SchedulePatch>(json!({"nextDueAt": null})).is_err());
    }
}
