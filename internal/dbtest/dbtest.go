// Package dbtest gives each test its own empty database: a SQLite file in
// the test's temp dir, or, when MARGIN_TEST_DATABASE_URL names a PostgreSQL
// server, a fresh schema there that is dropped afterwards. Every test that
// needs a database takes it from here, so the whole suite runs on both.
package dbtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvVar names the database the whole suite runs on, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable; unset means
// SQLite.
const EnvVar = "MARGIN_TEST_DATABASE_URL"

// PostgresEnvVar names a PostgreSQL server for the tests that are about
// PostgreSQL itself (schema parity, several instances), so that they run
// in the SQLite pass too. MARGIN_TEST_DATABASE_URL serves when it is unset.
const PostgresEnvVar = "MARGIN_TEST_POSTGRES_URL"

// Postgres reports whether tests run against PostgreSQL.
func Postgres() bool { return strings.HasPrefix(os.Getenv(EnvVar), "postgres") }

// URL returns a MARGIN_DATABASE_URL for a new, empty database of the test.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		return "sqlite://" + filepath.Join(t.TempDir(), "margin.db")
	}
	return schemaURL(t, base)
}

// schemaURL creates a schema named after the test and returns base with its
// search_path pointing there.
func schemaURL(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("dbtest: create schema on %s: %v", redact(base), err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns a fresh PostgreSQL schema for a test about
// PostgreSQL, or skips the test, with a message saying why, when no server
// is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnvVar)
	if base == "" {
		base = os.Getenv(EnvVar)
	}
	if !strings.HasPrefix(base, "postgres") {
		t.Skipf("PostgreSQL test skipped: set %s or %s to postgres://… to run it (.ci/run does)", PostgresEnvVar, EnvVar)
	}
	return schemaURL(t, base)
}

// SkipOnPostgres skips a test that is about SQLite itself (its file, WAL,
// backups) when the suite runs on PostgreSQL.
func SkipOnPostgres(t testing.TB, why string) {
	t.Helper()
	if Postgres() {
		t.Skipf("SQLite-only test skipped on PostgreSQL: %s", why)
	}
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
