//! HTTP routes: the API, the embedded browser assets and the server-rendered pages.

pub mod assets;
pub mod auth;
mod backup;
pub mod error;
pub mod extract;
mod github;
pub mod guard;
pub mod headers;
mod health;
pub mod mcp;
pub mod mcp_bridge;
mod pages;
mod projects;
mod ratchet;
mod review;
mod schedules;
pub mod serve;
mod sessions;
mod snapshot;
mod socket;
mod terminals;
mod workspaces;

use crate::db::Db;
use crate::flows::backup::Backup;
use crate::projects::Projects;
use crate::run_script::RunScripts;
use crate::workspaces::Workspaces;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRef, Request};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any_service, get};
use axum::routing::{delete, patch, post, put};
use axum::Router;
use guard::Trust;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub bus: crate::events::EventBus,
    pub leptos: LeptosOptions,
    pub projects: Projects,
    pub workspaces: Workspaces,
    pub run_scripts: RunScripts,
    pub terminals: crate::terminals::Terminals,
    pub open_terminal: crate::flows::OpenTerminal,
    pub open_in_editor: crate::flows::OpenInEditor,
    pub sessions: crate::sessions::Sessions,
    pub github: crate::github::Github,
    pub ratchet: crate::ratchet::Ratchet,
    pub review: crate::review::Review,
    pub send_review: crate::flows::SendReview,
    pub schedules: crate::schedules::Schedules,
    pub save_schedule: crate::flows::SaveSchedule,
    pub scheduled_runs: crate::flows::ScheduledRuns,
    pub backup: Backup,
    pub snapshot: crate::snapshot::Snapshot,
    pub metrics: crate::metrics::Metrics,
    pub trust: Trust,
    pub gate: auth::Gate,
    /// The credentials of ff's own agents, admitted on `/mcp` only.
    pub grants: crate::auth::agents::AgentGrants,
    pub child_workspaces: crate::flows::ChildWorkspaces,
    pub child_notifications: crate::flows::ChildNotifications,
    /// How often a page whose socket is down polls the snapshot route.
    pub poll_interval: std::time::Duration,
    /// Cancelled when the server begins to shut down: open sockets close with it.
    pub shutdown: tokio_util::sync::CancellationToken,
}

pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder().output_name("ff").build()
}

impl FromRef<AppState> for Trust {
    fn from_ref(state: &AppState) -> Self {
        state.trust.clone()
    }
}

impl FromRef<AppState> for crate::auth::agents::AgentGrants {
    fn from_ref(state: &AppState) -> Self {
        state.grants.clone()
    }
}

impl FromRef<AppState> for auth::Gate {
    fn from_ref(state: &AppState) -> Self {
        state.gate.clone()
    }
}

/// A first load, or a snapshot request, waits this long at most for the first reconciliation pass.
const FIRST_PASS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Request bodies are capped (api.md §1); a backup may be larger.
const BODY_LIMIT: usize = 1024 * 1024;
const BACKUP_BODY_LIMIT: usize = 64 * 1024 * 1024;

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(ff_app::App);
    let options = state.leptos.clone();
    let shell = move || ff_app::shell(options.clone());
    let backend = pages::context(&state);
    let provide_backend = move || {
        leptos::prelude::provide_context(backend.clone());
        headers::page_policy();
    };
    let api = Router::new()
        .route("/projects", get(projects::list).post(projects::add))
        .route(
            "/projects/{project_id}",
            get(projects::get)
                .patch(projects::patch)
                .delete(projects::delete),
        )
        .route(
            "/projects/{project_id}/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/projects/{project_id}/schedules",
            get(schedules::list).post(schedules::create),
        )
        .route(
            "/schedules/{schedule_id}",
            get(schedules::get)
                .patch(schedules::patch)
                .delete(schedules::delete),
        )
        .route("/schedules/{schedule_id}/run", post(schedules::run))
        .route(
            "/schedules/{schedule_id}/executions",
            get(schedules::executions),
        )
        .route("/projects/{project_id}/snapshot", get(snapshot::full))
        .route("/projects/{project_id}/github/issues", get(github::issues))
        .route("/github/status", get(github::status))
        .route("/github/hosts/{host}/retry", post(github::retry))
        .route(
            "/workspaces/{workspace_id}/pr",
            get(github::pr).post(github::attach),
        )
        .route(
            "/workspaces/{workspace_id}/pr/refresh",
            post(github::refresh),
        )
        .route("/workspaces/{workspace_id}/pr/create", post(github::create))
        .route("/workspaces/{workspace_id}", get(workspaces::detail))
        .route(
            "/workspaces/{workspace_id}/archive",
            post(workspaces::archive),
        )
        .route("/workspaces/{workspace_id}/retry", post(workspaces::retry))
        .route(
            "/workspaces/{workspace_id}/open-in-editor",
            post(workspaces::open_in_editor),
        )
        .route(
            "/workspaces/{workspace_id}/ratchet",
            get(ratchet::view).put(ratchet::toggle),
        )
        .route(
            "/workspaces/{workspace_id}/ratchet/check",
            post(ratchet::check),
        )
        .route(
            "/workspaces/{workspace_id}/run-script",
            get(workspaces::run_script),
        )
        .route(
            "/workspaces/{workspace_id}/run-script/start",
            post(workspaces::start_run_script),
        )
        .route(
            "/workspaces/{workspace_id}/run-script/stop",
            post(workspaces::stop_run_script),
        )
        .route(
            "/workspaces/{workspace_id}/run-script/logs",
            get(workspaces::run_script_logs),
        )
        .route(
            "/workspaces/{workspace_id}/sessions",
            get(sessions::list).post(sessions::create),
        )
        .route(
            "/sessions/{session_id}",
            get(sessions::get).delete(sessions::delete),
        )
        .route("/sessions/{session_id}/start", post(sessions::start))
        .route("/sessions/{session_id}/stop", post(sessions::stop))
        .route("/sessions/{session_id}/cancel", post(sessions::cancel))
        .route("/sessions/{session_id}/messages", post(sessions::send))
        .route(
            "/sessions/{session_id}/messages/{message_id}",
            delete(sessions::cancel_message),
        )
        .route("/sessions/{session_id}/permission", post(sessions::answer))
        .route("/sessions/{session_id}/config", put(sessions::configure))
        .route("/sessions/{session_id}/items", get(sessions::items))
        .route(
            "/workspaces/{workspace_id}/terminals",
            get(terminals::list).post(terminals::open),
        )
        .route("/terminals/{terminal_id}", delete(terminals::end))
        .route("/workspaces/{workspace_id}/diff", get(review::diff))
        .route(
            "/workspaces/{workspace_id}/diff/file",
            get(review::diff_file),
        )
        .route(
            "/workspaces/{workspace_id}/review/comments",
            get(review::comments).post(review::add_comment),
        )
        .route(
            "/workspaces/{workspace_id}/review/comments/{comment_id}",
            patch(review::update_comment).delete(review::delete_comment),
        )
        .route("/workspaces/{workspace_id}/review/send", post(review::send))
        .route("/agents", get(sessions::agents))
        .route(
            "/settings",
            get(sessions::settings).patch(sessions::patch_settings),
        )
        .route(
            "/backup",
            get(backup::export)
                .post(backup::import)
                .layer(DefaultBodyLimit::max(BACKUP_BODY_LIMIT)),
        )
        .fallback(error::api_not_found)
        .method_not_allowed_fallback(error::api_method_not_allowed);
    let router = Router::new()
        .route("/healthz", get(health::health))
        .route("/metrics", get(snapshot::metrics))
        .route("/ws/snapshots", get(snapshot::socket))
        .route("/ws/sessions/{session_id}", get(sessions::socket))
        .route("/ws/terminals/{terminal_id}", get(terminals::socket))
        // ff's own agents, with their session's credential, never the user's token (auth.rs).
        .route("/mcp", any_service(mcp::service(state.clone())))
        .route("/pkg/{*file}", get(assets::serve))
        .nest("/api", api)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .leptos_routes_with_context(&state, routes, provide_backend.clone(), shell.clone())
        .fallback(not_found_page(provide_backend, shell))
        // Every route, pages included: they show paths, logs and settings; where a request
        // comes from is checked first, then its token.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticated,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::trusted,
        ))
        .with_state(state);
    headers::secure(router).layer(TraceLayer::new_for_http())
}

/// Paths no page route matches still get the app's shell (its router shows "Not found"), with
/// the status a client can act on.
fn not_found_page<IV: leptos::IntoView + 'static>(
    context: impl Fn() + Clone + Send + Sync + 'static,
    shell: impl Fn() -> IV + Clone + Send + Sync + 'static,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static {
    let render = leptos_axum::render_app_to_stream_with_context(context, shell);
    move |request| {
        let page = render(request);
        Box::pin(async move {
            let mut response = page.await;
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        })
    }
}
