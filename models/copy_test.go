package models_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
)

// copySource builds a populated SQLite database through the store and
// returns its URL, its store and the id of a comment to check.
func copySource(t *testing.T) (string, *models.Store, int64) {
	t.Helper()
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "source.db")
	s := openStoreAt(t, url)
	user := func(email, role string, verified bool) *models.User {
		u, err := s.CreateUser(ctx, models.NewUser{
			Name: "Name of " + email, Email: email, Password: "correct horse battery", Affiliation: "Org",
			StakeholderGroup: "civil_society", Country: "KE", Role: role, Verified: verified,
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := user("admin@example.org", models.RoleAdmin, true)
	mod := user("mod@example.org", models.RoleModerator, true)
	alice := user("alice@example.org", models.RoleCommenter, true)
	bob := user("bob@example.org", models.RoleCommenter, true)
	newbie := user("new@example.org", models.RoleCommenter, false)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tok, err := s.NewEmailToken(ctx, newbie.ID, models.PurposeVerify, models.VerifyTokenTTL)
	must(err)
	newbie, err = s.VerifyEmail(ctx, tok) // sets used_at
	must(err)
	_, err = s.NewEmailToken(ctx, bob.ID, models.PurposeReset, models.ResetTokenTTL)
	must(err)
	api, err := s.CreateAPIToken(ctx, alice.ID)
	must(err)
	_, err = s.UserByAPIToken(ctx, api)
	must(err)
	_, err = s.CreateAPIToken(ctx, mod.ID)
	must(err)
	must(s.SaveSession(ctx, "session-alice", &alice.ID, []byte(`{"csrf":"x"}`)))
	must(s.SaveSession(ctx, "session-anonymous", nil, nil))
	must(s.Hit(ctx, "register:192.0.2.1", models.Limit{Max: 10, Window: time.Hour}))

	closes := time.Now().Add(30 * 24 * time.Hour)
	d, err := s.CreateDocument(ctx, admin, models.NewDocument{Title: "Copy draft", Source: fixtureSource, ClosesAt: &closes})
	must(err)
	paras, err := s.Paragraphs(ctx, d)
	must(err)
	// Enough paragraphs for several INSERT batches.
	var long strings.Builder
	for i := range 1234 {
		fmt.Fprintf(&long, "Paragraph %d.\n\n", i+1)
	}
	_, err = s.CreateDocument(ctx, admin, models.NewDocument{Title: "Second draft", Format: models.FormatText, Source: long.String()})
	must(err)
	comment := func(u *models.User, n models.NewComment) *models.Comment {
		c, err := s.CreateComment(ctx, u, d, n, models.CommentPolicy{RequireVerifiedEmail: true})
		must(err)
		return c
	}
	one := comment(alice, models.NewComment{ParagraphIDs: []int64{paras[1].ID}, Body: "On one paragraph.", ProposedText: "Better text.", Kind: models.CommentEditorial})
	several := comment(bob, models.NewComment{ParagraphIDs: []int64{paras[2].ID, paras[3].ID, paras[5].ID}, Body: "On several.", Visibility: models.VisibilityAnonymous})
	whole := comment(alice, models.NewComment{Body: "On the whole document.", Kind: models.CommentSubstantive})
	private := comment(bob, models.NewComment{Body: "For the moderators.", Visibility: models.VisibilityPrivate})
	spam := comment(newbie, models.NewComment{Body: "Buy now"})
	withdrawn := comment(alice, models.NewComment{ParagraphIDs: []int64{paras[0].ID}, Body: "Never mind."})
	comment(bob, models.NewComment{ParagraphIDs: []int64{paras[1].ID}, Body: "Still pending."})
	must(s.WithdrawComment(ctx, alice, withdrawn.ID))
	for _, m := range []struct {
		id     int64
		to     string
		answer string
	}{
		{one.ID, models.StatusDeferred, "Later."},
		{one.ID, models.StatusAccepted, "Taken in."},
		{several.ID, models.StatusRejected, "Out of scope."},
		{whole.ID, models.StatusAccepted, ""},
		{private.ID, models.StatusDeferred, "Next round."},
		{spam.ID, models.StatusSpam, ""},
	} {
		_, err := s.Decide(ctx, mod, m.id, m.to, m.answer)
		must(err)
	}
	return url, s, one.ID
}

// copyTables lists the tables of a database, goose's own left out.
func copyTables(t *testing.T, db *sql.DB, dialect models.Dialect) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`
	if dialect == models.Postgres {
		q = `SELECT table_name FROM information_schema.tables
		     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// dumpTable reads every row of a table as text, sorted, with times in UTC
// (to the microsecond when PostgreSQL is involved: it keeps no more).
func dumpTable(t *testing.T, db *sql.DB, table string, micro bool) (cols []string, rows []string) {
	t.Helper()
	r, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if cols, err = r.Columns(); err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for r.Next() {
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fields := make([]string, len(cols))
		for i, v := range vals {
			var s string
			switch x := v.(type) {
			case nil:
				s = "NULL"
			case time.Time:
				x = x.UTC()
				if micro {
					x = x.Truncate(time.Microsecond)
				}
				s = "t:" + x.Format(time.RFC3339Nano)
			case []byte:
				s = "b:" + hex.EncodeToString(x)
			case string:
				s = "s:" + x
			case int64, int32, int16:
				s = fmt.Sprintf("i:%d", x)
			default:
				s = fmt.Sprintf("%T:%v", x, x)
			}
			fields[i] = cols[i] + "=" + s
		}
		// Columns may come in another order on the other database.
		slices.Sort(fields)
		rows = append(rows, strings.Join(fields, " | "))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(cols)
	slices.Sort(rows)
	return cols, rows
}

// TestCopyDatabase copies a populated SQLite database into a new one
// (PostgreSQL when MARGIN_TEST_DATABASE_URL is set, otherwise SQLite) and
// compares every table row by row, ids included.
func TestCopyDatabase(t *testing.T) {
	ctx := context.Background()
	srcURL, src, commentID := copySource(t)
	dstURL := dbtest.URL(t)
	var reported []models.CopyCount
	counts, err := models.CopyDatabase(ctx, srcURL, dstURL, migrations.FS, func(c models.CopyCount) { reported = append(reported, c) })
	if err != nil {
		t.Fatalf("CopyDatabase: %v", err)
	}
	if !slices.Equal(counts, reported) {
		t.Errorf("reported %v, returned %v", reported, counts)
	}
	dst := openStoreAt(t, dstURL)
	t.Logf("copied to %s: %v", dst.Dialect(), counts)
	srcDB, _ := src.SQLDB()
	dstDB, _ := dst.SQLDB()

	// Every table of the schema is copied, whatever migrations add.
	tables := copyTables(t, srcDB, models.SQLite)
	if got := copyTables(t, dstDB, dst.Dialect()); !slices.Equal(got, tables) {
		t.Fatalf("target tables %v, source tables %v", got, tables)
	}
	var copied []string
	byTable := map[string]int64{}
	for _, c := range counts {
		copied = append(copied, c.Table)
		byTable[c.Table] = c.Rows
	}
	slices.Sort(copied)
	if !slices.Equal(copied, tables) {
		t.Fatalf("copied tables %v, schema tables %v", copied, tables)
	}
	for _, want := range []string{"users", "email_tokens", "api_tokens", "sessions", "documents", "paragraphs",
		"comments", "comment_paragraphs", "comment_decisions", "rate_counters"} {
		if byTable[want] == 0 {
			t.Errorf("table %s: no rows copied; the fixture should fill it", want)
		}
	}

	micro := dst.Dialect() == models.Postgres
	for _, table := range tables {
		sc, sr := dumpTable(t, srcDB, table, micro)
		dc, dr := dumpTable(t, dstDB, table, micro)
		if !slices.Equal(sc, dc) {
			t.Errorf("%s: columns %v, want %v", table, dc, sc)
		}
		if int64(len(sr)) != byTable[table] {
			t.Errorf("%s: reported %d rows, source has %d", table, byTable[table], len(sr))
		}
		if !slices.Equal(sr, dr) {
			t.Errorf("%s differs after the copy:\nsource: %s\ntarget: %s", table, strings.Join(sr, "\n        "), strings.Join(dr, "\n        "))
		}
	}

	// Times read back through the store are the same instants.
	mod, err := dst.UserByEmail(ctx, "mod@example.org")
	if err != nil {
		t.Fatal(err)
	}
	before, err := src.CommentByID(ctx, mod, commentID)
	if err != nil {
		t.Fatal(err)
	}
	after, err := dst.CommentByID(ctx, mod, commentID)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b time.Time) bool {
		if micro {
			b = b.Truncate(time.Microsecond)
		}
		return a.Equal(b)
	}
	if !same(after.CreatedAt, before.CreatedAt) || after.DecidedAt == nil || !same(*after.DecidedAt, *before.DecidedAt) {
		t.Errorf("comment %d: created_at %v, decided_at %v after the copy; before %v, %v", commentID, after.CreatedAt, after.DecidedAt, before.CreatedAt, before.DecidedAt)
	}
	if after.Body != before.Body || after.Status != before.Status || !slices.Equal(after.ParagraphIDs, before.ParagraphIDs) {
		t.Errorf("comment %d: %+v after the copy, want %+v", commentID, after, before)
	}
	audit, err := dst.Decisions(ctx, mod, commentID)
	if err != nil || len(audit) != 2 {
		t.Errorf("audit entries after the copy: %d, %v; want 2", len(audit), err)
	}

	// New rows get new ids: the sequences continue after the copied ones.
	alice, err := dst.Authenticate(ctx, "alice@example.org", "correct horse battery")
	if err != nil {
		t.Fatalf("sign in on the copy: %v", err)
	}
	d, err := dst.DocumentBySlug(ctx, "copy-draft")
	if err != nil {
		t.Fatal(err)
	}
	c, err := dst.CreateComment(ctx, alice, d, models.NewComment{Body: "Written after the move."}, models.CommentPolicy{})
	if err != nil {
		t.Fatalf("new comment on the copy: %v", err)
	}
	if c.ID <= commentID {
		t.Errorf("new comment id %d, want above the copied ones", c.ID)
	}
	if _, err := dst.Decide(ctx, mod, c.ID, models.StatusAccepted, "Thanks."); err != nil {
		t.Fatalf("decide on the copy: %v", err)
	}
	u, err := dst.CreateUser(ctx, models.NewUser{Name: "Carol", Email: "carol@example.org", Password: "correct horse battery",
		StakeholderGroup: "technical_community", Country: "FR", Role: models.RoleCommenter, Verified: true})
	if err != nil {
		t.Fatalf("new user on the copy: %v", err)
	}
	if u.ID <= 5 {
		t.Errorf("new user id %d, want above the 5 copied ones", u.ID)
	}
	admin, _ := dst.UserByEmail(ctx, "admin@example.org")
	if _, err := dst.CreateDocument(ctx, admin, models.NewDocument{Title: "Third", Source: "New paragraph."}); err != nil {
		t.Fatalf("new document on the copy: %v", err)
	}
}

// TestCopyRefusals checks the copy refuses a target with rows, a missing
// source and directions it does not handle, and leaves things as they were.
func TestCopyRefusals(t *testing.T) {
	ctx := context.Background()
	srcURL, _, _ := copySource(t)

	t.Run("target not empty", func(t *testing.T) {
		dstURL := dbtest.URL(t)
		dst := openStoreAt(t, dstURL)
		if _, err := dst.CreateUser(ctx, models.NewUser{Name: "Early", Email: "early@example.org", Password: "correct horse battery",
			StakeholderGroup: "technical_community", Country: "FR", Role: models.RoleAdmin, Verified: true}); err != nil {
			t.Fatal(err)
		}
		_, err := models.CopyDatabase(ctx, srcURL, dstURL, migrations.FS, nil)
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "users") {
			t.Fatalf("copy into a database with a user: err = %v, want a not-empty refusal naming users", err)
		}
		users, err := dst.ListUsers(ctx)
		if err != nil || len(users) != 1 {
			t.Fatalf("target users after the refusal: %d, %v; want the 1 it had", len(users), err)
		}
	})

	t.Run("another application's database", func(t *testing.T) {
		dstURL := dbtest.URL(t)
		db, _, err := models.Open(dstURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		other := models.NewStore(db)
		defer other.Close()
		sqlDB, _ := other.SQLDB()
		if _, err := sqlDB.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)`); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlDB.Exec(`INSERT INTO invoices (id, total) VALUES (1, 100)`); err != nil {
			t.Fatal(err)
		}
		_, err = models.CopyDatabase(ctx, srcURL, dstURL, migrations.FS, nil)
		if err == nil || !strings.Contains(err.Error(), "invoices has rows") {
			t.Fatalf("copy into another application's database: err = %v, want a not-empty refusal", err)
		}
		var n int
		if err := sqlDB.QueryRow(`SELECT COUNT(*) FROM invoices`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("invoices after the refusal: %d, %v", n, err)
		}
		if err := sqlDB.QueryRow(`SELECT COUNT(*) FROM goose_db_version`).Scan(&n); err == nil {
			t.Fatal("the refused target was migrated")
		}
	})

	t.Run("copied twice", func(t *testing.T) {
		dstURL := dbtest.URL(t)
		if _, err := models.CopyDatabase(ctx, srcURL, dstURL, migrations.FS, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := models.CopyDatabase(ctx, srcURL, dstURL, migrations.FS, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("second copy: err = %v, want a not-empty refusal", err)
		}
	})

	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"from postgres", "postgres://u@127.0.0.1:1/x", "sqlite://" + filepath.Join(t.TempDir(), "b.db"), "source must be SQLite"},
		{"unknown scheme", "mysql://u@host/x", "sqlite://" + filepath.Join(t.TempDir(), "b.db"), "--from"},
		{"unknown target", srcURL, "mysql://u@host/x", "--to"},
		{"onto itself", srcURL, srcURL, "same SQLite file"},
		{"missing source", "sqlite://" + missing, "sqlite://" + filepath.Join(t.TempDir(), "b.db"), "source database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := models.CopyDatabase(ctx, tc.from, tc.to, migrations.FS, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CopyDatabase(%s, %s) = %v, want an error containing %q", tc.from, tc.to, err, tc.want)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("copying from a missing SQLite file created it")
	}
}
