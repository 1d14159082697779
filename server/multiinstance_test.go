package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"margin/internal/dbtest"
)

// TestTwoInstancesShareEverything runs two Margin servers on different
// loopback ports against one PostgreSQL database and drives the whole cycle
// across them: nothing may live in one instance's memory.
func TestTwoInstancesShareEverything(t *testing.T) {
	env := map[string]string{
		"MARGIN_DATABASE_URL":   dbtest.PostgresURL(t),
		"MARGIN_DATA_DIR":       t.TempDir(), // shared, like a mounted volume: the mail outbox
		"MARGIN_SESSION_SECRET": "a shared secret of at least thirty-two characters",
		"MARGIN_ADMIN_EMAIL":    "secretariat@example.org",
		"MARGIN_ADMIN_PASSWORD": "admin passphrase",
	}
	a := newTestServer(t, env, nil)
	b := newTestServer(t, env, nil)

	// One cookie jar, as one browser: cookies are per host, not per port,
	// so a session started on one instance is presented to the other.
	jar, _ := cookiejar.New(nil)
	on := func(ts *testServer) *browser {
		br := ts.browser(t)
		br.c.Jar = jar
		return br
	}
	userA, userB := on(a), on(b)

	// Register on A; confirm with the mailed link (either instance may send it).
	if p := userA.post("/register", "/register", url.Values{
		"name": {"Ana Lima"}, "email": {"ana@example.org"}, "password": {"ana passphrase"},
		"affiliation": {"NIC.br"}, "stakeholder_group": {"technical_community"}, "country": {"BR"},
	}); p.status != http.StatusAccepted {
		t.Fatalf("register on A: %d", p.status)
	}
	tok := a.verifyToken(t, "ana@example.org")
	if p := userB.post("/verify?token="+tok, "/verify", url.Values{"token": {tok}}); p.status != http.StatusOK {
		t.Fatalf("verify on B: %d %s", p.status, p.body)
	}

	// Sign in on B, comment on A.
	if p := userB.post("/login", "/login", url.Values{"email": {"ana@example.org"}, "password": {"ana passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign in on B: %d", p.status)
	}
	modJar, _ := cookiejar.New(nil)
	modA, modB := a.browser(t), b.browser(t)
	modA.c.Jar, modB.c.Jar = modJar, modJar
	if p := modA.post("/login", "/login", url.Values{"email": {"secretariat@example.org"}, "password": {"admin passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("moderator sign in on A: %d", p.status)
	}
	if p := modB.post("/admin", "/admin/documents", url.Values{"title": {"Shared draft"}, "slug": {"shared"}, "source": {"# Draft\n\nOne paragraph.\n"}}); p.status != http.StatusSeeOther {
		t.Fatalf("import on B: %d %s", p.status, p.body)
	}
	if p := userA.post("/documents/shared", "/documents/shared/comments", url.Values{"paragraphs": {"2"}, "body": {"Made on instance A."}}); p.status != http.StatusSeeOther {
		t.Fatalf("comment on A with a session from B: %d %s", p.status, p.body)
	}

	// Moderate on B, see the decision on A.
	queue := modB.get("/moderation")
	if !strings.Contains(queue.body, "Made on instance A.") {
		t.Fatal("the comment made on A is not in B's queue")
	}
	var items []struct{ ID int64 }
	var adminTok struct{ Token string }
	modB.api("POST", "/api/v1/tokens", "", map[string]string{"email": "secretariat@example.org", "password": "admin passphrase"}, &adminTok)
	modA.api("GET", "/api/v1/moderation/queue", adminTok.Token, nil, &items) // a token made on B works on A
	if len(items) != 1 {
		t.Fatalf("API queue on A has %d items", len(items))
	}
	if p := modB.post("/moderation", "/comments/"+strconv.FormatInt(items[0].ID, 10)+"/decision", url.Values{"status": {"accepted"}, "response": {"Decided on B."}}); p.status != http.StatusSeeOther {
		t.Fatalf("decide on B: %d %s", p.status, p.body)
	}
	if p := userA.get("/documents/shared"); !strings.Contains(p.body, "Decided on B.") {
		t.Fatal("A does not show the decision made on B")
	}

	// Sign out on B: A refuses the session at once.
	if p := userB.post("/me/comments", "/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("sign out on B: %d", p.status)
	}
	if p := userA.get("/me/comments"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Fatalf("A still accepts the session ended on B: %d", p.status)
	}

	// Rate limits hold across instances: failed sign-ins for one account,
	// spread over both, lock it after the configured number.
	max := a.app.limits().SignInPerAccount.Max
	for i := 0; i < max; i++ {
		br := []*browser{on(a), on(b)}[i%2]
		if p := br.post("/login", "/login", url.Values{"email": {"ana@example.org"}, "password": {"wrong password"}}); p.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d", i+1, p.status)
		}
	}
	for _, br := range []*browser{on(a), on(b)} {
		p := br.post("/login", "/login", url.Values{"email": {"ana@example.org"}, "password": {"ana passphrase"}})
		if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
			t.Fatalf("sign-in after %d failures spread over both instances: %d, want 429 with Retry-After", max, p.status)
		}
	}
}
