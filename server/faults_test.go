package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

const (
	faultAdminEmail = "fault-admin@example.org"
	faultAdminPass  = "fault admin passphrase"
	faultUserEmail  = "fault-commenter@example.org"
	faultUserPass   = "fault commenter passphrase"
	faultSlug       = "faults"
)

const faultDraft = `# Faults draft

First paragraph.

Second paragraph.

Third paragraph.
`

// faultLeakMarkers must never reach a client: SQL, driver messages, OS
// errors, paths, stack traces.
var faultLeakMarkers = []string{
	"INSERT ", "SELECT ", "UPDATE ", "DELETE FROM", "RETURNING", "rate_counters", "comment_paragraphs",
	"sqlite", "database or disk is full", "disk I/O error", "readonly database", "read-only file system",
	"no such", "no space left", "gorm", "goroutine ", ".go:", "margin.db", "/tmp/",
}

// faultLog collects the server's log lines.
type faultLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *faultLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the log lines that contain any of subs.
func (l *faultLog) lines(subs ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		for _, s := range subs {
			if strings.Contains(line, s) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// faultEnv is a server on a data dir the test can break, with a document,
// a commenter on the API and on the web, and every comment it acknowledged.
type faultEnv struct {
	ts         *testServer
	log        *faultLog
	dir        string
	adminToken string
	userToken  string
	api        *browser // anonymous; bearer tokens per call
	web        *browser // the commenter, signed in
	webCSRF    string
	anon       *browser // anonymous, on the register form
	anonCSRF   string
	counter    *sql.DB // read-only connection for row counts
	acked      []string
	seq        int
	lastEmail  string // of the last register call
}

// TestFaultDiskFull fills the data dir's file system and checks that writes
// fail with a generic 5xx and no internal details, that the process keeps
// serving, that nothing half-written is left, and that writes work again
// once space is freed.
func TestFaultDiskFull(t *testing.T) {
	dir := faultMountTmpfs(t, "size=4m")
	f := faultConnect(t, dir, nil, true)
	f.submitOK(t, 3)
	before := f.counts(t)

	filler, size := faultFill(t, dir)
	t.Logf("disk full: %d KiB of filler; database files: %s", size>>10, faultFiles(dir))

	f.expectWritesFail(t, "on a full disk")
	reads := f.reads(t)
	health := f.health(t)
	if after := f.counts(t); after != before {
		t.Errorf("failed writes left rows behind: before %+v, after %+v", before, after)
	}
	inTx := f.failInsideTransaction(t, filler)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	f.submitOK(t, 2)
	if p := f.register(t, true); p.status != http.StatusAccepted {
		t.Errorf("API register after freeing space: %d %s", p.status, p.body)
	}
	f.expectMail(t, f.lastEmail)
	f.checkAcked(t)
	f.checkIntegrity(t)
	if p := f.api.get("/healthz"); p.status != http.StatusOK {
		t.Errorf("/healthz after freeing space: %d", p.status)
	}
	f.checkNoPanic(t)
	t.Logf("while full: reads %s; %s; a comment failing inside its transaction: %s; errors logged: %s",
		reads, health, inTx, faultErrorSummary(f.log))
	t.Logf("after freeing space: writes succeed, %d acknowledged comments intact", len(f.acked))
}

// TestFaultReadOnlyDisk makes the data dir's file system read-only under a
// running server and checks writes fail with a generic 5xx and no internal
// details, the process keeps serving, and the service resumes.
//
// Linux refuses to remount a file system read-only while files on it are
// open for writing (EBUSY), and SQLite keeps its files open, so a plain
// remount cannot make a live database unwritable. A disk becomes read-only
// under a running process when the kernel meets an I/O error on a file
// system mounted errors=remount-ro; the test makes ext4 on a loop device do
// exactly that. The kernel does not let such a file system become writable
// again while mounted, so recovery is: stop, remount, start.
func TestFaultReadOnlyDisk(t *testing.T) {
	faultRequireRoot(t)
	for _, tool := range []string{"losetup", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("fault test needs %s: %v", tool, err)
		}
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device (losetup: %v %s)", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", loop).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v %s", loop, err, out)
		}
	})
	trigger := filepath.Join("/sys/fs/ext4", filepath.Base(loop), "trigger_fs_error")
	dir := t.TempDir()
	mount := func() {
		if err := syscall.Mount(loop, dir, "ext4", 0, "errors=remount-ro"); err != nil {
			t.Fatalf("mount %s: %v", loop, err)
		}
	}
	mount()
	mounted := true
	t.Cleanup(func() {
		if mounted {
			faultUnmount(t, dir)
		}
	})
	if _, err := os.Stat(trigger); err != nil {
		t.Skipf("kernel has no ext4 error trigger: %v", err)
	}

	f := faultConnect(t, dir, nil, true)
	f.submitOK(t, 3)
	before := f.counts(t)

	// The requested approach first, to record what Linux does.
	err = syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
	switch {
	case err == nil:
		t.Log("remount read-only succeeded")
	case errors.Is(err, syscall.EBUSY):
		t.Log("remount read-only refused with EBUSY (files open for writing); making ext4 go read-only through its error path")
		if err := os.WriteFile(trigger, []byte("1"), 0o200); err != nil {
			t.Fatalf("trigger ext4 error: %v", err)
		}
	default:
		t.Fatalf("remount read-only: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), []byte("x"), 0o600); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("the data dir is still writable: %v", err)
	}

	f.expectWritesFail(t, "on a read-only disk")
	reads := f.reads(t)
	health := f.health(t)
	if after := f.counts(t); after != before {
		t.Errorf("failed writes left rows behind: before %+v, after %+v", before, after)
	}
	f.checkNoPanic(t)
	t.Logf("while read-only: reads %s; %s; errors logged: %s", reads, health, faultErrorSummary(f.log))

	// Recovery: stop, remount read-write, start on the same data. A
	// restart while the disk is still read-only must fail cleanly, or
	// serve with writes failing cleanly.
	f.stop()
	faultStartReadOnly(t, dir, f.userToken)
	faultUnmount(t, dir)
	mounted = false
	mount()
	mounted = true
	g := faultConnect(t, dir, f, false)
	g.submitOK(t, 2)
	if p := g.register(t, true); p.status != http.StatusAccepted {
		t.Errorf("API register after recovery: %d %s", p.status, p.body)
	}
	g.expectMail(t, g.lastEmail)
	g.checkAcked(t)
	g.checkIntegrity(t)
	g.checkNoPanic(t)
	t.Logf("after remount and restart: writes succeed, %d acknowledged comments intact", len(g.acked))
}

// faultConnect starts a server on dir and signs in. With seed it publishes
// the document and registers the commenter; prev carries the acknowledged
// comments over a restart.
func faultConnect(t *testing.T, dir string, prev *faultEnv, seed bool) *faultEnv {
	t.Helper()
	ts, lg, err := faultStartServer(dir)
	if err != nil {
		t.Fatalf("start server on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		ts.Close()
		ts.app.store.Close()
	})
	f := &faultEnv{ts: ts, log: lg, dir: dir, api: ts.browser(t), web: ts.browser(t), anon: ts.browser(t)}
	if prev != nil {
		f.acked, f.seq = prev.acked, prev.seq
	}
	f.adminToken = f.token(t, faultAdminEmail, faultAdminPass)
	if seed {
		var doc struct{ Paragraphs []struct{ ID int64 } }
		if p := f.api.api("POST", "/api/v1/documents", f.adminToken, map[string]string{
			"title": "Faults draft", "slug": faultSlug, "format": "markdown", "source": faultDraft,
		}, &doc); p.status != http.StatusCreated || len(doc.Paragraphs) < 3 {
			t.Fatalf("create document: %d %s", p.status, p.body)
		}
		if p := f.api.api("POST", "/api/v1/register", "", map[string]string{
			"name": "Fault Commenter", "email": faultUserEmail, "password": faultUserPass,
			"affiliation": "Test Lab", "stakeholder_group": "technical_community", "country": "DE",
		}, nil); p.status != http.StatusAccepted {
			t.Fatalf("register commenter: %d %s", p.status, p.body)
		}
	}
	f.userToken = f.token(t, faultUserEmail, faultUserPass)
	if p := f.web.post("/login", "/login", url.Values{"email": {faultUserEmail}, "password": {faultUserPass}}); p.status != http.StatusSeeOther {
		t.Fatalf("web sign-in: %d %s", p.status, p.body)
	}
	f.web.get("/documents/" + faultSlug) // takes the sign-in flash
	f.webCSRF = f.web.csrf("/documents/" + faultSlug)
	f.anonCSRF = f.anon.csrf("/register")
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "margin.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.counter = db
	return f
}

// faultStartServer is newTestServer for a given data dir, with the log kept
// so the test can look for panics and name the logged errors.
func faultStartServer(dir string) (*testServer, *faultLog, error) {
	vars := map[string]string{
		"MARGIN_DATA_DIR": dir, "MARGIN_REQUIRE_VERIFIED_EMAIL": "false",
		"MARGIN_ADMIN_EMAIL": faultAdminEmail, "MARGIN_ADMIN_PASSWORD": faultAdminPass,
	}
	srv := httptest.NewUnstartedServer(nil)
	vars["MARGIN_BASE_URL"] = "http://" + srv.Listener.Addr().String()
	cfg, err := LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	lg := &faultLog{}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(lg, nil)), nil)
	if err != nil {
		srv.Close()
		return nil, lg, err
	}
	srv.Config.Handler = a.echo
	srv.Start()
	return &testServer{Server: srv, app: a, dataDir: dir}, lg, nil
}

// faultStartReadOnly starts a server on a data dir that is read-only: it
// must refuse to start with an error, or start and fail writes cleanly.
func faultStartReadOnly(t *testing.T, dir, userToken string) {
	t.Helper()
	ts, lg, err := faultStartServer(dir)
	if err != nil {
		if lg != nil && len(lg.lines("panic")) > 0 {
			t.Errorf("start on a read-only disk panicked: %v", lg.lines("panic"))
		}
		t.Logf("starting on the read-only disk fails cleanly: %v", err)
		return
	}
	defer ts.app.store.Close()
	defer ts.Close()
	b := ts.browser(t)
	health := b.get("/healthz").status
	doc := b.get("/documents/" + faultSlug).status
	p := b.api("POST", "/api/v1/documents/"+faultSlug+"/comments", userToken, map[string]any{"body": "Written to a read-only disk."}, nil)
	faultExpect5xx(t, "API comment after a restart on the read-only disk", p, true)
	if lines := lg.lines("panic"); len(lines) > 0 {
		t.Errorf("the server panicked:\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("starting on the read-only disk succeeds: /healthz %d, document page %d, comment %d; errors logged: %s",
		health, doc, p.status, faultErrorSummary(lg))
}

// failInsideTransaction makes a comment fail inside its transaction rather
// than at the rate-limit counter written before it: it frees a little
// room, enough for the counter but not for a long comment, and checks the
// failed comment left no row. The admin posts, so the commenter's rate
// limit is not used up. It reports what it saw.
func (f *faultEnv) failInsideTransaction(t *testing.T, filler string) string {
	t.Helper()
	long := strings.TrimSpace(strings.Repeat("Room for the counter but not for this comment. ", 370))
	for _, room := range []int64{8 << 10, 16 << 10, 24 << 10, 32 << 10, 48 << 10, 64 << 10, 96 << 10} {
		faultFill(t, f.dir) // full again
		fi, err := os.Stat(filler)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filler, fi.Size()-room); err != nil {
			t.Fatal(err)
		}
		before := f.counts(t)
		mark := len(f.log.lines("create comment"))
		f.seq++
		body := fmt.Sprintf("Long fault comment %d. %s", f.seq, long)
		p := f.api.api("POST", "/api/v1/documents/"+faultSlug+"/comments", f.adminToken,
			map[string]any{"body": body, "paragraph_ids": []int64{}}, nil)
		if p.status == http.StatusCreated {
			f.acked = append(f.acked, body)
			continue
		}
		if p.status == http.StatusTooManyRequests {
			return "not reached (the admin's rate limit ran out first)"
		}
		faultExpect5xx(t, fmt.Sprintf("long comment with %d KiB free", room>>10), p, true)
		if after := f.counts(t); after != before {
			t.Errorf("a comment that failed with %d KiB free left rows behind: before %+v, after %+v", room>>10, before, after)
		}
		if len(f.log.lines("create comment")) > mark {
			return fmt.Sprintf("reached with %d KiB free, no row left behind", room>>10)
		}
	}
	return "not reached (every attempt failed at the rate-limit counter or succeeded)"
}

// stop closes the server and every connection to the database.
func (f *faultEnv) stop() {
	f.counter.Close()
	f.ts.Close()
	f.ts.app.store.Close()
}

func (f *faultEnv) token(t *testing.T, email, password string) string {
	t.Helper()
	var tk struct{ Token string }
	if p := f.api.api("POST", "/api/v1/tokens", "", map[string]string{"email": email, "password": password}, &tk); p.status != http.StatusCreated {
		t.Fatalf("token for %s: %d %s", email, p.status, p.body)
	}
	return tk.Token
}

func (f *faultEnv) nextBody(via string) string {
	f.seq++
	return fmt.Sprintf("Fault test comment %d sent via %s.", f.seq, via)
}

// comment submits a comment through the API or the web form; the body is
// recorded as acknowledged when the server says it was stored.
func (f *faultEnv) comment(t *testing.T, viaAPI bool) page {
	t.Helper()
	var p page
	var body string
	if viaAPI {
		body = f.nextBody("the API")
		p = f.api.api("POST", "/api/v1/documents/"+faultSlug+"/comments", f.userToken,
			map[string]any{"body": body, "kind": "substantive"}, nil)
		if p.status == http.StatusCreated {
			f.acked = append(f.acked, body)
		}
		return p
	}
	body = f.nextBody("the web form")
	p = f.web.postRaw("/documents/"+faultSlug+"/comments", url.Values{
		"_csrf": {f.webCSRF}, "paragraphs": {"2, 3"}, "body": {body}, "kind": {"general"}, "visibility": {"public"},
	})
	if p.status == http.StatusSeeOther {
		f.acked = append(f.acked, body)
	}
	return p
}

// register signs up a new address through the API or the web form.
func (f *faultEnv) register(t *testing.T, viaAPI bool) page {
	t.Helper()
	f.seq++
	email := fmt.Sprintf("fault-new-%d@example.org", f.seq)
	f.lastEmail = email
	form := map[string]string{
		"name": "New Person", "email": email, "password": "new person passphrase",
		"affiliation": "Somewhere", "stakeholder_group": "academia", "country": "FR",
	}
	if viaAPI {
		return f.api.api("POST", "/api/v1/register", "", form, nil)
	}
	v := url.Values{"_csrf": {f.anonCSRF}}
	for k, s := range form {
		v.Set(k, s)
	}
	return f.anon.postRaw("/register", v)
}

// submitOK posts n comments, alternating API and web form, and expects
// each to be stored.
func (f *faultEnv) submitOK(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		viaAPI := i%2 == 0
		p := f.comment(t, viaAPI)
		if want := map[bool]int{true: http.StatusCreated, false: http.StatusSeeOther}[viaAPI]; p.status != want {
			t.Fatalf("comment (api=%v): %d, want %d: %s", viaAPI, p.status, want, p.body)
		}
	}
}

// expectWritesFail sends every kind of write and expects each to fail with
// a generic 5xx.
func (f *faultEnv) expectWritesFail(t *testing.T, when string) {
	t.Helper()
	faultExpect5xx(t, "API comment "+when, f.comment(t, true), true)
	faultExpect5xx(t, "web comment "+when, f.comment(t, false), false)
	faultExpect5xx(t, "API register "+when, f.register(t, true), true)
	faultExpect5xx(t, "web register "+when, f.register(t, false), false)
	// A retry fails the same way: the first failure did not wedge anything
	// into a different state.
	faultExpect5xx(t, "API comment retry "+when, f.comment(t, true), true)
}

// reads loads read-only pages and reports their statuses; a failure must
// still be a generic 5xx.
func (f *faultEnv) reads(t *testing.T) string {
	t.Helper()
	doc := "/documents/" + faultSlug
	var out []string
	for _, r := range []struct {
		name string
		api  bool
		get  func() page
	}{
		{"anonymous document page", false, func() page { return f.anon.get(doc) }},
		{"signed-in document page", false, func() page { return f.web.get(doc) }},
		{"home page", false, func() page { return f.anon.get("/") }},
		{"API document", true, func() page { return f.api.api("GET", "/api/v1"+doc, "", nil, nil) }},
		{"API comments with token", true, func() page { return f.api.api("GET", "/api/v1"+doc+"/comments", f.userToken, nil, nil) }},
	} {
		p := r.get()
		out = append(out, fmt.Sprintf("%s %d", r.name, p.status))
		if p.status != http.StatusOK {
			faultExpect5xx(t, r.name+" (read)", p, r.api)
		}
	}
	return strings.Join(out, ", ")
}

// expectMail waits for a mail to email in the outbox folder: mail keeps
// going out once the fault has cleared.
func (f *faultEnv) expectMail(t *testing.T, email string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		for _, m := range f.ts.outbox(t) {
			if to, _, _ := mailTo(t, m); to == email {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no mail to %s in the outbox 15s after registering; errors logged: %s", email, faultErrorSummary(f.log))
			return
		}
	}
}

// health checks the process still answers /healthz (200 or 503), and
// reports what /healthz and /readyz say.
func (f *faultEnv) health(t *testing.T) string {
	t.Helper()
	p := f.api.get("/healthz")
	if p.status != http.StatusOK && p.status != http.StatusServiceUnavailable {
		t.Errorf("/healthz: %d %s", p.status, p.body)
	}
	return fmt.Sprintf("/healthz %d, /readyz %d", p.status, f.api.get("/readyz").status)
}

// faultCounts are row counts that a failed write must leave unchanged.
type faultCounts struct{ Comments, Links, Users, Sessions int }

func (f *faultEnv) counts(t *testing.T) faultCounts {
	t.Helper()
	var c faultCounts
	for _, q := range []struct {
		sql string
		dst *int
	}{
		{"SELECT COUNT(*) FROM comments", &c.Comments},
		{"SELECT COUNT(*) FROM comment_paragraphs", &c.Links},
		{"SELECT COUNT(*) FROM users", &c.Users},
		{"SELECT COUNT(*) FROM sessions", &c.Sessions},
	} {
		if err := f.counter.QueryRow(q.sql).Scan(q.dst); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return c
}

// checkAcked finds every acknowledged comment, exactly once, in the
// moderators' view.
func (f *faultEnv) checkAcked(t *testing.T) {
	t.Helper()
	var cs []struct {
		Body         string
		ParagraphIDs []int64 `json:"paragraph_ids"`
	}
	if p := f.api.api("GET", "/api/v1/documents/"+faultSlug+"/comments", f.adminToken, nil, &cs); p.status != http.StatusOK {
		t.Fatalf("list comments: %d %s", p.status, p.body)
	}
	seen := map[string]int{}
	for _, c := range cs {
		seen[c.Body]++
	}
	for _, b := range f.acked {
		if seen[b] != 1 {
			t.Errorf("acknowledged comment %q found %d times", b, seen[b])
		}
	}
	if len(cs) != len(f.acked) {
		t.Errorf("%d comments stored, %d acknowledged", len(cs), len(f.acked))
	}
}

func (f *faultEnv) checkIntegrity(t *testing.T) {
	t.Helper()
	var check string
	if err := f.counter.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v", check, err)
	}
}

func (f *faultEnv) checkNoPanic(t *testing.T) {
	t.Helper()
	if lines := f.log.lines("panic"); len(lines) > 0 {
		t.Errorf("the server panicked:\n%s", strings.Join(lines, "\n"))
	}
}

// faultExpect5xx checks a failed request got a generic 500 or 503: the
// contract's JSON error on the API, the HTML error page elsewhere, and no
// internal detail either way.
func faultExpect5xx(t *testing.T, label string, p page, api bool) {
	t.Helper()
	if p.status != http.StatusInternalServerError && p.status != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want 500 or 503; body: %.300s", label, p.status, p.body)
	}
	for _, m := range faultLeakMarkers {
		if strings.Contains(strings.ToLower(p.body), strings.ToLower(m)) {
			t.Errorf("%s: the response shows %q: %.500s", label, m, p.body)
		}
	}
	ct := p.header.Get("Content-Type")
	if api {
		var e struct {
			Error struct{ Code, Message string }
		}
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(p.body), &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("%s: want the contract's JSON error, got %q %.300s", label, ct, p.body)
		}
		return
	}
	generic := strings.Contains(p.body, "Something went wrong on our side") || strings.Contains(p.body, "cannot save anything right now")
	if !strings.HasPrefix(ct, "text/html") || !strings.Contains(p.body, "<h1>") || !generic {
		t.Errorf("%s: want the HTML error page, got %q %.300s", label, ct, p.body)
	}
}

// faultRequireRoot skips unless the test may mount file systems.
func faultRequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("fault tests mount file systems and need root")
	}
}

// faultMountTmpfs mounts a small tmpfs on a fresh directory, unmounted when
// the test ends (after the server using it has stopped).
func faultMountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	faultRequireRoot(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): run as root with CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { faultUnmount(t, dir) })
	return dir
}

// faultUnmount unmounts dir, waiting a little while it is busy: the app's
// background workers release their connections shortly after the store is
// closed.
func faultUnmount(t *testing.T, dir string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err = syscall.Unmount(dir, 0); err == nil || !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Errorf("unmount %s: %v; detaching it", dir, err)
		_ = syscall.Unmount(dir, syscall.MNT_DETACH)
	}
}

// faultFill grows a filler file until the file system is full, down to
// the last byte, and returns its path and size.
func faultFill(t *testing.T, dir string) (string, int64) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var n int64
	for _, chunk := range []int{1 << 18, 1 << 12, 1 << 9, 1} {
		buf := make([]byte, chunk)
		for {
			w, err := fh.Write(buf)
			n += int64(w)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				t.Fatalf("fill: %v", err)
			}
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail != 0 {
		t.Fatalf("file system not full after filling: %d blocks free", st.Bavail)
	}
	return path, n
}

// faultFiles lists the database files with their sizes.
func faultFiles(dir string) string {
	var out []string
	for _, name := range []string{"margin.db", "margin.db-wal", "margin.db-shm"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			out = append(out, fmt.Sprintf("%s %d KiB", name, fi.Size()>>10))
		}
	}
	return strings.Join(out, ", ")
}

// faultErrorSummary names the distinct errors the server logged.
func faultErrorSummary(lg *faultLog) string {
	seen := map[string]bool{}
	var out []string
	for _, line := range lg.lines("level=ERROR") {
		i := strings.Index(line, "err=")
		if i < 0 {
			continue
		}
		e := line[i+4:]
		if j := strings.Index(e, " status="); j >= 0 {
			e = e[:j]
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return strings.Join(out, "; ")
}
