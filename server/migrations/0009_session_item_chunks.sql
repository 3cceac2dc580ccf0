-- The text a streaming message or thought gained since its last write, one row per write: a
-- message growing for minutes costs its bytes once, not once per write. When the item closes it
-- is written whole and its chunks are deleted; chunks left by a crash are folded in at start.
CREATE TABLE session_item_chunks (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    n INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (session_id, seq, n),
    FOREIGN KEY (session_id, seq) REFERENCES session_items (session_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;
