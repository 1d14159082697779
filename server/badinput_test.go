package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"margin/handlers"
	"margin/models"
)

// badDraft is the document the bad-input tests comment on: six paragraphs.
const badDraft = `# Consultation on bad input

## Scope

The first paragraph of the scope.

The second paragraph of the scope.

- A list item.
- Another list item.
`

const (
	badSlug          = "bad-draft"
	badAdminEmail    = "admin@example.org"
	badAdminPassword = "admin passphrase"
	badModEmail      = "mod@example.org"
	badModPassword   = "moderator passphrase"
	badUserEmail     = "carl@example.org"
	badUserPassword  = "commenter passphrase"
	badPassword      = "a fine passphrase"
	// badFF marks where a request body gets the raw bytes 0xff 0xfe, which
	// are never valid UTF-8 (json.Marshal would replace them).
	badFF       = "~FFFE~"
	badBoundary = "badboundary7f3a9c"
)

// badTables are the tables a refused request must leave untouched.
var badTables = []string{"users", "email_tokens", "documents", "paragraphs", "comments", "comment_paragraphs", "comment_decisions"}

// badInternals are words that betray the implementation in a response.
// SELECT and INSERT are matched in capitals only: pages have <select>.
var badInternals = []struct {
	word     string
	foldCase bool
}{
	{"sqlite", true}, {"gorm", true}, {"panic", true}, {"goroutine", true},
	{"SELECT", false}, {"INSERT", false}, {"constraint failed", true}, {".go:", true},
}

// badEnv is a running Margin with a document, a pending comment and
// signed-in callers of each role.
type badEnv struct {
	ts        *testServer
	db        *sql.DB
	paraIDs   []int64
	pendingID int64
	userID    int64
	tokens    map[string]string   // bearer tokens: commenter, moderator, admin
	browsers  map[string]*browser // web sessions: web (commenter), modweb, anonweb
}

// newBadEnv starts Margin with the production body limits and no comment
// or registration rate limits (those would hide the case under test).
func newBadEnv(t *testing.T) *badEnv {
	t.Helper()
	limits := handlers.DefaultLimits()
	limits.Comments = models.CommentLimits{}
	limits.RegisterPerAddr = models.Limit{Max: 100000, Window: time.Hour}
	ts := newTestServer(t, map[string]string{
		"MARGIN_ADMIN_EMAIL": badAdminEmail, "MARGIN_ADMIN_PASSWORD": badAdminPassword,
	}, &limits)
	ctx := context.Background()
	st := ts.app.store
	mod, err := st.CreateUser(ctx, models.NewUser{
		Name: "Mona Moderator", Email: badModEmail, Password: badModPassword, Role: models.RoleModerator, Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	com, err := st.CreateUser(ctx, models.NewUser{
		Name: "Carl Commenter", Email: badUserEmail, Password: badUserPassword, Affiliation: "Example NGO",
		StakeholderGroup: "civil_society", Country: "KE", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.CreateDocument(ctx, mod, models.NewDocument{Title: "Bad input draft", Slug: badSlug, Format: models.FormatMarkdown, Source: badDraft})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.Paragraphs(ctx, d)
	if err != nil || len(ps) != 6 {
		t.Fatalf("paragraphs: %d, %v", len(ps), err)
	}
	e := &badEnv{ts: ts, userID: com.ID, tokens: map[string]string{}, browsers: map[string]*browser{}}
	for _, p := range ps {
		e.paraIDs = append(e.paraIDs, p.ID)
	}
	cm, err := st.CreateComment(ctx, com, d, models.NewComment{ParagraphIDs: []int64{ps[2].ID}, Body: "A pending comment."}, models.CommentPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	e.pendingID = cm.ID

	e.db = ts.sqlDB(t) // the server's own pool: SQLite or PostgreSQL

	// Tokens straight from the store: each sign-in costs an argon2id hash.
	admin, err := st.UserByEmail(ctx, badAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	for role, u := range map[string]*models.User{"commenter": com, "moderator": mod, "admin": admin} {
		if e.tokens[role], err = st.CreateAPIToken(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.browsers["web"] = badSignIn(t, ts, badUserEmail, badUserPassword)
	e.browsers["modweb"] = badSignIn(t, ts, badModEmail, badModPassword)
	e.browsers["anonweb"] = ts.browser(t)
	return e
}

// badSignIn returns a browser signed in on the web.
func badSignIn(t *testing.T, ts *testServer, email, password string) *browser {
	t.Helper()
	b := ts.browser(t)
	if p := b.post("/login", "/login", url.Values{"email": {email}, "password": {password}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in %s: %d", email, p.status)
	}
	return b
}

// counts returns the number of rows of each of badTables.
func (e *badEnv) counts(t *testing.T) map[string]int64 {
	t.Helper()
	out := make(map[string]int64, len(badTables))
	for _, tb := range badTables {
		var n int64
		if err := e.db.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

// badCase is one bad request and what the server must answer.
type badCase struct {
	name   string
	method string
	path   string
	ctype  string     // Content-Type; "" sends none (forms get theirs)
	body   []byte     // raw body; badFF is replaced by 0xff 0xfe
	form   url.Values // a web form, sent with the CSRF token of the caller
	as     string     // "" anonymous; a key of badEnv.tokens or badEnv.browsers
	want   []int      // acceptable statuses
	field  string     // the field the error must name (422)
	within time.Duration
}

// send makes the request of tc and times it (the CSRF token is fetched
// before the clock starts).
func (e *badEnv) send(t *testing.T, tc badCase) (page, time.Duration) {
	t.Helper()
	b := e.browsers[tc.as]
	if b == nil {
		b = e.browsers["anonweb"]
	}
	body, ctype := tc.body, tc.ctype
	if tc.form != nil {
		form := maps.Clone(tc.form)
		form.Set("_csrf", b.csrf("/login"))
		body = []byte(form.Encode())
		if ctype == "" {
			ctype = "application/x-www-form-urlencoded"
		}
	}
	body = bytes.ReplaceAll(body, []byte(badFF), []byte{0xff, 0xfe})
	var req *http.Request
	if body == nil {
		req, _ = http.NewRequest(tc.method, e.ts.URL+tc.path, nil)
	} else {
		req, _ = http.NewRequest(tc.method, e.ts.URL+tc.path, bytes.NewReader(body))
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if tok := e.tokens[tc.as]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	start := time.Now()
	p := b.do(req)
	return p, time.Since(start)
}

// badJSON marshals v (use badFF for invalid bytes).
func badJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// badMultipart builds a multipart/form-data body with badBoundary.
func badMultipart(fields map[string]string, fileName string, file []byte) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(badBoundary); err != nil {
		panic(err)
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		_ = w.WriteField(k, fields[k])
	}
	if fileName != "" {
		fw, _ := w.CreateFormFile("file", fileName)
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	return buf.Bytes()
}

const badMultipartType = "multipart/form-data; boundary=" + badBoundary

// badCases lists the bad requests. Every one must get a clear 4xx.
func badCases(e *badEnv) []badCase {
	lim := handlers.DefaultLimits()
	n := 0
	email := func() string { n++; return fmt.Sprintf("reg%d@example.org", n) }
	reg := func(over map[string]any) []byte {
		m := map[string]any{"name": "Reg User", "email": email(), "password": badPassword,
			"affiliation": "", "stakeholder_group": "academia", "country": "FR"}
		maps.Copy(m, over)
		return badJSON(m)
	}
	regForm := func(over map[string]string) url.Values {
		f := url.Values{"name": {"Reg User"}, "email": {email()}, "password": {badPassword},
			"stakeholder_group": {"academia"}, "country": {"FR"}}
		for k, v := range over {
			f.Set(k, v)
		}
		return f
	}
	cmt := func(over map[string]any) []byte {
		m := map[string]any{"paragraph_ids": []int64{e.paraIDs[2]}, "body": "A fair comment."}
		maps.Copy(m, over)
		return badJSON(m)
	}
	cmtForm := func(over map[string]string) url.Values {
		f := url.Values{"paragraphs": {"3"}, "body": {"A fair comment."}, "kind": {"general"}, "visibility": {"public"}}
		for k, v := range over {
			f.Set(k, v)
		}
		return f
	}
	doc := func(over map[string]any) []byte {
		m := map[string]any{"title": "Another draft", "format": "markdown", "source": "# Title\n\nText.\n"}
		maps.Copy(m, over)
		return badJSON(m)
	}
	dec := func(over map[string]any) []byte {
		m := map[string]any{"status": "deferred", "response": "Later."}
		maps.Copy(m, over)
		return badJSON(m)
	}
	const js = "application/json"
	api := "/api/v1/documents/" + badSlug + "/comments"
	web := "/documents/" + badSlug + "/comments"
	decide := fmt.Sprintf("/api/v1/comments/%d/decision", e.pendingID)
	webDecide := fmt.Sprintf("/comments/%d/decision", e.pendingID)
	big := func(n int) string { return strings.Repeat("a", n) }
	tooLong := func(n int) string { return strings.Repeat("é", n+1) } // runes, not bytes, count
	manyIDs := make([]int64, 10000)
	for i := range manyIDs {
		manyIDs[i] = int64(i + 1)
	}
	s413, s415, s422, s404 := []int{413}, []int{415}, []int{422}, []int{404}
	s400 := []int{400}
	// A body that is not valid UTF-8 JSON may be refused as malformed (400)
	// or as an invalid field (422); storing U+FFFD instead is a failure.
	s400or422 := []int{400, 422}
	return []badCase{
		// Oversized bodies.
		{name: "oversized/api comment JSON over 1 MiB", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"body": big(int(lim.MaxJSONBytes))}), want: s413},
		{name: "oversized/api register JSON over 1 MiB", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"affiliation": big(int(lim.MaxJSONBytes))}), want: s413},
		{name: "oversized/web comment form over the web limit", method: "POST", path: web, as: "web",
			form: cmtForm(map[string]string{"body": big(int(lim.MaxRequestBytes))}), want: s413},
		{name: "oversized/web register form over the web limit", method: "POST", path: "/register", as: "anonweb",
			form: regForm(map[string]string{"affiliation": big(int(lim.MaxRequestBytes))}), want: s413},
		{name: "oversized/api upload over MaxSourceBytes", method: "POST", path: "/api/v1/documents", ctype: badMultipartType, as: "moderator",
			body: badMultipart(map[string]string{"title": "Huge"}, "huge.md", []byte(big(models.MaxSourceBytes+1))), want: s413},
		{name: "oversized/api upload over the upload body limit", method: "POST", path: "/api/v1/documents", ctype: badMultipartType, as: "moderator",
			body: badMultipart(map[string]string{"title": "Huger"}, "huger.md", []byte(big(int(lim.MaxUploadBytes)))), want: s413},
		{name: "oversized/api JSON document source over MaxSourceBytes", method: "POST", path: "/api/v1/documents", ctype: js, as: "moderator",
			body: doc(map[string]any{"source": big(models.MaxSourceBytes + 1)}), want: s413},

		// Invalid UTF-8: the JSON decoder turns it into U+FFFD, forms keep it.
		{name: "utf8/api comment body", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"body": "bad " + badFF + " bytes"}), want: s400or422},
		{name: "utf8/api comment proposed_text", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"proposed_text": "bad " + badFF + " bytes"}), want: s400or422},
		{name: "utf8/api register name", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"name": "Eve " + badFF}), want: s400or422},
		{name: "utf8/api register affiliation", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"affiliation": "Org " + badFF}), want: s400or422},
		{name: "utf8/api document title", method: "POST", path: "/api/v1/documents", ctype: js, as: "moderator",
			body: doc(map[string]any{"title": "Title " + badFF}), want: s400or422},
		{name: "utf8/api decision response", method: "POST", path: decide, ctype: js, as: "moderator",
			body: dec(map[string]any{"response": "Later " + badFF}), want: s400or422},
		{name: "utf8/api comment body lone surrogate escape", method: "POST", path: api, ctype: js, as: "commenter",
			body: []byte(`{"paragraph_ids":[],"body":"half \ud800 a pair"}`), want: s400or422},
		{name: "utf8/web register name", method: "POST", path: "/register", as: "anonweb",
			form: regForm(map[string]string{"name": "Eve \xff\xfe"}), want: s422, field: "name"},
		{name: "utf8/web comment body", method: "POST", path: web, as: "web",
			form: cmtForm(map[string]string{"body": "bad \xff\xfe bytes"}), want: s422, field: "body"},

		// NUL bytes.
		{name: "nul/api comment body", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"body": "nul \x00 here"}), want: s422, field: "body"},
		{name: "nul/api comment proposed_text", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"proposed_text": "nul \x00 here"}), want: s422, field: "proposed_text"},
		{name: "nul/api register name", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"name": "Eve\x00"}), want: s422, field: "name"},
		{name: "nul/api register affiliation", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"affiliation": "Org\x00"}), want: s422, field: "affiliation"},
		{name: "nul/api document title", method: "POST", path: "/api/v1/documents", ctype: js, as: "moderator",
			body: doc(map[string]any{"title": "Title\x00"}), want: s422, field: "title"},
		{name: "nul/api document source", method: "POST", path: "/api/v1/documents", ctype: js, as: "moderator",
			body: doc(map[string]any{"title": "Nul source", "source": "# Title\n\nText \x00 here.\n"}), want: s422, field: "source"},
		{name: "nul/api upload file", method: "POST", path: "/api/v1/documents", ctype: badMultipartType, as: "moderator",
			body: badMultipart(map[string]string{"title": "Nul upload"}, "nul.md", []byte("# Title\n\nText \x00 here.\n")), want: s422},
		{name: "nul/api decision response", method: "POST", path: decide, ctype: js, as: "moderator",
			body: dec(map[string]any{"response": "Later\x00"}), want: s422, field: "response"},
		{name: "nul/web register name", method: "POST", path: "/register", as: "anonweb",
			form: regForm(map[string]string{"name": "Eve\x00"}), want: s422, field: "name"},
		{name: "nul/web comment body", method: "POST", path: web, as: "web",
			form: cmtForm(map[string]string{"body": "nul \x00 here"}), want: s422, field: "body"},
		{name: "nul/web decision response", method: "POST", path: webDecide, as: "modweb",
			form: url.Values{"status": {"deferred"}, "response": {"Later\x00"}}, want: s422, field: "response"},
		{name: "nul/web import title", method: "POST", path: "/admin/documents", as: "modweb",
			form: url.Values{"title": {"Title\x00"}, "format": {"markdown"}, "source": {"# T\n\nText.\n"}}, want: s422, field: "title"},

		// Too many paragraphs.
		{name: "paragraphs/api 10000 ids", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"paragraph_ids": manyIDs}), want: s422, field: "paragraph_ids", within: time.Second},
		{name: "paragraphs/api unknown id", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"paragraph_ids": []int64{-1}}), want: s422, field: "paragraph_ids"},
		{name: "paragraphs/web range 1-100000000", method: "POST", path: web, as: "web",
			form: cmtForm(map[string]string{"paragraphs": "1-100000000"}), want: s422, field: "paragraphs", within: time.Second},
		{name: "paragraphs/web range past int", method: "POST", path: web, as: "web",
			form: cmtForm(map[string]string{"paragraphs": "1-99999999999999999999"}), want: s422, field: "paragraphs", within: time.Second},

		// Deep JSON.
		{name: "deep/100000 nested arrays", method: "POST", path: api, ctype: js, as: "commenter",
			body: []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)), want: s400, within: time.Second},
		{name: "deep/100000 nested arrays in a field", method: "POST", path: api, ctype: js, as: "commenter",
			body: []byte(`{"body":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`), want: s400, within: time.Second},
		{name: "deep/100000 nested objects in register", method: "POST", path: "/api/v1/register", ctype: js,
			body: []byte(strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)), want: s400, within: time.Second},

		// Content types.
		{name: "ctype/text plain comment", method: "POST", path: api, ctype: "text/plain", as: "commenter", body: cmt(nil), want: s415},
		{name: "ctype/form register", method: "POST", path: "/api/v1/register", ctype: "application/x-www-form-urlencoded",
			body: []byte(regForm(nil).Encode()), want: s415},
		{name: "ctype/multipart tokens", method: "POST", path: "/api/v1/tokens", ctype: badMultipartType,
			body: badMultipart(map[string]string{"email": badUserEmail, "password": badUserPassword}, "", nil), want: s415},
		{name: "ctype/multipart decision", method: "POST", path: decide, ctype: badMultipartType, as: "moderator",
			body: badMultipart(map[string]string{"status": "accepted"}, "", nil), want: s415},
		{name: "ctype/form user role", method: "POST", path: fmt.Sprintf("/api/v1/users/%d/role", e.userID), ctype: "application/x-www-form-urlencoded", as: "admin",
			body: []byte("role=admin"), want: s415},
		{name: "ctype/missing on comment", method: "POST", path: api, as: "commenter", body: cmt(nil), want: s415},
		{name: "ctype/missing on register", method: "POST", path: "/api/v1/register", body: reg(nil), want: s415},
		{name: "ctype/text plain document", method: "POST", path: "/api/v1/documents", ctype: "text/plain", as: "moderator", body: doc(nil), want: s415},
		{name: "ctype/upload of an unsupported file", method: "POST", path: "/api/v1/documents", ctype: badMultipartType, as: "moderator",
			body: badMultipart(map[string]string{"title": "Exe"}, "draft.exe", []byte("MZ")), want: s415},
		{name: "json/malformed", method: "POST", path: api, ctype: js, as: "commenter", body: []byte(`{"body": "x",`), want: s400},
		{name: "json/trailing garbage", method: "POST", path: api, ctype: js, as: "commenter", body: []byte(`{"body":"x"} {"body":"y"}`), want: s400},
		{name: "json/array instead of object", method: "POST", path: api, ctype: js, as: "commenter", body: []byte(`[1,2,3]`), want: s400},
		{name: "json/paragraph_ids a string", method: "POST", path: api, ctype: js, as: "commenter",
			body: []byte(`{"paragraph_ids":"abc","body":"x"}`), want: []int{400, 422}},
		{name: "json/body a number", method: "POST", path: api, ctype: js, as: "commenter",
			body: []byte(`{"paragraph_ids":[],"body":123}`), want: []int{400, 422}},
		{name: "json/paragraph id past int64", method: "POST", path: api, ctype: js, as: "commenter",
			body: []byte(`{"paragraph_ids":[99999999999999999999],"body":"x"}`), want: []int{400, 422}},
		{name: "json/register email a list", method: "POST", path: "/api/v1/register", ctype: js,
			body: []byte(`{"name":"X","email":["a@example.org"],"password":"a fine passphrase"}`), want: []int{400, 422}},

		// Mail headers: names and addresses must stay on one line.
		{name: "mail/api register name with CRLF", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"name": "Eve\r\nBcc: victim@example.org"}), want: s422, field: "name"},
		{name: "mail/api register name with LF", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"name": "Eve\nBcc: victim@example.org"}), want: s422, field: "name"},
		{name: "mail/api register email with CRLF", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"email": "eve@example.org\r\nBcc: victim@example.org"}), want: s422, field: "email"},
		{name: "mail/web register name with CRLF", method: "POST", path: "/register", as: "anonweb",
			form: regForm(map[string]string{"name": "Eve\r\nBcc: victim@example.org"}), want: s422, field: "name"},

		// Path and query junk.
		{name: "path/web document NUL slug", method: "GET", path: "/documents/%00", want: s404},
		{name: "path/api document NUL slug", method: "GET", path: "/api/v1/documents/%00", want: s404},
		{name: "path/web document dot-dot slug", method: "GET", path: "/documents/..%2F..%2Fetc%2Fpasswd", want: s404},
		{name: "path/web comment abc", method: "GET", path: "/comments/abc", want: s404},
		{name: "path/web comment past int64", method: "GET", path: "/comments/99999999999999999999", want: s404},
		{name: "path/web comment zero", method: "GET", path: "/comments/0", want: s404},
		{name: "path/api comment -1", method: "GET", path: "/api/v1/comments/-1", want: s404},
		{name: "path/api comment past int64", method: "GET", path: "/api/v1/comments/99999999999999999999", want: s404},
		{name: "path/api decision on comment abc", method: "POST", path: "/api/v1/comments/abc/decision", ctype: js, as: "moderator",
			body: dec(nil), want: s404},
		{name: "path/web decision on comment past int64", method: "POST", path: "/comments/99999999999999999999/decision", as: "modweb",
			form: url.Values{"status": {"accepted"}}, want: s404},
		{name: "query/api queue cursor abc", method: "GET", path: "/api/v1/moderation/queue?cursor=abc", as: "moderator", want: []int{400, 422}},
		{name: "query/api queue cursor past int64", method: "GET", path: "/api/v1/moderation/queue?cursor=99999999999999999999", as: "moderator", want: []int{400, 422}},
		{name: "query/api queue limit abc", method: "GET", path: "/api/v1/moderation/queue?limit=abc", as: "moderator", want: []int{400, 422}},
		{name: "query/web queue cursor abc", method: "GET", path: "/moderation?cursor=abc", as: "modweb", want: []int{400, 422}},
		{name: "query/api comments paragraph_id abc", method: "GET", path: api + "?paragraph_id=abc", want: []int{400, 422}},
		{name: "query/api comments unknown status", method: "GET", path: api + "?status=bogus", want: []int{400, 422}},
		{name: "query/api export unknown format", method: "GET", path: "/api/v1/documents/" + badSlug + "/export?format=exe&status=all", as: "moderator", want: []int{400, 422}},
		{name: "query/api export unknown status", method: "GET", path: "/api/v1/documents/" + badSlug + "/export?format=csv&status=bogus", as: "moderator", want: []int{400, 422}},

		// Overlong fields.
		{name: "long/api register name", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"name": tooLong(models.MaxNameLength)}), want: s422, field: "name"},
		{name: "long/api register affiliation", method: "POST", path: "/api/v1/register", ctype: js,
			body: reg(map[string]any{"affiliation": tooLong(models.MaxAffiliationLength)}), want: s422, field: "affiliation"},
		{name: "long/api document title", method: "POST", path: "/api/v1/documents", ctype: js, as: "moderator",
			body: doc(map[string]any{"title": tooLong(models.MaxTitleLength)}), want: s422, field: "title"},
		{name: "long/api comment body", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"body": tooLong(models.MaxBodyLength)}), want: s422, field: "body"},
		{name: "long/api comment proposed_text", method: "POST", path: api, ctype: js, as: "commenter",
			body: cmt(map[string]any{"proposed_text": tooLong(models.MaxProposedLength)}), want: s422, field: "proposed_text"},
		{name: "long/api decision response", method: "POST", path: decide, ctype: js, as: "moderator",
			body: dec(map[string]any{"response": tooLong(models.MaxResponseLength)}), want: s422, field: "response"},
		{name: "long/web register name", method: "POST", path: "/register", as: "anonweb",
			form: regForm(map[string]string{"name": tooLong(models.MaxNameLength)}), want: s422, field: "name"},
		{name: "long/web comment body", method: "POST", path: web, as: "web",
			form: cmtForm(map[string]string{"body": tooLong(models.MaxBodyLength)}), want: s422, field: "body"},
	}
}

// TestBadInput sends each bad request and checks for a clear 4xx in the
// contract's shape, no leaked internals, and no row written.
func TestBadInput(t *testing.T) {
	e := newBadEnv(t)
	cases := badCases(e)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			p, took := e.send(t, tc)
			t.Logf("%s %.60s -> %d in %v", tc.method, tc.path, p.status, took.Round(time.Millisecond))
			if !slices.Contains(tc.want, p.status) {
				t.Errorf("%s %s: status %d, want %v; body %.300q", tc.method, tc.path, p.status, tc.want, p.body)
			}
			if tc.within > 0 && took > tc.within {
				t.Errorf("%s %s took %v, want under %v", tc.method, tc.path, took, tc.within)
			}
			badCheckInternals(t, p)
			if p.status >= 400 {
				if strings.HasPrefix(tc.path, "/api/") {
					badCheckAPIError(t, p, tc.field)
				} else {
					badCheckHTMLError(t, p, tc.field)
				}
			}
			if after := e.counts(t); !maps.Equal(before, after) {
				t.Errorf("%s %s (status %d) changed rows: before %v, after %v", tc.method, tc.path, p.status, before, after)
			}
		})
	}
	t.Logf("%d bad-input cases", len(cases))
}

// badCheckInternals fails when a response shows implementation details.
func badCheckInternals(t *testing.T, p page) {
	t.Helper()
	lower := strings.ToLower(p.body)
	for _, w := range badInternals {
		if w.foldCase && strings.Contains(lower, strings.ToLower(w.word)) || !w.foldCase && strings.Contains(p.body, w.word) {
			t.Errorf("response (status %d) leaks %q: %.300q", p.status, w.word, p.body)
		}
	}
}

// badCheckAPIError checks the contract's error body:
// {"error": {"code", "message", "fields"}}.
func badCheckAPIError(t *testing.T, p page, field string) {
	t.Helper()
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("API error Content-Type %q, want application/json", ct)
	}
	var body struct {
		Error *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(p.body), &body); err != nil || body.Error == nil {
		t.Errorf("API error body is not {\"error\": {...}}: %v %.300q", err, p.body)
		return
	}
	if want := codeNames[p.status]; want != "" && body.Error.Code != want {
		t.Errorf("error code %q for status %d, want %q", body.Error.Code, p.status, want)
	}
	if strings.TrimSpace(body.Error.Message) == "" {
		t.Errorf("error without a message: %s", p.body)
	}
	if field != "" && body.Error.Fields[field] == "" {
		t.Errorf("error names no problem with %q: %s", field, p.body)
	}
}

// badCheckHTMLError checks a web answer: an HTML page saying what is
// wrong, by the field when one is named.
func badCheckHTMLError(t *testing.T, p page, field string) {
	t.Helper()
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("web error Content-Type %q, want text/html", ct)
	}
	want := `class="lead"`
	if field != "" {
		want = `id="` + field + `-error"`
	}
	if !strings.Contains(p.body, want) {
		t.Errorf("web error page lacks %s: %.400q", want, p.body)
	}
}

// badFormulaStart reports whether a spreadsheet would read a cell starting
// like s as a formula.
func badFormulaStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.ContainsRune("=+-@\t\r＝＋－＠", r) && s != ""
}

// TestBadInputCSVFormulas stores formula-like text as names, affiliations,
// bodies, proposed texts and responses, and checks that the CSV export
// makes every such cell inert with a leading quote.
func TestBadInputCSVFormulas(t *testing.T) {
	e := newBadEnv(t)
	ts := e.ts
	payloads := []string{
		`=HYPERLINK("http://evil","x")`, `+cmd|' /C calc'!A0`, `-2+3`, `@SUM(1,1)`, "\t=1", "＝1",
		"＋1", "－1", "＠SUM(1)", `=1+1`,
	}
	c := ts.browser(t)
	ctx := context.Background()
	want := map[string]string{} // comment id -> stored text
	for i, pl := range payloads {
		// Users come from the store (the same validation as registration,
		// without a mail round trip per payload).
		u, err := ts.app.store.CreateUser(ctx, models.NewUser{
			Name: pl, Email: fmt.Sprintf("formula%d@example.org", i), Password: badPassword, Affiliation: pl,
			StakeholderGroup: "technical_community", Country: "DE", Verified: true,
		})
		if err != nil {
			t.Errorf("user with name %q: %v", pl, err)
			continue
		}
		tok, err := ts.app.store.CreateAPIToken(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var cm struct {
			ID   int64
			Body string
		}
		p := c.api("POST", "/api/v1/documents/"+badSlug+"/comments", tok, map[string]any{
			"paragraph_ids": []int64{e.paraIDs[2]}, "body": pl, "proposed_text": pl,
		}, &cm)
		stored := strings.TrimSpace(pl)
		if p.status != http.StatusCreated || cm.Body != stored {
			t.Errorf("comment %q: %d, stored %q, want 201 and %q", pl, p.status, cm.Body, stored)
			continue
		}
		if p = c.api("POST", fmt.Sprintf("/api/v1/comments/%d/decision", cm.ID), e.tokens["moderator"],
			map[string]string{"status": "accepted", "response": pl}, nil); p.status != http.StatusOK {
			t.Errorf("decide with response %q: %d %s", pl, p.status, p.body)
			continue
		}
		want[strconv.FormatInt(cm.ID, 10)] = stored
	}

	p := c.api("GET", "/api/v1/documents/"+badSlug+"/export?format=csv&status=all", e.tokens["moderator"], nil, nil)
	if p.status != http.StatusOK {
		t.Fatalf("csv export: %d %s", p.status, p.body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("csv export does not parse: %v, %d rows", err, len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	textCols := []string{"author", "affiliation", "comment", "proposed_text", "response"}
	for _, h := range append([]string{"comment_id"}, textCols...) {
		if _, ok := col[h]; !ok {
			t.Fatalf("csv header %q lacks %q", rows[0], h)
		}
	}
	seen := 0
	for r, row := range rows[1:] {
		for i, cell := range row {
			if badFormulaStart(cell) {
				t.Errorf("csv row %d, column %s = %q: starts a formula", r+1, rows[0][i], cell)
			}
		}
		stored, ok := want[row[col["comment_id"]]]
		if !ok {
			continue
		}
		seen++
		for _, h := range textCols {
			if got := row[col[h]]; got != "'"+stored {
				t.Errorf("csv comment %s, column %s = %q, want %q", row[col["comment_id"]], h, got, "'"+stored)
			}
		}
	}
	if seen != len(want) || len(want) != len(payloads) {
		t.Errorf("csv export has %d of the %d formula comments (%d payloads stored)", seen, len(want), len(payloads))
	}
}

// TestBadInputMailHeaders checks that names used in mail cannot add
// headers: a line break is refused, other text is encoded into the one To.
func TestBadInputMailHeaders(t *testing.T) {
	e := newBadEnv(t)
	ts := e.ts
	c := ts.browser(t)
	register := func(name, addr string) page {
		t.Helper()
		return c.api("POST", "/api/v1/register", "", map[string]string{
			"name": name, "email": addr, "password": badPassword, "stakeholder_group": "media", "country": "GB",
		}, nil)
	}

	for _, name := range []string{"Eve\r\nBcc: victim@example.org", "Eve\rBcc: victim@example.org", "Eve\nBcc: victim@example.org"} {
		before, mails := e.counts(t), len(ts.outbox(t))
		if p := register(name, "eve0@example.org"); p.status != http.StatusUnprocessableEntity {
			t.Errorf("register name %q: %d, want 422", name, p.status)
		} else {
			badCheckAPIError(t, p, "name")
		}
		if !maps.Equal(before, e.counts(t)) || len(ts.outbox(t)) != mails {
			t.Errorf("refused registration of %q wrote rows or mail", name)
		}
	}

	for i, name := range []string{"Eve Bcc: x", "Eve <bcc@example.org>, victim@example.org", "Eve\u2028Bcc: victim@example.org", "Ève Bcc: victim@example.org"} {
		addr := fmt.Sprintf("eve%d@example.org", i+1)
		mails := len(ts.outbox(t))
		p := register(name, addr)
		if p.status == http.StatusUnprocessableEntity {
			continue // refusing is fine too
		}
		if p.status != http.StatusAccepted {
			t.Errorf("register name %q: %d %s", name, p.status, p.body)
			continue
		}
		out := ts.outbox(t)
		if len(out) != mails+1 {
			t.Fatalf("register %q: %d new mails, want 1", name, len(out)-mails)
		}
		badCheckMail(t, out[len(out)-1], addr, "Confirm your e-mail address")
	}
}

// badCheckMail parses an outbox mail and checks it has one recipient, no
// Cc or Bcc, and the expected To address and Subject.
func badCheckMail(t *testing.T, raw, addr, subject string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("mail does not parse: %v\n%s", err, raw)
	}
	if to := m.Header["To"]; len(to) != 1 {
		t.Errorf("mail has %d To headers, want 1:\n%s", len(to), raw)
	}
	for _, h := range []string{"Bcc", "Cc", "Reply-To"} {
		if v, ok := m.Header[h]; ok {
			t.Errorf("mail has a %s header %q", h, v)
		}
	}
	for _, h := range []string{"From", "Subject", "Date", "Message-Id"} {
		if len(m.Header[h]) != 1 {
			t.Errorf("mail has %d %s headers, want 1", len(m.Header[h]), h)
		}
	}
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "bcc:") {
			t.Errorf("mail header section has a Bcc line %q", line)
		}
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil || to.Address != addr {
		t.Errorf("To %q parses as %v, %v; want %s", m.Header.Get("To"), to, err, addr)
	}
	if list, err := m.Header.AddressList("To"); err != nil || len(list) != 1 {
		t.Errorf("To %q is %d addresses (%v), want 1", m.Header.Get("To"), len(list), err)
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil || got != subject {
		t.Errorf("Subject %q, want %q", got, subject)
	}
}
