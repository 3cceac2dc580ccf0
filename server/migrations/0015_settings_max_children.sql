-- How many child workspaces one agent session may create through ff's MCP tools (issue 19 §1),
-- a setting rather than a flag; 5 as before.
ALTER TABLE settings ADD COLUMN max_children_per_session INTEGER NOT NULL DEFAULT 5
    CHECK (max_children_per_session BETWEEN 0 AND 50);
