-- The last news of a child workspace its parent's session was told (issue 19 §1: at most one
-- message per child per state), kept so that a restart does not tell the same state again.
-- Null until a child has news, and for every other workspace.
ALTER TABLE workspaces ADD COLUMN parent_news_told TEXT;
