// Package sqlstore implements mediasign.Store on database/sql, for every SQL
// engine that a Dialect describes.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

// Store is a mediasign.Store on a SQL database.
type Store struct {
	db      *sql.DB
	dialect Dialect
}

var _ mediasign.Store = (*Store)(nil)

// Open wraps db, creating or migrating the schema. The store owns db and
// closes it on Close.
func Open(ctx context.Context, db *sql.DB, dialect Dialect) (*Store, error) {
	s := &Store{db: db, dialect: dialect}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate %s schema: %w", dialect.Name, err)
	}
	return s, nil
}

// DB returns the underlying database handle.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return mediasign.Unavailable("the database does not answer", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) q(query string) string { return s.dialect.rebind(query) }

// mapErr turns driver errors into mediasign errors where they have a meaning
// for callers.
func (s *Store) mapErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return mediasign.NotFoundf("%s not found", what)
	case s.dialect.IsUniqueViolation != nil && s.dialect.IsUniqueViolation(err):
		return mediasign.Conflictf("%s already exists", what)
	case s.dialect.IsForeignKeyViolation != nil && s.dialect.IsForeignKeyViolation(err):
		return mediasign.NotFoundf("%s names a user, project or dataset that does not exist", what)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return mediasign.Unavailable(errDatabaseSlow, err)
	case s.dialect.IsUnavailable != nil && s.dialect.IsUnavailable(err):
		return mediasign.Unavailable(errDatabaseDown, err)
	}
	return fmt.Errorf("query %s: %w", what, err)
}

// Public messages of a database that cannot serve a request.
const (
	errDatabaseDown = "the database cannot be reached: try again in a moment; " +
		"if this persists, an operator should check the database"
	errDatabaseSlow = "the database did not answer in time: try again in a moment"
)

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
