//! The only module that writes `settings` (one row).

use ff_core::ids::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// The ratchet toggle of new workspaces whose request does not say.
    pub ratchet_enabled: bool,
}

pub async fn get(conn: &mut SqliteConnection) -> Result<Settings, sqlx::Error> {
    let ratchet_enabled =
        sqlx::query_scalar::<_, bool>("SELECT ratchet_enabled FROM settings WHERE id = 1")
            .fetch_optional(conn)
            .await?
            .unwrap_or(false);
    Ok(Settings { ratchet_enabled })
}

pub async fn set(
    conn: &mut SqliteConnection,
    settings: &Settings,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (id, ratchet_enabled, updated_at) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET ratchet_enabled = ?1, updated_at = ?2",
    )
    .bind(settings.ratchet_enabled)
    .bind(now.to_string())
    .execute(conn)
    .await
    .map(drop)
}
