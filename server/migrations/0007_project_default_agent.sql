-- The agent of a project's sessions when the workspace names none (sessions.md §2: defaults per
-- user, project and workspace); null: the user's default.
ALTER TABLE projects ADD COLUMN default_agent TEXT;
