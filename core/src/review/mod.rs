//! Reviewing an agent's work (review.md): the diff of a workspace as the API and the changes page
//! carry it, line comments on it, and the one message that sends them to the agent.

pub mod comments;
pub mod diff;
pub mod message;
pub mod path;
