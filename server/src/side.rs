//! The one-to-one side tables of a workspace. Each submodule is the only writer of its table.

pub mod ratchet;
