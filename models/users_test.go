package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"margin/models"
)

func validUser() models.NewUser {
	return models.NewUser{
		Name: "Ana Pérez", Email: "Ana@Example.org", Password: "a long passphrase",
		Affiliation: "Red de Internet", StakeholderGroup: "civil_society", Country: "ar",
	}
}

func TestNewUserValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*models.NewUser)
		field string // "" means valid
	}{
		{"valid", func(*models.NewUser) {}, ""},
		{"no name", func(n *models.NewUser) { n.Name = " " }, "name"},
		{"name with newline", func(n *models.NewUser) { n.Name = "Eve\r\nBcc: x@y.z" }, "name"},
		{"bad email", func(n *models.NewUser) { n.Email = "not-an-address" }, "email"},
		{"email header injection", func(n *models.NewUser) { n.Email = "a@b.org\nBcc: c@d.org" }, "email"},
		{"email with display name", func(n *models.NewUser) { n.Email = "Eve <eve@example.org>" }, "email"},
		{"password too short", func(n *models.NewUser) { n.Password = "1234567" }, "password"},
		{"password 8", func(n *models.NewUser) { n.Password = "kq8#vT2p" }, ""},
		{"password 128", func(n *models.NewUser) { n.Password = strings.Repeat("pa5!", 32) }, ""},
		{"common password", func(n *models.NewUser) { n.Password = "Password1" }, "password"},
		{"common word with digits", func(n *models.NewUser) { n.Password = "monkey2024!" }, "password"},
		{"common word with many digits", func(n *models.NewUser) { n.Password = "password123" }, "password"},
		{"digit run", func(n *models.NewUser) { n.Password = "123456789" }, "password"},
		{"one repeated character", func(n *models.NewUser) { n.Password = "aaaaaaaaaa" }, "password"},
		{"password is the e-mail", func(n *models.NewUser) { n.Password = "ana@example.org" }, "password"},
		{"password too long", func(n *models.NewUser) { n.Password = strings.Repeat("p", models.MaxPasswordLength+1) }, "password"},
		{"unknown group", func(n *models.NewUser) { n.StakeholderGroup = "lobby" }, "stakeholder_group"},
		{"unknown country", func(n *models.NewUser) { n.Country = "XX" }, "country"},
		{"NUL in affiliation", func(n *models.NewUser) { n.Affiliation = "a\x00" }, "affiliation"},
		{"staff without group", func(n *models.NewUser) { n.Role, n.StakeholderGroup, n.Country = "moderator", "", "" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := validUser()
			tc.edit(&n)
			err := n.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var v models.ValidationError
			if !errors.As(err, &v) || v[tc.field] == "" {
				t.Fatalf("Validate() = %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func TestUserLifecycle(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, validUser())
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ana@example.org" || u.Country != "AR" || u.Role != models.RoleCommenter || u.Verified() {
		t.Fatalf("created user = %+v", u)
	}
	if strings.Contains(u.PasswordHash, "passphrase") || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("password hash = %q", u.PasswordHash)
	}
	dup := validUser()
	dup.Email = "ANA@example.ORG"
	if _, err := s.CreateUser(ctx, dup); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("duplicate e-mail (other case): %v, want ErrConflict", err)
	}
	if _, err := s.Authenticate(ctx, "ANA@EXAMPLE.ORG", "a long passphrase"); err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	for _, pw := range []string{"wrong password", ""} {
		if _, err := s.Authenticate(ctx, "ana@example.org", pw); !errors.Is(err, models.ErrUnauthenticated) {
			t.Fatalf("wrong password %q: %v", pw, err)
		}
	}
	if _, err := s.Authenticate(ctx, "nobody@example.org", "a long passphrase"); !errors.Is(err, models.ErrUnauthenticated) {
		t.Fatalf("unknown user: %v", err)
	}

	tok, err := s.NewEmailToken(ctx, u.ID, models.PurposeVerify, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyEmail(ctx, tok+"x"); !errors.Is(err, models.ErrBadToken) {
		t.Fatalf("wrong token: %v", err)
	}
	v, err := s.VerifyEmail(ctx, tok)
	if err != nil || !v.Verified() {
		t.Fatalf("verify: %+v %v", v, err)
	}
	if _, err := s.VerifyEmail(ctx, tok); !errors.Is(err, models.ErrBadToken) {
		t.Fatalf("reused token: %v, want ErrBadToken", err)
	}
	expired, _ := s.NewEmailToken(ctx, u.ID, models.PurposeVerify, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if _, err := s.VerifyEmail(ctx, expired); !errors.Is(err, models.ErrBadToken) {
		t.Fatalf("expired token: %v, want ErrBadToken", err)
	}

	api, err := s.CreateAPIToken(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByAPIToken(ctx, api); err != nil || got.ID != u.ID {
		t.Fatalf("api token lookup: %v %v", got, err)
	}
	if _, err := s.UserByAPIToken(ctx, "nope"); !errors.Is(err, models.ErrUnauthenticated) {
		t.Fatalf("bad api token: %v", err)
	}
}

func TestSetRole(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.s.SetRole(ctx, f.mod, f.alice.ID, models.RoleModerator); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("moderator changing roles: %v", err)
	}
	if err := f.s.SetRole(ctx, f.admin, f.alice.ID, "boss"); err == nil {
		t.Fatal("unknown role accepted")
	}
	if err := f.s.SetRole(ctx, f.admin, f.alice.ID, models.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.s.UserByID(ctx, f.alice.ID); u.Role != models.RoleModerator {
		t.Fatalf("role = %s", u.Role)
	}
	if err := f.s.SetRole(ctx, f.admin, f.admin.ID, models.RoleCommenter); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("demoting the last admin: %v, want ErrConflict", err)
	}
}

func TestSessionsEndServerSide(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, validUser())
	now := time.Now().UTC()
	s.SetClock(func() time.Time { return now })
	if err := s.SaveSession(ctx, "sid-1", &u.ID, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "sid-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSession(ctx, "sid-2", &u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "sid-2"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	// Absolute timeout: active every day, still ends.
	if err := s.SaveSession(ctx, "sid-3", &u.ID, nil); err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 31; d++ {
		now = now.Add(24 * time.Hour)
		_ = s.SaveSession(ctx, "sid-3", &u.ID, nil)
	}
	if _, err := s.LoadSession(ctx, "sid-3"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("session past absolute timeout: %v", err)
	}
}

func TestRateLimitWindows(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	l := models.Limit{Max: 3, Window: time.Minute}
	for i := 0; i < 3; i++ {
		if err := s.Hit(ctx, "k", l); err != nil {
			t.Fatalf("hit %d: %v", i, err)
		}
	}
	var rl *models.RateLimitError
	if err := s.Hit(ctx, "k", l); !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Fatalf("4th hit: %v", err)
	}
	if err := s.Check(ctx, "k", l); !errors.As(err, &rl) {
		t.Fatalf("check after limit: %v", err)
	}
	if err := s.Hit(ctx, "other", l); err != nil {
		t.Fatalf("other key: %v", err)
	}
	now = now.Add(time.Minute)
	if err := s.Hit(ctx, "k", l); err != nil {
		t.Fatalf("next window: %v", err)
	}
}
