-- The first schema: connections, the catalog, cached URLs and settings.
-- {{id}} is the dialect's auto-increment primary key column type.

CREATE TABLE connections (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    config TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE datasets (
    id {{id}},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE media (
    id {{id}},
    dataset_id BIGINT NOT NULL REFERENCES datasets (id),
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    thumb_key TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (dataset_id, connection_id, bucket, object_key)
);

CREATE TABLE url_cache (
    cache_key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX url_cache_expires_at ON url_cache (expires_at);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
