mod board;
mod changes;
mod list;
mod not_found;
mod project;
mod projects;
pub mod settings;
mod workspace;

pub use not_found::NotFound;
pub use project::{Mode, ProjectPage};
pub use projects::ProjectsPage;
pub use settings::SettingsPage;
pub use workspace::WorkspacePage;
