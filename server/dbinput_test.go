package main

import (
	"net/http"
	"net/url"
	"testing"
)

// TestLookupsWithNULNeverReachTheDatabase sends NUL bytes and invalid
// UTF-8 in fields that are only looked up, never stored (sign-in e-mail,
// reset e-mail, slugs, filters). PostgreSQL answers such parameters with an
// error, so each must be refused before the query: a 4xx, never a 500, on
// both databases.
func TestLookupsWithNULNeverReachTheDatabase(t *testing.T) {
	ts := newTestServer(t, map[string]string{"MARGIN_ADMIN_EMAIL": "admin@example.org", "MARGIN_ADMIN_PASSWORD": "admin passphrase"}, nil)
	b := ts.browser(t)
	var tok struct{ Token string }
	b.api("POST", "/api/v1/tokens", "", map[string]string{"email": "admin@example.org", "password": "admin passphrase"}, &tok)
	bad := []string{"a\x00@example.org", "caf\xe9@example.org"}
	for _, email := range bad {
		if p := b.post("/login", "/login", url.Values{"email": {email}, "password": {"whatever pass"}}); p.status != http.StatusUnauthorized {
			t.Errorf("web sign-in with %q: %d, want 401", email, p.status)
		}
		if p := b.post("/password/forgot", "/password/forgot", url.Values{"email": {email}}); p.status != http.StatusAccepted {
			t.Errorf("reset request with %q: %d, want 202", email, p.status)
		}
	}
	if p := b.api("POST", "/api/v1/tokens", "", map[string]string{"email": "a\x00@example.org", "password": "whatever pass"}, nil); p.status != http.StatusUnauthorized {
		t.Errorf("API token with NUL e-mail: %d, want 401", p.status)
	}
	for _, path := range []string{
		"/api/v1/moderation/queue?document=%00",
		"/api/v1/documents/%C3%28/export?format=csv",
		"/api/v1/documents/x%00y/comments",
	} {
		if p := b.api("GET", path, tok.Token, nil, nil); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.status)
		}
	}
}
