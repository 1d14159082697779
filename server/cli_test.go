package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"margin/internal/dbtest"
	"margin/models"
)

// cli runs a margin command line against dataDir and returns its output.
func cli(t *testing.T, dataDir string, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	getenv := func(k string) string {
		if k == "MARGIN_DATA_DIR" {
			return dataDir
		}
		if v, ok := env[k]; ok {
			return v
		}
		if k == "MARGIN_DATABASE_URL" {
			return cliDatabases[dataDir]
		}
		return ""
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// cliDatabases maps a test's data dir to its database URL, so every cli
// call of one test meets the same database, SQLite or PostgreSQL.
var cliDatabases = map[string]string{}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	cliDatabases[dir] = dbtest.URL(t)
	if out, err := cli(t, dir, nil, "", "migrate"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	if out, err := cli(t, dir, nil, "moderator passphrase\n", "user", "create", "--email", "mod@example.org", "--name", "Mo", "--role", "moderator"); err != nil || !strings.Contains(out, "created moderator") {
		t.Fatalf("user create: %q %v", out, err)
	}
	if _, err := cli(t, dir, map[string]string{"MARGIN_PASSWORD": "short"}, "", "user", "create", "--email", "x@example.org", "--name", "X", "--role", "admin"); err == nil {
		t.Fatal("user create accepted a 5-character password")
	}
	src := filepath.Join(dir, "draft.md")
	if err := os.WriteFile(src, []byte("# Title\n\nFirst.\n\nSecond.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, dir, nil, "", "import", "--title", "Draft One", "--slug", "draft-one", src)
	if err != nil || !strings.Contains(out, "3 paragraphs") {
		t.Fatalf("import: %q %v", out, err)
	}
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("Line one\ncontinues.\n\n\n\u00a0\n\nSecond paragraph.\n"), 0o600)
	if out, err = cli(t, dir, nil, "", "import", txt); err != nil || !strings.Contains(out, "2 paragraphs") || !strings.Contains(out, "/documents/notes") {
		t.Fatalf("import txt: %q %v", out, err)
	}
	if _, err = cli(t, dir, nil, "", "import", filepath.Join(dir, "nope.pdf")); err == nil {
		t.Fatal("import of a .pdf succeeded")
	}

	// A comment to export, made through the store.
	store, err := openStore(context.Background(), Config{DatabaseURL: cliDatabases[dir]})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mod, _ := store.UserByEmail(ctx, "mod@example.org")
	d, _ := store.DocumentBySlug(ctx, "draft-one")
	ps, _ := store.Paragraphs(ctx, d)
	c, err := store.CreateComment(ctx, mod, d, models.NewComment{Body: "=HYPERLINK(\"http://x\")", ParagraphIDs: []int64{ps[1].ID}}, models.CommentPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Decide(ctx, mod, c.ID, "accepted", "ok"); err != nil {
		t.Fatal(err)
	}
	store.Close()

	csvFile := filepath.Join(dir, "out.csv")
	if _, err := cli(t, dir, nil, "", "export", "--document", "draft-one", "--format", "csv", "-o", csvFile); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(csvFile)
	if !strings.Contains(string(b), "'=HYPERLINK") || !strings.Contains(string(b), "First.") {
		t.Fatalf("csv export: %s", b)
	}
	out, err = cli(t, dir, nil, "", "export", "--document", "draft-one", "--format", "json", "--status", "all")
	var j struct{ Comments []any }
	if err != nil || json.Unmarshal([]byte(out), &j) != nil || len(j.Comments) != 1 {
		t.Fatalf("json export: %q %v", out, err)
	}
	if _, err := cli(t, dir, nil, "", "export", "--document", "missing"); err == nil {
		t.Fatal("export of a missing document succeeded")
	}

	if dbtest.Postgres() {
		t.Log("backup part skipped on PostgreSQL: margin backup copies SQLite; PostgreSQL uses pg_dump")
		return
	}
	backup := filepath.Join(dir, "backup.db")
	if out, err := cli(t, dir, nil, "", "backup", backup); err != nil || !strings.Contains(out, "backup written") {
		t.Fatalf("backup: %q %v", out, err)
	}
	db, err := sql.Open("sqlite3", backup)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var check string
	if err := db.QueryRow("SELECT COUNT(*) FROM comments").Scan(&n); err != nil || n != 1 {
		t.Fatalf("backup comments = %d, %v", n, err)
	}
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("backup integrity: %q %v", check, err)
	}
	if _, err := cli(t, dir, nil, "", "backup", backup); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	if _, err := cli(t, dir, nil, "", "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestServeShutsDownGracefully starts `margin serve` on a free port, checks
// /healthz, and stops it by cancelling the context (what SIGTERM does).
func TestServeShutsDownGracefully(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	dbURL := dbtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"serve"}, func(k string) string {
			return map[string]string{"MARGIN_DATA_DIR": dir, "MARGIN_ADDR": addr, "MARGIN_DATABASE_URL": dbURL}[k]
		}, strings.NewReader(""), &out, &out)
	}()
	var res *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if res, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v", err)
	}
	res.Body.Close()
	if _, err := os.Stat(filepath.Join(dir, "session.key")); err != nil {
		t.Fatalf("session secret not generated: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
