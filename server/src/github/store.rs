//! The only module that writes `workspace_pr` (github.md §2, D§5.4). Every write is a
//! compare-and-swap on the row as it was read; the caller learns whether it won.

use crate::db::codec::{enum_text, parse_enum, parse_opt_enum, parse_opt_time, parse_time};
use ff_core::api::PrInfo;
use ff_core::enums::{CiStatus, PrState, ReviewDecision, WorkspaceCreationSource, WorkspaceStatus};
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use sqlx::{FromRow, SqliteConnection};

/// Everything stored about a workspace's PR. `synced_at` is when ff last changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrRecord {
    pub url: Option<String>,
    pub number: Option<u64>,
    pub state: PrState,
    pub review: Option<ReviewDecision>,
    pub ci: CiStatus,
    pub conflict: bool,
    pub head_oid: Option<String>,
    /// GitHub's `updatedAt`: details cached for one value stay valid.
    pub github_updated_at: Option<Timestamp>,
    pub counts: Option<Counts>,
    pub synced_at: Option<Timestamp>,
}

/// The sizes a summary carries so that a new review, comment or thread is noticed cheaply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub reviews: u64,
    pub comments: u64,
    pub threads: u64,
}

impl PrRecord {
    /// No PR: what a workspace without a row has.
    pub fn empty() -> Self {
        Self {
            url: None,
            number: None,
            state: PrState::None,
            review: None,
            ci: CiStatus::Unknown,
            conflict: false,
            head_oid: None,
            github_updated_at: None,
            counts: None,
            synced_at: None,
        }
    }

    /// What the snapshot and the workspace API show.
    pub fn info(&self) -> PrInfo {
        PrInfo {
            pr_url: self.url.clone(),
            pr_number: self.number,
            pr_state: self.state,
            pr_ci_status: self.ci,
            pr_review_state: self.review,
            pr_has_merge_conflict: self.conflict,
            pr_updated_at: self.synced_at,
        }
    }

    /// Equal in everything GitHub said, whenever ff wrote it.
    pub fn same_observation(&self, other: &Self) -> bool {
        let mut other = other.clone();
        other.synced_at = self.synced_at;
        *self == other
    }
}

/// A row as read, and whether it existed (a workspace has no row until its first PR write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub record: PrRecord,
    pub exists: bool,
}

#[derive(FromRow)]
struct Row {
    url: Option<String>,
    number: Option<i64>,
    state: String,
    review_state: Option<String>,
    ci_status: String,
    has_merge_conflict: bool,
    head_oid: Option<String>,
    github_updated_at: Option<String>,
    review_count: Option<i64>,
    comment_count: Option<i64>,
    thread_count: Option<i64>,
    synced_at: Option<String>,
}

const COLUMNS: &str = "url, number, state, review_state, ci_status, has_merge_conflict, head_oid, \
                       github_updated_at, review_count, comment_count, thread_count, synced_at";

impl TryFrom<Row> for PrRecord {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        let count = |n: Option<i64>| n.map(i64::unsigned_abs);
        let counts = match (
            count(row.review_count),
            count(row.comment_count),
            count(row.thread_count),
        ) {
            (Some(reviews), Some(comments), Some(threads)) => Some(Counts {
                reviews,
                comments,
                threads,
            }),
            _ => None,
        };
        Ok(Self {
            url: row.url,
            number: row.number.map(i64::unsigned_abs),
            state: parse_enum("state", &row.state)?,
            review: parse_opt_enum("review_state", row.review_state.as_deref())?,
            ci: parse_enum("ci_status", &row.ci_status)?,
            conflict: row.has_merge_conflict,
            head_oid: row.head_oid,
            github_updated_at: parse_opt_time(
                "github_updated_at",
                row.github_updated_at.as_deref(),
            )?,
            counts,
            synced_at: parse_opt_time("synced_at", row.synced_at.as_deref())?,
        })
    }
}

pub async fn get(conn: &mut SqliteConnection, workspace_id: &str) -> Result<Stored, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM workspace_pr WHERE workspace_id = ?"
    ))
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => Stored {
            record: row.try_into()?,
            exists: true,
        },
        None => Stored {
            record: PrRecord::empty(),
            exists: false,
        },
    })
}

/// The PR fields of a workspace as the API shows them (defaults when it has none).
pub async fn info(conn: &mut SqliteConnection, workspace_id: &str) -> Result<PrInfo, sqlx::Error> {
    Ok(get(conn, workspace_id).await?.record.info())
}

const INSERT: &str = "INSERT INTO workspace_pr (url, number, state, review_state, ci_status, \
     has_merge_conflict, head_oid, github_updated_at, review_count, comment_count, thread_count, \
     synced_at, workspace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (workspace_id) DO NOTHING";

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// The values of [`COLUMNS`], in order.
fn bind_record<'q>(query: Query<'q>, r: &PrRecord) -> Query<'q> {
    query
        .bind(r.url.clone())
        .bind(r.number.map(to_i64))
        .bind(enum_text(&r.state))
        .bind(r.review.as_ref().map(enum_text))
        .bind(enum_text(&r.ci))
        .bind(r.conflict)
        .bind(r.head_oid.clone())
        .bind(r.github_updated_at.map(|t| t.to_string()))
        .bind(r.counts.map(|c| to_i64(c.reviews)))
        .bind(r.counts.map(|c| to_i64(c.comments)))
        .bind(r.counts.map(|c| to_i64(c.threads)))
        .bind(r.synced_at.map(|t| t.to_string()))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Compare-and-swap: writes `new` only if the row is still exactly `read`. False when another
/// writer got there first (nothing is written).
pub async fn write(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    read: &Stored,
    new: &PrRecord,
) -> Result<bool, sqlx::Error> {
    let result = if read.exists {
        let sql = "UPDATE workspace_pr SET url = ?, number = ?, state = ?, review_state = ?, \
             ci_status = ?, has_merge_conflict = ?, head_oid = ?, github_updated_at = ?, \
             review_count = ?, comment_count = ?, thread_count = ?, synced_at = ? \
             WHERE workspace_id = ? AND url IS ? AND number IS ? AND state IS ? \
             AND review_state IS ? AND ci_status IS ? AND has_merge_conflict IS ? \
             AND head_oid IS ? AND github_updated_at IS ? AND review_count IS ? \
             AND comment_count IS ? AND thread_count IS ? AND synced_at IS ?";
        let query = bind_record(sqlx::query(sql), new).bind(workspace_id);
        bind_record(query, &read.record).execute(conn).await?
    } else {
        bind_record(sqlx::query(INSERT), new)
            .bind(workspace_id)
            .execute(conn)
            .await?
    };
    Ok(result.rows_affected() == 1)
}

/// Inserts a workspace's PR fields as a backup describes them.
pub async fn restore(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    pr: &PrInfo,
) -> Result<(), sqlx::Error> {
    let record = PrRecord {
        url: pr.pr_url.clone(),
        number: pr.pr_number,
        state: pr.pr_state,
        review: pr.pr_review_state,
        ci: pr.pr_ci_status,
        conflict: pr.pr_has_merge_conflict,
        synced_at: pr.pr_updated_at,
        ..PrRecord::empty()
    };
    let absent = Stored {
        record: PrRecord::empty(),
        exists: false,
    };
    write(conn, workspace_id, &absent, &record).await.map(drop)
}

/// A live workspace of a project that has a GitHub repository, with its stored PR: what one
/// poll of that repository looks at.
#[derive(Clone, Debug)]
pub struct Watched {
    pub workspace_id: WorkspaceId,
    pub project_id: ProjectId,
    pub branch: Option<String>,
    /// A resumed branch's PR may predate the workspace.
    pub resumed: bool,
    pub created_at: Timestamp,
    pub pr: Stored,
}

#[derive(FromRow)]
struct WatchedRow {
    id: String,
    project_id: String,
    branch_name: Option<String>,
    creation_source: String,
    created_at: String,
    has_pr: bool,
    #[sqlx(flatten)]
    pr: NullableRow,
}

/// The PR columns through a LEFT JOIN: `state` and `ci_status` are null without a row.
#[derive(FromRow)]
struct NullableRow {
    url: Option<String>,
    number: Option<i64>,
    state: Option<String>,
    review_state: Option<String>,
    ci_status: Option<String>,
    has_merge_conflict: Option<bool>,
    head_oid: Option<String>,
    github_updated_at: Option<String>,
    review_count: Option<i64>,
    comment_count: Option<i64>,
    thread_count: Option<i64>,
    synced_at: Option<String>,
}

/// Every live workspace of `project` (or just `only`), oldest first.
pub async fn watched(
    conn: &mut SqliteConnection,
    project: &ProjectId,
    only: Option<&WorkspaceId>,
) -> Result<Vec<Watched>, sqlx::Error> {
    let hidden = [WorkspaceStatus::Archiving, WorkspaceStatus::Archived].map(|s| enum_text(&s));
    let rows = sqlx::query_as::<_, WatchedRow>(
        "SELECT w.id, w.project_id, w.branch_name, w.creation_source, w.created_at, pr.workspace_id IS NOT NULL AS has_pr, \
         pr.url, pr.number, pr.state, pr.review_state, pr.ci_status, pr.has_merge_conflict, pr.head_oid, \
         pr.github_updated_at, pr.review_count, pr.comment_count, pr.thread_count, pr.synced_at \
         FROM workspaces w LEFT JOIN workspace_pr pr ON pr.workspace_id = w.id \
         WHERE w.project_id = ? AND w.status NOT IN (?, ?) AND (? IS NULL OR w.id = ?) \
         ORDER BY w.created_at, w.id",
    )
    .bind(project.as_str())
    .bind(&hidden[0])
    .bind(&hidden[1])
    .bind(only.map(WorkspaceId::as_str))
    .bind(only.map(WorkspaceId::as_str))
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let pr = if row.has_pr {
                Stored {
                    record: Row {
                        url: row.pr.url,
                        number: row.pr.number,
                        state: row.pr.state.unwrap_or_default(),
                        review_state: row.pr.review_state,
                        ci_status: row.pr.ci_status.unwrap_or_default(),
                        has_merge_conflict: row.pr.has_merge_conflict.unwrap_or(false),
                        head_oid: row.pr.head_oid,
                        github_updated_at: row.pr.github_updated_at,
                        review_count: row.pr.review_count,
                        comment_count: row.pr.comment_count,
                        thread_count: row.pr.thread_count,
                        synced_at: row.pr.synced_at,
                    }
                    .try_into()?,
                    exists: true,
                }
            } else {
                Stored {
                    record: PrRecord::empty(),
                    exists: false,
                }
            };
            Ok(Watched {
                workspace_id: WorkspaceId::new(row.id),
                project_id: ProjectId::new(row.project_id),
                branch: row.branch_name,
                resumed: row.creation_source == enum_text(&WorkspaceCreationSource::ResumeBranch),
                created_at: parse_time("created_at", &row.created_at)?,
                pr,
            })
        })
        .collect()
}
