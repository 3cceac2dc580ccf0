-- Child workspaces (issue 19 §1): an agent creates one through ff's MCP server; it records the
-- workspace and the session that created it. Both null for every other workspace.
ALTER TABLE workspaces ADD COLUMN parent_workspace_id TEXT REFERENCES workspaces (id) ON DELETE SET NULL;
ALTER TABLE workspaces ADD COLUMN parent_session_id TEXT;

CREATE INDEX workspaces_parent ON workspaces (parent_workspace_id)
    WHERE parent_workspace_id IS NOT NULL;
CREATE INDEX workspaces_parent_session ON workspaces (parent_session_id)
    WHERE parent_session_id IS NOT NULL;
