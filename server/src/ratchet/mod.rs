//! The ratchet (ratchet.md).

pub mod prompt;
pub mod store;
