use leptos::prelude::*;

/// Rendered for any path no route matches; the server answers it with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="panel">
            <h1>"Not found"</h1>
            <p>"Nothing lives at this address. " <a href="/">"Back to ff"</a></p>
        </section>
    }
}
