-- Finds the datasets that hold an object, for checks on upload keys.
CREATE INDEX media_object ON media (connection_id, bucket, object_key);
