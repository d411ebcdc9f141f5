-- A stored object is in one share at most: an upload confirmed again finds
-- the share it already has instead of making another.
CREATE UNIQUE INDEX share_files_object_key ON share_files (object_key);

-- The shares that can expire, by when: what a sweep of expired shares reads.
CREATE INDEX shares_expires_at ON shares (expires_at) WHERE expires_at IS NOT NULL;
