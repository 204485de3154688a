-- The key of an export's file in the bucket that keeps export files, when
-- one is configured; '' while the file stays on the process that wrote it.

ALTER TABLE exports ADD COLUMN object_key TEXT NOT NULL DEFAULT '';
