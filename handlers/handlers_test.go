package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm/logger"

	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
	"margin/views"
)

// queryCounter is a gorm logger that counts the SQL statements run.
type queryCounter struct {
	logger.Interface
	n atomic.Int64
}

func (q *queryCounter) Trace(_ context.Context, _ time.Time, _ func() (string, int64), _ error) {
	q.n.Add(1)
}

type testEnv struct {
	h       *Handler
	e       *echo.Echo
	store   *models.Store
	queries *queryCounter
	pokes   *atomic.Int64 // calls of Config.NotifyMail
	admin   *models.User
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	qc := &queryCounter{Interface: logger.Discard}
	db, dialect, err := models.Open(dbtest.URL(t), qc)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Migrate(context.Background(), db, dialect, migrations.FS); err != nil {
		t.Fatal(err)
	}
	store := models.NewStore(db)
	t.Cleanup(func() { store.Close() })
	v, err := views.New()
	if err != nil {
		t.Fatal(err)
	}
	pokes := &atomic.Int64{}
	h := New(store, v, Config{
		BaseURL: "http://margin.test", RequireVerifiedEmail: true,
		SessionSecret: []byte(strings.Repeat("k", 32)), Limits: DefaultLimits(),
		NotifyMail: func() { pokes.Add(1) },
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := echo.New()
	h.Routes(e)
	admin, err := store.CreateUser(context.Background(), models.NewUser{
		Name: "Admin", Email: "admin@example.org", Password: "admin passphrase", Role: models.RoleAdmin, Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{h: h, e: e, store: store, queries: qc, pokes: pokes, admin: admin}
}

func (env *testEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	env.e.ServeHTTP(rec, req)
	return rec
}

// TestDocumentPageQueryCount checks the document page runs the same number
// of queries for a short document with one comment as for a long one with
// many: never one query per paragraph or per comment.
func TestDocumentPageQueryCount(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	commenter, err := env.store.CreateUser(ctx, models.NewUser{
		Name: "C", Email: "c@example.org", Password: "commenter pass", StakeholderGroup: "academia", Country: "BR", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(paragraphs, comments int) int64 {
		var src strings.Builder
		for i := 0; i < paragraphs; i++ {
			if i%10 == 0 {
				src.WriteString("## Section\n\n")
			}
			src.WriteString("Paragraph text number " + strings.Repeat("x", i%7) + ".\n\n")
		}
		d, err := env.store.CreateDocument(ctx, env.admin, models.NewDocument{Title: "Doc " + url.QueryEscape(time.Now().String()), Slug: "", Source: src.String()})
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := env.store.Paragraphs(ctx, d)
		policy := models.CommentPolicy{}
		for i := 0; i < comments; i++ {
			c, err := env.store.CreateComment(ctx, commenter, d, models.NewComment{
				Body: "comment", ParagraphIDs: []int64{ps[i%len(ps)].ID, ps[(i*7)%len(ps)].ID},
			}, policy)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.store.Decide(ctx, env.admin, c.ID, models.StatusAccepted, ""); err != nil {
				t.Fatal(err)
			}
		}
		before := env.queries.n.Load()
		rec := env.serve(httptest.NewRequest(http.MethodGet, "/documents/"+d.Slug, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("document page: %d", rec.Code)
		}
		if got := strings.Count(rec.Body.String(), `id="p`); got < paragraphs {
			t.Fatalf("page shows %d paragraph anchors, want %d", got, paragraphs)
		}
		return env.queries.n.Load() - before
	}
	small := count(3, 1)
	large := count(300, 150)
	t.Logf("document page queries: %d (3 paragraphs), %d (300 paragraphs, 150 comments)", small, large)
	if small != large || small > 8 {
		t.Fatalf("queries: %d for 3 paragraphs, %d for 300 paragraphs; want the same small number", small, large)
	}
}

func TestAPIRequiresJSON(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name, path, ctype string
		want              int
	}{
		{"register as form", "/api/v1/register", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"tokens as text", "/api/v1/tokens", "text/plain", http.StatusUnsupportedMediaType},
		{"verify without type", "/api/v1/verify", "", http.StatusUnsupportedMediaType},
		{"register as JSON with bad fields", "/api/v1/register", "application/json", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(`{"email":"x"}`))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			c := env.e.NewContext(req, httptest.NewRecorder())
			handler := RequireJSON(func(echo.Context) error { return c.NoContent(http.StatusOK) })
			err := handler(c)
			code := c.Response().Status
			if he, ok := err.(*echo.HTTPError); ok {
				code = he.Code
			}
			if code != tc.want {
				t.Fatalf("status = %d, want %d", code, tc.want)
			}
		})
	}
}

func TestAPIWritesIgnoreTheSessionCookie(t *testing.T) {
	env := newTestEnv(t)
	// Sign in through the page to get a session cookie.
	form := url.Values{"email": {"admin@example.org"}, "password": {"admin passphrase"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := env.serve(req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	withCookies := func(r *http.Request) *http.Request {
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r
	}
	// A GET on the API may use the cookie ...
	rec = env.serve(withCookies(httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "admin@example.org") {
		t.Fatalf("GET /api/v1/me with cookie: %d %s", rec.Code, rec.Body)
	}
	// ... but a write needs a bearer token.
	body := `{"title":"T","source":"Text."}`
	req = withCookies(httptest.NewRequest(http.MethodPost, "/api/v1/documents", strings.NewReader(body)))
	req.Header.Set("Content-Type", "application/json")
	if rec = env.serve(req); rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST with cookie only: %d, want 401", rec.Code)
	}
	ds, _ := env.store.ListDocuments(context.Background(), env.admin)
	if len(ds) != 0 {
		t.Fatal("a document was created with the cookie alone")
	}
}

func TestVerifyGETChangesNothing(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	u, err := env.store.CreateUser(ctx, models.NewUser{Name: "N", Email: "n@example.org", Password: "new user pass", StakeholderGroup: "media", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := env.store.NewEmailToken(ctx, u.ID, models.PurposeVerify, time.Hour)
	rec := env.serve(httptest.NewRequest(http.MethodGet, "/verify?token="+tok, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /verify: %d", rec.Code)
	}
	if u, _ = env.store.UserByID(ctx, u.ID); u.Verified() {
		t.Fatal("GET /verify confirmed the address; only the POST may")
	}
}

// TestRegisterQueuesMail checks that registering queues the confirmation
// mail in the outbox table, for the worker, and wakes the worker.
func TestRegisterQueuesMail(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/register", strings.NewReader(
		`{"name":"Nia","email":"nia@example.org","password":"nia passphrase","stakeholder_group":"media","country":"KE"}`))
	req.Header.Set("Content-Type", "application/json")
	if rec := env.serve(req); rec.Code != http.StatusAccepted {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	if n := env.pokes.Load(); n != 1 {
		t.Errorf("NotifyMail called %d times, want 1", n)
	}
	if n, err := env.store.OutboxDepth(ctx); err != nil || n != 1 {
		t.Fatalf("outbox depth = %d, %v; want 1", n, err)
	}
	mails, err := env.store.ClaimMail(ctx, 10, time.Minute)
	if err != nil || len(mails) != 1 {
		t.Fatalf("claim: %d mails, %v", len(mails), err)
	}
	m := mails[0]
	if m.ToEmail != "nia@example.org" || m.ToName != "Nia" || m.Subject != "Confirm your e-mail address" ||
		!strings.Contains(m.Body, "http://margin.test/verify?token=") {
		t.Errorf("queued mail = %+v", m)
	}
}
