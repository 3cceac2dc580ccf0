-- Projects, workspaces and their one-to-one side tables (domain.md §1). Timestamps are RFC 3339
-- UTC text with milliseconds, which sorts chronologically; enums are their wire names.

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    repo_path TEXT NOT NULL,
    default_branch TEXT NOT NULL,
    github_owner TEXT,
    github_repo TEXT,
    worktree_base_path TEXT NOT NULL,
    setup_timeout_seconds INTEGER NOT NULL DEFAULT 300
        CHECK (setup_timeout_seconds BETWEEN 1 AND 3600),
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A repository can be added once while it is live; a deleted project can be added again.
CREATE UNIQUE INDEX projects_live_repo_path ON projects (repo_path) WHERE archived_at IS NULL;

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL DEFAULT 'NEW'
        CHECK (status IN ('NEW', 'PROVISIONING', 'READY', 'FAILED', 'ARCHIVING', 'ARCHIVED')),
    creation_source TEXT NOT NULL
        CHECK (creation_source IN ('MANUAL', 'RESUME_BRANCH', 'GITHUB_ISSUE')),
    base_branch TEXT,
    worktree_path TEXT,
    branch_name TEXT,
    is_auto_generated_branch INTEGER NOT NULL DEFAULT 0,
    init_error_message TEXT,
    init_output TEXT NOT NULL DEFAULT '',
    init_started_at TEXT,
    init_completed_at TEXT,
    init_script_pid INTEGER,
    init_retry_count INTEGER NOT NULL DEFAULT 0,
    archive_previous_status TEXT,
    archive_error TEXT,
    github_issue_number INTEGER,
    github_issue_url TEXT,
    has_had_sessions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX workspaces_project_status ON workspaces (project_id, status);
CREATE INDEX workspaces_status ON workspaces (status);

CREATE TABLE workspace_pr (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    url TEXT,
    number INTEGER,
    state TEXT NOT NULL DEFAULT 'NONE',
    review_state TEXT,
    ci_status TEXT NOT NULL DEFAULT 'UNKNOWN',
    has_merge_conflict INTEGER NOT NULL DEFAULT 0,
    synced_at TEXT
);

CREATE TABLE workspace_ratchet (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    enabled INTEGER NOT NULL,
    dispatch_outcome TEXT,
    dispatch_retry_count INTEGER NOT NULL DEFAULT 0,
    dispatch_stalled INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE workspace_run_script (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    command TEXT,
    cleanup_command TEXT,
    status TEXT NOT NULL DEFAULT 'IDLE'
        CHECK (status IN ('IDLE', 'STARTING', 'RUNNING', 'STOPPING', 'COMPLETED', 'FAILED')),
    pid INTEGER,
    port INTEGER,
    started_at TEXT,
    updated_at TEXT NOT NULL
);
