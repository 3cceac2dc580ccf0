-- The ratchet's dispatch bookkeeping (ratchet.md §1–§2, D§6.2): the PR state the last fixer was
-- dispatched for, the fixer session while it runs, when review feedback was last looked at, the
-- last decision and the recent dispatches (JSON, for the workspace page).
ALTER TABLE workspace_ratchet ADD COLUMN snapshot_key TEXT;
ALTER TABLE workspace_ratchet ADD COLUMN active_session_id TEXT;
ALTER TABLE workspace_ratchet ADD COLUMN review_last_checked_at TEXT;
ALTER TABLE workspace_ratchet ADD COLUMN last_check TEXT;
ALTER TABLE workspace_ratchet ADD COLUMN history TEXT NOT NULL DEFAULT '[]';

-- Which review feedback makes the ratchet act (D§6.6 `ratchetReviewTriggerMode`).
ALTER TABLE settings ADD COLUMN ratchet_review_trigger TEXT NOT NULL DEFAULT 'CHANGES_REQUESTED'
    CHECK (ratchet_review_trigger IN ('CHANGES_REQUESTED', 'ALL_REVIEW_FEEDBACK'));
