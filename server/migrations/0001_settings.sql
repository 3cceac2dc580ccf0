-- The single row of user settings (domain.md §1). Later migrations add the domain tables.
CREATE TABLE settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ratchet_enabled INTEGER NOT NULL DEFAULT 0 CHECK (ratchet_enabled IN (0, 1)),
    updated_at TEXT NOT NULL
);

INSERT INTO settings (id, ratchet_enabled, updated_at)
VALUES (1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
