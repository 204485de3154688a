// Package pgtest gives each test a schema of its own in the test PostgreSQL
// database, so tests run in parallel and leave nothing behind.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	// The pgx driver registers itself as "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
)

// EnvURL names the variable holding the test database URL, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "MEDIASIGN_TEST_POSTGRES_URL"

// URL returns a database URL whose search_path is a new, empty schema that
// is dropped when the test ends. It skips the test when EnvURL is unset.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skipf("skipping: %s is not set (for example "+
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvURL)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s is not a postgres:// URL", EnvURL)
	}

	schema := "mediasign_test_" + randomHex(t)
	exec(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA `+schema+` CASCADE`) })

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on the database at dbURL.
func Exec(t testing.TB, dbURL, statement string) {
	t.Helper()
	exec(t, dbURL, statement)
}

func exec(t testing.TB, dbURL, statement string) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	defer db.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, statement); err != nil {
		t.Fatalf("test database: %s: %v", statement, err)
	}
}

func randomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
