-- A share: one link for one or more files, and its rules. Times are unix
-- seconds, UTC; NULL means "never" (expires_at, revoked_at) or "unlimited"
-- (max_downloads). The download limit is per file.
CREATE TABLE shares (
    id            TEXT   NOT NULL PRIMARY KEY,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    max_downloads BIGINT CHECK (max_downloads >= 1),
    revoked_at    BIGINT
);

-- A share's files in the order they were given (file_index from 0), each
-- with the downloads counted so far.
CREATE TABLE share_files (
    share_id     TEXT   NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    file_index   BIGINT NOT NULL CHECK (file_index >= 0),
    object_key   TEXT   NOT NULL,
    filename     TEXT   NOT NULL,
    content_type TEXT   NOT NULL,
    size         BIGINT NOT NULL CHECK (size >= 0),
    downloads    BIGINT NOT NULL DEFAULT 0 CHECK (downloads >= 0),
    PRIMARY KEY (share_id, file_index)
);
