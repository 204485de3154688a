package postgres

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the store tells apart.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	tooManyConnections  = "53300"
)

func isUniqueViolation(err error) bool { return sqlState(err) == uniqueViolation }

func isForeignKeyViolation(err error) bool { return sqlState(err) == foreignKeyViolation }

// isUnavailable reports whether err means the database cannot be reached or
// is shutting down, rather than that a statement was wrong.
func isUnavailable(err error) bool {
	switch code := sqlState(err); {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"),
		code == tooManyConnections:
		// Connection exceptions, server shutdown, and no slot left.
		return true
	case code != "":
		return false
	}

	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		pgconn.Timeout(err) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
