-- A file encrypted in its sender's browser (FORMAT.md) keeps its seal: the
-- key a downloader proves it holds, and the file's name, type and size
-- sealed. NULL: a plain file. Courier keeps no key that opens the file.
ALTER TABLE share_files ADD COLUMN seal TEXT CHECK (length(seal) <= 1536);
