package sqlstore

import (
	"context"
	"time"

	"github.com/mediasign/mediasign"
)

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, sess *mediasign.Session) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (id_hash, user_id, created_at,
		expires_at) VALUES (?, ?, ?, ?)`), sess.IDHash, sess.UserID, unix(sess.CreatedAt),
		unix(sess.ExpiresAt))
	return s.mapErr(err, "session")
}

// Session returns the session with idHash.
func (s *Store) Session(ctx context.Context, idHash string) (*mediasign.Session, error) {
	var (
		sess             mediasign.Session
		created, expires int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id_hash, user_id, created_at, expires_at
		FROM sessions WHERE id_hash = ?`), idHash).
		Scan(&sess.IDHash, &sess.UserID, &created, &expires)
	if err != nil {
		return nil, s.mapErr(err, "session")
	}
	sess.CreatedAt, sess.ExpiresAt = fromUnix(created), fromUnix(expires)
	return &sess, nil
}

// DeleteSession ends a session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE id_hash = ?`), idHash)
	return s.mapErr(err, "session")
}

// DeleteExpiredSessions removes sessions that expire before t.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at < ?`), unix(t))
	if err != nil {
		return 0, s.mapErr(err, "sessions")
	}
	return res.RowsAffected()
}
