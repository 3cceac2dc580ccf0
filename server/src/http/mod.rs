//! HTTP routes: the API, the embedded browser assets and the server-rendered pages.

pub mod assets;
pub mod error;
mod health;

use crate::db::Db;
use axum::body::Body;
use axum::extract::{FromRef, Request};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub leptos: LeptosOptions,
}

impl AppState {
    pub fn new(db: Db) -> Self {
        let leptos = LeptosOptions::builder().output_name("ff").build();
        Self { db, leptos }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(ff_app::App);
    let options = state.leptos.clone();
    let shell = move || ff_app::shell(options.clone());
    Router::new()
        .route("/healthz", get(health::health))
        .route("/pkg/{*file}", get(assets::serve))
        .nest("/api", Router::new().fallback(error::api_not_found))
        .leptos_routes(&state, routes, shell.clone())
        .fallback(not_found_page(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Paths no page route matches still get the app's shell (its router shows "Not found"), with
/// the status a client can act on.
fn not_found_page<IV: leptos::IntoView + 'static>(
    shell: impl Fn() -> IV + Clone + Send + Sync + 'static,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static {
    let render = leptos_axum::render_app_to_stream(shell);
    move |request| {
        let page = render(request);
        Box::pin(async move {
            let mut response = page.await;
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        })
    }
}
