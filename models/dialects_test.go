package models_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
)

// columns lists "table.column" of a migrated database, goose's own table
// left out.
func columns(t *testing.T, url string) []string {
	t.Helper()
	s := openStoreAt(t, url)
	dialect := s.Dialect()
	sqlDB, _ := s.SQLDB()
	q := `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
	      WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'`
	if dialect == models.Postgres {
		q = `SELECT table_name || '.' || column_name FROM information_schema.columns
		     WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`
	}
	rows, err := sqlDB.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// TestDialectsHaveTheSameSchema migrates SQLite and PostgreSQL and checks
// they end with the same tables and columns, so the two migration folders
// stay in step.
func TestDialectsHaveTheSameSchema(t *testing.T) {
	pgURL := dbtest.PostgresURL(t)
	lite := columns(t, "sqlite://"+filepath.Join(t.TempDir(), "m.db"))
	pg := columns(t, pgURL)
	if !slices.Equal(lite, pg) {
		t.Fatalf("schemas differ:\nsqlite:   %s\npostgres: %s", strings.Join(lite, " "), strings.Join(pg, " "))
	}
	if len(lite) < 40 {
		t.Fatalf("only %d columns: the query found too little", len(lite))
	}
	t.Logf("%d columns match", len(lite))
}

// TestMigrationFilesPaired checks every migration exists for both dialects.
func TestMigrationFilesPaired(t *testing.T) {
	names := func(dir string) []string {
		ents, err := migrations.FS.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	if a, b := names("sqlite"), names("postgres"); !slices.Equal(a, b) {
		t.Fatalf("migration files differ:\nsqlite:   %v\npostgres: %v", a, b)
	}
}
