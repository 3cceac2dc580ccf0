//! Saving a scheduled task: its project must be live (the projects domain) and its agent a
//! configured one (the settings), then the schedules domain writes it. A rejected task writes
//! nothing.

use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::projects::Projects;
use crate::schedules::Schedules;
use crate::settings;
use ff_core::ids::{ProjectId, ScheduleId};
use ff_core::schedules::{NewSchedule, Schedule, SchedulePatch};

#[derive(Clone)]
pub struct SaveSchedule {
    db: Db,
    projects: Projects,
    schedules: Schedules,
}

impl SaveSchedule {
    pub fn new(db: Db, projects: Projects, schedules: Schedules) -> Self {
        Self {
            db,
            projects,
            schedules,
        }
    }

    pub async fn create(
        &self,
        project: &ProjectId,
        request: NewSchedule,
    ) -> DomainResult<Schedule> {
        self.projects.get(project).await?;
        let definition = request.parse()?;
        self.check_agent(definition.agent.as_deref()).await?;
        self.schedules.create(project, definition).await
    }

    /// Only an agent the patch names is checked: a task whose agent was removed from the
    /// settings since can still be renamed or disabled.
    pub async fn update(&self, id: &ScheduleId, patch: SchedulePatch) -> DomainResult<Schedule> {
        let current = self.schedules.get(id).await?;
        if let Some(Some(agent)) = &patch.agent {
            // The whole patch is checked first, so a malformed value is named as such.
            patch.clone().apply(&current)?;
            self.check_agent(Some(agent)).await?;
        }
        self.schedules.update(id, patch).await
    }

    async fn check_agent(&self, agent: Option<&str>) -> DomainResult<()> {
        let Some(agent) = agent else { return Ok(()) };
        if settings::load(&self.db).await?.knows_agent(agent) {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "agent",
                format!("agent {agent:?} is not a configured agent"),
            ))
        }
    }
}
