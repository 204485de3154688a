package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

const membershipSelect = `SELECT m.project_id, p.name, m.user_id, u.name, m.role, m.source,
	m.created_at FROM memberships m JOIN projects p ON p.id = m.project_id
	JOIN users u ON u.id = m.user_id`

// SetMembership adds m or changes the role and source of the existing one,
// and revokes the user's API tokens in the project above the new role.
func (s *Store) SetMembership(ctx context.Context, m *mediasign.Membership) error {
	return s.inTx(ctx, "set membership", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO memberships (project_id, user_id, role,
			source, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role,
			source = excluded.source`), m.ProjectID, m.UserID, string(m.Role), string(m.Source),
			unix(time.Now()))
		if err != nil {
			return s.mapErr(err, "membership")
		}
		return s.revokeExcessTokens(ctx, tx, m.UserID, m.ProjectID)
	})
}

// Membership returns the membership of a user in a project.
func (s *Store) Membership(ctx context.Context, projectID, userID int64) (*mediasign.Membership, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(membershipSelect+` WHERE m.project_id = ? AND m.user_id = ?`), projectID, userID)
	m, err := scanMembership(row)
	return m, s.mapErr(err, "membership")
}

// DeleteMembership removes a user from a project with the API tokens they
// made there, unless they are an installation admin.
func (s *Store) DeleteMembership(ctx context.Context, projectID, userID int64) error {
	return s.inTx(ctx, "delete membership", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			s.q(`DELETE FROM memberships WHERE project_id = ? AND user_id = ?`), projectID, userID)
		if err := s.oneRow(res, err, "membership"); err != nil {
			return err
		}
		return s.revokeExcessTokens(ctx, tx, userID, projectID)
	})
}

// ListMembers returns the members of a project in user name order.
func (s *Store) ListMembers(ctx context.Context, projectID int64) ([]*mediasign.Membership, error) {
	return s.listMemberships(ctx, membershipSelect+` WHERE m.project_id = ? ORDER BY u.name_key`,
		projectID)
}

// ListUserMemberships returns the memberships of a user in project name order.
func (s *Store) ListUserMemberships(ctx context.Context, userID int64) ([]*mediasign.Membership, error) {
	return s.listMemberships(ctx, membershipSelect+` WHERE m.user_id = ? ORDER BY p.name`, userID)
}

func (s *Store) listMemberships(ctx context.Context, query string, arg int64) ([]*mediasign.Membership, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), arg)
	if err != nil {
		return nil, s.mapErr(err, "memberships")
	}
	defer rows.Close()

	var out []*mediasign.Membership
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, s.mapErr(err, "memberships")
		}
		out = append(out, m)
	}
	return out, s.mapErr(rows.Err(), "memberships")
}

// SyncClaimMemberships makes the claim memberships of a user exactly roles
// when tokenTime is newer than the last token applied, and records it.
func (s *Store) SyncClaimMemberships(ctx context.Context, userID int64, roles map[int64]mediasign.Role,
	tokenTime time.Time) (bool, error) {
	synced := false
	err := s.inTx(ctx, "sync claim memberships", func(tx *sql.Tx) error {
		newer, err := s.claimRolesToken(ctx, tx, userID, tokenTime)
		if err != nil || !newer {
			return err
		}
		if err := s.syncClaims(ctx, tx, userID, roles); err != nil {
			return err
		}
		synced = true
		return s.revokeExcessTokens(ctx, tx, userID, 0)
	})
	return synced, err
}

// claimRolesToken records tokenTime as the user's roles token time when it
// is newer than the one stored, and reports whether it was. The update
// takes the row's lock, so of two tokens synced at once the older one
// changes nothing.
func (s *Store) claimRolesToken(ctx context.Context, tx *sql.Tx, userID int64, tokenTime time.Time) (bool, error) {
	t := unix(tokenTime)
	if tokenTime.IsZero() || t <= 0 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET roles_token_time = ?
		WHERE id = ? AND roles_token_time < ?`), t, userID, t)
	if err != nil {
		return false, s.mapErr(err, fmt.Sprintf("user %d", userID))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("count changed users: %w", err)
	}
	return n == 1, nil
}

// syncClaims makes the claim memberships of a user exactly roles.
func (s *Store) syncClaims(ctx context.Context, tx *sql.Tx, userID int64, roles map[int64]mediasign.Role) error {
	if err := s.dropStaleClaims(ctx, tx, userID, roles); err != nil {
		return err
	}
	now := unix(time.Now())
	for projectID, role := range roles {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO memberships (project_id, user_id,
			role, source, created_at) VALUES (?, ?, ?, 'claim', ?)
			ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role
			WHERE memberships.source = 'claim'`), projectID, userID, string(role), now)
		if err != nil {
			return s.mapErr(err, fmt.Sprintf("membership in project %d", projectID))
		}
	}
	return nil
}

// dropStaleClaims removes the claim memberships of a user in projects that
// roles does not name.
func (s *Store) dropStaleClaims(ctx context.Context, tx *sql.Tx, userID int64, roles map[int64]mediasign.Role) error {
	query := `DELETE FROM memberships WHERE user_id = ? AND source = 'claim'`
	args := []any{userID}
	if len(roles) > 0 {
		query += ` AND project_id NOT IN (` +
			strings.TrimSuffix(strings.Repeat("?,", len(roles)), ",") + `)`
		for id := range roles {
			args = append(args, id)
		}
	}
	_, err := tx.ExecContext(ctx, s.q(query), args...)
	return s.mapErr(err, "claim memberships")
}

func scanMembership(row scanner) (*mediasign.Membership, error) {
	var (
		m            mediasign.Membership
		role, source string
		created      int64
	)
	err := row.Scan(&m.ProjectID, &m.ProjectName, &m.UserID, &m.UserName, &role, &source, &created)
	if err != nil {
		return nil, err
	}
	m.Role, m.Source = mediasign.Role(role), mediasign.MembershipSource(source)
	m.CreatedAt = fromUnix(created)
	return &m, nil
}
