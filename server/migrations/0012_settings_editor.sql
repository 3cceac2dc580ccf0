-- Where "Open in editor" opens a worktree (issue 18 §2): the editor, a custom command and an SSH
-- host, one JSON object (ff_core::editor::EditorSettings); '{}' is VS Code, locally.
ALTER TABLE settings ADD COLUMN editor TEXT NOT NULL DEFAULT '{}';
