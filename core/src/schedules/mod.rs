//! Scheduled tasks: a prompt that starts a workspace of a project at each due time of a cron
//! expression in a time zone. The wire shapes of `/api/projects/{id}/schedules` and
//! `/api/schedules/{id}`, their checks, when a task is due, and what its runs' workspaces mean.

mod api;
mod run;
mod timing;

pub use api::{
    Execution, NewSchedule, Schedule, ScheduleDefinition, SchedulePatch, EXECUTIONS_KEPT,
    MAX_SCHEDULES_PER_PROJECT, RECENT_EXECUTIONS,
};
pub use run::{run_name, run_state, RunFacts, RunState};
pub use timing::{Timing, CRON_MAX_CHARS};
