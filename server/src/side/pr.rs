//! The only module that writes `workspace_pr` (the PR domain of a later wave fills it in).

use crate::db::codec::{enum_text, parse_enum, parse_opt_enum, parse_opt_time};
use ff_core::api::PrInfo;
use sqlx::{FromRow, SqliteConnection};

#[derive(FromRow)]
struct Row {
    url: Option<String>,
    number: Option<i64>,
    state: String,
    review_state: Option<String>,
    ci_status: String,
    has_merge_conflict: bool,
    synced_at: Option<String>,
}

pub fn empty() -> PrInfo {
    PrInfo {
        pr_url: None,
        pr_number: None,
        pr_state: ff_core::enums::PrState::None,
        pr_ci_status: ff_core::enums::CiStatus::Unknown,
        pr_review_state: None,
        pr_has_merge_conflict: false,
        pr_updated_at: None,
    }
}

pub async fn insert(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    pr: &PrInfo,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workspace_pr (workspace_id, url, number, state, review_state, ci_status, \
         has_merge_conflict, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(workspace_id)
    .bind(&pr.pr_url)
    .bind(pr.pr_number.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
    .bind(enum_text(&pr.pr_state))
    .bind(pr.pr_review_state.as_ref().map(enum_text))
    .bind(enum_text(&pr.pr_ci_status))
    .bind(pr.pr_has_merge_conflict)
    .bind(pr.pr_updated_at.map(|t| t.to_string()))
    .execute(conn)
    .await
    .map(drop)
}

pub async fn get(conn: &mut SqliteConnection, workspace_id: &str) -> Result<PrInfo, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT url, number, state, review_state, ci_status, has_merge_conflict, synced_at \
         FROM workspace_pr WHERE workspace_id = ?",
    )
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(empty()) };
    Ok(PrInfo {
        pr_url: row.url,
        pr_number: row.number.map(i64::unsigned_abs),
        pr_state: parse_enum("state", &row.state)?,
        pr_ci_status: parse_enum("ci_status", &row.ci_status)?,
        pr_review_state: parse_opt_enum("review_state", row.review_state.as_deref())?,
        pr_has_merge_conflict: row.has_merge_conflict,
        pr_updated_at: parse_opt_time("synced_at", row.synced_at.as_deref())?,
    })
}
