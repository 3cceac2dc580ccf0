//! The ratchet (ratchet.md).

pub mod prompt;
