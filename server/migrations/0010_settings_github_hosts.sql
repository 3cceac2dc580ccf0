-- GitHub Enterprise hosts the user listed on /settings (issue 16 §4): only github.com and listed
-- hosts are ever sent a token. A JSON array of host names.
ALTER TABLE settings ADD COLUMN github_hosts TEXT NOT NULL DEFAULT '[]';
