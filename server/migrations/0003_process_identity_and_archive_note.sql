-- Recorded processes carry their identity (pid, start time, boot), so that recovery after a
-- restart or a reboot never signals a process that merely reuses a recorded pid.
ALTER TABLE workspaces ADD COLUMN init_script_process TEXT;
ALTER TABLE workspaces DROP COLUMN init_script_pid;
ALTER TABLE workspace_run_script ADD COLUMN process TEXT;

-- What an archive kept outside git, and where (ignored files moved aside).
ALTER TABLE workspaces ADD COLUMN archive_note TEXT;
