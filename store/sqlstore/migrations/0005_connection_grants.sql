-- Connection grants: the projects whose admins may import from a
-- connection. And per user, the issue time (or expiry) of the newest OAuth2
-- token whose role claim was applied, so older tokens cannot restore roles.

CREATE TABLE connection_grants (
    connection_id BIGINT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (connection_id, project_id)
);

CREATE INDEX connection_grants_project_id ON connection_grants (project_id);

ALTER TABLE users ADD COLUMN roles_token_time BIGINT NOT NULL DEFAULT 0;

CREATE INDEX api_tokens_created_by ON api_tokens (created_by);
