-- Scheduled tasks: a prompt that starts a workspace of a project at each due time of a cron
-- expression in an IANA time zone, and the record of each run (or skipped due time). Written
-- only by the schedules module.

CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prompt TEXT NOT NULL,
    -- The agent of its runs' sessions; null: the project's, then the user's default.
    agent TEXT,
    cron TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- The next due time; null while disabled. A due time that passed while ff was stopped is
    -- still here at startup, and runs once.
    next_due_at TEXT,
    last_run_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX schedules_project ON schedules (project_id, created_at);
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE schedule_executions (
    id TEXT PRIMARY KEY,
    schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    -- What started it (the API calls this `trigger`, a word SQLite reserves).
    started_by TEXT NOT NULL CHECK (started_by IN ('SCHEDULED', 'CATCH_UP', 'MANUAL')),
    -- The due time it stands for; null for Run now.
    due_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED')),
    workspace_id TEXT UNIQUE REFERENCES workspaces (id) ON DELETE SET NULL,
    workspace_name TEXT,
    pr_url TEXT,
    pr_number INTEGER,
    error TEXT,
    started_at TEXT NOT NULL,
    completed_at TEXT
);

CREATE INDEX schedule_executions_schedule ON schedule_executions (schedule_id, started_at);
CREATE INDEX schedule_executions_running ON schedule_executions (status) WHERE status = 'RUNNING';

-- SCHEDULED joins the creation sources. SQLite cannot change a CHECK constraint, so the column is
-- replaced: a column's own CHECK goes with it, and a rename carries the new one along.
ALTER TABLE workspaces ADD COLUMN source TEXT NOT NULL DEFAULT 'MANUAL'
    CHECK (source IN ('MANUAL', 'RESUME_BRANCH', 'GITHUB_ISSUE', 'SCHEDULED'));
UPDATE workspaces SET source = creation_source;
ALTER TABLE workspaces DROP COLUMN creation_source;
ALTER TABLE workspaces RENAME COLUMN source TO creation_source;

-- The task whose run made the workspace.
ALTER TABLE workspaces ADD COLUMN schedule_id TEXT REFERENCES schedules (id) ON DELETE SET NULL;
