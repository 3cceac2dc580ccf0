//! The ratchet (ratchet.md).

pub mod prompt;
mod schedule;
pub mod store;
