//! Flows: operations that cross domains. A domain owns its tables and calls no other domain; when
//! one operation needs several (a scheduled task's due time creates a workspace whose first
//! session starts with the task's prompt), the flow calls each domain's service in turn. One file
//! per operation, named for it; a flow owns no table and keeps no state of its own beyond what
//! it needs to run (locks, its background task). Domains never name a flow: what one needs of
//! another mid-operation is a narrow trait it defines (a bridge), implemented here and handed
//! to it by `lib.rs`; the HTTP layer and the crate roots call flows.

pub mod archive;
pub mod backup;
pub mod child_notifications;
pub mod child_workspaces;
pub mod first_session;
pub mod fix;
pub mod neighbours;
pub mod open_in_editor;
pub mod open_terminal;
pub mod remove_project;
pub mod reply_threads;
pub mod save_schedule;
pub mod scheduled_run;
pub mod send_review;

pub use child_notifications::ChildNotifications;
pub use child_workspaces::ChildWorkspaces;
pub use open_in_editor::OpenInEditor;
pub use open_terminal::OpenTerminal;
pub use reply_threads::ReplyThreads;
pub use save_schedule::SaveSchedule;
pub use scheduled_run::ScheduledRuns;
pub use send_review::SendReview;
