//! Column values to domain types and back: enums as their wire names, times as RFC 3339 text.

use ff_core::ids::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn decode_error(column: &str, message: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: message.into(),
    }
}

/// An enum's wire name, e.g. `READY`.
pub fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => unreachable!("wire enums serialize to strings, got {other:?}"),
    }
}

pub fn parse_enum<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| decode_error(column, format!("unknown value {text:?}: {e}")))
}

pub fn parse_opt_enum<T: DeserializeOwned>(
    column: &str,
    text: Option<&str>,
) -> Result<Option<T>, sqlx::Error> {
    text.map(|t| parse_enum(column, t)).transpose()
}

pub fn parse_time(column: &str, text: &str) -> Result<Timestamp, sqlx::Error> {
    Timestamp::parse(text).map_err(|e| decode_error(column, format!("bad time {text:?}: {e}")))
}

pub fn parse_opt_time(column: &str, text: Option<&str>) -> Result<Option<Timestamp>, sqlx::Error> {
    text.map(|t| parse_time(column, t)).transpose()
}

pub fn to_u32(column: &str, value: i64) -> Result<u32, sqlx::Error> {
    u32::try_from(value).map_err(|_| decode_error(column, format!("{value} is out of range")))
}
