package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

const apiTokenColumns = `id, project_id, name, role, prefix, token_hash, created_by,
	created_at, expires_at`

// CreateAPIToken stores t and sets its ID and creation time.
func (s *Store) CreateAPIToken(ctx context.Context, t *mediasign.APIToken) error {
	now := time.Now().UTC().Truncate(time.Second)
	var expires int64
	if !t.ExpiresAt.IsZero() {
		expires = unix(t.ExpiresAt)
	}
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (project_id, name, role,
		prefix, token_hash, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), t.ProjectID, t.Name, string(t.Role),
		t.Prefix, t.Hash, sql.NullInt64{Int64: t.CreatedBy, Valid: t.CreatedBy != 0},
		unix(now), expires).Scan(&t.ID)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("API token %q", t.Name))
	}
	t.CreatedAt = now
	return nil
}

// APITokenByHash returns the token whose secret hashes to hash.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*mediasign.APIToken, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`), hash)
	t, err := scanAPIToken(row)
	return t, s.mapErr(err, "API token")
}

// ListAPITokens returns the tokens of a project in name order.
func (s *Store) ListAPITokens(ctx context.Context, projectID int64) ([]*mediasign.APIToken, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE project_id = ? ORDER BY name`), projectID)
	if err != nil {
		return nil, s.mapErr(err, "API tokens")
	}
	defer rows.Close()

	var out []*mediasign.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, s.mapErr(err, "API tokens")
		}
		out = append(out, t)
	}
	return out, s.mapErr(rows.Err(), "API tokens")
}

// DeleteAPIToken revokes a token of a project.
func (s *Store) DeleteAPIToken(ctx context.Context, projectID, id int64) error {
	res, err := s.db.ExecContext(ctx,
		s.q(`DELETE FROM api_tokens WHERE project_id = ? AND id = ?`), projectID, id)
	return s.oneRow(res, err, fmt.Sprintf("API token %d", id))
}

func scanAPIToken(row scanner) (*mediasign.APIToken, error) {
	var (
		t                mediasign.APIToken
		role             string
		createdBy        sql.NullInt64
		created, expires int64
	)
	err := row.Scan(&t.ID, &t.ProjectID, &t.Name, &role, &t.Prefix, &t.Hash, &createdBy,
		&created, &expires)
	if err != nil {
		return nil, err
	}
	t.Role, t.CreatedBy, t.CreatedAt = mediasign.Role(role), createdBy.Int64, fromUnix(created)
	if expires != 0 {
		t.ExpiresAt = fromUnix(expires)
	}
	return &t, nil
}

// roleRank ranks a role column as mediasign.Role does: viewer 1, editor 2,
// admin 3, anything else 0.
func roleRank(column string) string {
	return `(CASE ` + column + ` WHEN 'viewer' THEN 1 WHEN 'editor' THEN 2 ` +
		`WHEN 'admin' THEN 3 ELSE 0 END)`
}

// revokeExcessTokens deletes the API tokens that a user made with a role
// above the one the user now holds in the token's project: in one project,
// or in every project when projectID is 0. An installation admin keeps all
// of theirs.
func (s *Store) revokeExcessTokens(ctx context.Context, tx *sql.Tx, userID, projectID int64) error {
	query := `DELETE FROM api_tokens WHERE created_by = ?
		AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = ? AND users.install_admin = 1)
		AND ` + roleRank("api_tokens.role") + ` > COALESCE((SELECT ` + roleRank("m.role") + `
			FROM memberships m WHERE m.user_id = ? AND m.project_id = api_tokens.project_id), 0)`
	args := []any{userID, userID, userID}
	if projectID != 0 {
		query += ` AND api_tokens.project_id = ?`
		args = append(args, projectID)
	}
	_, err := tx.ExecContext(ctx, s.q(query), args...)
	return s.mapErr(err, "API tokens")
}
