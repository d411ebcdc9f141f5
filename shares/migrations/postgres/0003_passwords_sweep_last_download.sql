-- A share's password, as an Argon2id PHC string the caller made (Courier
-- keeps no password, only what checks one; NULL: no password). The CHECK
-- refuses a password stored by mistake in place of its hash.
ALTER TABLE shares ADD COLUMN password_hash TEXT
    CHECK (substr(password_hash, 1, 10) = '$argon2id$');

-- When a sweep claimed the share (unix seconds): its stored objects are
-- deleted, or being deleted. The rows stay, so the link still says why it
-- ended; NULL: not swept. A rule change and a sweep both update this row
-- under a condition on it, so they never both win.
ALTER TABLE shares ADD COLUMN swept_at BIGINT;

-- When a download of the file was last counted (unix seconds; NULL: never,
-- or before this migration). A share whose downloads are all used is swept
-- only some time after the last one, so the URL handed out for it, and a
-- browser resuming that URL, still work.
ALTER TABLE share_files ADD COLUMN last_download_at BIGINT;

-- The shares a sweep has not claimed, by expiry: the sweep reads these
-- alone, not every share that ever was. It replaces 0002's index on
-- expires_at, which served the same sweep before it kept track of what it
-- had swept (and would have grown with every share ever swept).
CREATE INDEX shares_unswept ON shares (expires_at) WHERE swept_at IS NULL;
DROP INDEX shares_expires_at;
