-- GitHub (github.md): a project's host beside its owner and repository, and what the PR snapshot
-- needs to notice change cheaply: the head commit, GitHub's own updatedAt and the counts of
-- reviews, comments and review threads. `synced_at` stays the time ff last changed the row.
ALTER TABLE projects ADD COLUMN github_host TEXT;

ALTER TABLE workspace_pr ADD COLUMN head_oid TEXT;
ALTER TABLE workspace_pr ADD COLUMN github_updated_at TEXT;
ALTER TABLE workspace_pr ADD COLUMN review_count INTEGER;
ALTER TABLE workspace_pr ADD COLUMN comment_count INTEGER;
ALTER TABLE workspace_pr ADD COLUMN thread_count INTEGER;
