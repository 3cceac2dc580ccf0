//! Scheduled tasks: a prompt that starts a workspace of a project at each due time of a cron
//! expression in a time zone. The wire shapes of `/api/projects/{id}/schedules` and
//! `/api/schedules/{id}`, their checks, when a task is due, and what its runs' workspaces mean.

mod api;
mod run;
#[cfg(feature = "schedule-timing")]
mod timing;

#[cfg(feature = "schedule-timing")]
pub use api::ScheduleDefinition;
pub use api::{
    Execution, NewSchedule, Schedule, SchedulePatch, EXECUTIONS_KEPT, MAX_SCHEDULES_PER_PROJECT,
    RECENT_EXECUTIONS,
};
pub use run::{run_name, run_state, RunFacts, RunState};
#[cfg(feature = "schedule-timing")]
pub use timing::{Timing, CRON_MAX_CHARS};

/// How people read a time of a task: on its own clock, with the zone's abbreviation.
pub const CLOCK_FORMAT: &str = "%Y-%m-%d %H:%M %Z";
