//! Time and identity for new records.

use ff_core::ids::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis).expect("the current time is a valid timestamp")
}

/// Time-ordered ids (UUIDv7): rows created later sort later, which keeps indexes compact.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
