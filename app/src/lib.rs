//! The ff user interface. Built twice from the same source: with `ssr` into the server, which
//! renders every first load, and with `hydrate` into the wasm module that makes it interactive.

#[cfg(feature = "hydrate")]
mod api;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (server side only).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
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
                </header>
                <main class="content">
                    <Routes fallback=pages::NotFound>
                        <Route path=path!("/") view=pages::Home />
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
