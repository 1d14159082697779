package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"margin/handlers"
	"margin/internal/dbtest"
	"margin/models"
)

// Sessions: a fresh id at sign-in, server-side sign-out, the end of other
// sessions on a password change or reset, idle and absolute timeouts, and
// the cookie's flags.

var sessCookieName = handlers.DefaultLimits().SessionCookieName

// sessUser creates a verified commenter straight in the store.
func sessUser(t *testing.T, ts *testServer, name, email, password string) *models.User {
	t.Helper()
	u, err := ts.app.store.CreateUser(context.Background(), models.NewUser{
		Name: name, Email: email, Password: password, StakeholderGroup: "civil_society", Country: "BR", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// sessSignIn signs b in on the web and fails the test otherwise.
func sessSignIn(t *testing.T, b *browser, email, password string) {
	t.Helper()
	if p := b.post("/login", "/login", url.Values{"email": {email}, "password": {password}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in %s: %d %s", email, p.status, authzSnippet(p))
	}
}

// sessCookie returns the session cookie b holds, or "".
func sessCookie(ts *testServer, b *browser) string {
	for _, c := range b.c.Jar.Cookies(mustURL(ts.URL)) {
		if c.Name == sessCookieName {
			return c.Value
		}
	}
	return ""
}

// sessID decodes a session cookie into the session id it carries ("" when
// it does not decode). The cookie's encoding changes on every response (a
// fresh signed timestamp), so sessions are compared by id.
func sessID(ts *testServer, value string) string {
	codec := securecookie.New(ts.app.cfg.SessionSecret, nil)
	codec.MaxAge(0)
	var id string
	if value == "" || codec.Decode(sessCookieName, value, &id) != nil {
		return ""
	}
	return id
}

// sessReplay returns a new browser holding only the given session cookie.
func sessReplay(ts *testServer, t *testing.T, value string) *browser {
	b := ts.browser(t)
	b.c.Jar.SetCookies(mustURL(ts.URL), []*http.Cookie{{Name: sessCookieName, Value: value, Path: "/"}})
	return b
}

// sessWho reports who b is signed in as, by cookie alone, on the web and
// the API: "" when neither sees a user. It fails the test when the two
// disagree.
func sessWho(t *testing.T, b *browser) string {
	t.Helper()
	var me struct{ Email string }
	api := b.api("GET", "/api/v1/me", "", nil, &me)
	web := b.get("/me/comments")
	webIn := web.status == http.StatusOK
	webOut := web.status == http.StatusSeeOther && strings.HasPrefix(web.header.Get("Location"), "/login")
	switch {
	case api.status == http.StatusOK && webIn:
		return me.Email
	case api.status == http.StatusUnauthorized && webOut:
		return ""
	}
	t.Errorf("web and API disagree on the session: /api/v1/me %d, /me/comments %d (Location %q)", api.status, web.status, web.header.Get("Location"))
	return "?"
}

// TestSessFixation: signing in issues a new session id, and the id the
// browser held before is dead, whoever planted it.
func TestSessFixation(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ctx := context.Background()
	sessUser(t, ts, "Vera Victim", "vera@example.org", "victim passphrase")
	sessUser(t, ts, "Mal Attacker", "mal@example.org", "attacker passphrase")

	// Does an anonymous visitor get a session before signing in (a failed
	// sign-in, a page)? If so, that id is the first one to plant.
	probe := ts.browser(t)
	probe.get("/")
	probe.post("/login", "/login", url.Values{"email": {"vera@example.org"}, "password": {"wrong password"}})
	anonCookie := sessCookie(ts, probe)
	if anonCookie == "" {
		t.Log("anonymous visitors get no session cookie (no flash, failed sign-in stores nothing): planting other ids")
	}

	// The attacker's own live session, and an id the attacker chose
	// (validly signed, unknown to the store).
	mal := ts.browser(t)
	sessSignIn(t, mal, "mal@example.org", "attacker passphrase")
	own := sessCookie(ts, mal)
	chosenID, err := models.RandomToken()
	if err != nil {
		t.Fatal(err)
	}
	chosen, err := securecookie.New(ts.app.cfg.SessionSecret, nil).Encode(sessCookieName, chosenID)
	if err != nil {
		t.Fatal(err)
	}
	plants := map[string]string{"attacker's signed-in session": own, "attacker-chosen id": chosen}
	if anonCookie != "" {
		plants["anonymous session"] = anonCookie
	}
	for name, planted := range plants {
		t.Run(name, func(t *testing.T) {
			oldID := sessID(ts, planted)
			if oldID == "" {
				t.Fatalf("planted cookie does not decode")
			}
			victim := sessReplay(ts, t, planted)
			sessSignIn(t, victim, "vera@example.org", "victim passphrase")
			newID := sessID(ts, sessCookie(ts, victim))
			if newID == "" || newID == oldID {
				t.Fatalf("session id after sign-in = %q, want a new one (planted %q)", newID, oldID)
			}
			if who := sessWho(t, victim); who != "vera@example.org" {
				t.Errorf("victim after sign-in is %q", who)
			}
			// The planted id signs nobody in: not the victim, and (it was
			// replaced) not its former owner either.
			if who := sessWho(t, sessReplay(ts, t, planted)); who != "" {
				t.Errorf("planted cookie after the victim's sign-in is signed in as %q, want nobody", who)
			}
			if _, err := ts.app.store.LoadSession(ctx, oldID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("planted session row still loads after sign-in: %v", err)
			}
		})
	}
}

// TestSessSignOut: signing out ends the session on the server; the old
// cookie, replayed, signs nobody in.
func TestSessSignOut(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	sessUser(t, ts, "Sol Signout", "sol@example.org", "signout passphrase")
	b := ts.browser(t)
	sessSignIn(t, b, "sol@example.org", "signout passphrase")
	old := sessCookie(ts, b)
	if who := sessWho(t, b); who != "sol@example.org" {
		t.Fatalf("signed in as %q", who)
	}
	p := b.post("/me/comments", "/logout", nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	cleared := false
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == sessCookieName && c.MaxAge < 0 {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("logout does not clear the session cookie: Set-Cookie %q", p.header.Values("Set-Cookie"))
	}
	if who := sessWho(t, b); who != "" {
		t.Errorf("after sign-out the browser is %q", who)
	}
	if who := sessWho(t, sessReplay(ts, t, old)); who != "" {
		t.Errorf("replayed cookie after sign-out is signed in as %q", who)
	}
	if _, err := ts.app.store.LoadSession(context.Background(), sessID(ts, old)); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("session row survives sign-out: %v", err)
	}
}

// TestSessPasswordChange: changing the password ends the user's other
// sessions; the browser that changed it stays signed in.
func TestSessPasswordChange(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	sessUser(t, ts, "Cam Changer", "cam@example.org", "changer passphrase")
	sessUser(t, ts, "Bystander", "by@example.org", "bystander passphrase")
	a, b, other := ts.browser(t), ts.browser(t), ts.browser(t)
	sessSignIn(t, a, "cam@example.org", "changer passphrase")
	sessSignIn(t, b, "cam@example.org", "changer passphrase")
	sessSignIn(t, other, "by@example.org", "bystander passphrase")
	aBefore, bBefore := sessCookie(ts, a), sessCookie(ts, b)

	p := a.post("/me/account", "/me/password", url.Values{"current_password": {"changer passphrase"}, "password": {"a changed passphrase"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("password change: %d %s", p.status, authzSnippet(p))
	}
	if who := sessWho(t, a); who != "cam@example.org" {
		t.Errorf("the browser that changed the password is %q, want still signed in", who)
	}
	if acc := a.get("/me/account"); acc.status != http.StatusOK {
		t.Errorf("GET /me/account after the change: %d", acc.status)
	}
	if who := sessWho(t, b); who != "" {
		t.Errorf("second browser after the password change is %q, want signed out", who)
	}
	if who := sessWho(t, sessReplay(ts, t, bBefore)); who != "" {
		t.Errorf("replayed cookie of the second browser is %q, want signed out", who)
	}
	// The changing browser got a fresh id; its old one is dead too.
	if sessID(ts, sessCookie(ts, a)) == sessID(ts, aBefore) {
		t.Error("the password change kept the session id")
	}
	if who := sessWho(t, sessReplay(ts, t, aBefore)); who != "" {
		t.Errorf("replayed pre-change cookie of the changing browser is %q", who)
	}
	// Another user's session is untouched.
	if who := sessWho(t, other); who != "by@example.org" {
		t.Errorf("another user's session after the change is %q", who)
	}
}

var sessResetLink = regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`)

// sessMailsTo returns the decoded bodies of the outbox mails to email,
// oldest first.
func sessMailsTo(t *testing.T, ts *testServer, email string) []string {
	t.Helper()
	var out []string
	for _, raw := range ts.outbox(t) {
		if to, _, body := mailTo(t, raw); strings.EqualFold(to, email) {
			out = append(out, body)
		}
	}
	return out
}

// sessWaitMail waits (mail goes out from a queue) for mail number n+1 to
// email and returns its body.
func sessWaitMail(t *testing.T, ts *testServer, email string, n int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ms := sessMailsTo(t, ts, email); len(ms) > n {
			return ms[n]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail number %d to %s in the outbox after 15 s (%d mails in all)", n+1, email, len(ts.outbox(t)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sessResetToken waits for the reset mail number n+1 to email and returns
// the token of its link.
func sessResetToken(t *testing.T, ts *testServer, email string, n int) string {
	t.Helper()
	body := sessWaitMail(t, ts, email, n)
	m := sessResetLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("mail to %s has no /password/reset?token= link:\n%s", email, body)
	}
	return m[1]
}

// TestSessPasswordReset: a reset by mailed token ends every session of
// the user.
func TestSessPasswordReset(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	sessUser(t, ts, "Rey Reset", "rey@example.org", "reset passphrase")
	a, b := ts.browser(t), ts.browser(t)
	sessSignIn(t, a, "rey@example.org", "reset passphrase")
	sessSignIn(t, b, "rey@example.org", "reset passphrase")
	aCookie := sessCookie(ts, a)

	c := ts.browser(t)
	if p := c.post("/password/forgot", "/password/forgot", url.Values{"email": {"rey@example.org"}}); p.status != http.StatusAccepted {
		t.Fatalf("forgot: %d", p.status)
	}
	tok := sessResetToken(t, ts, "rey@example.org", 0)
	if p := c.post("/password/reset?token="+tok, "/password/reset", url.Values{"token": {tok}, "password": {"a reset passphrase"}}); p.status != http.StatusOK {
		t.Fatalf("reset: %d %s", p.status, authzSnippet(p))
	}
	for name, br := range map[string]*browser{"first browser": a, "second browser": b, "replayed cookie": sessReplay(ts, t, aCookie)} {
		if who := sessWho(t, br); who != "" {
			t.Errorf("%s after the password reset is %q, want signed out", name, who)
		}
	}
}

// TestSessIdleTimeout: with a 2 s idle limit, a session left alone for
// 3 s is over, and one used every second for 4 s lives on.
func TestSessIdleTimeout(t *testing.T) {
	limits := handlers.DefaultLimits()
	limits.SessionIdle = 2 * time.Second
	ts := newTestServer(t, nil, &limits)
	sessUser(t, ts, "Ida Idle", "ida@example.org", "idle passphrase")
	sessUser(t, ts, "Ace Active", "ace@example.org", "active passphrase")

	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		b := ts.browser(t)
		sessSignIn(t, b, "ida@example.org", "idle passphrase")
		cookie := sessCookie(ts, b)
		time.Sleep(3 * time.Second)
		if who := sessWho(t, sessReplay(ts, t, cookie)); who != "" {
			t.Errorf("after 3 s idle (limit 2 s), the session is %q, want over", who)
		}
		if who := sessWho(t, b); who != "" {
			t.Errorf("after 3 s idle (limit 2 s), the browser is %q, want signed out", who)
		}
	})
	t.Run("active", func(t *testing.T) {
		t.Parallel()
		b := ts.browser(t)
		sessSignIn(t, b, "ace@example.org", "active passphrase")
		start := time.Now()
		for i := 1; i <= 4; i++ {
			time.Sleep(time.Second)
			if p := b.get("/me/comments"); p.status != http.StatusOK {
				t.Fatalf("request %d, %s after sign-in: %d (Location %q), want still signed in",
					i, time.Since(start).Round(100*time.Millisecond), p.status, p.header.Get("Location"))
			}
		}
		if who := sessWho(t, b); who != "ace@example.org" {
			t.Errorf("active session after %s is %q", time.Since(start).Round(100*time.Millisecond), who)
		}
	})
}

// sessClock is a settable store clock: real time plus an offset, or a
// frozen instant. It is read by server goroutines, so it is atomic.
type sessClock struct{ offset, frozen atomic.Int64 }

func (c *sessClock) now() time.Time {
	if f := c.frozen.Load(); f != 0 {
		return time.Unix(0, f).UTC()
	}
	return time.Now().UTC().Add(time.Duration(c.offset.Load()))
}

// shift runs the clock d ahead of real time.
func (c *sessClock) shift(d time.Duration) { c.frozen.Store(0); c.offset.Store(int64(d)) }

// freeze stops the clock at at.
func (c *sessClock) freeze(at time.Time) { c.frozen.Store(at.UnixNano()) }

// sessInstallClock gives the store a clock the test moves. The mail worker
// keeps running: it reads the clock from its own goroutine, which
// Store.SetClock and sessClock allow.
func sessInstallClock(t *testing.T, ts *testServer) *sessClock {
	t.Helper()
	c := &sessClock{}
	ts.app.store.SetClock(c.now)
	return c
}

// TestSessAbsoluteTimeout: a session ends models.SessionAbsoluteTimeout
// after sign-in, however active.
func TestSessAbsoluteTimeout(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	clock := sessInstallClock(t, ts)
	sessUser(t, ts, "Abe Absolute", "abe@example.org", "absolute passphrase")
	b := ts.browser(t)
	sessSignIn(t, b, "abe@example.org", "absolute passphrase")

	// An hour before the end: still on, and the request (which saves the
	// session) does not push the end back.
	clock.shift(models.SessionAbsoluteTimeout - time.Hour)
	if who := sessWho(t, b); who != "abe@example.org" {
		t.Fatalf("an hour before the absolute timeout, the session is %q", who)
	}
	clock.shift(models.SessionAbsoluteTimeout + time.Minute)
	if who := sessWho(t, b); who != "" {
		t.Errorf("past the absolute timeout (%s), the session is %q, want over", models.SessionAbsoluteTimeout, who)
	}
}

// sessHTTPSServer starts Margin like newTestServer, but with an https://
// base URL (newTestServer sets its own http:// one). The client still
// talks plain HTTP to it.
func sessHTTPSServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{
		"MARGIN_DATA_DIR": dir, "MARGIN_DATABASE_URL": dbtest.URL(t),
		"MARGIN_BASE_URL": "https://margin.example.org",
	}
	cfg, err := LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.echo)
	t.Cleanup(func() {
		srv.Close()
		a.store.Close()
	})
	return &testServer{Server: srv, app: a, dataDir: dir}
}

// sessSetCookies parses the Set-Cookie headers of an answer by name.
func sessSetCookies(p page) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		out[c.Name] = c
	}
	return out
}

// TestSessCookieFlags: the session and CSRF cookies are HttpOnly and
// SameSite=Lax, and Secure when the site is served over HTTPS.
func TestSessCookieFlags(t *testing.T) {
	for _, https := range []bool{false, true} {
		name := "http"
		if https {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			var ts *testServer
			if https {
				ts = sessHTTPSServer(t)
			} else {
				ts = newTestServer(t, nil, nil)
			}
			sessUser(t, ts, "Flo Flags", "flo@example.org", "flags passphrase")
			b := ts.browser(t)
			// Raw requests: a same-origin fetch needs no CSRF token, and the
			// session cookie is sent by hand, since the client will not send
			// Secure cookies back over plain HTTP.
			send := func(path string, form url.Values, session *http.Cookie) page {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				if session != nil {
					req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
				}
				return b.do(req)
			}
			form := sessSetCookies(b.get("/login"))
			p := send("/login", url.Values{"email": {"flo@example.org"}, "password": {"flags passphrase"}}, nil)
			if p.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", p.status, authzSnippet(p))
			}
			login := sessSetCookies(p)
			if login[sessCookieName] == nil {
				t.Fatalf("sign-in sets no %s cookie: %q", sessCookieName, p.header.Values("Set-Cookie"))
			}
			// A password change sets a fresh session and a notice.
			p = send("/me/password", url.Values{"current_password": {"flags passphrase"}, "password": {"flags passphrase"}}, login[sessCookieName])
			if p.status != http.StatusSeeOther {
				t.Fatalf("password change: %d %s", p.status, authzSnippet(p))
			}
			change := sessSetCookies(p)
			if change[sessCookieName] == nil {
				t.Errorf("password change sets no fresh %s cookie: %q", sessCookieName, p.header.Values("Set-Cookie"))
			}
			if form["margin_csrf"] == nil {
				t.Errorf("the sign-in form sets no margin_csrf cookie")
			}
			// Every cookie Margin sets, whatever its name.
			var names []string
			for _, set := range []map[string]*http.Cookie{form, login, change} {
				for name := range set {
					names = append(names, name)
				}
			}
			t.Logf("cookies checked: %v", names)
			for step, set := range map[string]map[string]*http.Cookie{"sign-in form": form, "sign-in": login, "password change": change} {
				for name, ck := range set {
					what := fmt.Sprintf("cookie %s (%s)", name, step)
					if !ck.HttpOnly {
						t.Errorf("%s: not HttpOnly", what)
					}
					if ck.SameSite != http.SameSiteLaxMode {
						t.Errorf("%s: SameSite = %v, want Lax", what, ck.SameSite)
					}
					if ck.Secure != https {
						t.Errorf("%s: Secure = %v, want %v (base URL %s)", what, ck.Secure, https, ts.app.cfg.BaseURL)
					}
					if ck.Path != "/" {
						t.Errorf("%s: Path = %q, want /", what, ck.Path)
					}
				}
			}
		})
	}
}
