package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"margin/handlers"
	"margin/models"
)

const (
	hdrAdminEmail    = "admin@example.org"
	hdrAdminPassword = "admin passphrase"
	hdrModEmail      = "mod@example.org"
	hdrModPassword   = "moderator passphrase"
	hdrSlug          = "hdr-draft"
	hdrStaticFile    = "/static/margin.css"
)

// hdrPrivateRoutes are the routes whose signed-in answers carry personal
// data or exports: they must never be cached. They must exist in the
// router and answer 2xx to a signed-in moderator.
var hdrPrivateRoutes = []string{
	"/me/comments", "/moderation", "/admin", "/comments/:id", "/documents/:slug/export",
	"/api/v1/me", "/api/v1/documents/:slug/export",
}

// hdrEnv is a running Margin with one published comment and signed-in
// moderators and admins, on the web and on the API.
type hdrEnv struct {
	ts        *testServer
	commentID int64
	userID    int64
	browsers  map[string]*browser // "" anonymous, "moderator", "admin"
	tokens    map[string]string   // "moderator", "admin"
}

func newHdrEnv(t *testing.T) *hdrEnv {
	t.Helper()
	ts := newTestServer(t, map[string]string{
		"MARGIN_ADMIN_EMAIL": hdrAdminEmail, "MARGIN_ADMIN_PASSWORD": hdrAdminPassword,
	}, nil)
	ctx := context.Background()
	st := ts.app.store
	mod, err := st.CreateUser(ctx, models.NewUser{Name: "Hal Moderator", Email: hdrModEmail, Password: hdrModPassword, Role: models.RoleModerator, Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	com, err := st.CreateUser(ctx, models.NewUser{
		Name: "Hana Commenter", Email: "hana@example.org", Password: "commenter passphrase",
		StakeholderGroup: "academia", Country: "JP", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.CreateDocument(ctx, mod, models.NewDocument{Title: "Header draft", Slug: hdrSlug, Source: "# Header draft\n\nA paragraph.\n\nAnother one.\n"})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.Paragraphs(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := st.CreateComment(ctx, com, d, models.NewComment{ParagraphIDs: []int64{ps[1].ID}, Body: "Published comment."}, models.CommentPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Decide(ctx, mod, cm.ID, models.StatusAccepted, "Thanks."); err != nil {
		t.Fatal(err)
	}
	admin, err := st.UserByEmail(ctx, hdrAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	e := &hdrEnv{ts: ts, commentID: cm.ID, userID: com.ID, browsers: map[string]*browser{"": ts.browser(t)}, tokens: map[string]string{}}
	for role, u := range map[string]*models.User{"moderator": mod, "admin": admin} {
		if e.tokens[role], err = st.CreateAPIToken(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.browsers["moderator"] = hdrSignIn(t, ts, hdrModEmail, hdrModPassword)
	e.browsers["admin"] = hdrSignIn(t, ts, hdrAdminEmail, hdrAdminPassword)
	return e
}

func hdrSignIn(t *testing.T, ts *testServer, email, password string) *browser {
	t.Helper()
	b := ts.browser(t)
	if p := b.post("/login", "/login", url.Values{"email": {email}, "password": {password}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in %s: %d", email, p.status)
	}
	return b
}

// hdrPath turns a route into a request path with real values, or reports
// that the route is a wildcard to skip.
func (e *hdrEnv) hdrPath(route string) (string, bool) {
	switch {
	case route == "/static/*":
		return hdrStaticFile, true
	case route == "" || strings.Contains(route, "*"):
		return "", false
	}
	segs := strings.Split(route, "/")
	for i, s := range segs {
		name, ok := strings.CutPrefix(s, ":")
		if !ok {
			continue
		}
		prev := ""
		if i > 0 {
			prev = segs[i-1]
		}
		switch {
		case name == "slug":
			segs[i] = hdrSlug
		case prev == "users":
			segs[i] = strconv.FormatInt(e.userID, 10)
		case prev == "comments":
			segs[i] = strconv.FormatInt(e.commentID, 10)
		case name == "number":
			segs[i] = "1"
		default:
			// An unknown parameter still gets a request: a 404 must carry
			// the headers too.
			segs[i] = "1"
		}
	}
	return strings.Join(segs, "/"), true
}

// hdrReq is one request of the walk.
type hdrReq struct {
	label   string
	method  string
	path    string
	as      string // "" anonymous, "moderator", "admin"
	private bool   // must carry Cache-Control: no-store
	want    []int  // statuses expected; nil for any below 500
	prefer  int    // the status HTTP semantics ask for; another one is logged as a note
	ctype   string
	body    []byte
	header  map[string]string
}

// hdrRequests builds the walk from the router, so a new route is covered
// without editing this test, plus the error pages.
func (e *hdrEnv) hdrRequests(t *testing.T) (reqs []hdrReq, routes int) {
	t.Helper()
	rs := e.ts.app.echo.Routes()
	slices.SortFunc(rs, func(a, b *echo.Route) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	have := map[string]bool{}
	var skipped []string
	for _, r := range rs {
		path, ok := e.hdrPath(r.Path)
		if !ok {
			skipped = append(skipped, r.Method+" "+r.Path)
			continue
		}
		routes++
		have[r.Path] = true
		static := strings.HasPrefix(path, "/static/")
		switch r.Method {
		case http.MethodGet:
			reqs = append(reqs, hdrReq{label: "GET " + r.Path, method: "GET", path: path})
			for _, as := range []string{"moderator", "admin"} {
				q := hdrReq{label: "GET " + r.Path, method: "GET", path: path, as: as, private: !static}
				if slices.Contains(hdrPrivateRoutes, r.Path) {
					q.want = []int{200}
				}
				reqs = append(reqs, q)
			}
		case echo.RouteNotFound:
			reqs = append(reqs, hdrReq{label: "GET " + r.Path + " (group not found)", method: "GET", path: path})
		default:
			// Without credentials: refused (401, 403, 404, 415, …), or a
			// form page; either way the headers must be there.
			reqs = append(reqs, hdrReq{label: r.Method + " " + r.Path, method: r.Method, path: path})
			// The wrong method on a write route.
			reqs = append(reqs, hdrReq{label: "GET on " + r.Method + " " + r.Path, method: "GET", path: path})
		}
	}
	for _, p := range hdrPrivateRoutes {
		if !have[p] {
			t.Errorf("private route %s is not in the router", p)
		}
	}
	t.Logf("skipped wildcard routes: %v", skipped)

	big := bytes.Repeat([]byte("a"), int(handlers.DefaultLimits().MaxRequestBytes)+1)
	bigJSON := []byte(`{"name":"` + strings.Repeat("a", int(handlers.DefaultLimits().MaxJSONBytes)) + `"}`)
	reqs = append(reqs,
		hdrReq{label: "404 page", method: "GET", path: "/no-such-page", want: []int{404}},
		hdrReq{label: "404 page, signed in", method: "GET", path: "/no-such-page", as: "moderator", want: []int{404}, private: true},
		hdrReq{label: "404 API", method: "GET", path: "/api/v1/no-such-thing", want: []int{404}},
		hdrReq{label: "404 document", method: "GET", path: "/documents/no-such-document", want: []int{404}},
		hdrReq{label: "404 static", method: "GET", path: "/static/no-such-file.css", want: []int{404}},
		// Echo answers a wrong method with 404 while a group's catch-all
		// route exists; either page must carry the headers.
		hdrReq{label: "wrong method page", method: "GET", path: "/logout", want: []int{404, 405}, prefer: 405},
		hdrReq{label: "wrong method API", method: "PUT", path: "/api/v1/me", want: []int{404, 405}, prefer: 405},
		hdrReq{label: "wrong method static", method: "POST", path: hdrStaticFile, want: []int{404, 405}, prefer: 405},
		hdrReq{label: "403 CSRF failure", method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded",
			body: []byte("email=a%40example.org&password=x"), want: []int{403}},
		hdrReq{label: "403 CSRF failure, signed in", method: "POST", path: fmt.Sprintf("/comments/%d/decision", e.commentID), as: "moderator",
			ctype: "application/x-www-form-urlencoded", body: []byte("status=deferred"), want: []int{403}},
		hdrReq{label: "403 role", method: "GET", path: "/api/v1/users", as: "moderator", want: []int{403}},
		hdrReq{label: "401 API bad token", method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Bearer nope"}, want: []int{401}},
		hdrReq{label: "413 API", method: "POST", path: "/api/v1/register", ctype: "application/json", body: bigJSON, want: []int{413}},
		hdrReq{label: "413 page", method: "POST", path: "/register", ctype: "application/x-www-form-urlencoded", body: big, want: []int{413}},
		hdrReq{label: "HEAD page", method: "HEAD", path: "/", prefer: 200},
		hdrReq{label: "HEAD static", method: "HEAD", path: hdrStaticFile, prefer: 200},
		hdrReq{label: "web export as CSV, signed in", method: "GET", path: "/documents/" + hdrSlug + "/export?format=csv&status=all", as: "moderator", want: []int{200}, private: true},
		hdrReq{label: "API export as JSON, signed in", method: "GET", path: "/api/v1/documents/" + hdrSlug + "/export?format=json&status=all", as: "moderator", want: []int{200}, private: true},
	)
	return reqs, routes
}

// send makes one request as its caller: web pages with the caller's
// session, the API with the caller's token.
func (e *hdrEnv) send(t *testing.T, q hdrReq) page {
	t.Helper()
	var req *http.Request
	if q.body != nil {
		req, _ = http.NewRequest(q.method, e.ts.URL+q.path, bytes.NewReader(q.body))
	} else {
		req, _ = http.NewRequest(q.method, e.ts.URL+q.path, nil)
	}
	if q.ctype != "" {
		req.Header.Set("Content-Type", q.ctype)
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	b := e.browsers[""]
	if q.as != "" {
		if strings.HasPrefix(q.path, "/api/") {
			req.Header.Set("Authorization", "Bearer "+e.tokens[q.as])
		} else {
			b = e.browsers[q.as]
		}
	}
	return b.do(req)
}

// hdrProblems lists what is missing from a response's headers.
func hdrProblems(h http.Header, private bool) []string {
	var out []string
	if csp := h.Get("Content-Security-Policy"); csp == "" {
		out = append(out, "no Content-Security-Policy")
	} else {
		dirs := map[string][]string{}
		for _, d := range strings.Split(csp, ";") {
			if f := strings.Fields(d); len(f) > 0 {
				dirs[strings.ToLower(f[0])] = f[1:]
			}
		}
		script, ok := dirs["script-src"]
		if !ok {
			script, ok = dirs["default-src"]
		}
		switch {
		case !ok:
			out = append(out, "CSP has neither script-src nor default-src")
		case slices.Contains(script, "'unsafe-inline'"):
			out = append(out, "CSP script-src allows 'unsafe-inline'")
		}
		if fa := dirs["frame-ancestors"]; !slices.Equal(fa, []string{"'none'"}) {
			out = append(out, fmt.Sprintf("CSP frame-ancestors is %q, want 'none'", fa))
		}
	}
	if v := h.Get("X-Content-Type-Options"); !strings.EqualFold(v, "nosniff") {
		out = append(out, fmt.Sprintf("X-Content-Type-Options %q, want nosniff", v))
	}
	if h.Get("Referrer-Policy") == "" {
		out = append(out, "no Referrer-Policy")
	}
	if v := h.Get("X-Frame-Options"); !strings.EqualFold(v, "DENY") {
		out = append(out, fmt.Sprintf("X-Frame-Options %q, want DENY", v))
	}
	if private && !slices.Contains(hdrCacheDirectives(h), "no-store") {
		out = append(out, fmt.Sprintf("Cache-Control %q, want no-store", h.Get("Cache-Control")))
	}
	return out
}

// hdrChecksPerResponse is how many header checks hdrProblems makes on a
// response (one more when it is private).
const hdrChecksPerResponse = 6

func hdrCacheDirectives(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			out = append(out, strings.ToLower(strings.TrimSpace(d)))
		}
	}
	return out
}

// TestHdrEveryRoute walks every route of the router, signed out and signed
// in, and the error pages, and checks the security headers on each answer.
func TestHdrEveryRoute(t *testing.T) {
	e := newHdrEnv(t)
	reqs, routes := e.hdrRequests(t)
	var missing []string
	checks := 0
	for _, q := range reqs {
		p := e.send(t, q)
		who := q.as
		if who == "" {
			who = "anonymous"
		}
		where := fmt.Sprintf("%s [%s %s as %s] %d", q.label, q.method, q.path, who, p.status)
		checks += hdrChecksPerResponse
		if q.private {
			checks++
		}
		t.Logf("%s", where)
		probs := hdrProblems(p.header, q.private)
		switch {
		case p.status >= 500:
			probs = append(probs, "server error")
		case q.want != nil && !slices.Contains(q.want, p.status):
			probs = append(probs, fmt.Sprintf("status %d, want %v", p.status, q.want))
		}
		if q.prefer != 0 && p.status != q.prefer {
			t.Logf("note: %s, HTTP semantics suggest %d", where, q.prefer)
		}
		if strings.HasPrefix(q.path, "/static/") && p.status == 200 && !slices.Contains(hdrCacheDirectives(p.header), "public") {
			t.Logf("note: %s has Cache-Control %q", where, p.header.Get("Cache-Control"))
		}
		for _, pr := range probs {
			missing = append(missing, where+": "+pr)
		}
	}
	t.Logf("%d routes, %d requests, %d header checks", routes, len(reqs), checks)
	if len(missing) > 0 {
		t.Errorf("%d problems on the walk of %d routes:\n  %s", len(missing), routes, strings.Join(missing, "\n  "))
	}
}

// TestHdrProblems checks the checker on headers that lack each item.
func TestHdrProblems(t *testing.T) {
	good := http.Header{}
	good.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; frame-ancestors 'none'")
	good.Set("X-Content-Type-Options", "nosniff")
	good.Set("Referrer-Policy", "same-origin")
	good.Set("X-Frame-Options", "DENY")
	good.Set("Cache-Control", "no-store")
	tests := []struct {
		name    string
		key     string
		value   string // "" deletes the header
		private bool
		want    string
	}{
		{"complete", "", "", true, ""},
		{"no CSP", "Content-Security-Policy", "", false, "no Content-Security-Policy"},
		{"unsafe-inline script", "Content-Security-Policy", "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'", false, "unsafe-inline"},
		{"unsafe-inline default", "Content-Security-Policy", "default-src 'unsafe-inline'; frame-ancestors 'none'", false, "unsafe-inline"},
		{"framing allowed", "Content-Security-Policy", "script-src 'self'; frame-ancestors 'self'", false, "frame-ancestors"},
		{"no nosniff", "X-Content-Type-Options", "", false, "X-Content-Type-Options"},
		{"no referrer policy", "Referrer-Policy", "", false, "Referrer-Policy"},
		{"frame options", "X-Frame-Options", "SAMEORIGIN", false, "X-Frame-Options"},
		{"cacheable private page", "Cache-Control", "private, max-age=60", true, "no-store"},
		{"cacheable public page", "Cache-Control", "public, max-age=60", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := good.Clone()
			if tc.key != "" {
				h.Del(tc.key)
				if tc.value != "" {
					h.Set(tc.key, tc.value)
				}
			}
			got := strings.Join(hdrProblems(h, tc.private), "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("hdrProblems = %q, want %q", got, tc.want)
			}
		})
	}
}
