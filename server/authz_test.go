package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"margin/handlers"
	"margin/models"
)

// The authorisation matrix: every route of the router, requested as each
// kind of caller, against the outcome the rules (docs, guards in
// handlers/routes.go, ownership rules in models/comments_own.go) call for.

const (
	authzSlug          = "authz-draft"
	authzStaticFile    = "/static/margin.css"
	authzAdminEmail    = "authz-admin@example.org"
	authzAdminPassword = "admin passphrase"
	// Markers in the fixture comments, so pages can be searched for them.
	authzPendingMark   = "AUTHZPENDING7c1f"
	authzPrivateMark   = "AUTHZPRIVATE93ab"
	authzPublishedMark = "AUTHZPUBLISHED5d2e"
	authzDraft         = "# Authz draft\n\nThe first paragraph.\n\nThe second paragraph.\n\nThe third paragraph.\n"
)

// authzRoles are the callers, in the order of authzRule.want.
var authzRoles = [...]string{"anonymous", "unconfirmed", "commenter", "other", "moderator", "admin"}

// authzAccount is a user of the matrix (the admin comes from the environment).
type authzAccount struct {
	name, email, password, role string
	verified                    bool
}

var authzAccounts = map[string]authzAccount{
	"unconfirmed": {"Una Unconfirmed", "una@example.org", "unconfirmed passphrase", models.RoleCommenter, false},
	"commenter":   {"Cora Commenter", "cora@example.org", "commenter passphrase", models.RoleCommenter, true},
	"other":       {"Otto Other", "otto@example.org", "other passphrase", models.RoleCommenter, true},
	"moderator":   {"Mona Moderator", "mona@example.org", "moderator passphrase", models.RoleModerator, true},
	"admin":       {"Administrator", authzAdminEmail, authzAdminPassword, models.RoleAdmin, true},
}

// authzWant is an expected outcome: a class, or an exact status code.
type authzWant int

const (
	// authzA: allowed, a 2xx or a 3xx that is not a sign-in redirect.
	authzA authzWant = 1
	// authzL: sign in first. Web GET: 303 to /login; web write: 401 (or
	// 303 to /login); API: 401.
	authzL authzWant = 2
	authzB authzWant = http.StatusBadRequest
	authzF authzWant = http.StatusForbidden
	authzN authzWant = http.StatusNotFound
	authzC authzWant = http.StatusConflict
)

func (w authzWant) String() string {
	switch w {
	case authzA:
		return "allow"
	case authzL:
		return "sign-in"
	}
	return strconv.Itoa(int(w))
}

// Common rows of outcomes, by caller: anonymous, unconfirmed, commenter,
// other commenter, moderator, admin.
var (
	authzEveryone  = [6]authzWant{authzA, authzA, authzA, authzA, authzA, authzA}
	authzSignedIn  = [6]authzWant{authzL, authzA, authzA, authzA, authzA, authzA}
	authzStaff     = [6]authzWant{authzL, authzF, authzF, authzF, authzA, authzA}
	authzAdminOnly = [6]authzWant{authzL, authzF, authzF, authzF, authzF, authzA}
	// Comments of "commenter" that others may not see (pending, private).
	authzOwnerOrStaff = [6]authzWant{authzN, authzN, authzA, authzN, authzA, authzA}
	// Changes to the commenter's pending comment: only the author, and
	// anyone else is told it does not exist.
	authzOwnerOnly = [6]authzWant{authzL, authzN, authzA, authzN, authzN, authzN}
	// The same on the commenter's private accepted comment: the author
	// learns it can no longer change; the others still see nothing.
	authzOwnerDecided = [6]authzWant{authzL, authzN, authzC, authzN, authzN, authzN}
	// The same on the other commenter's published comment.
	authzOtherDecided = [6]authzWant{authzL, authzN, authzN, authzC, authzN, authzN}
	authzAll400       = [6]authzWant{authzB, authzB, authzB, authzB, authzB, authzB}
	authzAll404       = [6]authzWant{authzN, authzN, authzN, authzN, authzN, authzN}
	authzVerified     = [6]authzWant{authzL, authzF, authzA, authzA, authzA, authzA}
)

// authzRule is one row of the matrix: a route of the router ("METHOD
// path"), the fixture its :id names when it has one, and the outcome for
// each caller.
type authzRule struct {
	route   string
	fixture string // "pending", "private", "published" for comment routes
	want    [6]authzWant
}

// authzRules is THE table. Every route must have a row, and every row a
// route. Preconditions: /setup has no live token (an admin exists);
// /verify and /password/reset get a token that is not valid.
var authzRules = []authzRule{
	{"GET /healthz", "", authzEveryone},
	{"GET /readyz", "", authzEveryone},
	{"GET /static/*", "", authzEveryone},

	// JSON API.
	{"GET /api/v1/openapi.json", "", authzEveryone},
	{"GET /api/v1/openapi.yaml", "", authzEveryone},
	{"POST /api/v1/register", "", authzEveryone},
	{"POST /api/v1/verify", "", authzAll400},
	{"POST /api/v1/tokens", "", authzEveryone},
	{"POST /api/v1/password/forgot", "", authzEveryone},
	{"POST /api/v1/password/reset", "", authzAll400},
	{"GET /api/v1/me", "", authzSignedIn},
	{"GET /api/v1/users", "", authzAdminOnly},
	{"POST /api/v1/users/:id/role", "", authzAdminOnly},
	{"GET /api/v1/documents", "", authzEveryone},
	{"POST /api/v1/documents", "", authzStaff},
	{"GET /api/v1/documents/:slug", "", authzEveryone},
	{"GET /api/v1/documents/:slug/comments", "", authzEveryone},
	{"GET /api/v1/documents/:slug/export", "", authzStaff},
	{"POST /api/v1/documents/:slug/comments", "", authzVerified},
	{"GET /api/v1/comments/:id", "pending", authzOwnerOrStaff},
	{"GET /api/v1/comments/:id", "private", authzOwnerOrStaff},
	{"GET /api/v1/comments/:id", "published", authzEveryone},
	{"PATCH /api/v1/comments/:id", "pending", authzOwnerOnly},
	{"PATCH /api/v1/comments/:id", "private", authzOwnerDecided},
	{"PATCH /api/v1/comments/:id", "published", authzOtherDecided},
	{"DELETE /api/v1/comments/:id", "pending", authzOwnerOnly},
	{"DELETE /api/v1/comments/:id", "private", authzOwnerDecided},
	{"DELETE /api/v1/comments/:id", "published", authzOtherDecided},
	{"POST /api/v1/comments/:id/decision", "pending", authzStaff},
	{"GET /api/v1/moderation/queue", "", authzStaff},

	// Web pages.
	{"GET /", "", authzEveryone},
	{"GET /register", "", authzEveryone},
	{"POST /register", "", authzEveryone},
	{"GET /setup", "", authzAll404},
	{"POST /setup", "", authzAll404},
	{"GET /login", "", authzEveryone},
	{"POST /login", "", authzEveryone},
	{"POST /logout", "", authzEveryone},
	{"GET /verify", "", authzEveryone},
	{"POST /verify", "", authzAll400},
	{"GET /password/forgot", "", authzEveryone},
	{"POST /password/forgot", "", authzEveryone},
	{"GET /password/reset", "", authzEveryone},
	{"POST /password/reset", "", authzAll400},
	{"GET /documents/:slug", "", authzEveryone},
	{"POST /documents/:slug/comments", "", authzVerified},
	{"GET /documents/:slug/export", "", authzStaff},
	{"GET /me/comments", "", authzSignedIn},
	{"GET /me/account", "", authzSignedIn},
	{"POST /me/password", "", authzSignedIn},
	{"GET /comments/:id", "pending", authzOwnerOrStaff},
	{"GET /comments/:id", "private", authzOwnerOrStaff},
	{"GET /comments/:id", "published", authzEveryone},
	{"POST /comments/:id/edit", "pending", authzOwnerOnly},
	{"POST /comments/:id/edit", "private", authzOwnerDecided},
	{"POST /comments/:id/edit", "published", authzOtherDecided},
	{"POST /comments/:id/withdraw", "pending", authzOwnerOnly},
	{"POST /comments/:id/withdraw", "private", authzOwnerDecided},
	{"POST /comments/:id/withdraw", "published", authzOtherDecided},
	{"POST /comments/:id/decision", "pending", authzStaff},
	{"GET /moderation", "", authzStaff},
	{"GET /admin", "", authzStaff},
	{"POST /admin/documents", "", authzStaff},
	{"POST /admin/users/:id/role", "", authzAdminOnly},
}

// authzEnv is a running Margin with the matrix's users, signed in on the
// web and holding API tokens, and its fixtures.
type authzEnv struct {
	t        *testing.T
	ts       *testServer
	st       *models.Store
	users    map[string]*models.User
	browsers map[string]*browser // signed-in browsers by role
	tokens   map[string]string   // API tokens by role
	csrf     map[*browser]string
	api      *browser // cookie-less client for the API
	doc      *models.Document
	paras    []models.Paragraph
	comments map[string]int64 // "pending", "private", "published"
	seq      int
}

// authzRelaxedLimits are the production limits with room for the matrix's
// many sign-ins, registrations and resets from one address: the matrix
// tests authorisation, not rate limits.
func authzRelaxedLimits() *handlers.Limits {
	l := handlers.DefaultLimits()
	for _, x := range []*models.Limit{
		&l.SignInPerAddress, &l.SignInPerAccount, &l.RegisterPerAddr, &l.VerifyPerAddr,
		&l.ResetPerAddr, &l.ResetPerAccount, &l.Comments.PerMinute, &l.Comments.PerDay,
	} {
		x.Max = 100000
	}
	return &l
}

// authzNewEnv starts a server with the users and fixtures; signIn says
// whether to sign the roles in on the web and get their API tokens.
func authzNewEnv(t *testing.T, limits *handlers.Limits, signIn bool) *authzEnv {
	t.Helper()
	ts := newTestServer(t, map[string]string{
		"MARGIN_ADMIN_EMAIL": authzAdminEmail, "MARGIN_ADMIN_PASSWORD": authzAdminPassword,
	}, limits)
	e := &authzEnv{
		t: t, ts: ts, st: ts.app.store, users: map[string]*models.User{},
		browsers: map[string]*browser{}, tokens: map[string]string{}, csrf: map[*browser]string{},
		api: ts.browser(t), comments: map[string]int64{},
	}
	ctx := context.Background()
	var err error
	if e.users["admin"], err = e.st.UserByEmail(ctx, authzAdminEmail); err != nil {
		t.Fatal(err)
	}
	for _, role := range authzRoles[1:5] {
		a := authzAccounts[role]
		u, err := e.st.CreateUser(ctx, models.NewUser{
			Name: a.name, Email: a.email, Password: a.password, Role: a.role, Verified: a.verified,
			Affiliation: "Authz Institute", StakeholderGroup: "academia", Country: "FR",
		})
		if err != nil {
			t.Fatalf("create %s: %v", role, err)
		}
		e.users[role] = u
	}
	if e.doc, err = e.st.CreateDocument(ctx, e.users["moderator"], models.NewDocument{Title: "Authz draft", Slug: authzSlug, Source: authzDraft}); err != nil {
		t.Fatal(err)
	}
	if e.paras, err = e.st.Paragraphs(ctx, e.doc); err != nil || len(e.paras) < 4 {
		t.Fatalf("paragraphs: %v (%d)", err, len(e.paras))
	}
	e.comments["pending"] = e.comment("commenter", 1, authzPendingMark+" awaits moderation.", models.VisibilityPublic, "")
	e.comments["private"] = e.comment("commenter", 2, authzPrivateMark+" is for the moderators only.", models.VisibilityPrivate, models.StatusAccepted)
	e.comments["published"] = e.comment("other", 1, authzPublishedMark+" is public.", models.VisibilityPublic, models.StatusAccepted)
	if signIn {
		for _, role := range authzRoles[1:] {
			e.browsers[role] = e.signIn(role)
			var tk struct{ Token string }
			a := authzAccounts[role]
			if p := e.api.api("POST", "/api/v1/tokens", "", map[string]string{"email": a.email, "password": a.password}, &tk); p.status != http.StatusCreated {
				t.Fatalf("token for %s: %d %s", role, p.status, p.body)
			}
			e.tokens[role] = tk.Token
		}
	}
	return e
}

// comment stores a comment by role on paragraph index i, decided as status
// unless status is empty (pending).
func (e *authzEnv) comment(role string, i int, body, visibility, status string) int64 {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.st.CreateComment(ctx, e.users[role], e.doc, models.NewComment{
		ParagraphIDs: []int64{e.paras[i].ID}, Body: body, Visibility: visibility,
	}, models.CommentPolicy{})
	if err != nil {
		e.t.Fatal(err)
	}
	if status != "" {
		if _, err := e.st.Decide(ctx, e.users["moderator"], c.ID, status, "Noted."); err != nil {
			e.t.Fatal(err)
		}
	}
	return c.ID
}

// signIn returns a new browser signed in as role on the web.
func (e *authzEnv) signIn(role string) *browser {
	e.t.Helper()
	a := authzAccounts[role]
	b := e.ts.browser(e.t)
	if p := b.post("/login", "/login", url.Values{"email": {a.email}, "password": {a.password}}); p.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in as %s: %d", role, p.status)
	}
	return b
}

// csrfToken returns b's CSRF token, read once from the sign-in form.
func (e *authzEnv) csrfToken(b *browser) string {
	if tok, ok := e.csrf[b]; ok {
		return tok
	}
	tok := b.csrf("/login")
	e.csrf[b] = tok
	return tok
}

// authzRouteKeys lists the router's routes as "METHOD path", leaving out
// Echo's not-found handlers of groups.
func authzRouteKeys(ts *testServer) []string {
	var keys []string
	for _, r := range ts.app.echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		keys = append(keys, r.Method+" "+r.Path)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// concretePath substitutes the route's parameters. For a write on a
// comment's "pending" fixture, a fresh pending comment is made, since a
// successful change uses the fixture up.
func (e *authzEnv) concretePath(route, fixture string, write bool) string {
	_, path, _ := strings.Cut(route, " ")
	if path == "/static/*" {
		return authzStaticFile
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		name, ok := strings.CutPrefix(s, ":")
		if !ok {
			continue
		}
		prev := segs[i-1]
		switch {
		case name == "slug":
			segs[i] = authzSlug
		case prev == "users":
			segs[i] = strconv.FormatInt(e.users["unconfirmed"].ID, 10)
		case prev == "comments":
			if fixture == "" {
				fixture = "pending"
			}
			id := e.comments[fixture]
			if write && fixture == "pending" {
				e.seq++
				id = e.comment("commenter", 1, fmt.Sprintf("Fresh pending comment %d.", e.seq), models.VisibilityPublic, "")
			}
			segs[i] = strconv.FormatInt(id, 10)
		default:
			segs[i] = "1"
		}
	}
	return strings.Join(segs, "/")
}

// unique returns a new suffix for e-mails and slugs.
func (e *authzEnv) unique() int {
	e.seq++
	return e.seq
}

// body is what a write route is sent as role: a realistic, valid request,
// so that the answer depends on who asks and not on what is sent.
func (e *authzEnv) body(route, role string) (url.Values, any) {
	own := authzAccounts[role]
	if role == "anonymous" {
		own = authzAccounts["commenter"] // an anonymous caller who knows a password
	}
	n := e.unique()
	regEmail := fmt.Sprintf("authz-reg-%d@example.org", n)
	slug := fmt.Sprintf("authz-doc-%d", n)
	switch route {
	case "POST /api/v1/register", "POST /register":
		f := url.Values{"name": {"Reg Istrant"}, "email": {regEmail}, "password": {"registrant passphrase"},
			"affiliation": {"Somewhere"}, "stakeholder_group": {"media"}, "country": {"DE"}}
		return f, authzFormJSON(f)
	case "POST /api/v1/verify", "POST /verify":
		f := url.Values{"token": {"not-a-valid-token"}}
		return f, authzFormJSON(f)
	case "POST /api/v1/tokens", "POST /login":
		f := url.Values{"email": {own.email}, "password": {own.password}}
		return f, authzFormJSON(f)
	case "POST /api/v1/password/forgot", "POST /password/forgot":
		email := own.email
		if role == "anonymous" {
			email = "nobody-" + strconv.Itoa(n) + "@example.org"
		}
		f := url.Values{"email": {email}}
		return f, authzFormJSON(f)
	case "POST /api/v1/password/reset", "POST /password/reset":
		f := url.Values{"token": {"not-a-valid-token"}, "password": {"a brand new passphrase"}}
		return f, authzFormJSON(f)
	case "POST /api/v1/users/:id/role", "POST /admin/users/:id/role":
		f := url.Values{"role": {models.RoleCommenter}}
		return f, authzFormJSON(f)
	case "POST /api/v1/documents":
		return nil, map[string]any{"title": "Authz upload", "slug": slug, "format": "markdown", "source": authzDraft}
	case "POST /admin/documents":
		return url.Values{"title": {"Authz import"}, "slug": {slug}, "format": {"markdown"}, "source": {authzDraft}}, nil
	case "POST /api/v1/documents/:slug/comments":
		return nil, map[string]any{"paragraph_ids": []int64{e.paras[1].ID}, "body": "A new comment.", "kind": "general"}
	case "POST /documents/:slug/comments":
		return url.Values{"paragraphs": {"2"}, "body": {"A new comment."}, "kind": {"general"}, "visibility": {"public"}}, nil
	case "PATCH /api/v1/comments/:id":
		return nil, map[string]any{"body": "An edited comment.", "kind": "editorial", "visibility": "public"}
	case "POST /comments/:id/edit":
		return url.Values{"body": {"An edited comment."}, "kind": {"editorial"}, "visibility": {"public"}}, nil
	case "POST /api/v1/comments/:id/decision", "POST /comments/:id/decision":
		f := url.Values{"status": {models.StatusAccepted}, "response": {"Thank you."}}
		return f, authzFormJSON(f)
	case "POST /me/password":
		// The same password again: a valid change that leaves the
		// account usable for the rest of the matrix.
		return url.Values{"current_password": {own.password}, "password": {own.password}}, nil
	case "POST /setup":
		return url.Values{"token": {"not-the-setup-token"}, "name": {"Eve"}, "email": {regEmail},
			"password": {"setup passphrase"}, "stakeholder_group": {"other"}, "country": {"FR"}}, nil
	}
	return url.Values{}, map[string]any{}
}

func authzFormJSON(f url.Values) map[string]string {
	m := make(map[string]string, len(f))
	for k := range f {
		m[k] = f.Get(k)
	}
	return m
}

// do sends route as role and returns the answer.
func (e *authzEnv) do(rule authzRule, role string) (page, string) {
	e.t.Helper()
	method, path, _ := strings.Cut(rule.route, " ")
	write := method != http.MethodGet
	target := e.concretePath(rule.route, rule.fixture, write)
	form, body := e.body(rule.route, role)
	if strings.HasPrefix(path, "/api/") {
		if !write {
			body = nil
		}
		return e.api.api(method, target, e.tokens[role], body, nil), target
	}
	var b *browser
	switch {
	case role == "anonymous":
		b = e.ts.browser(e.t)
	case rule.route == "POST /logout":
		b = e.signIn(role) // signing out must not cost the shared browser its session
	default:
		b = e.browsers[role]
	}
	if !write {
		return b.get(target), target
	}
	form.Set("_csrf", e.csrfToken(b))
	req, _ := http.NewRequest(method, b.base+target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req), target
}

// authzMatches says whether p is the outcome want.
func authzMatches(want authzWant, api bool, method string, p page) bool {
	loc := p.header.Get("Location")
	toLogin := p.status >= 300 && p.status < 400 && (loc == "/login" || strings.HasPrefix(loc, "/login?"))
	switch want {
	case authzA:
		return p.status >= 200 && p.status < 400 && !toLogin
	case authzL:
		switch {
		case api:
			return p.status == http.StatusUnauthorized
		case method == http.MethodGet:
			return p.status == http.StatusSeeOther && toLogin
		default:
			return p.status == http.StatusUnauthorized || (p.status == http.StatusSeeOther && toLogin)
		}
	}
	return p.status == int(want)
}

func authzSnippet(p page) string {
	s := p.body
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	if loc := p.header.Get("Location"); loc != "" {
		s = "Location: " + loc + " " + s
	}
	return s
}

// TestAuthzMatrix requests every route of the router as every kind of
// caller and checks the outcome against the table.
func TestAuthzMatrix(t *testing.T) {
	start := time.Now()
	e := authzNewEnv(t, authzRelaxedLimits(), true)

	// The table and the router must list the same routes.
	routes := authzRouteKeys(e.ts)
	ruled := map[string]bool{}
	for _, r := range authzRules {
		ruled[r.route] = true
		if !slices.Contains(routes, r.route) {
			t.Errorf("rule for %q, which is not a route of the router", r.route)
		}
	}
	for _, r := range routes {
		if !ruled[r] {
			t.Errorf("new route without an authorisation rule: %q (add a row to authzRules)", r)
		}
	}

	// What each caller may read, on the pristine fixtures.
	e.checkVisibility(t)

	requests := 0
	covered := map[string]bool{}
	for _, rule := range authzRules {
		if !slices.Contains(routes, rule.route) {
			continue
		}
		method, path, _ := strings.Cut(rule.route, " ")
		api := strings.HasPrefix(path, "/api/")
		for i, role := range authzRoles {
			p, target := e.do(rule, role)
			requests++
			covered[rule.route+" "+role] = true
			if want := rule.want[i]; !authzMatches(want, api, method, p) {
				label := rule.route
				if rule.fixture != "" {
					label += " [" + rule.fixture + "]"
				}
				t.Errorf("%s (%s %s) as %s: got %d, want %s\n\t%s", label, method, target, role, p.status, want, authzSnippet(p))
			}
		}
	}
	// The shared browsers are still who they were: a row did not sign one
	// out and make later rows pass for the wrong reason.
	for _, role := range authzRoles[1:] {
		var me struct{ Email string }
		if p := e.browsers[role].api("GET", "/api/v1/me", "", nil, &me); p.status != http.StatusOK || me.Email != authzAccounts[role].email {
			t.Errorf("after the matrix, the %s browser is no longer signed in as %s: %d %s", role, authzAccounts[role].email, p.status, p.body)
		}
	}
	t.Logf("routes × roles covered: %d routes × %d roles = %d route-role pairs (%d rows, %d requests) in %s",
		len(routes), len(authzRoles), len(covered), len(authzRules), requests, time.Since(start).Round(time.Millisecond))
}

// checkVisibility checks what each caller reads, beyond the status code:
// lists, counts and pages carry only the comments the caller may see.
func (e *authzEnv) checkVisibility(t *testing.T) {
	t.Helper()
	seesHidden := map[string]bool{"commenter": true, "moderator": true, "admin": true}
	for _, role := range authzRoles {
		hidden := seesHidden[role]
		// API list.
		var list []struct{ ID int64 }
		p := e.api.api("GET", "/api/v1/documents/"+authzSlug+"/comments", e.tokens[role], nil, &list)
		if p.status != http.StatusOK {
			t.Errorf("comment list as %s: %d", role, p.status)
		}
		got := map[int64]bool{}
		for _, c := range list {
			got[c.ID] = true
		}
		for fx, id := range e.comments {
			want := fx == "published" || hidden
			if got[id] != want {
				t.Errorf("GET /api/v1/documents/%s/comments as %s: %s comment #%d listed = %v, want %v", authzSlug, role, fx, id, got[id], want)
			}
		}
		// Counts in the API.
		wantCount := 1
		if hidden {
			wantCount = 3
		}
		var docs []struct {
			Slug         string
			CommentCount int `json:"comment_count"`
		}
		e.api.api("GET", "/api/v1/documents", e.tokens[role], nil, &docs)
		for _, d := range docs {
			if d.Slug == authzSlug && d.CommentCount != wantCount {
				t.Errorf("GET /api/v1/documents as %s: comment_count = %d, want %d", role, d.CommentCount, wantCount)
			}
		}
		var doc struct {
			Paragraphs []struct {
				CommentCount int `json:"comment_count"`
			}
		}
		e.api.api("GET", "/api/v1/documents/"+authzSlug, e.tokens[role], nil, &doc)
		sum := 0
		for _, para := range doc.Paragraphs {
			sum += para.CommentCount
		}
		if sum != wantCount {
			t.Errorf("GET /api/v1/documents/%s as %s: paragraph comment_count total = %d, want %d", authzSlug, role, sum, wantCount)
		}
		// Web pages.
		b := e.browsers[role]
		if role == "anonymous" {
			b = e.ts.browser(t)
		}
		pg := b.get("/documents/" + authzSlug)
		for mark, want := range map[string]bool{authzPendingMark: hidden, authzPrivateMark: hidden, authzPublishedMark: true} {
			if strings.Contains(pg.body, mark) != want {
				t.Errorf("GET /documents/%s as %s: shows %s = %v, want %v", authzSlug, role, mark, !want, want)
			}
		}
		if role == "anonymous" {
			continue
		}
		// The user list (with e-mail addresses) is for admins only.
		if adm := b.get("/admin"); adm.status == http.StatusOK && role != "admin" && strings.Contains(adm.body, authzAccounts["other"].email) {
			t.Errorf("GET /admin as %s lists users' e-mail addresses; only admins manage users", role)
		}
		// My comments: one's own only.
		mine := b.get("/me/comments")
		for mark, owner := range map[string]string{authzPendingMark: "commenter", authzPrivateMark: "commenter", authzPublishedMark: "other"} {
			if want := owner == role; strings.Contains(mine.body, mark) != want {
				t.Errorf("GET /me/comments as %s: shows %s's comment %s = %v, want %v", role, owner, mark, !want, want)
			}
		}
	}
	// A comment the caller may not see is not in the JSON either.
	var one map[string]any
	if p := e.api.api("GET", "/api/v1/comments/"+strconv.FormatInt(e.comments["pending"], 10), e.tokens["other"], nil, &one); p.status == http.StatusOK || strings.Contains(p.body, authzPendingMark) {
		t.Errorf("GET /api/v1/comments/{pending} as other: %d %s", p.status, p.body)
	}
	if raw, _ := json.Marshal(one); strings.Contains(string(raw), authzPendingMark) {
		t.Errorf("other commenter reads the pending comment: %s", raw)
	}
}
