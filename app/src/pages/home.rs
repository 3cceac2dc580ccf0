use ff_core::api::Health;
use leptos::prelude::*;

#[component]
pub fn Home() -> impl IntoView {
    let check = Action::new_local(|_: &()| check_server());
    let result = check.value();
    let pending = check.pending();

    view! {
        <section class="panel">
            <h1>"Projects"</h1>
            <p class="muted">
                "ff runs many coding agents in parallel, each in its own git worktree, "
                "and keeps every workspace's state live here."
            </p>
            <div class="server-check">
                <button
                    type="button"
                    class="button"
                    data-testid="check-server"
                    disabled=move || pending.get()
                    on:click=move |_| {
                        check.dispatch(());
                    }
                >
                    "Check server"
                </button>
                <output data-testid="server-status" aria-live="polite">
                    {move || match result.get() {
                        None => String::new(),
                        Some(Ok(Health { status, version })) => {
                            format!("Server {status} · version {version}")
                        }
                        Some(Err(message)) => format!("Server check failed: {message}"),
                    }}
                </output>
            </div>
        </section>
    }
}

#[cfg(feature = "hydrate")]
async fn check_server() -> Result<Health, String> {
    crate::api::get_json("/healthz").await
}

/// Actions only run on a click, which only happens in the browser.
#[cfg(not(feature = "hydrate"))]
async fn check_server() -> Result<Health, String> {
    Err("the check runs in the browser".to_owned())
}
