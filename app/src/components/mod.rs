pub mod card;
pub mod chips;
pub mod connection;
pub mod create_dialog;
pub mod github_status;
pub mod issue_picker;
pub mod pull_request;
pub mod sidebar;
