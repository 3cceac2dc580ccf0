//! Reconciliation (snapshot.md §5, R§7): the periodic authoritative rebuild of every entry from
//! the database and git, which corrects whatever the events missed.

use super::clock::WriteClock;
use super::git_stats::{self, Measurement, RefsKey};
use super::store::Store;
use super::watch::MonitorInput;
use crate::db::codec::{parse_enum, parse_opt_enum, parse_opt_time, parse_time, to_u32};
use crate::db::Db;
use crate::git::scans::Pool;
use crate::metrics::Metrics;
use crate::read_model::SessionRuntimes;
use ff_core::drift::detect_drift;
use ff_core::entry::{GitStats, ParentLink};
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::{ProjectId, SessionId, WorkspaceId};
use ff_core::overlaps::{derive_overlaps, Overlap, WorkspacePaths};
use ff_core::patch::Patch;
use ff_core::sessions::{RuntimeFacts, SessionGroup, SessionRow};
use sqlx::FromRow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
pub struct ReconcileConfig {
    pub interval: Duration,
    pub git_concurrency: usize,
    pub git_timeout: Duration,
}

pub struct Reconciler {
    pub db: Db,
    /// Live session runtimes, which only the sessions domain holds.
    pub runtimes: Arc<dyn SessionRuntimes>,
    pub store: Arc<Store>,
    pub clock: Arc<WriteClock>,
    pub metrics: Metrics,
    pub config: ReconcileConfig,
    /// Wakes the loop for a pass ahead of schedule.
    pub now: Arc<Notify>,
    /// Asks the collector to apply every event published so far (answering on the sender), so
    /// that a pass compares its reading with a store that is not behind it.
    settle: mpsc::UnboundedSender<oneshot::Sender<()>>,
    settle_requests: Mutex<Option<mpsc::UnboundedReceiver<oneshot::Sender<()>>>>,
    pub monitor: mpsc::UnboundedSender<MonitorInput>,
    git_pool: Arc<Pool>,
    /// The last measurement of every worktree: its statistics are reused while the worktree is
    /// watched and nothing they depend on changed; its paths feed the overlaps of its project.
    cache: Mutex<HashMap<WorkspaceId, Measured>>,
    /// Worktrees the file watcher covers, and since when.
    watched: Mutex<HashMap<WorkspaceId, Instant>>,
}

/// Longest a pass waits for the collector to apply what was published before it.
const SETTLE_WAIT: Duration = Duration::from_secs(1);

/// A fallback for edits a watcher could miss (for example when the kernel drops events).
const CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct Measured {
    stats: GitStats,
    paths: Arc<BTreeSet<String>>,
    project: ProjectId,
    refs: RefsKey,
    at: Instant,
}

/// What one pass did (logged, and kept for tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub scanned: usize,
    pub changed: usize,
    pub drifted: usize,
    pub removed: usize,
    pub git_stats_computed: usize,
    /// Rows that could not be read (logged; their entries are kept as they were).
    pub unreadable: usize,
}

/// A live workspace with everything the snapshot needs from the database.
#[derive(FromRow)]
struct LiveRow {
    id: String,
    project_id: String,
    name: String,
    status: String,
    created_at: String,
    branch_name: Option<String>,
    has_had_sessions: bool,
    parent_id: Option<String>,
    parent_name: Option<String>,
    worktree_path: Option<String>,
    default_branch: String,
    pr_url: Option<String>,
    pr_number: Option<i64>,
    pr_state: Option<String>,
    pr_review_state: Option<String>,
    pr_ci_status: Option<String>,
    pr_has_merge_conflict: Option<bool>,
    pr_synced_at: Option<String>,
    ratchet_enabled: Option<bool>,
    ratchet_dispatch_outcome: Option<String>,
    ratchet_dispatch_retry_count: Option<i64>,
    ratchet_dispatch_stalled: Option<bool>,
    run_script_status: Option<String>,
}

#[derive(FromRow)]
struct SessionRowOf {
    id: String,
    workspace_id: String,
    agent: String,
    name: String,
    workflow: String,
    model: Option<String>,
    status: String,
    updated_at: String,
}

const SESSION_ROWS: &str = "SELECT s.id, s.workspace_id, s.agent, s.name, s.workflow, s.model, \
     s.status, s.updated_at FROM agent_sessions s JOIN workspaces w ON w.id = s.workspace_id \
     WHERE s.deleted_at IS NULL AND w.status <> 'ARCHIVED' ORDER BY s.created_at, s.id";

const LIVE_ROWS: &str = "SELECT w.id, w.project_id, w.name, w.status, w.created_at, w.branch_name, \
     w.has_had_sessions, w.worktree_path, p.default_branch, \
     parent.id AS parent_id, parent.name AS parent_name, \
     pr.url AS pr_url, pr.number AS pr_number, pr.state AS pr_state, pr.review_state AS pr_review_state, \
     pr.ci_status AS pr_ci_status, pr.has_merge_conflict AS pr_has_merge_conflict, pr.synced_at AS pr_synced_at, \
     r.enabled AS ratchet_enabled, r.dispatch_outcome AS ratchet_dispatch_outcome, \
     r.dispatch_retry_count AS ratchet_dispatch_retry_count, r.dispatch_stalled AS ratchet_dispatch_stalled, \
     rs.status AS run_script_status \
     FROM workspaces w JOIN projects p ON p.id = w.project_id \
     LEFT JOIN workspace_pr pr ON pr.workspace_id = w.id \
     LEFT JOIN workspace_ratchet r ON r.workspace_id = w.id \
     LEFT JOIN workspace_run_script rs ON rs.workspace_id = w.id \
     LEFT JOIN workspaces parent ON parent.id = w.parent_workspace_id \
     WHERE w.status <> 'ARCHIVED'";

impl LiveRow {
    /// Every field present, so every group is offered (R§7.3).
    fn patch(
        &self,
        git_stats: Option<GitStats>,
        overlaps: Vec<Overlap>,
        sessions: &SessionGroup,
    ) -> Result<Patch, sqlx::Error> {
        Ok(Patch {
            project_id: Some(ProjectId::new(&self.project_id)),
            name: Some(self.name.clone()),
            status: Some(parse_enum("status", &self.status)?),
            created_at: Some(Some(parse_time("created_at", &self.created_at)?)),
            branch_name: Some(self.branch_name.clone()),
            has_had_sessions: Some(self.has_had_sessions),
            parent: Some(self.parent_id.as_ref().zip(self.parent_name.as_ref()).map(
                |(id, name)| ParentLink {
                    id: WorkspaceId::new(id),
                    name: name.clone(),
                },
            )),
            pr_url: Some(self.pr_url.clone()),
            pr_number: Some(self.pr_number.map(i64::unsigned_abs)),
            pr_state: Some(
                parse_opt_enum("pr_state", self.pr_state.as_deref())?
                    .unwrap_or(ff_core::enums::PrState::None),
            ),
            pr_ci_status: Some(
                parse_opt_enum("pr_ci_status", self.pr_ci_status.as_deref())?
                    .unwrap_or(ff_core::enums::CiStatus::Unknown),
            ),
            pr_review_state: Some(parse_opt_enum(
                "pr_review_state",
                self.pr_review_state.as_deref(),
            )?),
            pr_updated_at: Some(parse_opt_time(
                "pr_synced_at",
                self.pr_synced_at.as_deref(),
            )?),
            has_merge_conflict: Some(self.pr_has_merge_conflict.unwrap_or(false)),
            is_working: Some(sessions.is_working),
            pending_request_type: Some(sessions.pending_request_type),
            session_summaries: Some(sessions.summaries.clone()),
            ratchet_enabled: Some(self.ratchet_enabled.unwrap_or(false)),
            ratchet_dispatch_outcome: Some(parse_opt_enum(
                "ratchet_dispatch_outcome",
                self.ratchet_dispatch_outcome.as_deref(),
            )?),
            ratchet_dispatch_retry_count: Some(to_u32(
                "ratchet_dispatch_retry_count",
                self.ratchet_dispatch_retry_count.unwrap_or(0),
            )?),
            ratchet_dispatch_stalled: Some(self.ratchet_dispatch_stalled.unwrap_or(false)),
            run_script_status: Some(
                parse_opt_enum("run_script_status", self.run_script_status.as_deref())?
                    .unwrap_or(ff_core::enums::RunScriptStatus::Idle),
            ),
            git_stats: Some(git_stats),
            last_activity_at: Some(sessions.last_activity_at),
            overlaps: Some(overlaps),
        })
    }
}

impl Reconciler {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        runtimes: Arc<dyn SessionRuntimes>,
        store: Arc<Store>,
        clock: Arc<WriteClock>,
        metrics: Metrics,
        config: ReconcileConfig,
        monitor: mpsc::UnboundedSender<MonitorInput>,
    ) -> Self {
        let (settle, settle_requests) = mpsc::unbounded_channel();
        Self {
            settle,
            settle_requests: Mutex::new(Some(settle_requests)),
            git_pool: Pool::new(config.git_concurrency),
            db,
            runtimes,
            store,
            clock,
            metrics,
            config,
            now: Arc::default(),
            monitor,
            cache: Mutex::default(),
            watched: Mutex::default(),
        }
    }

    /// A pass at once, then one `interval` after the end of each (never overlapping), or sooner
    /// when asked. Stopping waits for the pass in progress.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        // A failed pass is retried soon (doubling up to the interval): until the first one
        // succeeds, sockets wait for their baseline.
        let mut retry = Duration::from_secs(1);
        loop {
            let wait = match self.pass().await {
                Ok(_) => {
                    retry = Duration::from_secs(1);
                    self.config.interval
                }
                Err(e) => {
                    tracing::error!("reconciliation pass failed: {e}");
                    let wait = retry.min(self.config.interval);
                    retry = retry.saturating_mul(2);
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.now.notified() => {}
                () = shutdown.cancelled() => break,
            }
        }
    }

    /// The requests to settle, for the collector (taken once).
    pub fn settle_requests(&self) -> Option<mpsc::UnboundedReceiver<oneshot::Sender<()>>> {
        self.settle_requests.lock().expect("settle requests").take()
    }

    /// Waits until the collector applied every event published before now (briefly: a
    /// collector that is gone or stuck only makes drift counting less exact).
    async fn settle(&self) {
        let (done, settled) = oneshot::channel();
        if self.settle.send(done).is_ok() {
            let _ = tokio::time::timeout(SETTLE_WAIT, settled).await;
        }
    }

    pub async fn pass(&self) -> Result<PassSummary, sqlx::Error> {
        let started = Instant::now();
        // Stamped before the read: anything an event writes from here on is newer and wins.
        let poll_start = self.clock.next();
        let rows: Vec<LiveRow> = sqlx::query_as(LIVE_ROWS).fetch_all(&self.db).await?;
        let sessions = self.session_groups(&rows).await?;
        let measured =
            futures_util::future::join_all(rows.iter().map(|row| self.git_stats(row))).await;
        let mut overlaps = overlaps_of_rows(&rows, &measured);
        let mut summary = PassSummary {
            scanned: rows.len(),
            ..PassSummary::default()
        };
        let mut live_ids = HashSet::new();
        let mut worktrees = HashMap::new();
        // What was published before the reading is in the store before it is compared.
        self.settle().await;
        for (row, measured) in rows.iter().zip(measured) {
            let id = WorkspaceId::new(&row.id);
            summary.git_stats_computed += usize::from(measured.is_some());
            let group = sessions.get(&id).cloned().unwrap_or_default();
            let stats = measured.map(|m| m.stats);
            let patch = match row.patch(stats, overlaps.remove(&id).unwrap_or_default(), &group) {
                Ok(patch) => patch,
                Err(e) => {
                    tracing::error!(workspace = %id, "cannot read the workspace row, keeping its entry: {e}");
                    summary.unreadable += 1;
                    live_ids.insert(id);
                    continue;
                }
            };
            if let Some(existing) = self.store.get(&id) {
                // A group an event wrote after the pass began is newer than what it read: the
                // difference is the pass's, not a missed event.
                let mut drifts = detect_drift(&existing, &patch);
                drifts.retain(|d| existing.field_timestamps.get(d.group) <= poll_start);
                if !drifts.is_empty() {
                    summary.drifted += 1;
                    for drift in &drifts {
                        self.metrics
                            .drift
                            .with_label_values(&[&drift.group.to_string()])
                            .inc();
                    }
                    tracing::warn!(workspace = %id, drift_count = drifts.len(), drifts = %serde_json::to_string(&drifts).unwrap_or_default(), "snapshot drift detected");
                }
            }
            match self
                .store
                .upsert(&id, &patch, "reconciliation", poll_start, None)
            {
                Ok(result) => summary.changed += usize::from(result.emitted),
                Err(e) => tracing::error!("{e}"),
            }
            if let Some(path) = &row.worktree_path {
                worktrees.insert(id.clone(), PathBuf::from(path));
            }
            live_ids.insert(id);
        }
        for id in self.store.ids() {
            if !live_ids.contains(&id) && self.store.remove_if_older(&id, poll_start) {
                tracing::info!(workspace = %id, "removed stale snapshot entry");
                summary.removed += 1;
            }
        }
        self.store.expire_tombstones();
        let _ = self.monitor.send(MonitorInput::Sync(worktrees));
        self.store.mark_ready();
        let elapsed = started.elapsed();
        self.metrics
            .reconcile_duration
            .observe(elapsed.as_secs_f64());
        self.metrics.reconcile_passes.inc();
        self.metrics.reconcile_scanned.set(summary.scanned as i64);
        self.metrics
            .reconcile_changed
            .inc_by(summary.changed as u64);
        self.metrics
            .reconcile_removed
            .inc_by(summary.removed as u64);
        tracing::info!(
            scanned = summary.scanned,
            changed = summary.changed,
            drifted = summary.drifted,
            removed = summary.removed,
            git_stats = summary.git_stats_computed,
            duration_ms = elapsed.as_millis() as u64,
            "reconciliation complete"
        );
        Ok(summary)
    }

    /// The session group of every live workspace with sessions (R§7.3): for a workspace whose
    /// sessions are live in this process, the group its sessions domain last announced (the
    /// domain is the only writer of their rows, and announces every change after it); for the
    /// others, their rows at rest in the database.
    async fn session_groups(
        &self,
        rows_of: &[LiveRow],
    ) -> Result<HashMap<WorkspaceId, SessionGroup>, sqlx::Error> {
        let mut groups: HashMap<WorkspaceId, SessionGroup> = rows_of
            .iter()
            .filter_map(|row| Some((WorkspaceId::new(&row.id), self.runtimes.group(&row.id)?)))
            .collect();
        let rows: Vec<SessionRowOf> = sqlx::query_as(SESSION_ROWS).fetch_all(&self.db).await?;
        let mut by_workspace: HashMap<WorkspaceId, Vec<(SessionRow, Option<RuntimeFacts>)>> =
            HashMap::new();
        for row in rows {
            if groups.contains_key(&WorkspaceId::new(&row.workspace_id)) {
                continue;
            }
            let runtime = self.runtimes.runtime(&row.id);
            let session = SessionRow {
                session_id: SessionId::new(row.id),
                agent: row.agent,
                name: row.name,
                workflow: row.workflow,
                model: row.model,
                status: parse_enum("status", &row.status)?,
                updated_at: parse_time("updated_at", &row.updated_at)?,
            };
            by_workspace
                .entry(WorkspaceId::new(row.workspace_id))
                .or_default()
                .push((session, runtime));
        }
        groups.extend(by_workspace.into_iter().map(|(id, sessions)| {
            let group = SessionGroup::from_sessions(sessions.iter().map(|(r, f)| (r, f.as_ref())));
            (id, group)
        }));
        Ok(groups)
    }

    /// The statistics of a row's worktree: measured, or reused when the watcher has seen no edit
    /// since they were measured and HEAD and the base did not move.
    async fn git_stats(&self, row: &LiveRow) -> Option<Measured> {
        let path = Path::new(row.worktree_path.as_deref()?);
        let id = WorkspaceId::new(&row.id);
        let project = ProjectId::new(&row.project_id);
        if let Some(cached) = self.reusable(&id) {
            let refs = git_stats::refs_key_bounded(
                path,
                &row.default_branch,
                &self.git_pool,
                self.config.git_timeout,
            )
            .await;
            if refs.as_ref() == Ok(&cached.refs) {
                self.metrics.git_stats_reused.inc();
                return Some(cached);
            }
        }
        self.measure(&id, &project, path, &row.default_branch).await
    }

    fn reusable(&self, id: &WorkspaceId) -> Option<Measured> {
        let watched_since = *self.watched.lock().expect("watch set lock").get(id)?;
        let cached = self
            .cache
            .lock()
            .expect("stats cache lock")
            .get(id)?
            .clone();
        (cached.at >= watched_since && cached.at.elapsed() < CACHE_TTL).then_some(cached)
    }

    async fn measure(
        &self,
        id: &WorkspaceId,
        project: &ProjectId,
        worktree: &Path,
        default_branch: &str,
    ) -> Option<Measured> {
        let at = Instant::now();
        match git_stats::compute_bounded(
            worktree,
            default_branch,
            &self.git_pool,
            self.config.git_timeout,
        )
        .await
        {
            Ok((Measurement { stats, paths }, refs)) => {
                self.metrics.git_stats_computed.inc();
                let measured = Measured {
                    stats,
                    paths: Arc::new(paths),
                    project: project.clone(),
                    refs,
                    at,
                };
                self.cache
                    .lock()
                    .expect("stats cache lock")
                    .insert(id.clone(), measured.clone());
                Some(measured)
            }
            Err(e) => {
                self.metrics.git_stats_failed.inc();
                self.cache.lock().expect("stats cache lock").remove(id);
                tracing::warn!(workspace = %id, "no git statistics: {e}");
                None
            }
        }
    }

    /// The watcher covers this worktree from now on (or no longer).
    pub fn set_watched(&self, id: &WorkspaceId, watched: bool) {
        let mut set = self.watched.lock().expect("watch set lock");
        if watched {
            set.insert(id.clone(), Instant::now());
        } else {
            set.remove(id);
            self.cache.lock().expect("stats cache lock").remove(id);
        }
        self.metrics
            .worktrees_watched
            .set(i64::try_from(set.len()).unwrap_or(i64::MAX));
    }

    /// Measures one workspace now (its files changed, or it just became ready), and derives the
    /// overlaps of its project again.
    pub async fn refresh_git(&self, id: &WorkspaceId) {
        let row: Result<Option<(String, Option<String>, String)>, sqlx::Error> = sqlx::query_as(
            "SELECT w.project_id, w.worktree_path, p.default_branch FROM workspaces w JOIN projects p ON p.id = w.project_id \
             WHERE w.id = ? AND w.status <> 'ARCHIVED'",
        )
        .bind(id.as_str())
        .fetch_optional(&self.db)
        .await;
        let Ok(Some((project, Some(worktree), default_branch))) = row else {
            return;
        };
        let project = ProjectId::new(project);
        let measured = self
            .measure(id, &project, Path::new(&worktree), &default_branch)
            .await;
        let patch = Patch {
            git_stats: Some(measured.map(|m| m.stats)),
            ..Patch::default()
        };
        if let Err(e) = self
            .store
            .upsert(id, &patch, "watcher", self.clock.next(), None)
        {
            tracing::debug!("{e}; waiting for reconciliation");
        }
        self.refresh_overlaps(&project);
    }

    /// A workspace left (archived): its paths no longer count against the others'.
    pub fn forget(&self, id: &WorkspaceId) {
        let gone = self.cache.lock().expect("stats cache lock").remove(id);
        if let Some(gone) = gone {
            self.refresh_overlaps(&gone.project);
        }
    }

    /// The overlaps of every visible workspace of `project`, from the paths last measured.
    fn refresh_overlaps(&self, project: &ProjectId) {
        let entries = self.store.project_entries(project);
        let paths: Vec<Arc<BTreeSet<String>>> = {
            let cache = self.cache.lock().expect("stats cache lock");
            entries
                .iter()
                .map(|e| {
                    cache
                        .get(&e.workspace_id)
                        .map(|m| m.paths.clone())
                        .unwrap_or_default()
                })
                .collect()
        };
        let workspaces: Vec<WorkspacePaths<'_>> = entries
            .iter()
            .zip(&paths)
            .map(|(e, paths)| WorkspacePaths {
                id: &e.workspace_id,
                name: &e.raw.name,
                paths,
            })
            .collect();
        let before: HashMap<&WorkspaceId, &Vec<Overlap>> = entries
            .iter()
            .map(|e| (&e.workspace_id, &e.raw.overlaps))
            .collect();
        for (id, overlaps) in derive_overlaps(&workspaces) {
            // Only the entries whose overlaps moved: writing the others would stamp their
            // reconciliation group for nothing, and a pass in progress would then lose to it.
            if before.get(&id) == Some(&&overlaps) {
                continue;
            }
            let patch = Patch {
                overlaps: Some(overlaps),
                ..Patch::default()
            };
            if let Err(e) = self
                .store
                .upsert(&id, &patch, "watcher", self.clock.next(), None)
            {
                tracing::debug!("{e}; waiting for reconciliation");
            }
        }
    }
}

/// The overlaps of every visible live workspace, per project, from this pass's measurements
/// (a workspace that could not be measured changes no known path).
fn overlaps_of_rows(
    rows: &[LiveRow],
    measured: &[Option<Measured>],
) -> BTreeMap<WorkspaceId, Vec<Overlap>> {
    let empty = BTreeSet::new();
    let ids: Vec<WorkspaceId> = rows.iter().map(|r| WorkspaceId::new(&r.id)).collect();
    let mut projects: BTreeMap<&str, Vec<WorkspacePaths<'_>>> = BTreeMap::new();
    for ((row, id), measured) in rows.iter().zip(&ids).zip(measured) {
        let hidden =
            parse_enum::<WorkspaceStatus>("status", &row.status).map_or(true, |s| s.is_hidden());
        if hidden {
            continue;
        }
        projects
            .entry(&row.project_id)
            .or_default()
            .push(WorkspacePaths {
                id,
                name: &row.name,
                paths: measured.as_ref().map_or(&empty, |m| &m.paths),
            });
    }
    projects
        .values()
        .flat_map(|workspaces| derive_overlaps(workspaces))
        .collect()
}
