//! The pure heart of ff, shared by the server (native) and the browser app (wasm32).
//!
//! Nothing here performs I/O or reads a clock: every function is a function of its inputs, so the
//! server and the client can never disagree about what a workspace's state means.

pub mod api;
pub mod cache;
pub mod chat;
pub mod create;
pub mod derive;
pub mod diff;
pub mod drift;
pub mod editor;
pub mod entry;
pub mod enums;
pub mod factory_config;
pub mod github;
pub mod ids;
pub mod json;
pub mod lifecycle;
pub mod markdown;
pub mod merge;
pub mod naming;
pub mod overlaps;
pub mod patch;
pub mod pending;
pub mod permission;
pub mod ratchet;
pub mod refname;
pub mod review;
pub mod schedules;
pub mod sessions;
pub mod terminals;
pub mod text;
pub mod transcript;
pub mod untrusted;
pub mod wire;
