//! Telling the user when a workspace starts needing them or an agent finishes its turn while ff
//! is in the background: a browser notification (asked for from a button in settings, never on
//! load) and an optional beep, both chosen in settings and kept in this browser's storage.

use crate::components::chips::request_label;
use ff_core::entry::Entry;

/// What one notification says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
}

/// Whether going from `before` to `after` deserves an alert: a request for the user appeared,
/// an agent finished its turn, or the workspace otherwise started needing the user.
pub fn alert(before: &Entry, after: &Entry) -> Option<Alert> {
    let name = &after.raw.name;
    let reason = &after.derived.status_reason;
    if let (None, Some(request)) = (
        before.raw.pending_request_type,
        after.raw.pending_request_type,
    ) {
        return Some(Alert {
            title: format!("{name} needs you"),
            body: format!("Waiting on you: {}", request_label(request)),
        });
    }
    if before.raw.is_working && !after.raw.is_working {
        return Some(Alert {
            title: format!("{name} finished its turn"),
            body: reason.label.clone(),
        });
    }
    (!before.derived.status_reason.needs_user && reason.needs_user).then(|| Alert {
        title: format!("{name} needs you"),
        body: reason.label.clone(),
    })
}

/// The user's choices, kept in `localStorage`.
#[cfg(feature = "hydrate")]
pub mod prefs {
    const NOTIFICATIONS: &str = "ff.notifications";
    const SOUND: &str = "ff.sound";

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    fn get(key: &str) -> bool {
        storage()
            .and_then(|s| s.get_item(key).ok().flatten())
            .is_some_and(|v| v == "on")
    }

    fn set(key: &str, on: bool) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(key, if on { "on" } else { "off" });
        }
    }

    pub fn notifications() -> bool {
        get(NOTIFICATIONS)
    }

    pub fn set_notifications(on: bool) {
        set(NOTIFICATIONS, on);
    }

    pub fn sound() -> bool {
        get(SOUND)
    }

    pub fn set_sound(on: bool) {
        set(SOUND, on);
    }
}

/// What the browser allows: `granted`, `denied` or `default` (not asked yet).
#[cfg(feature = "hydrate")]
pub fn permission() -> &'static str {
    use web_sys::NotificationPermission as P;
    match web_sys::Notification::permission() {
        P::Granted => "granted",
        P::Denied => "denied",
        _ => "default",
    }
}

/// Asks the browser for permission (only from a click: browsers ignore it otherwise).
#[cfg(feature = "hydrate")]
pub async fn ask_permission() -> &'static str {
    if let Ok(asked) = web_sys::Notification::request_permission() {
        let _ = wasm_bindgen_futures::JsFuture::from(asked).await;
    }
    permission()
}

/// A workspace's entry changed on the live socket: alerts the user if it deserves it and the
/// page is in the background.
#[cfg(feature = "hydrate")]
pub fn changed(before: &Entry, after: &Entry) {
    let hidden = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden());
    if !hidden {
        return;
    }
    let Some(alert) = alert(before, after) else {
        return;
    };
    if prefs::notifications() && permission() == "granted" {
        show(&alert, &format!("/workspaces/{}", after.workspace_id));
    }
    if prefs::sound() {
        beep();
    }
}

/// A notification that opens the workspace when clicked. Its tag is the workspace's page, so a
/// second page showing the same project replaces it rather than adding another.
#[cfg(feature = "hydrate")]
fn show(alert: &Alert, href: &str) {
    use wasm_bindgen::prelude::*;
    let options = web_sys::NotificationOptions::new();
    options.set_body(&alert.body);
    options.set_tag(href);
    let Ok(notification) = web_sys::Notification::new_with_options(&alert.title, &options) else {
        return;
    };
    let href = href.to_owned();
    let open = Closure::<dyn FnMut()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
            let _ = window.location().assign(&href);
        }
    });
    notification.set_onclick(Some(open.as_ref().unchecked_ref()));
    open.forget();
}

/// A short, quiet beep.
#[cfg(feature = "hydrate")]
pub fn beep() {
    let Ok(context) = web_sys::AudioContext::new() else {
        return;
    };
    let (Ok(tone), Ok(volume)) = (context.create_oscillator(), context.create_gain()) else {
        return;
    };
    tone.frequency().set_value(880.0);
    volume.gain().set_value(0.08);
    let now = context.current_time();
    let played = tone
        .connect_with_audio_node(&volume)
        .and_then(|_| volume.connect_with_audio_node(&context.destination()))
        .and_then(|_| tone.start())
        .and_then(|()| tone.stop_with_when(now + 0.18));
    if played.is_err() {
        let _ = context.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::derive::Derived;
    use ff_core::enums::{PendingRequestType, WorkspaceStatus};
    use ff_core::ids::{ProjectId, WorkspaceId};

    fn entry(working: bool, pending: Option<PendingRequestType>, had_sessions: bool) -> Entry {
        let mut e = Entry::new(WorkspaceId::new("w"), ProjectId::new("p"));
        e.raw.name = "Fix login".into();
        e.raw.status = WorkspaceStatus::Ready;
        e.raw.is_working = working;
        e.raw.pending_request_type = pending;
        e.raw.has_had_sessions = had_sessions;
        e.derived = Derived::of(&e.raw);
        e
    }

    #[test]
    fn a_request_appearing_says_what_it_waits_for() {
        let working = entry(true, None, true);
        let asking = entry(true, Some(PendingRequestType::PermissionRequest), true);
        assert_eq!(
            alert(&working, &asking),
            Some(Alert {
                title: "Fix login needs you".into(),
                body: "Waiting on you: needs permission".into()
            })
        );
        let planning = entry(false, Some(PendingRequestType::PlanApproval), true);
        assert_eq!(
            alert(&working, &planning).unwrap().body,
            "Waiting on you: plan approval"
        );
        // Still the same request: nothing new.
        assert_eq!(alert(&asking, &asking), None);
    }

    #[test]
    fn a_finished_turn_says_how_the_workspace_stands() {
        let working = entry(true, None, true);
        let done = entry(false, None, true);
        assert_eq!(
            alert(&working, &done),
            Some(Alert {
                title: "Fix login finished its turn".into(),
                body: "Ready for next prompt".into()
            })
        );
        assert_eq!(alert(&done, &working), None, "starting work is no news");
        assert_eq!(alert(&done, &done), None);
    }

    #[test]
    fn starting_to_need_the_user_otherwise_is_news_too() {
        let mut setting_up = entry(false, None, false);
        setting_up.raw.status = WorkspaceStatus::Provisioning;
        setting_up.derived = Derived::of(&setting_up.raw);
        let mut failed = setting_up.clone();
        failed.raw.status = WorkspaceStatus::Failed;
        failed.derived = Derived::of(&failed.raw);
        assert_eq!(
            alert(&setting_up, &failed),
            Some(Alert {
                title: "Fix login needs you".into(),
                body: "Setup failed".into()
            })
        );
    }
}
