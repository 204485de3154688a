-- Export jobs, and the index that lets exports and media listings page
-- through a dataset in id order.
-- {{id}} is the dialect's auto-increment primary key column type. Times are
-- Unix seconds, 0 when unset. dataset_ids is a JSON list of dataset ids.

CREATE TABLE exports (
    id {{id}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    dataset_ids TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('json', 'jsonl')),
    state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    total BIGINT NOT NULL DEFAULT 0,
    written BIGINT NOT NULL DEFAULT 0,
    resigned BIGINT NOT NULL DEFAULT 0,
    min_expires_at BIGINT NOT NULL DEFAULT 0,
    file_size BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    heartbeat_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX exports_project_id ON exports (project_id, id);
CREATE INDEX exports_state ON exports (state, heartbeat_at);

CREATE INDEX media_dataset_id ON media (dataset_id, id);
