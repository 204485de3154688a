package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

const userColumns = `id, name, name_key, password_hash, oauth2_subject, install_admin,
	roles_token_time, created_at`

// lastAdminGuard returns a condition that is true for user rows that may
// lose the installation admin flag: those without it, and any admin while
// another admin who can sign in by way remains. It takes the user's id as
// its one parameter.
//
// TODO: On PostgreSQL under READ COMMITTED two concurrent removals of the
// last two admins can both pass this guard; a serializable transaction or a
// row lock would close that gap.
func lastAdminGuard(way mediasign.SignIn) string {
	signsIn := `others.password_hash <> ''`
	if way == mediasign.SignInOAuth2 {
		signsIn = `others.oauth2_subject IS NOT NULL`
	}
	return `(install_admin = 0 OR (SELECT COUNT(*) FROM users others
		WHERE others.install_admin = 1 AND others.id <> ? AND ` + signsIn + `) > 0)`
}

// CreateUser stores u and sets its ID and creation time.
func (s *Store) CreateUser(ctx context.Context, u *mediasign.User) error {
	now := time.Now().UTC().Truncate(time.Second)
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO users (name, name_key, password_hash,
		oauth2_subject, install_admin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		RETURNING id`), u.Name, u.NameKey, u.PasswordHash, nullString(u.Subject),
		flag(u.InstallAdmin), unix(now), unix(now)).Scan(&u.ID)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("user %q", u.Name))
	}
	u.CreatedAt = now
	return nil
}

// User returns the user with id.
func (s *Store) User(ctx context.Context, id int64) (*mediasign.User, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users WHERE id = ?`), id)
	u, err := scanUser(row)
	return u, s.mapErr(err, fmt.Sprintf("user %d", id))
}

// UserByName returns the user whose name key is key.
func (s *Store) UserByName(ctx context.Context, key string) (*mediasign.User, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+userColumns+` FROM users WHERE name_key = ?`), key)
	u, err := scanUser(row)
	return u, s.mapErr(err, fmt.Sprintf("user %q", key))
}

// UserBySubject returns the user created from an OAuth2 subject.
func (s *Store) UserBySubject(ctx context.Context, subject string) (*mediasign.User, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+userColumns+` FROM users WHERE oauth2_subject = ?`), subject)
	u, err := scanUser(row)
	return u, s.mapErr(err, "user of this OAuth2 subject")
}

// ListUsers returns every user in name order.
func (s *Store) ListUsers(ctx context.Context) ([]*mediasign.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name_key`)
	if err != nil {
		return nil, s.mapErr(err, "users")
	}
	defer rows.Close()

	var out []*mediasign.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, s.mapErr(err, "users")
		}
		out = append(out, u)
	}
	return out, s.mapErr(rows.Err(), "users")
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, s.mapErr(err, "users")
}

// SetPassword stores a new password hash and ends the user's sessions.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	return s.inTx(ctx, "set password", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ?, updated_at = ?
			WHERE id = ?`), hash, unix(time.Now()), userID)
		if err := s.oneRow(res, err, fmt.Sprintf("user %d", userID)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE user_id = ?`), userID)
		return s.mapErr(err, "sessions")
	})
}

// SetInstallAdmin grants or takes the installation admin flag. Taking it
// revokes the user's API tokens above their role in each project.
func (s *Store) SetInstallAdmin(ctx context.Context, userID int64, admin bool, way mediasign.SignIn) error {
	if admin {
		res, err := s.db.ExecContext(ctx, s.q(`UPDATE users SET install_admin = 1,
			updated_at = ? WHERE id = ?`), unix(time.Now()), userID)
		return s.oneRow(res, err, fmt.Sprintf("user %d", userID))
	}
	return s.inTx(ctx, "take installation admin", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET install_admin = 0, updated_at = ?
			WHERE id = ? AND `+lastAdminGuard(way)), unix(time.Now()), userID, userID)
		if err := s.guarded(ctx, tx, res, err, userID); err != nil {
			return err
		}
		return s.revokeExcessTokens(ctx, tx, userID, 0)
	})
}

// DeleteUser removes a user with their sessions, memberships and the API
// tokens they made.
func (s *Store) DeleteUser(ctx context.Context, userID int64, way mediasign.SignIn) error {
	return s.inTx(ctx, "delete user", func(tx *sql.Tx) error {
		// Before the user row goes: its foreign key would only clear
		// created_by and leave the tokens working.
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM api_tokens WHERE created_by = ?`), userID)
		if err != nil {
			return s.mapErr(err, "API tokens")
		}
		res, err := tx.ExecContext(ctx,
			s.q(`DELETE FROM users WHERE id = ? AND `+lastAdminGuard(way)), userID, userID)
		if err := s.guarded(ctx, tx, res, err, userID); err != nil {
			return err
		}
		// The foreign keys cascade; these deletes hold even where they are off.
		for _, table := range []string{"sessions", "memberships"} {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE user_id = ?`), userID)
			if err != nil {
				return s.mapErr(err, table)
			}
		}
		return nil
	})
}

// guarded explains an update of one user that changed no row: the user is
// gone, or it is the last installation admin.
func (s *Store) guarded(ctx context.Context, tx *sql.Tx, res sql.Result, err error, userID int64) error {
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("user %d", userID))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count changed users: %w", err)
	}
	if n == 1 {
		return nil
	}

	var exists int
	err = tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE id = ?`), userID).
		Scan(&exists)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("user %d", userID))
	}
	if exists == 0 {
		return mediasign.NotFoundf("user %d not found", userID)
	}
	return mediasign.Conflictf("this is the last installation admin who can sign in: make " +
		"another user who can sign in an installation admin first")
}

func scanUser(row scanner) (*mediasign.User, error) {
	var (
		u          mediasign.User
		subject    sql.NullString
		admin      int64
		rolesToken int64
		created    int64
	)
	err := row.Scan(&u.ID, &u.Name, &u.NameKey, &u.PasswordHash, &subject, &admin, &rolesToken,
		&created)
	if err != nil {
		return nil, err
	}
	u.Subject, u.InstallAdmin, u.CreatedAt = subject.String, admin == 1, fromUnix(created)
	if rolesToken != 0 {
		u.RolesTokenTime = fromUnix(rolesToken)
	}
	return &u, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
