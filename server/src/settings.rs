//! The user's settings (one row): the ratchet default, agent servers, the default agent and the
//! permission policies. The only module that writes `settings`.

use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use ff_core::create::FieldError;
use ff_core::editor::EditorSettings;
use ff_core::github::Host;
use ff_core::ids::Timestamp;
use ff_core::ratchet::ReviewTrigger;
use ff_core::sessions::{
    built_in_agent, default_max_children_per_session, validate_agent_name, AgentServer,
    PermissionPolicy, SettingsPatch, SettingsView, DEFAULT_AGENT, MAX_CHILDREN_PER_SESSION,
};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqliteConnection};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// The ratchet toggle of new workspaces whose request does not say.
    pub ratchet_enabled: bool,
    /// The user's agent servers (built-ins are added, or overridden by an entry of their name).
    #[serde(default)]
    pub agent_servers: BTreeMap<String, AgentServer>,
    #[serde(default = "default_agent")]
    pub default_agent: String,
    #[serde(default)]
    pub permission_policy: PermissionPolicy,
    #[serde(default = "ratchet_policy")]
    pub ratchet_permission_policy: PermissionPolicy,
    /// Which review feedback makes the ratchet dispatch a fixer.
    #[serde(default)]
    pub ratchet_review_trigger: ReviewTrigger,
    /// GitHub Enterprise hosts (lowercase, checked): a project's origin on one of them gets
    /// GitHub features and the Enterprise token.
    #[serde(default)]
    pub github_hosts: Vec<String>,
    /// Where "Open in editor" opens a worktree (absent in older backups: VS Code).
    #[serde(default)]
    pub editor: EditorSettings,
    /// The ratchet replies on the review threads a fixer addressed, with its summary and the
    /// commit, and asks the reviewers who requested changes for a new review (absent in older
    /// backups: on).
    #[serde(default = "on")]
    pub ratchet_reply_to_review_threads: bool,
    /// The ratchet resolves the review threads a fixer addressed (absent in older backups: on).
    #[serde(default = "on")]
    pub ratchet_resolve_threads: bool,
    /// Child workspaces one agent session may create through ff's MCP tools (issue 19 §1;
    /// absent in older backups: the default).
    #[serde(default = "default_max_children_per_session")]
    pub max_children_per_session: u32,
}

/// More Enterprise hosts than anyone runs.
const GITHUB_HOSTS_MAX: usize = 50;

fn on() -> bool {
    true
}

fn default_agent() -> String {
    DEFAULT_AGENT.to_owned()
}

/// A fixer that waited for a person on every command would never fix anything unattended.
fn ratchet_policy() -> PermissionPolicy {
    PermissionPolicy::All
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ratchet_enabled: false,
            agent_servers: BTreeMap::new(),
            default_agent: default_agent(),
            permission_policy: PermissionPolicy::Ask,
            ratchet_permission_policy: ratchet_policy(),
            ratchet_review_trigger: ReviewTrigger::default(),
            github_hosts: Vec::new(),
            editor: EditorSettings::default(),
            ratchet_reply_to_review_threads: true,
            ratchet_resolve_threads: true,
            max_children_per_session: default_max_children_per_session(),
        }
    }
}

impl Settings {
    /// Whether `name` is an agent sessions can use: a built-in or one of the user's entries.
    pub fn knows_agent(&self, name: &str) -> bool {
        built_in_agent(name).is_some() || self.agent_servers.contains_key(name)
    }

    pub fn view(&self) -> SettingsView {
        SettingsView {
            ratchet_enabled: self.ratchet_enabled,
            agent_servers: self.agent_servers.clone(),
            default_agent: self.default_agent.clone(),
            permission_policy: self.permission_policy,
            ratchet_permission_policy: self.ratchet_permission_policy,
            ratchet_review_trigger: self.ratchet_review_trigger,
            github_hosts: self.github_hosts.clone(),
            editor: self.editor.clone(),
            ratchet_reply_to_review_threads: self.ratchet_reply_to_review_threads,
            ratchet_resolve_threads: self.ratchet_resolve_threads,
            max_children_per_session: self.max_children_per_session,
        }
    }

    /// The settings with `patch` applied, checked whole; `Err` names the offending field and
    /// nothing is applied.
    pub fn patched(&self, patch: SettingsPatch) -> Result<Self, FieldError> {
        let mut next = self.clone();
        if let Some(enabled) = patch.ratchet_enabled {
            next.ratchet_enabled = enabled;
        }
        for (name, entry) in patch.agent_servers.unwrap_or_default() {
            validate_agent_name(&name)?;
            match entry {
                Some(server) => {
                    server.validate(&name)?;
                    next.agent_servers.insert(name, server);
                }
                None => {
                    if next.agent_servers.remove(&name).is_none() && built_in_agent(&name).is_none()
                    {
                        return Err(FieldError::new(
                            "agentServers",
                            format!("there is no agent server {name:?} to remove"),
                        ));
                    }
                }
            }
        }
        if let Some(agent) = patch.default_agent {
            next.default_agent = agent;
        }
        if !next.knows_agent(&next.default_agent) {
            return Err(FieldError::new(
                "defaultAgent",
                format!(
                    "defaultAgent {:?} is not a configured agent",
                    next.default_agent
                ),
            ));
        }
        if let Some(policy) = patch.permission_policy {
            next.permission_policy = policy;
        }
        if let Some(policy) = patch.ratchet_permission_policy {
            next.ratchet_permission_policy = policy;
        }
        if let Some(trigger) = patch.ratchet_review_trigger {
            next.ratchet_review_trigger = trigger;
        }
        if let Some(hosts) = patch.github_hosts {
            let mut checked = Vec::new();
            for host in hosts.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
                let host = Host::parse(host)
                    .map_err(|e| FieldError::new("githubHosts", format!("githubHosts: {e}")))?;
                if !checked.contains(&host.to_string()) {
                    checked.push(host.to_string());
                }
            }
            if checked.len() > GITHUB_HOSTS_MAX {
                return Err(FieldError::new(
                    "githubHosts",
                    format!("githubHosts has at most {GITHUB_HOSTS_MAX} hosts"),
                ));
            }
            next.github_hosts = checked;
        }
        if let Some(reply) = patch.ratchet_reply_to_review_threads {
            next.ratchet_reply_to_review_threads = reply;
        }
        if let Some(resolve) = patch.ratchet_resolve_threads {
            next.ratchet_resolve_threads = resolve;
        }
        if let Some(n) = patch.max_children_per_session {
            next.max_children_per_session = u32::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_CHILDREN_PER_SESSION)
                .ok_or_else(|| {
                    FieldError::new(
                        "maxChildrenPerSession",
                        format!(
                            "maxChildrenPerSession must be from 0 to {MAX_CHILDREN_PER_SESSION}; {n} is not"
                        ),
                    )
                })?;
        }
        if let Some(editor) = patch.editor {
            next.editor = editor
                .checked()
                .map_err(|(field, message)| FieldError::new(field, message))?;
        }
        Ok(next)
    }
}

#[derive(FromRow)]
struct Row {
    ratchet_enabled: bool,
    agent_servers: String,
    default_agent: String,
    permission_policy: String,
    ratchet_permission_policy: String,
    ratchet_review_trigger: String,
    github_hosts: String,
    editor: String,
    ratchet_reply_to_review_threads: bool,
    ratchet_resolve_threads: bool,
    max_children_per_session: i64,
}

fn decode<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: e.into(),
    })
}

pub async fn get(conn: &mut SqliteConnection) -> Result<Settings, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT ratchet_enabled, agent_servers, default_agent, permission_policy, \
         ratchet_permission_policy, ratchet_review_trigger, github_hosts, editor, \
         ratchet_reply_to_review_threads, ratchet_resolve_threads, max_children_per_session \
         FROM settings WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(Settings::default());
    };
    Ok(Settings {
        ratchet_enabled: row.ratchet_enabled,
        agent_servers: decode("agent_servers", &row.agent_servers)?,
        default_agent: row.default_agent,
        permission_policy: decode(
            "permission_policy",
            &format!("\"{}\"", row.permission_policy),
        )?,
        ratchet_permission_policy: decode(
            "ratchet_permission_policy",
            &format!("\"{}\"", row.ratchet_permission_policy),
        )?,
        ratchet_review_trigger: decode(
            "ratchet_review_trigger",
            &format!("\"{}\"", row.ratchet_review_trigger),
        )?,
        github_hosts: decode("github_hosts", &row.github_hosts)?,
        editor: decode("editor", &row.editor)?,
        ratchet_reply_to_review_threads: row.ratchet_reply_to_review_threads,
        ratchet_resolve_threads: row.ratchet_resolve_threads,
        max_children_per_session: crate::db::codec::to_u32(
            "max_children_per_session",
            row.max_children_per_session,
        )?,
    })
}

pub async fn set(
    conn: &mut SqliteConnection,
    settings: &Settings,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let servers = serde_json::to_string(&settings.agent_servers).unwrap_or_else(|_| "{}".into());
    let policy = |p: PermissionPolicy| crate::db::codec::enum_text(&p);
    sqlx::query(
        "INSERT INTO settings (id, ratchet_enabled, agent_servers, default_agent, \
         permission_policy, ratchet_permission_policy, ratchet_review_trigger, updated_at, \
         github_hosts, editor, ratchet_reply_to_review_threads, ratchet_resolve_threads, \
         max_children_per_session) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
         ON CONFLICT (id) DO UPDATE SET ratchet_enabled = ?1, agent_servers = ?2, \
         default_agent = ?3, permission_policy = ?4, ratchet_permission_policy = ?5, \
         ratchet_review_trigger = ?6, updated_at = ?7, github_hosts = ?8, editor = ?9, \
         ratchet_reply_to_review_threads = ?10, ratchet_resolve_threads = ?11, \
         max_children_per_session = ?12",
    )
    .bind(settings.ratchet_enabled)
    .bind(servers)
    .bind(&settings.default_agent)
    .bind(policy(settings.permission_policy))
    .bind(policy(settings.ratchet_permission_policy))
    .bind(crate::db::codec::enum_text(
        &settings.ratchet_review_trigger,
    ))
    .bind(now.to_string())
    .bind(serde_json::to_string(&settings.github_hosts).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&settings.editor).unwrap_or_else(|_| "{}".into()))
    .bind(settings.ratchet_reply_to_review_threads)
    .bind(settings.ratchet_resolve_threads)
    .bind(settings.max_children_per_session)
    .execute(conn)
    .await
    .map(drop)
}

/// Reads the settings (a short read, no transaction).
pub async fn load(db: &Db) -> DomainResult<Settings> {
    Ok(get(&mut *db.acquire().await?).await?)
}

/// `PATCH /api/settings`: checked whole, then written in one transaction.
pub async fn patch(db: &Db, patch: SettingsPatch, now: Timestamp) -> DomainResult<Settings> {
    let mut tx = db::begin_write(db).await?;
    let next = get(&mut tx)
        .await?
        .patched(patch)
        .map_err(DomainError::from)?;
    set(&mut tx, &next, now).await?;
    tx.commit().await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: serde_json::Value) -> SettingsPatch {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn patches_merge_agent_servers_by_name_and_check_the_whole_result() {
        let start = Settings::default();
        let added = start
            .patched(patch(serde_json::json!({
                "agentServers": {"gemini": {"command": "gemini", "args": ["--experimental-acp"]}},
                "defaultAgent": "gemini",
                "permissionPolicy": "edits",
            })))
            .unwrap();
        assert_eq!(added.agent_servers["gemini"].args, ["--experimental-acp"]);
        assert_eq!(added.default_agent, "gemini");
        assert_eq!(added.permission_policy, PermissionPolicy::Edits);
        assert_eq!(added.ratchet_permission_policy, PermissionPolicy::All);

        let removing_the_default = added.patched(patch(serde_json::json!({
            "agentServers": {"gemini": null}
        })));
        let e = removing_the_default.unwrap_err();
        assert_eq!(e.field, "defaultAgent", "{}", e.message);

        for (bad, field) in [
            (
                serde_json::json!({"agentServers": {"x": {"command": ""}}}),
                "agentServers",
            ),
            (
                serde_json::json!({"agentServers": {"x": {"command": "rel/path"}}}),
                "agentServers",
            ),
            (
                serde_json::json!({"agentServers": {"Bad Name": {"command": "x"}}}),
                "agentServers",
            ),
            (
                serde_json::json!({"agentServers": {"nope": null}}),
                "agentServers",
            ),
            (
                serde_json::json!({"defaultAgent": "missing"}),
                "defaultAgent",
            ),
        ] {
            let e = added.patched(patch(bad.clone())).unwrap_err();
            assert_eq!(e.field, field, "{bad}: {}", e.message);
        }
        // A built-in can be overridden, and the override removed again.
        let overridden = start
            .patched(patch(
                serde_json::json!({"agentServers": {"claude": {"command": "/opt/claude-acp"}}}),
            ))
            .unwrap();
        assert!(overridden.knows_agent("claude"));
        let back = overridden
            .patched(patch(serde_json::json!({"agentServers": {"claude": null}})))
            .unwrap();
        assert!(back.agent_servers.is_empty() && back.knows_agent("claude"));
    }

    #[test]
    fn the_child_allowance_is_from_0_to_50_and_refused_naming_the_field() {
        let start = Settings::default();
        assert_eq!(start.max_children_per_session, 5);
        for n in [0, 7, 50] {
            let set = start
                .patched(patch(serde_json::json!({ "maxChildrenPerSession": n })))
                .unwrap();
            assert_eq!(i64::from(set.max_children_per_session), n);
        }
        for n in [-1, 51, i64::MAX] {
            let e = start
                .patched(patch(serde_json::json!({ "maxChildrenPerSession": n })))
                .unwrap_err();
            assert_eq!(e.field, "maxChildrenPerSession", "{}", e.message);
        }
        let older: Settings = serde_json::from_value(serde_json::json!({"ratchetEnabled": true}))
            .expect("a backup from before the setting");
        assert_eq!(older.max_children_per_session, 5);
    }

    #[test]
    fn github_hosts_are_checked_lowercased_and_deduplicated() {
        let start = Settings::default();
        let listed = start
            .patched(patch(serde_json::json!({
                "githubHosts": ["GHE.example.com", " ghe.example.com ", "", "git.corp"]
            })))
            .unwrap();
        assert_eq!(listed.github_hosts, ["ghe.example.com", "git.corp"]);
        let e = start
            .patched(patch(
                serde_json::json!({"githubHosts": ["https://ghe.example.com"]}),
            ))
            .unwrap_err();
        assert_eq!(e.field, "githubHosts", "{}", e.message);
        let many: Vec<String> = (0..51).map(|n| format!("h{n}.example")).collect();
        let e = start
            .patched(patch(serde_json::json!({ "githubHosts": many })))
            .unwrap_err();
        assert!(e.message.contains("at most"), "{}", e.message);
    }

    #[test]
    fn editor_settings_are_replaced_whole_and_refused_naming_the_field() {
        let start = Settings::default();
        let custom = start
            .patched(patch(serde_json::json!({
                "editor": {"editor": "custom", "customCommand": " emacsclient -n {path} "}
            })))
            .unwrap();
        assert_eq!(custom.editor.editor, ff_core::editor::Editor::Custom);
        assert_eq!(
            custom.editor.custom_command.as_deref(),
            Some("emacsclient -n {path}")
        );
        for (bad, field) in [
            (
                serde_json::json!({"editor": "custom"}),
                "editor.customCommand",
            ),
            (
                serde_json::json!({"editor": "vscode", "sshHost": "-oProxyCommand=x"}),
                "editor.sshHost",
            ),
        ] {
            let e = custom
                .patched(patch(serde_json::json!({ "editor": bad })))
                .unwrap_err();
            assert_eq!(e.field, field, "{}", e.message);
        }
        assert!(serde_json::from_value::<SettingsPatch>(
            serde_json::json!({"editor": {"editor": "emacs"}})
        )
        .is_err());
    }
}
