//! Backup and restore (domain.md §6): every durable field, one versioned JSON document. An import
//! is checked whole, then written in one transaction; any error writes nothing.
//!
//! A flow, not a domain: it reads and writes every domain's tables, always through their
//! owners' stores, and owns none.

pub mod format;

use crate::clock;
use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use crate::github;
use crate::projects;
use crate::run_script;
use crate::schedules::store as schedule_store;
use crate::settings;
use crate::workspaces::family::{self, Lineage};
use crate::workspaces::store::{self as workspace_store, WorkspaceRecord};
use ff_core::api::{ImportCounts, PrInfo, Project, Workspace};
use ff_core::create::DisplayName;
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::{ExecutionId, ProjectId, ScheduleId, SessionId, WorkspaceId};
use ff_core::naming::slug_candidates;
use ff_core::refname::BranchName;
use ff_core::schedules::{Execution, NewSchedule, Schedule};
use format::{
    Data, Document, ExecutionBackup, Meta, ProjectBackup, ScheduleBackup, WorkspaceBackup,
    SCHEMA_VERSION,
};
use std::collections::{HashMap, HashSet};

const IMPORTED_MID_SETUP: &str = "Imported before its setup finished; retry to continue";

#[derive(Clone)]
pub struct Backup {
    db: Db,
    bus: EventBus,
}

impl Backup {
    pub fn new(db: Db, bus: EventBus) -> Self {
        Self { db, bus }
    }

    pub async fn export(&self) -> DomainResult<Document> {
        let mut conn = self.db.acquire().await?;
        let projects = projects::store::list_all(&mut conn)
            .await?
            .into_iter()
            .map(|(p, archived_at)| ProjectBackup {
                id: p.id.to_string(),
                name: p.name,
                slug: p.slug,
                repo_path: p.repo_path,
                default_branch: p.default_branch,
                github_owner: p.github_owner,
                github_repo: p.github_repo,
                github_host: p.github_host,
                default_agent: p.default_agent,
                worktree_base_path: p.worktree_base_path,
                setup_timeout_seconds: p.setup_timeout_seconds,
                archived_at,
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
            .collect();
        let mut workspaces = Vec::new();
        for record in workspace_store::all(&mut conn).await? {
            let id = record.workspace.id.as_str().to_owned();
            let pr = github::store::info(&mut conn, &id).await?;
            let ratchet = crate::ratchet::store::get(&mut conn, &id).await?;
            let run = run_script::store::get(&mut conn, &id).await?;
            let lineage = family::lineage(&mut conn, &record.workspace.id).await?;
            let w = record.workspace;
            workspaces.push(WorkspaceBackup {
                id,
                project_id: w.project_id.to_string(),
                name: w.name,
                description: w.description,
                status: w.status,
                creation_source: w.creation_source,
                base_branch: record.base_branch,
                worktree_path: w.worktree_path,
                branch_name: w.branch_name,
                is_auto_generated_branch: record.is_auto_generated_branch,
                init_error_message: w.init_error_message,
                init_output: record.init_output,
                init_started_at: w.init_started_at,
                init_completed_at: w.init_completed_at,
                init_retry_count: w.init_retry_count,
                github_issue_number: w.github_issue_number,
                github_issue_url: w.github_issue_url,
                has_had_sessions: w.has_had_sessions,
                created_at: w.created_at,
                updated_at: w.updated_at,
                pr_url: pr.pr_url,
                pr_number: pr.pr_number,
                pr_state: pr.pr_state,
                pr_ci_status: pr.pr_ci_status,
                pr_review_state: pr.pr_review_state,
                pr_has_merge_conflict: pr.pr_has_merge_conflict,
                pr_updated_at: pr.pr_updated_at,
                ratchet_enabled: ratchet.enabled,
                ratchet_dispatch_outcome: ratchet.dispatch_outcome,
                ratchet_dispatch_retry_count: ratchet.dispatch_retry_count,
                ratchet_dispatch_stalled: ratchet.dispatch_stalled,
                run_script_command: run.as_ref().and_then(|r| r.info.command.clone()),
                run_script_cleanup_command: run.and_then(|r| r.cleanup_command),
                archive_note: record.archive_note,
                agent: record.agent,
                initial_prompt: record.initial_prompt,
                schedule_id: w.schedule_id.map(|s| s.to_string()),
                parent_workspace_id: lineage.workspace.map(|p| p.to_string()),
                parent_session_id: lineage.session.map(|s| s.to_string()),
            });
        }
        let mut schedules = Vec::new();
        for s in schedule_store::all(&mut conn).await? {
            let executions = schedule_store::executions(
                &mut conn,
                s.id.as_str(),
                ff_core::schedules::EXECUTIONS_KEPT as u32,
            )
            .await?;
            schedules.push(schedule_backup(s, executions));
        }
        let settings = settings::get(&mut conn).await?;
        Ok(Document {
            meta: Meta {
                exported_at: clock::now(),
                app_version: env!("CARGO_PKG_VERSION").to_owned(),
                schema_version: SCHEMA_VERSION,
            },
            data: Data {
                projects,
                workspaces,
                settings,
                schedules,
            },
        })
    }

    /// Imports what is not there yet (by id) and reports how much was imported.
    pub async fn import(&self, bytes: &[u8]) -> DomainResult<ImportCounts> {
        let document = format::parse(bytes).map_err(DomainError::BadRequest)?;
        validate(&document.data)?;
        let mut tx = db::begin_write(&self.db).await?;
        // Backup project id → the project its workspaces belong to here.
        let mut homes: HashMap<String, String> = HashMap::new();
        let mut counts = ImportCounts::default();
        let mut plans = Vec::new();
        // Two projects of one import may want the same free slug: the first one gets it.
        let mut planned_slugs = HashSet::new();
        for p in &document.data.projects {
            if projects::store::exists(&mut tx, &p.id).await? {
                homes.insert(p.id.clone(), p.id.clone());
                continue;
            }
            if p.archived_at.is_none() {
                // The repository is already a project here under another id: its workspaces
                // join that project instead of duplicating it.
                if let Some(existing) =
                    projects::store::live_id_for_repo(&mut tx, &p.repo_path).await?
                {
                    homes.insert(p.id.clone(), existing);
                    continue;
                }
            }
            let mut slug = None;
            for candidate in slug_candidates(&p.slug).take(100) {
                if !planned_slugs.contains(&candidate)
                    && !projects::store::slug_taken(&mut tx, &candidate).await?
                {
                    planned_slugs.insert(candidate.clone());
                    slug = Some(candidate);
                    break;
                }
            }
            let slug = slug.ok_or_else(|| {
                DomainError::Conflict(format!("no free slug for project {}", p.id))
            })?;
            plans.push((p, slug));
            homes.insert(p.id.clone(), p.id.clone());
        }
        // Tasks and workspaces link to each other: a workspace to the task whose run made it, a
        // run to its workspace. Each must be in the backup or in ff already.
        let mut new_schedules = Vec::new();
        let mut known_schedules = HashSet::new();
        for (i, s) in document.data.schedules.iter().enumerate() {
            let home = match homes.get(&s.project_id) {
                Some(home) => home.clone(),
                None if projects::store::exists(&mut tx, &s.project_id).await? => s.project_id.clone(),
                None => return Err(DomainError::invalid(
                    "data",
                    format!("data.schedules[{i}].projectId: scheduled task {} belongs to project {}, which is neither in the backup nor in ff", s.id, s.project_id),
                )),
            };
            known_schedules.insert(s.id.as_str());
            if schedule_store::get(&mut tx, &s.id).await?.is_none() {
                new_schedules.push((s, home));
            }
        }
        let known_workspaces: HashSet<&str> = document
            .data
            .workspaces
            .iter()
            .map(|w| w.id.as_str())
            .collect();
        let mut new_workspaces = Vec::new();
        for (i, w) in document.data.workspaces.iter().enumerate() {
            if let Some(schedule) = &w.schedule_id {
                if !known_schedules.contains(schedule.as_str())
                    && schedule_store::get(&mut tx, schedule).await?.is_none()
                {
                    return Err(DomainError::invalid(
                        "data",
                        format!("data.workspaces[{i}].scheduleId: workspace {} was made by scheduled task {schedule}, which is neither in the backup nor in ff", w.id),
                    ));
                }
            }
            if let Some(parent) = &w.parent_workspace_id {
                if !known_workspaces.contains(parent.as_str())
                    && workspace_store::get(&mut tx, parent).await?.is_none()
                {
                    return Err(DomainError::invalid(
                        "data",
                        format!("data.workspaces[{i}].parentWorkspaceId: workspace {} is a child of workspace {parent}, which is neither in the backup nor in ff", w.id),
                    ));
                }
            }
            let home = match homes.get(&w.project_id) {
                Some(home) => home.clone(),
                None if projects::store::exists(&mut tx, &w.project_id).await? => w.project_id.clone(),
                None => return Err(DomainError::invalid(
                    "data",
                    format!("data.workspaces[{i}].projectId: workspace {} belongs to project {}, which is neither in the backup nor in ff", w.id, w.project_id),
                )),
            };
            if workspace_store::get(&mut tx, &w.id).await?.is_none() {
                new_workspaces.push((w, home));
            }
        }
        for (p, slug) in plans {
            let project = Project {
                id: ProjectId::new(p.id.clone()),
                name: p.name.clone(),
                slug,
                repo_path: p.repo_path.clone(),
                default_branch: p.default_branch.clone(),
                github_owner: p.github_owner.clone(),
                github_repo: p.github_repo.clone(),
                github_host: p.github_host.clone(),
                default_agent: p.default_agent.clone(),
                worktree_base_path: p.worktree_base_path.clone(),
                setup_timeout_seconds: p.setup_timeout_seconds,
                created_at: p.created_at,
                updated_at: p.updated_at,
            };
            projects::store::restore(&mut tx, &project, p.archived_at).await?;
            counts.projects += 1;
        }
        for (i, (s, _)) in new_schedules.iter().enumerate() {
            for (j, e) in s.executions.iter().enumerate() {
                let Some(workspace) = &e.workspace_id else {
                    continue;
                };
                if !known_workspaces.contains(workspace.as_str())
                    && workspace_store::get(&mut tx, workspace).await?.is_none()
                {
                    return Err(DomainError::invalid(
                        "data",
                        format!("data.schedules[{i}].executions[{j}].workspaceId: workspace {workspace} is neither in the backup nor in ff"),
                    ));
                }
            }
        }
        let now = clock::now();
        for (s, home) in &new_schedules {
            restore_schedule(&mut tx, s, home, now).await?;
            counts.schedules += 1;
        }
        for (w, home) in &new_workspaces {
            restore_workspace(&mut tx, w, home, now).await?;
            counts.workspaces += 1;
        }
        // Links after every workspace, which they name (a child may come before its parent).
        for (w, _) in &new_workspaces {
            let lineage = Lineage {
                workspace: w.parent_workspace_id.clone().map(WorkspaceId::new),
                session: w.parent_session_id.clone().map(SessionId::new),
            };
            if lineage != Lineage::default() {
                family::restore_lineage(&mut tx, &WorkspaceId::new(w.id.clone()), &lineage).await?;
            }
        }
        // Runs after their workspaces, which they name.
        for (s, _) in &new_schedules {
            for e in &s.executions {
                schedule_store::insert_execution(&mut tx, &execution(s, e)).await?;
            }
        }
        settings::set(&mut tx, &document.data.settings, now).await?;
        tx.commit().await?;
        self.bus.publish(DomainEvent::BackupImported {
            projects: counts.projects,
            workspaces: counts.workspaces,
        });
        tracing::info!(
            projects = counts.projects,
            workspaces = counts.workspaces,
            schedules = counts.schedules,
            "backup imported"
        );
        Ok(counts)
    }
}

/// Everything about the document that can be checked without the database.
fn validate(data: &Data) -> DomainResult<()> {
    let fail =
        |path: String, message: String| DomainError::invalid("data", format!("{path}: {message}"));
    let mut ids = HashSet::new();
    for (i, p) in data.projects.iter().enumerate() {
        let path = format!("data.projects[{i}]");
        if p.id.trim().is_empty() || !ids.insert(p.id.as_str()) {
            return Err(fail(path, format!("id {:?} is empty or not unique", p.id)));
        }
        DisplayName::parse("name", &p.name).map_err(|e| fail(format!("{path}.name"), e.message))?;
        BranchName::parse(&p.default_branch).map_err(|e| {
            fail(
                format!("{path}.defaultBranch"),
                format!("{:?} {e}", p.default_branch),
            )
        })?;
        if !projects::SETUP_TIMEOUT_RANGE.contains(&p.setup_timeout_seconds) {
            return Err(fail(
                format!("{path}.setupTimeoutSeconds"),
                "must be between 1 and 3600".into(),
            ));
        }
        if p.slug.is_empty() {
            return Err(fail(path, "slug must not be empty".into()));
        }
        for (field, value) in [
            ("repoPath", &p.repo_path),
            ("worktreeBasePath", &p.worktree_base_path),
        ] {
            if !std::path::Path::new(value).is_absolute() {
                return Err(fail(
                    format!("{path}.{field}"),
                    format!("{value:?} must be an absolute path"),
                ));
            }
        }
    }
    for (i, w) in data.workspaces.iter().enumerate() {
        let path = format!("data.workspaces[{i}]");
        if w.id.trim().is_empty() || !ids.insert(w.id.as_str()) {
            return Err(fail(path, format!("id {:?} is empty or not unique", w.id)));
        }
        DisplayName::parse("name", &w.name).map_err(|e| fail(format!("{path}.name"), e.message))?;
        // Archive removes a workspace's worktree: it must be the directory ff would have made.
        if let Some(worktree) = &w.worktree_path {
            let own = std::path::Path::new(worktree)
                .file_name()
                .is_some_and(|name| name.to_string_lossy() == format!("workspace-{}", w.id));
            if !own || !std::path::Path::new(worktree).is_absolute() {
                return Err(fail(
                    format!("{path}.worktreePath"),
                    format!(
                        "{worktree:?} is not an absolute path ending in workspace-{}",
                        w.id
                    ),
                ));
            }
        }
        if w.parent_workspace_id.as_ref() == Some(&w.id) {
            return Err(fail(
                format!("{path}.parentWorkspaceId"),
                "a workspace cannot be its own parent".into(),
            ));
        }
        for (field, branch) in [
            ("branchName", &w.branch_name),
            ("baseBranch", &w.base_branch),
        ] {
            if let Some(branch) = branch {
                BranchName::parse(branch)
                    .map_err(|e| fail(format!("{path}.{field}"), format!("{branch:?} {e}")))?;
            }
        }
    }
    let mut schedule_ids = HashSet::new();
    let mut execution_ids = HashSet::new();
    for (i, s) in data.schedules.iter().enumerate() {
        let path = format!("data.schedules[{i}]");
        if s.id.trim().is_empty() || !schedule_ids.insert(s.id.as_str()) {
            return Err(fail(path, format!("id {:?} is empty or not unique", s.id)));
        }
        let request = NewSchedule {
            name: s.name.clone(),
            prompt: s.prompt.clone(),
            agent: s.agent.clone(),
            cron: s.cron.clone(),
            time_zone: s.time_zone.clone(),
            enabled: s.enabled,
        };
        request
            .parse()
            .map_err(|e| fail(format!("{path}.{}", e.field), e.message))?;
        for (j, e) in s.executions.iter().enumerate() {
            if e.id.trim().is_empty() || !execution_ids.insert(e.id.as_str()) {
                return Err(fail(
                    format!("{path}.executions[{j}]"),
                    format!("id {:?} is empty or not unique", e.id),
                ));
            }
        }
    }
    Ok(())
}

fn schedule_backup(s: Schedule, executions: Vec<Execution>) -> ScheduleBackup {
    ScheduleBackup {
        id: s.id.to_string(),
        project_id: s.project_id.to_string(),
        name: s.name,
        prompt: s.prompt,
        agent: s.agent,
        cron: s.cron,
        time_zone: s.time_zone,
        enabled: s.enabled,
        last_run_at: s.last_run_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
        executions: executions
            .into_iter()
            .map(|e| ExecutionBackup {
                id: e.id.to_string(),
                trigger: e.trigger,
                due_at: e.due_at,
                status: e.status,
                workspace_id: e.workspace_id.map(|w| w.to_string()),
                workspace_name: e.workspace_name,
                pr_url: e.pr_url,
                pr_number: e.pr_number,
                error: e.error,
                started_at: e.started_at,
                completed_at: e.completed_at,
            })
            .collect(),
    }
}

/// A task as it was, due next after `now` (the backup's due time may have passed long ago).
async fn restore_schedule(
    tx: &mut sqlx::SqliteConnection,
    s: &ScheduleBackup,
    project_id: &str,
    now: ff_core::ids::Timestamp,
) -> DomainResult<()> {
    let timing = ff_core::schedules::Timing::parse(&s.cron, &s.time_zone)?;
    let schedule = Schedule {
        id: ScheduleId::new(s.id.clone()),
        project_id: ProjectId::new(project_id),
        name: s.name.clone(),
        prompt: s.prompt.clone(),
        agent: s.agent.clone(),
        cron: s.cron.clone(),
        time_zone: s.time_zone.clone(),
        enabled: s.enabled,
        next_due_at: s.enabled.then(|| timing.next_after(now)).flatten(),
        next_due_on_clock: None,
        last_run_at: s.last_run_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
        recent_executions: Vec::new(),
    };
    schedule_store::upsert(tx, &schedule).await?;
    Ok(())
}

fn execution(s: &ScheduleBackup, e: &ExecutionBackup) -> Execution {
    Execution {
        id: ExecutionId::new(e.id.clone()),
        schedule_id: ScheduleId::new(s.id.clone()),
        trigger: e.trigger,
        due_at: e.due_at,
        status: e.status,
        workspace_id: e.workspace_id.clone().map(WorkspaceId::new),
        workspace_name: e.workspace_name.clone(),
        pr_url: e.pr_url.clone(),
        pr_number: e.pr_number,
        error: e.error.clone(),
        started_at: e.started_at,
        completed_at: e.completed_at,
        on_clock: None,
    }
}

async fn restore_workspace(
    tx: &mut sqlx::SqliteConnection,
    w: &WorkspaceBackup,
    project_id: &str,
    now: ff_core::ids::Timestamp,
) -> DomainResult<()> {
    // A setup or archive cannot continue on another machine (or after the fact): such
    // workspaces come back as failed, ready to retry or archive.
    let (status, error) = match w.status {
        WorkspaceStatus::New | WorkspaceStatus::Provisioning | WorkspaceStatus::Archiving => {
            (WorkspaceStatus::Failed, Some(IMPORTED_MID_SETUP.to_owned()))
        }
        status => (status, w.init_error_message.clone()),
    };
    let record = WorkspaceRecord {
        workspace: Workspace {
            id: WorkspaceId::new(w.id.clone()),
            project_id: ProjectId::new(project_id),
            name: w.name.clone(),
            description: w.description.clone(),
            status,
            creation_source: w.creation_source,
            branch_name: w.branch_name.clone(),
            worktree_path: w.worktree_path.clone(),
            init_error_message: error,
            init_started_at: w.init_started_at,
            init_completed_at: w.init_completed_at,
            init_retry_count: w.init_retry_count,
            github_issue_number: w.github_issue_number,
            github_issue_url: w.github_issue_url.clone(),
            schedule_id: w.schedule_id.clone().map(ScheduleId::new),
            ratchet_enabled: w.ratchet_enabled,
            has_had_sessions: w.has_had_sessions,
            created_at: w.created_at,
            updated_at: w.updated_at,
        },
        base_branch: w.base_branch.clone(),
        is_auto_generated_branch: w.is_auto_generated_branch,
        init_script_process: None,
        init_output: w.init_output.clone(),
        archive_previous_status: None,
        archive_error: None,
        archive_note: w.archive_note.clone(),
        agent: w.agent.clone(),
        initial_prompt: w.initial_prompt.clone(),
    };
    workspace_store::restore(tx, &record).await?;
    github::store::restore(
        tx,
        &w.id,
        &PrInfo {
            pr_url: w.pr_url.clone(),
            pr_number: w.pr_number,
            pr_state: w.pr_state,
            pr_ci_status: w.pr_ci_status,
            pr_review_state: w.pr_review_state,
            pr_has_merge_conflict: w.pr_has_merge_conflict,
            pr_updated_at: w.pr_updated_at,
        },
    )
    .await?;
    let ratchet = crate::ratchet::store::Bookkeeping {
        dispatch_outcome: w.ratchet_dispatch_outcome,
        dispatch_retry_count: w.ratchet_dispatch_retry_count,
        dispatch_stalled: w.ratchet_dispatch_stalled,
        ..crate::ratchet::store::Bookkeeping::new(w.ratchet_enabled)
    };
    crate::ratchet::store::insert(tx, &w.id, &ratchet, now).await?;
    run_script::store::insert(tx, &w.id, now).await?;
    run_script::store::set_commands(
        tx,
        &w.id,
        w.run_script_command.as_deref(),
        w.run_script_cleanup_command.as_deref(),
        now,
    )
    .await?;
    Ok(())
}
