//! Flows: operations that cross domains. A domain owns its tables and calls no other domain; when
//! one operation needs several (a scheduled task's due time creates a workspace whose first
//! session starts with the task's prompt), the flow calls each domain's service in turn. One file
//! per operation, named for it; a flow owns no table and keeps no state of its own beyond what
//! it needs to run (locks, its background task). Domains never call a flow: the HTTP layer and
//! the crate roots do.

pub mod child_notifications;
pub mod child_workspaces;
pub mod open_in_editor;
pub mod open_terminal;
pub mod save_schedule;
pub mod scheduled_run;
pub mod send_review;

pub use child_notifications::ChildNotifications;
pub use child_workspaces::ChildWorkspaces;
pub use open_in_editor::OpenInEditor;
pub use open_terminal::OpenTerminal;
pub use save_schedule::SaveSchedule;
pub use scheduled_run::ScheduledRuns;
pub use send_review::SendReview;
