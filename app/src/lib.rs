//! The ff user interface. Built twice from the same source: with `ssr` into the server, which
//! renders every first load, and with `hydrate` into the wasm module that makes it interactive.

// Views are deeply nested types.
#![recursion_limit = "256"]

#[cfg(feature = "hydrate")]
mod api;
#[cfg(feature = "ssr")]
pub mod backend;
mod chat_live;
mod commands;
mod components;
mod data;
mod live;
// The pure part (what deserves an alert) is tested on the server side too.
#[cfg(any(feature = "hydrate", test))]
mod notify;
mod pages;
#[cfg(feature = "hydrate")]
mod socket;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// How often a page whose socket is down polls, unless the server says otherwise.
const DEFAULT_POLL_INTERVAL_MS: u32 = 30_000;

/// The HTML document around the app (server side only).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    let poll = use_context::<backend::BackendContext>()
        .map_or(DEFAULT_POLL_INTERVAL_MS, |b| b.0.poll_interval_ms());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="ff-poll-interval-ms" content=poll.to_string() />
                <link rel="icon" type="image/svg+xml" href="/pkg/favicon.svg" />
                <link rel="stylesheet" href="/pkg/ff.css" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The polling interval the server rendered into the page.
#[cfg(feature = "hydrate")]
fn poll_interval_ms() -> u32 {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector("meta[name=ff-poll-interval-ms]")
                .ok()
                .flatten()
        })
        .and_then(|meta| meta.get_attribute("content"))
        .and_then(|content| content.parse().ok())
        .unwrap_or(DEFAULT_POLL_INTERVAL_MS)
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Set once the wasm module has taken over the page: a reliable "interactive now" signal for
    // end-to-end tests and for styling that must not apply to the static first paint.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title text="ff" />
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
                <header class="topbar">
                    <a class="brand" href="/">"ff"</a>
                    <span class="tagline">"agent workspaces, live"</span>
                    <nav class="topnav" aria-label="ff">
                        <a href="/settings" data-testid="settings-link">"Settings"</a>
                    </nav>
                </header>
                <main class="content">
                    // Every page waits for its data on the server: the first HTML is complete.
                    <Routes fallback=pages::NotFound>
                        <Route path=path!("/") view=pages::ProjectsPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/projects/:id")
                            view=|| view! { <pages::ProjectPage mode=pages::Mode::Board /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/projects/:id/list")
                            view=|| view! { <pages::ProjectPage mode=pages::Mode::List /> }
                            ssr=SsrMode::Async
                        />
                        // One route for every tab of the panel (`/workspaces/{id}/changes`), so that
                        // moving between them keeps the page, its chat and its sockets.
                        <Route path=path!("/workspaces/:id/:tab?") view=pages::WorkspacePage ssr=SsrMode::Async />
                        <Route path=path!("/settings") view=pages::SettingsPage ssr=SsrMode::Async />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Entry point of the wasm module: attaches to the server-rendered DOM instead of re-rendering.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
