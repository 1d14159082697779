package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"margin/models"
)

// csrfRefusal is the text of the CSRF middleware's refusal page.
const csrfRefusal = "did not come from this site"

// csrfWebWrites lists the router's state-changing browser routes (any
// method but GET, outside /api/), so a new form route is covered at once.
func csrfWebWrites(ts *testServer) []string {
	var out []string
	for _, key := range authzRouteKeys(ts) {
		method, path, _ := strings.Cut(key, " ")
		if method == http.MethodGet || method == http.MethodHead || strings.HasPrefix(path, "/api/") {
			continue
		}
		out = append(out, key)
	}
	return out
}

// csrfSend sends form to target from b, with the token tok ("" for none)
// and the Sec-Fetch-Site value site ("" for none).
func csrfSend(b *browser, method, target string, form url.Values, tok, site string) page {
	b.t.Helper()
	if tok != "" {
		form.Set("_csrf", tok)
	}
	req, _ := http.NewRequest(method, b.base+target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	return b.do(req)
}

// TestCSRFWebWrites sends every state-changing browser route without a
// token, with a wrong one and cross-site (refused, nothing written), then
// with a valid token and as a same-origin fetch (accepted).
func TestCSRFWebWrites(t *testing.T) {
	e := authzNewEnv(t, authzRelaxedLimits(), false)
	e.browsers["admin"] = e.signIn("admin")
	routes := csrfWebWrites(e.ts)
	if len(routes) == 0 {
		t.Fatal("no state-changing browser routes in the router")
	}
	admin := e.browsers["admin"]
	anon := e.ts.browser(t)
	stranger := e.ts.browser(t) // another browser: its token is valid, but not for admin
	strangerTok := e.csrfToken(stranger)
	adminTok, anonTok := e.csrfToken(admin), e.csrfToken(anon)
	if strangerTok == adminTok || strangerTok == anonTok {
		t.Fatal("two browsers got the same CSRF token")
	}

	// Every refused request is built (its fixture made) first; then one
	// snapshot before and one after sending them all.
	type refused struct {
		route, who, name, method, target, tok, site string
		b                                           *browser
		form                                        url.Values
	}
	var reqs []refused
	for _, route := range routes {
		method, _, _ := strings.Cut(route, " ")
		for _, c := range []refused{
			{who: "admin", b: admin, name: "no token"},
			{who: "admin", b: admin, tok: strangerTok, name: "another browser's token"},
			{who: "admin", b: admin, tok: "forged-0123456789abcdef0123456789", name: "made-up token"},
			{who: "admin", b: admin, tok: adminTok, site: "cross-site", name: "valid token, Sec-Fetch-Site: cross-site"},
			{who: "admin", b: admin, site: "cross-site", name: "no token, Sec-Fetch-Site: cross-site"},
			{who: "anonymous", b: anon, name: "no token"},
			{who: "anonymous", b: anon, tok: strangerTok, name: "another browser's token"},
			{who: "anonymous", b: anon, tok: anonTok, site: "cross-site", name: "valid token, Sec-Fetch-Site: cross-site"},
		} {
			c.route, c.method = route, method
			c.target = e.concretePath(route, "pending", true)
			c.form, _ = e.body(route, c.who)
			reqs = append(reqs, c)
		}
	}
	db := csrfOpenDB(t, e.ts)
	before := csrfSnapshot(t, db)
	for _, c := range reqs {
		if p := csrfSend(c.b, c.method, c.target, c.form, c.tok, c.site); p.status != http.StatusForbidden {
			t.Errorf("%s as %s with %s: got %d, want 403 (refused)\n\t%s", c.route, c.who, c.name, p.status, authzSnippet(p))
		}
	}
	if diff := csrfDiff(before, csrfSnapshot(t, db)); diff != "" {
		t.Errorf("requests refused for CSRF wrote to the database:\n%s", diff)
	}

	// Accepted: a valid token, or a same-origin fetch without one. The
	// outcome past CSRF depends on the route (400 for a bad mail token,
	// 404 for /setup without its token), but is never the CSRF refusal.
	accepted := 0
	for _, route := range routes {
		for _, c := range []struct {
			tok  string
			site string
			name string
		}{
			{"valid", "", "a valid token"},
			{"", "same-origin", "Sec-Fetch-Site: same-origin and no token"},
		} {
			b := admin
			if route == "POST /logout" {
				b = e.signIn("admin")
			}
			tok := c.tok
			if tok == "valid" {
				tok = e.csrfToken(b)
			}
			method, _, _ := strings.Cut(route, " ")
			form, _ := e.body(route, "admin")
			p := csrfSend(b, method, e.concretePath(route, "pending", true), form, tok, c.site)
			if p.status == http.StatusForbidden || strings.Contains(p.body, csrfRefusal) || p.status >= 500 {
				t.Errorf("%s as admin with %s: got %d, want it past the CSRF check\n\t%s", route, c.name, p.status, authzSnippet(p))
				continue
			}
			accepted++
		}
	}
	t.Logf("CSRF routes checked: %d state-changing browser routes × 8 refusals + 2 acceptances (%d refused, %d accepted): %v", len(routes), len(reqs), accepted, routes)

	// The JSON API is exempt from CSRF tokens because it never takes the
	// session cookie alone for a write: a cross-site form that carries the
	// admin's cookie must not get through on any API write route.
	apiWrites := 0
	for _, key := range authzRouteKeys(e.ts) {
		method, path, _ := strings.Cut(key, " ")
		if method == http.MethodGet || !strings.HasPrefix(path, "/api/") {
			continue
		}
		apiWrites++
		form, _ := e.body(key, "admin")
		target := e.concretePath(key, "pending", true)
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain"} {
			req, _ := http.NewRequest(method, admin.base+target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			p := admin.do(req)
			if p.status < 400 {
				t.Errorf("%s as a cross-site %s form with the admin's cookie: got %d, want it refused", key, ct, p.status)
			}
		}
	}
	t.Logf("API write routes checked against cookie-only cross-site forms: %d", apiWrites)
}

// TestCSRFGetsHaveNoSideEffects GETs every GET route of the router, web
// and API, as each kind of caller, and checks that the database (every
// table, sessions and rate counters included) is exactly as before.
func TestCSRFGetsHaveNoSideEffects(t *testing.T) {
	e := authzNewEnv(t, nil, true) // signs everyone in before the first snapshot
	ctx := context.Background()
	// Live mail tokens: following a link must not spend it (mail scanners
	// follow links).
	verifyTok, err := e.st.NewEmailToken(ctx, e.users["unconfirmed"].ID, models.PurposeVerify, models.VerifyTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	resetTok, err := e.st.NewEmailToken(ctx, e.users["commenter"].ID, models.PurposeReset, models.ResetTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string][]string{
		"GET /verify":         {"/verify?token=" + verifyTok},
		"GET /password/reset": {"/password/reset?token=" + resetTok},
		"GET /setup":          {"/setup?token=guess"},
		"GET /moderation":     {"/moderation?status=accepted&document=" + authzSlug},
		"GET /documents/:slug/export": {
			"/documents/" + authzSlug + "/export?format=csv&status=all",
			"/documents/" + authzSlug + "/export?format=json&status=pending",
		},
		"GET /api/v1/documents/:slug/export": {"/api/v1/documents/" + authzSlug + "/export?format=md&status=all"},
		"GET /api/v1/moderation/queue":       {"/api/v1/moderation/queue?status=pending&limit=1"},
	}
	var gets []string
	for _, key := range authzRouteKeys(e.ts) {
		if strings.HasPrefix(key, "GET ") {
			gets = append(gets, key)
		}
	}
	roles := []string{"anonymous", "unconfirmed", "commenter", "other", "moderator", "admin"}

	// Paths first: concretePath does not write for GETs.
	paths := map[string][]string{}
	for _, key := range gets {
		paths[key] = append([]string{e.concretePath(key, "pending", false)}, extra[key]...)
		paths[key] = append(paths[key], e.concretePath(key, "private", false), e.concretePath(key, "published", false))
		slices.Sort(paths[key])
		paths[key] = slices.Compact(paths[key])
	}

	db := csrfOpenDB(t, e.ts)
	before := csrfSnapshot(t, db)
	pre := before
	requests := 0
	writers := map[string][]string{} // table → the requests that wrote it
	samples := map[string]string{}   // table → the first change seen
	writerRoutes := map[string][]string{}
	for _, key := range gets {
		_, route, _ := strings.Cut(key, " ")
		api := strings.HasPrefix(route, "/api/")
		for _, path := range paths[key] {
			for _, role := range roles {
				var p page
				if role == "anonymous" {
					p = e.ts.browser(t).get(path)
				} else {
					// The browser with its cookie, on pages and API alike.
					p = e.browsers[role].get(path)
				}
				requests++
				if p.status >= 500 {
					t.Errorf("GET %s as %s: %d", path, role, p.status)
				}
				if api && role != "anonymous" {
					// And with the bearer token.
					if p = e.api.api("GET", path, e.tokens[role], nil, nil); p.status >= 500 {
						t.Errorf("GET %s as %s (token): %d", path, role, p.status)
					}
					requests++
				}
				post := csrfSnapshot(t, db)
				for _, tb := range csrfChangedTables(pre, post) {
					if len(writers[tb]) == 0 {
						samples[tb] = fmt.Sprintf("GET %s as %s:\n%s", path, role, csrfDiff(map[string][]string{tb: pre[tb]}, map[string][]string{tb: post[tb]}))
					}
					writers[tb] = append(writers[tb], "GET "+path+" as "+role)
					if !slices.Contains(writerRoutes[tb], key) {
						writerRoutes[tb] = append(writerRoutes[tb], key)
					}
				}
				pre = post
			}
		}
	}
	// One report per table: which requests wrote it, and the first change.
	for _, tb := range slices.Sorted(maps.Keys(writers)) {
		w := writers[tb]
		shown := w
		if len(shown) > 12 {
			shown = append(slices.Clip(shown[:12]), fmt.Sprintf("… and %d more", len(w)-12))
		}
		t.Errorf("GETs wrote table %s: %d of %d requests, on routes %v\n\tfirst change, %s\n\trequests: %s",
			tb, len(w), requests, writerRoutes[tb], samples[tb], strings.Join(shown, "; "))
	}
	after := csrfSnapshot(t, db)
	if diff := csrfDiff(before, after); diff != "" {
		t.Errorf("the GETs changed the database (hash %s → %s):\n%s", csrfHash(before), csrfHash(after), diff)
	}
	// The tokens still work: the GETs did not spend them.
	if p := e.api.api("POST", "/api/v1/verify", "", map[string]string{"token": verifyTok}, nil); p.status != http.StatusOK {
		t.Errorf("verify token after GET /verify: %d %s", p.status, p.body)
	}
	t.Logf("GET routes checked for side effects: %d routes (%d paths) × %d roles, %d requests, %d tables", len(gets), csrfCountPaths(paths), len(roles), requests, len(before))
}

func csrfCountPaths(m map[string][]string) int {
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	return n
}

// csrfDB is the server's database pool and the query listing its tables.
type csrfDB struct {
	db     *sql.DB
	tables string
}

// csrfOpenDB returns the server's database (SQLite or PostgreSQL) for
// snapshots.
func csrfOpenDB(t *testing.T, ts *testServer) csrfDB {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if ts.app.store.Dialect() != models.SQLite {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	return csrfDB{db: ts.sqlDB(t), tables: q}
}

// csrfSnapshot returns every row of every table, as sorted strings per
// table.
func csrfSnapshot(t *testing.T, d csrfDB) map[string][]string {
	t.Helper()
	db := d.db
	rows, err := db.Query(d.tables)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	out := make(map[string][]string, len(tables))
	for _, tb := range tables {
		rs, err := db.Query(`SELECT * FROM "` + strings.ReplaceAll(tb, `"`, `""`) + `"`)
		if err != nil {
			t.Fatalf("snapshot %s: %v", tb, err)
		}
		cols, _ := rs.Columns()
		list := []string{}
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			for i, v := range vals {
				if i > 0 {
					sb.WriteString(" | ")
				}
				sb.WriteString(cols[i] + "=")
				if b, ok := v.([]byte); ok {
					if len(b) > 48 {
						sum := sha256.Sum256(b)
						fmt.Fprintf(&sb, "bytes[%d]:%s", len(b), hex.EncodeToString(sum[:6]))
						continue
					}
					fmt.Fprintf(&sb, "%q", b)
					continue
				}
				fmt.Fprintf(&sb, "%v", v)
			}
			list = append(list, sb.String())
		}
		rs.Close()
		sort.Strings(list)
		out[tb] = list
	}
	return out
}

// csrfHash is a short digest of a snapshot.
func csrfHash(s map[string][]string) string {
	h := sha256.New()
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", k, len(s[k]), strings.Join(s[k], "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// csrfChangedTables names the tables whose rows differ.
func csrfChangedTables(a, b map[string][]string) []string {
	var out []string
	for tb := range a {
		if !slices.Equal(a[tb], b[tb]) {
			out = append(out, tb)
		}
	}
	for tb := range b {
		if _, ok := a[tb]; !ok {
			out = append(out, tb)
		}
	}
	sort.Strings(out)
	return out
}

// csrfDiff describes the rows that differ between two snapshots, or "".
func csrfDiff(a, b map[string][]string) string {
	var out []string
	tables := map[string]bool{}
	for k := range a {
		tables[k] = true
	}
	for k := range b {
		tables[k] = true
	}
	names := make([]string, 0, len(tables))
	for k := range tables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, tb := range names {
		if slices.Equal(a[tb], b[tb]) {
			continue
		}
		gone, added := csrfMinus(a[tb], b[tb]), csrfMinus(b[tb], a[tb])
		out = append(out, fmt.Sprintf("\ttable %s: %d → %d rows", tb, len(a[tb]), len(b[tb])))
		for i, r := range gone {
			if i == 2 {
				out = append(out, fmt.Sprintf("\t  … %d more removed/changed", len(gone)-2))
				break
			}
			out = append(out, "\t  - "+r)
		}
		for i, r := range added {
			if i == 2 {
				out = append(out, fmt.Sprintf("\t  … %d more added/changed", len(added)-2))
				break
			}
			out = append(out, "\t  + "+r)
		}
	}
	return strings.Join(out, "\n")
}

// csrfMinus returns the rows of a not in b (multiset difference).
func csrfMinus(a, b []string) []string {
	left := map[string]int{}
	for _, r := range b {
		left[r]++
	}
	var out []string
	for _, r := range a {
		if left[r] > 0 {
			left[r]--
			continue
		}
		out = append(out, r)
	}
	return out
}
