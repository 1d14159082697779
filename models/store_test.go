package models_test

import (
	"context"
	"testing"

	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
)

// newStore opens a fresh, migrated database of the test (SQLite, or
// PostgreSQL under MARGIN_TEST_DATABASE_URL).
func newStore(t testing.TB) *models.Store {
	t.Helper()
	return openStoreAt(t, dbtest.URL(t))
}

// openStoreAt opens and migrates the database at url; a second store on the
// same database stands for a second instance.
func openStoreAt(t testing.TB, url string) *models.Store {
	t.Helper()
	db, dialect, err := models.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Migrate(context.Background(), db, dialect, migrations.FS); err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db)
	t.Cleanup(func() { s.Close() })
	return s
}

// fixture holds a store with users and an open document.
type fixture struct {
	s                      *models.Store
	admin, mod, alice, bob *models.User
	unverified             *models.User
	doc                    *models.Document
	paras                  []models.Paragraph
	policy                 models.CommentPolicy
}

const fixtureSource = `# Scope

The forum looks at ¶ one.

- First item
- Second item

## Findings

Spam is a problem.
`

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{s: newStore(t), policy: models.CommentPolicy{RequireVerifiedEmail: true}}
	mk := func(email, role string, verified bool) *models.User {
		u, err := f.s.CreateUser(ctx, models.NewUser{
			Name: email, Email: email, Password: "correct horse battery", Affiliation: "Org of " + email,
			StakeholderGroup: "civil_society", Country: "KE", Role: role, Verified: verified,
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.admin = mk("admin@example.org", models.RoleAdmin, true)
	f.mod = mk("mod@example.org", models.RoleModerator, true)
	f.alice = mk("alice@example.org", models.RoleCommenter, true)
	f.bob = mk("bob@example.org", models.RoleCommenter, true)
	f.unverified = mk("new@example.org", models.RoleCommenter, false)
	d, err := f.s.CreateDocument(ctx, f.admin, models.NewDocument{Title: "BPF Cybersecurity draft", Source: fixtureSource})
	if err != nil {
		t.Fatal(err)
	}
	f.doc = d
	if f.paras, err = f.s.Paragraphs(ctx, d); err != nil {
		t.Fatal(err)
	}
	return f
}

// comment submits a comment by u on the given paragraph numbers.
func (f *fixture) comment(t testing.TB, u *models.User, body string, numbers ...int) *models.Comment {
	t.Helper()
	var ids []int64
	for _, n := range numbers {
		ids = append(ids, f.paras[n-1].ID)
	}
	c, err := f.s.CreateComment(context.Background(), u, f.doc, models.NewComment{ParagraphIDs: ids, Body: body}, f.policy)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }
