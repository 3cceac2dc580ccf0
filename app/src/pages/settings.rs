//! `/settings`: the agents ff can run (with their install state) and the user's own agent
//! servers, the default agent, who answers agents' permission requests, how many child
//! workspaces one agent session may create, the ratchet's defaults,
//! the GitHub Enterprise hosts, the editor "Open in editor" uses, and this browser's
//! notifications.

use crate::commands;
use crate::components::agent_servers::AgentServers;
use crate::components::notification_settings::NotificationSettings;
use crate::data::Source;
use ff_core::editor::{Editor, EditorSettings};
use ff_core::ratchet::ReviewTrigger;
use ff_core::sessions::{
    AgentInfo, PermissionPolicy, SettingsPatch, SettingsView, MAX_CHILDREN_PER_SESSION,
};
use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let source = Source::current();
    let page = Resource::new(
        || (),
        move |_| {
            let (agents, settings) = (source.agents(), source.settings());
            async move { Ok::<_, String>((agents.await?, settings.await?)) }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || page.get().map(|loaded| match loaded {
                Ok((agents, settings)) => view! { <Settings agents settings /> }.into_any(),
                Err(message) => view! {
                    <section class="panel"><h1>"Settings unavailable"</h1><p class="error">{message}</p></section>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// Every change is one `PATCH /api/settings`; the page then shows what the server kept, or its
/// reason for refusing.
#[derive(Clone, Copy)]
pub struct SettingsState {
    pub agents: RwSignal<Vec<AgentInfo>>,
    pub settings: RwSignal<SettingsView>,
    pub save: Action<SettingsPatch, Result<(SettingsView, Vec<AgentInfo>), String>>,
}

#[component]
fn Settings(agents: Vec<AgentInfo>, settings: SettingsView) -> impl IntoView {
    let state = SettingsState {
        agents: RwSignal::new(agents),
        settings: RwSignal::new(settings),
        save: Action::new(|patch: &SettingsPatch| {
            let saved = commands::patch_settings(patch.clone());
            async move {
                let settings = saved.await?;
                // An added agent's install state is the server's to find.
                let agents = commands::agents().await?;
                Ok((settings, agents))
            }
        }),
    };
    Effect::new(move |_| {
        if let Some(Ok((settings, agents))) = state.save.value().get() {
            state.settings.set(settings);
            state.agents.set(agents);
        }
    });
    let refused = move || state.save.value().get().and_then(Result::err);
    let saved = move || {
        state
            .save
            .value()
            .with(|v| matches!(v, Some(Ok(_))))
            .then_some("Saved")
    };
    let policy = move |label: &'static str,
                       testid: &'static str,
                       get: fn(&SettingsView) -> PermissionPolicy,
                       patch: fn(PermissionPolicy) -> SettingsPatch| {
        view! {
            <label class="field">
                <span>{label}</span>
                <select data-testid=testid
                    prop:value=move || state.settings.with(|s| policy_name(get(s)))
                    on:change=move |ev| {
                        if let Some(chosen) = policy_named(&event_target_value(&ev)) {
                            state.save.dispatch(patch(chosen));
                        }
                    }>
                    {POLICIES.into_iter().map(|(value, name, _)| {
                        let selected = move || state.settings.with(|s| get(s) == value);
                        view! { <option value=policy_name(value) selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <section class="panel settings" data-testid="settings">
            <h1>"Settings"</h1>
            <p class="server-error" role="alert" data-testid="settings-error">{refused}</p>
            <p class="muted" role="status" data-testid="settings-saved">{saved}</p>

            <h2>"Agents"</h2>
            <AgentServers state />

            <h2>"Defaults"</h2>
            <label class="field">
                <span>"Default agent for new sessions"</span>
                <select data-testid="default-agent"
                    prop:value=move || state.settings.with(|s| s.default_agent.clone())
                    on:change=move |ev| {
                        state.save.dispatch(SettingsPatch {
                            default_agent: Some(event_target_value(&ev)),
                            ..SettingsPatch::default()
                        });
                    }>
                    {move || {
                        let default = state.settings.with(|s| s.default_agent.clone());
                        state.agents.get().into_iter().map(|a| {
                            let selected = a.name == default;
                            view! { <option value=a.name.clone() selected=selected>{a.name.clone()}</option> }
                        }).collect_view()
                    }}
                </select>
            </label>
            {policy("Who answers agents' permission requests", "permission-policy",
                |s| s.permission_policy,
                |p| SettingsPatch { permission_policy: Some(p), ..SettingsPatch::default() })}
            {policy("… in sessions the ratchet starts to fix CI and reviews", "ratchet-permission-policy",
                |s| s.ratchet_permission_policy,
                |p| SettingsPatch { ratchet_permission_policy: Some(p), ..SettingsPatch::default() })}
            <ul class="muted policy-help">
                {POLICIES.into_iter().map(|(_, name, help)| view! { <li><strong>{name}</strong> ": " {help}</li> }).collect_view()}
            </ul>
            <label class="field">
                <span>{format!("Child workspaces per agent session (how many workspaces one agent may create through ff's tools, 0 to {MAX_CHILDREN_PER_SESSION})")}</span>
                <input type="number" inputmode="numeric" min="0" max=MAX_CHILDREN_PER_SESSION.to_string() step="1"
                    data-testid="max-children-per-session"
                    prop:value=move || state.settings.with(|s| s.max_children_per_session.to_string())
                    on:change=move |ev| {
                        // Anything that is a number goes to the server, which says what it refuses.
                        if let Ok(n) = event_target_value(&ev).trim().parse::<i64>() {
                            state.save.dispatch(SettingsPatch {
                                max_children_per_session: Some(n),
                                ..SettingsPatch::default()
                            });
                        }
                    } />
            </label>

            <h2>"Auto-fix (ratchet)"</h2>
            <label class="check">
                <input type="checkbox" data-testid="ratchet-default"
                    prop:checked=move || state.settings.with(|s| s.ratchet_enabled)
                    on:change=move |ev| {
                        state.save.dispatch(SettingsPatch {
                            ratchet_enabled: Some(event_target_checked(&ev)),
                            ..SettingsPatch::default()
                        });
                    } />
                "On for new workspaces"
            </label>
            <label class="field">
                <span>"Review feedback that starts a fixer"</span>
                <select data-testid="ratchet-review-trigger"
                    prop:value=move || state.settings.with(|s| trigger_name(s.ratchet_review_trigger))
                    on:change=move |ev| {
                        if let Some(chosen) = trigger_named(&event_target_value(&ev)) {
                            state.save.dispatch(SettingsPatch {
                                ratchet_review_trigger: Some(chosen),
                                ..SettingsPatch::default()
                            });
                        }
                    }>
                    {TRIGGERS.into_iter().map(|(value, name)| {
                        let selected = move || state.settings.with(|s| s.ratchet_review_trigger == value);
                        view! { <option value=trigger_name(value) selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <p class="muted">"Your own reviews and comments never start a fixer."</p>
            <label class="check">
                <input type="checkbox" data-testid="ratchet-reply-to-review-threads"
                    prop:checked=move || state.settings.with(|s| s.ratchet_reply_to_review_threads)
                    on:change=move |ev| {
                        state.save.dispatch(SettingsPatch {
                            ratchet_reply_to_review_threads: Some(event_target_checked(&ev)),
                            ..SettingsPatch::default()
                        });
                    } />
                "Reply on each review thread a fixer addressed (its summary and the commit), and ask the reviewers who requested changes to review again"
            </label>
            <label class="check">
                <input type="checkbox" data-testid="ratchet-resolve-threads"
                    prop:checked=move || state.settings.with(|s| s.ratchet_resolve_threads)
                    on:change=move |ev| {
                        state.save.dispatch(SettingsPatch {
                            ratchet_resolve_threads: Some(event_target_checked(&ev)),
                            ..SettingsPatch::default()
                        });
                    } />
                "Resolve the review threads a fixer addressed"
            </label>

            <h2>"GitHub"</h2>
            <label class="field">
                <span>"GitHub Enterprise hosts, comma separated (github.com is always GitHub; a project whose origin is on any other host gets no GitHub request and no token)"</span>
                <input type="text" data-testid="github-hosts" placeholder="ghe.example.com"
                    prop:value=move || state.settings.with(|s| s.github_hosts.join(", "))
                    on:change=move |ev| {
                        let hosts = event_target_value(&ev)
                            .split(',')
                            .map(|h| h.trim().to_owned())
                            .filter(|h| !h.is_empty())
                            .collect();
                        state.save.dispatch(SettingsPatch {
                            github_hosts: Some(hosts),
                            ..SettingsPatch::default()
                        });
                    } />
            </label>

            <h2>"Editor"</h2>
            <EditorSettingsForm state />

            <h2>"Notifications"</h2>
            <NotificationSettings />
        </section>
    }
    .into_any()
}

/// "Open in editor": the editor, the custom command, the SSH host; each change saves the three
/// together, as the server checks them.
#[component]
fn EditorSettingsForm(state: SettingsState) -> impl IntoView {
    let save = move |change: &dyn Fn(&mut EditorSettings)| {
        let mut next = state.settings.with(|s| s.editor.clone());
        change(&mut next);
        state.save.dispatch(SettingsPatch {
            editor: Some(next),
            ..SettingsPatch::default()
        });
    };
    let optional = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    view! {
        <label class="field">
            <span>"Open in"</span>
            <select data-testid="editor"
                prop:value=move || state.settings.with(|s| s.editor.editor.as_str())
                on:change=move |ev| {
                    if let Some(chosen) = Editor::parse(&event_target_value(&ev)) {
                        save(&|e| e.editor = chosen);
                    }
                }>
                {Editor::ALL.into_iter().map(|editor| {
                    let selected = move || state.settings.with(|s| s.editor.editor == editor);
                    view! { <option value=editor.as_str() selected=selected>{editor.label()}</option> }
                }).collect_view()}
            </select>
        </label>
        <label class="field">
            <span>"Custom command, run on ff's machine with {path} as one argument (no shell)"</span>
            <input type="text" data-testid="editor-command" placeholder="emacsclient -n {path}"
                prop:value=move || state.settings.with(|s| s.editor.custom_command.clone().unwrap_or_default())
                on:change=move |ev| {
                    let command = optional(event_target_value(&ev));
                    save(&|e| e.custom_command = command.clone());
                } />
        </label>
        <label class="field">
            <span>"SSH host of ff's machine, for links opened from another machine ([user@]host)"</span>
            <input type="text" data-testid="editor-ssh-host" placeholder="me@dev-box"
                prop:value=move || state.settings.with(|s| s.editor.ssh_host.clone().unwrap_or_default())
                on:change=move |ev| {
                    let host = optional(event_target_value(&ev));
                    save(&|e| e.ssh_host = host.clone());
                } />
        </label>
    }
}

const POLICIES: [(PermissionPolicy, &str, &str); 3] = [
    (
        PermissionPolicy::Ask,
        "Ask me",
        "every request waits for you",
    ),
    (
        PermissionPolicy::Edits,
        "Allow edits",
        "file edits inside the worktree are allowed; commands still ask",
    ),
    (
        PermissionPolicy::All,
        "Allow everything",
        "every request is allowed once; plan approvals and questions still wait for you",
    ),
];

fn policy_name(policy: PermissionPolicy) -> &'static str {
    match policy {
        PermissionPolicy::Ask => "ask",
        PermissionPolicy::Edits => "edits",
        PermissionPolicy::All => "all",
    }
}

fn policy_named(name: &str) -> Option<PermissionPolicy> {
    POLICIES
        .into_iter()
        .map(|(policy, ..)| policy)
        .find(|p| policy_name(*p) == name)
}

const TRIGGERS: [(ReviewTrigger, &str); 2] = [
    (
        ReviewTrigger::ChangesRequested,
        "Changes requested and unresolved threads",
    ),
    (
        ReviewTrigger::AllReviewFeedback,
        "Also review summaries left as comments",
    ),
];

fn trigger_name(trigger: ReviewTrigger) -> &'static str {
    match trigger {
        ReviewTrigger::ChangesRequested => "changes-requested",
        ReviewTrigger::AllReviewFeedback => "all-review-feedback",
    }
}

fn trigger_named(name: &str) -> Option<ReviewTrigger> {
    TRIGGERS
        .into_iter()
        .map(|(trigger, _)| trigger)
        .find(|t| trigger_name(*t) == name)
}
