-- Replies on the review threads a ratchet fixer addressed (issue 19 §3). One row per unresolved
-- review thread a fixer run was given, written by the ratchet when it dispatches the fixer; the
-- run is (workspace, dispatch time). `replied_at` and `resolved_at` are set as each change is
-- made on GitHub, `outcome` when the run's threads are settled, so that a restart never replies
-- twice. Written only by the ratchet module.
CREATE TABLE ratchet_review_threads (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    dispatched_at TEXT NOT NULL,
    session_id TEXT NOT NULL,
    -- The PR's head commit when the fixer was dispatched: what its push is compared with.
    head_oid TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    path TEXT NOT NULL,
    replied_at TEXT,
    resolved_at TEXT,
    -- The commit a reply named.
    commit_oid TEXT,
    outcome TEXT CHECK (outcome IN ('ADDRESSED', 'NOT_ADDRESSED', 'SUPERSEDED', 'SETTINGS_OFF')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, dispatched_at, thread_id)
);

CREATE INDEX ratchet_review_threads_pending ON ratchet_review_threads (workspace_id)
    WHERE outcome IS NULL;

-- Whether the ratchet replies on the threads a fixer addressed (and asks for a new review), and
-- whether it resolves them (issue 19 §3; Factory Factory's defaults: both on).
ALTER TABLE settings ADD COLUMN ratchet_reply_to_review_threads INTEGER NOT NULL DEFAULT 1
    CHECK (ratchet_reply_to_review_threads IN (0, 1));
ALTER TABLE settings ADD COLUMN ratchet_resolve_threads INTEGER NOT NULL DEFAULT 1
    CHECK (ratchet_resolve_threads IN (0, 1));
