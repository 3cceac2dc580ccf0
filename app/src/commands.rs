//! Mutations, sent by the browser through the HTTP API. The page changes when the pushed frame
//! arrives, not when these return. Every future here is `Send`, so that actions holding them are
//! plain (thread-safe) actions on the server, where pages render across threads.

use ff_core::api::{AddProject, ArchiveRequest, PatchProject, Project, RatchetToggle, Workspace};
use ff_core::create::CreateWorkspaceRequest;
use ff_core::editor::OpenRequest;
use ff_core::github::{HostStatus, IssueSummary, PrView};
use ff_core::ids::{CommentId, MessageId, ProjectId, ScheduleId, SessionId, WorkspaceId};
use ff_core::ratchet::RatchetView;
use ff_core::review::comments::{NewComment, ReviewComment, SentReview};
use ff_core::schedules::{Execution, NewSchedule, Schedule, SchedulePatch};
use ff_core::sessions::{
    AgentInfo, CreateSession, MessageAccepted, PermissionAnswer, Session, SessionConfig,
    SettingsPatch, SettingsView,
};
use ff_core::transcript::Item;
use std::future::Future;

type Answer<T> = Result<T, String>;

#[cfg(feature = "hydrate")]
mod sent {
    use super::*;
    use crate::api;
    use crate::data::browser;
    use ff_core::api::WorkspaceDetail;
    use ff_core::github::CreatePr;

    pub fn add_project(body: AddProject) -> impl Future<Output = Answer<Project>> + Send {
        browser(async move { api::send_json("POST", "/api/projects".to_owned(), &body).await })
    }

    pub fn patch_project(
        id: ProjectId,
        patch: PatchProject,
    ) -> impl Future<Output = Answer<Project>> + Send {
        browser(async move { api::send_json("PATCH", format!("/api/projects/{id}"), &patch).await })
    }

    pub fn create_workspace(
        project: ProjectId,
        request: CreateWorkspaceRequest,
    ) -> impl Future<Output = Answer<Workspace>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/projects/{project}/workspaces"),
                &request,
            )
            .await
        })
    }

    pub fn workspace_command(
        id: WorkspaceId,
        command: &'static str,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(api::post(format!("/api/workspaces/{id}/{command}")))
    }

    pub fn archive_workspace(
        id: WorkspaceId,
        request: ArchiveRequest,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(
            async move { api::post_json(format!("/api/workspaces/{id}/archive"), &request).await },
        )
    }

    pub fn open_in_editor(
        id: WorkspaceId,
        request: OpenRequest,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/workspaces/{id}/open-in-editor"),
                &request,
            )
            .await
        })
    }

    pub fn set_ratchet(
        id: WorkspaceId,
        enabled: bool,
    ) -> impl Future<Output = Answer<RatchetToggle>> + Send {
        browser(async move {
            api::send_json(
                "PUT",
                format!("/api/workspaces/{id}/ratchet"),
                &RatchetToggle { enabled },
            )
            .await
        })
    }

    /// `command`: `pr/create` or `pr/refresh`.
    pub fn pr_command(
        id: WorkspaceId,
        command: &'static str,
    ) -> impl Future<Output = Answer<PrView>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/workspaces/{id}/{command}"),
                &CreatePr::default(),
            )
            .await
        })
    }

    pub fn pr(id: WorkspaceId) -> impl Future<Output = Answer<PrView>> + Send {
        browser(api::get_json(format!("/api/workspaces/{id}/pr")))
    }

    /// "Try again": GitHub is asked once more with the host's token, refused or paused.
    pub fn retry_github(host: String) -> impl Future<Output = Answer<HostStatus>> + Send {
        let host: String = js_sys::encode_uri_component(&host).into();
        browser(async move {
            api::send_json("POST", format!("/api/github/hosts/{host}/retry"), &()).await
        })
    }

    pub fn ratchet(id: WorkspaceId) -> impl Future<Output = Answer<RatchetView>> + Send {
        browser(api::get_json(format!("/api/workspaces/{id}/ratchet")))
    }

    /// Answers once the check has run, with what it decided.
    pub fn check_ratchet(id: WorkspaceId) -> impl Future<Output = Answer<RatchetView>> + Send {
        browser(async move {
            api::send_json("POST", format!("/api/workspaces/{id}/ratchet/check"), &()).await
        })
    }

    pub fn issues(
        project: ProjectId,
        mine: bool,
        filter: String,
    ) -> impl Future<Output = Answer<Vec<IssueSummary>>> + Send {
        let assignee = if mine { "me" } else { "any" };
        let filter: String = js_sys::encode_uri_component(&filter).into();
        browser(api::get_json(format!(
            "/api/projects/{project}/github/issues?assignee={assignee}&q={filter}"
        )))
    }

    pub fn workspace(id: WorkspaceId) -> impl Future<Output = Answer<WorkspaceDetail>> + Send {
        browser(api::get_json(format!("/api/workspaces/{id}")))
    }

    pub fn add_comment(
        id: WorkspaceId,
        comment: NewComment,
    ) -> impl Future<Output = Answer<ReviewComment>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/workspaces/{id}/review/comments"),
                &comment,
            )
            .await
        })
    }

    pub fn resolve_comment(
        id: WorkspaceId,
        comment: CommentId,
        resolved: bool,
    ) -> impl Future<Output = Answer<ReviewComment>> + Send {
        browser(async move {
            api::send_json(
                "PATCH",
                format!("/api/workspaces/{id}/review/comments/{comment}"),
                &ff_core::review::comments::CommentUpdate { resolved },
            )
            .await
        })
    }

    pub fn delete_comment(
        id: WorkspaceId,
        comment: CommentId,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(api::delete(format!(
            "/api/workspaces/{id}/review/comments/{comment}"
        )))
    }

    pub fn send_review(id: WorkspaceId) -> impl Future<Output = Answer<SentReview>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/workspaces/{id}/review/send"),
                &serde_json::json!({}),
            )
            .await
        })
    }

    pub fn logs(id: WorkspaceId) -> impl Future<Output = Answer<String>> + Send {
        browser(api::get_text(format!(
            "/api/workspaces/{id}/run-script/logs?tail=500"
        )))
    }

    pub fn create_session(
        workspace: WorkspaceId,
        request: CreateSession,
    ) -> impl Future<Output = Answer<Session>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/workspaces/{workspace}/sessions"),
                &request,
            )
            .await
        })
    }

    pub fn send_message(
        session: SessionId,
        text: String,
    ) -> impl Future<Output = Answer<MessageAccepted>> + Send {
        browser(async move {
            let body = ff_core::sessions::SendMessage { text };
            api::send_json("POST", format!("/api/sessions/{session}/messages"), &body).await
        })
    }

    pub fn cancel_message(
        session: SessionId,
        message: MessageId,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(api::delete(format!(
            "/api/sessions/{session}/messages/{message}"
        )))
    }

    /// `start`, `stop` or `cancel` (the turn in flight).
    pub fn session_command(
        session: SessionId,
        command: &'static str,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(api::post(format!("/api/sessions/{session}/{command}")))
    }

    pub fn delete_session(session: SessionId) -> impl Future<Output = Answer<()>> + Send {
        browser(api::delete(format!("/api/sessions/{session}")))
    }

    pub fn answer_permission(
        session: SessionId,
        answer: PermissionAnswer,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/sessions/{session}/permission"),
                &answer,
            )
            .await
        })
    }

    pub fn configure_session(
        session: SessionId,
        config: SessionConfig,
    ) -> impl Future<Output = Answer<Session>> + Send {
        browser(async move {
            api::send_json("PUT", format!("/api/sessions/{session}/config"), &config).await
        })
    }

    /// The page of items just before `before` ("Load earlier").
    pub fn earlier_items(
        session: SessionId,
        before: u64,
        limit: u32,
    ) -> impl Future<Output = Answer<Vec<Item>>> + Send {
        browser(api::get_json(format!(
            "/api/sessions/{session}/items?before={before}&limit={limit}"
        )))
    }

    /// The agents to choose from, and which one is the default.
    pub fn agent_choices() -> impl Future<Output = Answer<(Vec<AgentInfo>, SettingsView)>> + Send {
        browser(async {
            let agents = api::get_json("/api/agents".to_owned()).await?;
            let settings = api::get_json("/api/settings".to_owned()).await?;
            Ok((agents, settings))
        })
    }

    pub fn agents() -> impl Future<Output = Answer<Vec<AgentInfo>>> + Send {
        browser(api::get_json("/api/agents".to_owned()))
    }

    pub fn patch_settings(
        patch: SettingsPatch,
    ) -> impl Future<Output = Answer<SettingsView>> + Send {
        browser(async move { api::send_json("PATCH", "/api/settings".to_owned(), &patch).await })
    }
    pub fn schedules(project: ProjectId) -> impl Future<Output = Answer<Vec<Schedule>>> + Send {
        browser(api::get_json(format!("/api/projects/{project}/schedules")))
    }

    pub fn create_schedule(
        project: ProjectId,
        request: NewSchedule,
    ) -> impl Future<Output = Answer<Schedule>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/projects/{project}/schedules"),
                &request,
            )
            .await
        })
    }

    pub fn patch_schedule(
        id: ScheduleId,
        patch: SchedulePatch,
    ) -> impl Future<Output = Answer<Schedule>> + Send {
        browser(
            async move { api::send_json("PATCH", format!("/api/schedules/{id}"), &patch).await },
        )
    }

    pub fn delete_schedule(id: ScheduleId) -> impl Future<Output = Answer<()>> + Send {
        browser(api::delete(format!("/api/schedules/{id}")))
    }

    pub fn run_schedule(id: ScheduleId) -> impl Future<Output = Answer<Execution>> + Send {
        browser(async move {
            api::send_json(
                "POST",
                format!("/api/schedules/{id}/run"),
                &serde_json::json!({}),
            )
            .await
        })
    }
}

/// On the server nothing is sent: actions run on user input, which only happens in the browser.
/// These exist so that the same components compile for both sides.
#[cfg(not(feature = "hydrate"))]
mod sent {
    use super::*;

    fn browser_only<T: Send>() -> impl Future<Output = Answer<T>> + Send {
        std::future::ready(Err("this action runs in the browser".to_owned()))
    }

    pub fn open_in_editor(
        _: WorkspaceId,
        _: OpenRequest,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn archive_workspace(
        _: WorkspaceId,
        _: ArchiveRequest,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn schedules(_: ProjectId) -> impl Future<Output = Answer<Vec<Schedule>>> + Send {
        browser_only()
    }

    pub fn create_schedule(
        _: ProjectId,
        _: NewSchedule,
    ) -> impl Future<Output = Answer<Schedule>> + Send {
        browser_only()
    }

    pub fn patch_schedule(
        _: ScheduleId,
        _: SchedulePatch,
    ) -> impl Future<Output = Answer<Schedule>> + Send {
        browser_only()
    }

    pub fn delete_schedule(_: ScheduleId) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn run_schedule(_: ScheduleId) -> impl Future<Output = Answer<Execution>> + Send {
        browser_only()
    }

    pub fn add_project(_: AddProject) -> impl Future<Output = Answer<Project>> + Send {
        browser_only()
    }

    pub fn create_workspace(
        _: ProjectId,
        _: CreateWorkspaceRequest,
    ) -> impl Future<Output = Answer<Workspace>> + Send {
        browser_only()
    }

    pub fn workspace_command(
        _: WorkspaceId,
        _: &'static str,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn set_ratchet(
        _: WorkspaceId,
        _: bool,
    ) -> impl Future<Output = Answer<RatchetToggle>> + Send {
        browser_only()
    }

    pub fn patch_project(
        _: ProjectId,
        _: PatchProject,
    ) -> impl Future<Output = Answer<Project>> + Send {
        browser_only()
    }

    pub fn check_ratchet(_: WorkspaceId) -> impl Future<Output = Answer<RatchetView>> + Send {
        browser_only()
    }

    pub fn retry_github(_: String) -> impl Future<Output = Answer<HostStatus>> + Send {
        browser_only()
    }

    pub fn pr_command(
        _: WorkspaceId,
        _: &'static str,
    ) -> impl Future<Output = Answer<PrView>> + Send {
        browser_only()
    }

    pub fn issues(
        _: ProjectId,
        _: bool,
        _: String,
    ) -> impl Future<Output = Answer<Vec<IssueSummary>>> + Send {
        browser_only()
    }

    pub fn add_comment(
        _: WorkspaceId,
        _: NewComment,
    ) -> impl Future<Output = Answer<ReviewComment>> + Send {
        browser_only()
    }

    pub fn resolve_comment(
        _: WorkspaceId,
        _: CommentId,
        _: bool,
    ) -> impl Future<Output = Answer<ReviewComment>> + Send {
        browser_only()
    }

    pub fn delete_comment(_: WorkspaceId, _: CommentId) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn send_review(_: WorkspaceId) -> impl Future<Output = Answer<SentReview>> + Send {
        browser_only()
    }

    pub fn create_session(
        _: WorkspaceId,
        _: CreateSession,
    ) -> impl Future<Output = Answer<Session>> + Send {
        browser_only()
    }

    pub fn send_message(
        _: SessionId,
        _: String,
    ) -> impl Future<Output = Answer<MessageAccepted>> + Send {
        browser_only()
    }

    pub fn cancel_message(_: SessionId, _: MessageId) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn session_command(
        _: SessionId,
        _: &'static str,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn delete_session(_: SessionId) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn answer_permission(
        _: SessionId,
        _: PermissionAnswer,
    ) -> impl Future<Output = Answer<()>> + Send {
        browser_only()
    }

    pub fn configure_session(
        _: SessionId,
        _: SessionConfig,
    ) -> impl Future<Output = Answer<Session>> + Send {
        browser_only()
    }

    pub fn earlier_items(
        _: SessionId,
        _: u64,
        _: u32,
    ) -> impl Future<Output = Answer<Vec<Item>>> + Send {
        browser_only()
    }

    pub fn agent_choices() -> impl Future<Output = Answer<(Vec<AgentInfo>, SettingsView)>> + Send {
        browser_only()
    }

    pub fn agents() -> impl Future<Output = Answer<Vec<AgentInfo>>> + Send {
        browser_only()
    }

    pub fn patch_settings(_: SettingsPatch) -> impl Future<Output = Answer<SettingsView>> + Send {
        browser_only()
    }
}

pub use sent::*;
