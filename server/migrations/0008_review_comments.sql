-- Line comments on a workspace's diff (review.md §2), written only by the review module.

CREATE TABLE review_comments (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    -- Which version the line numbers are in: the base (removed lines) or the working tree.
    side TEXT NOT NULL CHECK (side IN ('OLD', 'NEW')),
    start_line INTEGER NOT NULL CHECK (start_line >= 1),
    end_line INTEGER NOT NULL CHECK (end_line >= start_line),
    -- The lines commented on, as they were then (a JSON array of strings).
    quoted TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'DRAFT' CHECK (state IN ('DRAFT', 'SENT')),
    -- The session the comment was sent to.
    session_id TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    resolved_at TEXT
);

CREATE INDEX review_comments_workspace ON review_comments (workspace_id, created_at);
