package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

// GrantConnection grants a connection to a project; a second grant is not
// an error.
func (s *Store) GrantConnection(ctx context.Context, connectionID, projectID int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO connection_grants (connection_id,
		project_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (connection_id, project_id) DO NOTHING`),
		connectionID, projectID, unix(time.Now()))
	return s.mapErr(err, "connection grant")
}

// RevokeConnection takes a grant back.
func (s *Store) RevokeConnection(ctx context.Context, connectionID, projectID int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM connection_grants
		WHERE connection_id = ? AND project_id = ?`), connectionID, projectID)
	return s.oneRow(res, err, fmt.Sprintf("grant of connection %d to project %d",
		connectionID, projectID))
}

// ConnectionGranted reports whether a connection is granted to a project.
func (s *Store) ConnectionGranted(ctx context.Context, connectionID, projectID int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM connection_grants
		WHERE connection_id = ? AND project_id = ?`), connectionID, projectID).Scan(&n)
	if err != nil {
		return false, s.mapErr(err, "connection grant")
	}
	return n > 0, nil
}

// ListConnectionGrants returns the projects a connection is granted to, in
// name order.
func (s *Store) ListConnectionGrants(ctx context.Context, connectionID int64) ([]*mediasign.Project, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT p.id, p.name, p.created_at
		FROM connection_grants g JOIN projects p ON p.id = g.project_id
		WHERE g.connection_id = ? ORDER BY p.name`), connectionID)
	if err != nil {
		return nil, s.mapErr(err, "connection grants")
	}
	defer rows.Close()

	var out []*mediasign.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, s.mapErr(err, "connection grants")
		}
		out = append(out, p)
	}
	return out, s.mapErr(rows.Err(), "connection grants")
}
