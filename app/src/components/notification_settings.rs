//! This browser's notifications: asked for from the button (browsers ignore a request that no
//! click made), with an optional sound; both kept in this browser's storage.

use leptos::prelude::*;

#[component]
pub fn NotificationSettings() -> impl IntoView {
    let notifications = RwSignal::new(false);
    let sound = RwSignal::new(false);
    // "granted", "denied" or "default"; unknown until the page runs in a browser.
    let permission = RwSignal::new(None::<&'static str>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use crate::notify::{permission as browser_permission, prefs};
        notifications.set(prefs::notifications());
        sound.set(prefs::sound());
        permission.set(Some(browser_permission()));
    });
    let toggle_notifications = move |on: bool| {
        notifications.set(on);
        #[cfg(feature = "hydrate")]
        {
            crate::notify::prefs::set_notifications(on);
            if on {
                leptos::task::spawn_local(async move {
                    let answer = crate::notify::ask_permission().await;
                    permission.set(Some(answer));
                });
            }
        }
    };
    let toggle_sound = move |on: bool| {
        sound.set(on);
        #[cfg(feature = "hydrate")]
        {
            crate::notify::prefs::set_sound(on);
            if on {
                crate::notify::beep();
            }
        }
    };
    let blocked =
        move || {
            (notifications.get() && permission.get() == Some("denied")).then(|| view! {
            <p class="warning" role="status" data-testid="notifications-blocked">
                "This browser blocks notifications from ff: allow them in the site settings."
            </p>
        })
        };
    view! {
        <p class="muted">"While ff is in the background, when a workspace starts needing you or an agent finishes its turn."</p>
        <label class="check">
            <input type="checkbox" data-testid="notifications"
                prop:checked=move || notifications.get()
                on:change=move |ev| toggle_notifications(event_target_checked(&ev)) />
            "Show a notification"
        </label>
        {blocked}
        <label class="check">
            <input type="checkbox" data-testid="sound"
                prop:checked=move || sound.get()
                on:change=move |ev| toggle_sound(event_target_checked(&ev)) />
            "Play a sound"
        </label>
    }
}
