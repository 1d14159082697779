package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"margin/handlers"
	"margin/internal/dbtest"
)

// testServer is a full Margin behind httptest, on a real SQLite file.
type testServer struct {
	*httptest.Server
	app     *app
	dataDir string
}

// newTestServer starts Margin with env overrides (MARGIN_* names) and
// optional limits.
func newTestServer(t *testing.T, env map[string]string, limits *handlers.Limits) *testServer {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"MARGIN_DATA_DIR": dir, "MARGIN_DATABASE_URL": dbtest.URL(t)}
	for k, v := range env {
		vars[k] = v
	}
	srv := httptest.NewUnstartedServer(nil)
	vars["MARGIN_BASE_URL"] = "http://" + srv.Listener.Addr().String()
	cfg, err := LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := newApp(context.Background(), cfg, log, limits)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.echo
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.store.Close()
	})
	return &testServer{Server: srv, app: a, dataDir: vars["MARGIN_DATA_DIR"]}
}

// sqlDB returns the server's database pool (SQLite or PostgreSQL), for
// tests that count or snapshot rows.
func (ts *testServer) sqlDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := ts.app.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each 303.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (ts *testServer) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: ts.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: res.StatusCode, body: string(body), header: res.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`<input[^>]*name="_csrf"[^>]*>`)
var valueAttr = regexp.MustCompile(`value="([^"]*)"`)

// csrf reads the CSRF token from the first form of a page.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfInput.FindString(p.body)
	v := valueAttr.FindStringSubmatch(m)
	if v == nil || v[1] == "" {
		b.t.Fatalf("no CSRF token on %s (status %d)", path, p.status)
	}
	return html.UnescapeString(v[1])
}

// post submits a form from page `from` (for its CSRF token) to path.
func (b *browser) post(from, path string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf(from))
	return b.postRaw(path, form)
}

func (b *browser) postRaw(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// api calls the JSON API with an optional bearer token and decodes into out.
func (b *browser) api(method, path, token string, body any, out any) page {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		r = strings.NewReader(string(buf))
	}
	req, _ := http.NewRequest(method, b.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	p := b.do(req)
	if out != nil && p.status < 300 {
		if err := json.Unmarshal([]byte(p.body), out); err != nil {
			b.t.Fatalf("%s %s: decode %q: %v", method, path, p.body, err)
		}
	}
	return p
}

// outbox returns the .eml files written so far, oldest first. Mail goes out
// from a queue, so it first waits (up to 10 s) for the queue to be empty:
// every mail queued before the call has then been written.
func (ts *testServer) outbox(t *testing.T) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := ts.app.store.OutboxDepth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Logf("outbox: %d mails still queued after 10 s", n)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	files, _ := filepath.Glob(filepath.Join(ts.dataDir, "outbox", "*.eml"))
	sort.Strings(files)
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

var tokenLink = regexp.MustCompile(`/verify\?token=([A-Za-z0-9_-]+)`)

// mailTo parses an .eml file into its recipient and decoded body.
func mailTo(t *testing.T, raw string) (to, subject, body string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("outbox mail does not parse: %v", err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		t.Fatalf("To header %q: %v", m.Header.Get("To"), err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	return addr.Address, subj, string(b)
}

// verifyToken finds the newest confirmation link sent to email, waiting up
// to 10 s for it (mail goes out from a queue).
func (ts *testServer) verifyToken(t *testing.T, email string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mails := ts.outbox(t)
		for i := len(mails) - 1; i >= 0; i-- {
			to, _, body := mailTo(t, mails[i])
			if to != email {
				continue
			}
			if sm := tokenLink.FindStringSubmatch(body); sm != nil {
				return sm[1]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no confirmation mail for %s in %d mails after 10 s", email, len(mails))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
