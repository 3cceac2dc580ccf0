use crate::live::Connection;
use leptos::prelude::*;

/// A discreet notice while the live connection is down.
#[component]
pub fn ConnectionIndicator(connection: RwSignal<Connection>) -> impl IntoView {
    move || {
        (connection.get() == Connection::Reconnecting).then(|| {
            view! {
                <span class="reconnecting" role="status" data-testid="reconnecting">
                    "Reconnecting…"
                </span>
            }
        })
    }
}
