-- Agent sessions (sessions.md §2): the session rows, ff's own transcript, and the settings and
-- workspace fields that configure agents.

ALTER TABLE settings ADD COLUMN agent_servers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE settings ADD COLUMN default_agent TEXT NOT NULL DEFAULT 'claude';
ALTER TABLE settings ADD COLUMN permission_policy TEXT NOT NULL DEFAULT 'ask'
    CHECK (permission_policy IN ('ask', 'edits', 'all'));
ALTER TABLE settings ADD COLUMN ratchet_permission_policy TEXT NOT NULL DEFAULT 'all'
    CHECK (ratchet_permission_policy IN ('ask', 'edits', 'all'));

-- The agent of a workspace's sessions (null: the user's default) and the prompt its first
-- session starts with once it is READY (null once used, or when there was none).
ALTER TABLE workspaces ADD COLUMN agent TEXT;
ALTER TABLE workspaces ADD COLUMN initial_prompt TEXT;

CREATE TABLE agent_sessions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    name TEXT NOT NULL,
    workflow TEXT NOT NULL,
    model TEXT,
    mode TEXT,
    status TEXT NOT NULL DEFAULT 'IDLE'
        CHECK (status IN ('IDLE', 'RUNNING', 'COMPLETED', 'FAILED')),
    provider_session_id TEXT,
    -- The agent's process group while it runs: pid, start time, boot (restart recovery).
    process TEXT,
    -- Models and modes the agent offered, as it last reported them (JSON).
    offered TEXT NOT NULL DEFAULT '{}',
    -- A deleted session's transcript stays with the workspace.
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX agent_sessions_workspace ON agent_sessions (workspace_id, created_at);
CREATE INDEX agent_sessions_status ON agent_sessions (status);

CREATE TABLE session_items (
    session_id TEXT NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
