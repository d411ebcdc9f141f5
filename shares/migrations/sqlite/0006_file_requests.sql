-- A file request: a link (/r/<id>) that lets someone without upload access
-- upload into a share of the person who made it, within its rules: at most
-- max_files files and max_bytes bytes in all, until expires_at (unix
-- seconds), unless closed. share_id: the share its files go into, made
-- when the first one arrives (NULL until then, or once that share is gone).
CREATE TABLE file_requests (
    id         TEXT    NOT NULL PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_files  INTEGER NOT NULL CHECK (max_files >= 1),
    max_bytes  INTEGER NOT NULL CHECK (max_bytes >= 1),
    closed_at  INTEGER,
    share_id   TEXT REFERENCES shares (id) ON DELETE SET NULL,
    -- Bumped by every write that counts the request's room, so two of them
    -- queue on this row (PostgreSQL) or on the write lock (SQLite).
    writes     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Each upload granted for a request, by the key it is uploaded to. It holds
-- one file and its declared size of the request's room from its grant until
-- it arrives (received_at, with the key it is stored under once confirmed)
-- or, never received, until its grant runs out (held_until); an aborted
-- upload's row is deleted.
CREATE TABLE request_uploads (
    object_key  TEXT    NOT NULL PRIMARY KEY,
    request_id  TEXT    NOT NULL REFERENCES file_requests (id) ON DELETE CASCADE,
    size        INTEGER NOT NULL CHECK (size >= 0),
    held_until  INTEGER NOT NULL,
    received_at INTEGER,
    stored_key  TEXT
) STRICT;

CREATE INDEX request_uploads_request ON request_uploads (request_id);
