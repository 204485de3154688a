package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mediasign/mediasign"
)

// inTx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer tx.Rollback()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// oneRow checks that a statement changed a row, and says what was not found
// when it changed none.
func (s *Store) oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return s.mapErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count changed rows: %w", err)
	}
	if n == 0 {
		return mediasign.NotFoundf("%s not found", what)
	}
	return nil
}
