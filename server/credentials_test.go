package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"margin/handlers"
	"margin/models"
)

// Credentials: sign-in limits per account and per address, answers that
// do not reveal which e-mail addresses have accounts, common passwords
// refused, and password reset by single-use, expiring mailed token.

// credSignIn tries a pair on the web (web true) or the API and returns
// the answer.
func credSignIn(ts *testServer, t *testing.T, web bool, email, password string) page {
	t.Helper()
	b := ts.browser(t)
	if web {
		return b.post("/login", "/login", url.Values{"email": {email}, "password": {password}})
	}
	return b.api("POST", "/api/v1/tokens", "", map[string]string{"email": email, "password": password}, nil)
}

// credSignedIn reports whether a sign-in answer is a success.
func credSignedIn(web bool, p page) bool {
	if web {
		return p.status == http.StatusSeeOther
	}
	return p.status == http.StatusCreated
}

// credRetryAfter checks a 429 and its Retry-After (whole seconds, within
// the window).
func credRetryAfter(t *testing.T, what string, p page, window time.Duration) {
	t.Helper()
	if p.status != http.StatusTooManyRequests {
		t.Errorf("%s: got %d, want 429\n\t%s", what, p.status, authzSnippet(p))
		return
	}
	ra := p.header.Get("Retry-After")
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > window {
		t.Errorf("%s: Retry-After %q, want whole seconds in 1..%d", what, ra, int(window.Seconds()))
	}
}

// credMidWindow freezes the store clock in the middle of a rate-limit
// window of length w, so the fixed windows cannot roll over mid-test.
func credMidWindow(t *testing.T, ts *testServer, w time.Duration) *sessClock {
	t.Helper()
	win := int64(w / time.Second)
	now := time.Now().Unix()
	clock := sessInstallClock(t, ts)
	clock.freeze(time.Unix(now-now%win+win/2, 0))
	return clock
}

// TestCredSignInLimitPerAccount: after SignInPerAccount.Max failures on
// one account, the next attempt, even with the right password, is 429.
func TestCredSignInLimitPerAccount(t *testing.T) {
	lim := handlers.DefaultLimits().SignInPerAccount
	ts := newTestServer(t, nil, nil)
	clock := credMidWindow(t, ts, lim.Window)
	sessUser(t, ts, "Tara Target", "tara@example.org", "target passphrase")
	sessUser(t, ts, "Nell Neighbour", "nell@example.org", "neighbour passphrase")

	// Failures on the web and the API count together.
	for i := range lim.Max {
		web := i%2 == 0
		if p := credSignIn(ts, t, web, "tara@example.org", fmt.Sprintf("wrong password %d", i)); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d of %d (web %v): got %d, want 401", i+1, lim.Max, web, p.status)
		}
	}
	for _, web := range []bool{false, true} {
		p := credSignIn(ts, t, web, "tara@example.org", "target passphrase")
		credRetryAfter(t, fmt.Sprintf("attempt %d with the right password (web %v)", lim.Max+1, web), p, lim.Window)
	}
	// The account is the key, however the address is written.
	credRetryAfter(t, "the same account in capitals", credSignIn(ts, t, false, "  TARA@Example.ORG ", "target passphrase"), lim.Window)
	// Another account from the same address is not affected.
	if p := credSignIn(ts, t, false, "nell@example.org", "neighbour passphrase"); !credSignedIn(false, p) {
		t.Errorf("another account from the same address: got %d, want 201", p.status)
	}
	// The next window lets the owner in again.
	clock.freeze(clock.now().Add(lim.Window))
	if p := credSignIn(ts, t, false, "tara@example.org", "target passphrase"); !credSignedIn(false, p) {
		t.Errorf("a window later, the right password: got %d, want 201", p.status)
	}
}

// TestCredSignInLimitPerAddress: after SignInPerAddress.Max failures from
// one client address, across accounts, the next attempt is 429.
func TestCredSignInLimitPerAddress(t *testing.T) {
	limits := handlers.DefaultLimits()
	lim, perAccount := limits.SignInPerAddress, limits.SignInPerAccount
	ts := newTestServer(t, nil, nil)
	credMidWindow(t, ts, lim.Window)
	accounts := []string{"ana@example.org", "ben@example.org", "cyd@example.org"}
	for _, a := range accounts {
		sessUser(t, ts, "User "+a, a, "passphrase of "+a)
	}
	// Failures spread over many accounts, existing or not, so that no
	// single account reaches its own limit.
	for i := range lim.Max {
		email := fmt.Sprintf("nobody-%d@example.org", i)
		if i%(perAccount.Max) == 0 && i/perAccount.Max < len(accounts) {
			email = accounts[i/perAccount.Max]
		}
		if p := credSignIn(ts, t, i%5 == 0, email, "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d of %d (%s): got %d, want 401", i+1, lim.Max, email, p.status)
		}
		if i == lim.Max-2 {
			// One failure short of the limit, a right password still works
			// (and does not count).
			if p := credSignIn(ts, t, false, accounts[2], "passphrase of "+accounts[2]); !credSignedIn(false, p) {
				t.Fatalf("right password before the address limit: got %d, want 201", p.status)
			}
		}
	}
	for _, web := range []bool{false, true} {
		p := credSignIn(ts, t, web, accounts[1], "passphrase of "+accounts[1])
		credRetryAfter(t, fmt.Sprintf("attempt %d from the address, right password of another account (web %v)", lim.Max+1, web), p, lim.Window)
	}
}

var (
	credCSRFValue = regexp.MustCompile(`(name="_csrf"[^>]*value=")[^"]*(")|(value=")[^"]*("[^>]*name="_csrf")`)
	credRequestID = regexp.MustCompile(`[A-Za-z0-9]{32}`)
)

// credNormal makes two answers comparable: CSRF tokens, request ids and
// the e-mail address itself are blanked, whitespace collapsed.
func credNormal(p page, emails ...string) string {
	s := credCSRFValue.ReplaceAllString(p.body, "${1}${3}CSRF${2}${4}")
	if id := p.header.Get("X-Request-Id"); id != "" {
		s = strings.ReplaceAll(s, id, "REQUEST-ID")
	}
	s = credRequestID.ReplaceAllString(s, "ID32")
	for _, e := range emails {
		s = strings.ReplaceAll(s, e, "EMAIL")
		s = strings.ReplaceAll(s, strings.ReplaceAll(e, "@", "&#64;"), "EMAIL")
	}
	return strings.Join(strings.Fields(s), " ")
}

// credHeaderShape lists the header and cookie names of an answer.
func credHeaderShape(p page) string {
	var names []string
	for k := range p.header {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		names = append(names, k)
	}
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		names = append(names, "cookie:"+c.Name+fmt.Sprintf(":maxage=%d", c.MaxAge))
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// credSame fails unless two answers are alike but for the address.
func credSame(t *testing.T, what string, known, unknown page, knownEmail, unknownEmail string) {
	t.Helper()
	if known.status != unknown.status {
		t.Errorf("%s: status %d for a registered address, %d for an unknown one", what, known.status, unknown.status)
	}
	a, b := credNormal(known, knownEmail), credNormal(unknown, unknownEmail)
	if a != b {
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		from := max(0, i-80)
		t.Errorf("%s: bodies differ for a registered and an unknown address, at byte %d:\n\tregistered: …%s\n\tunknown:    …%s",
			what, i, a[from:min(len(a), i+120)], b[from:min(len(b), i+120)])
	}
	if ha, hb := credHeaderShape(known), credHeaderShape(unknown); ha != hb {
		t.Errorf("%s: headers differ:\n\tregistered: %s\n\tunknown:    %s", what, ha, hb)
	}
}

// TestCredNoEnumeration: registration, a failed sign-in and a reset
// request answer alike whether or not the address has an account, and
// no reset mail goes to an unknown address.
func TestCredNoEnumeration(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	known, unknown := "kim@example.org", "zed@example.org"
	sessUser(t, ts, "Kim Known", known, "known passphrase")

	reg := func(email string) url.Values {
		return url.Values{"name": {"Pat Probe"}, "email": {email}, "password": {"probe passphrase"},
			"affiliation": {"Probe Ltd"}, "stakeholder_group": {"private_sector"}, "country": {"NL"}}
	}
	web := func(path string, form url.Values) page {
		return ts.browser(t).post(path, path, form)
	}
	api := func(path string, body map[string]string) page {
		return ts.browser(t).api("POST", path, "", body, nil)
	}
	// Registration (which registers the new addresses: the later steps
	// use another unknown one).
	u1, k2, u2 := "new-web@example.org", "kim2@example.org", "new-api@example.org"
	credSame(t, "POST /register", web("/register", reg(known)), web("/register", reg(u1)), known, u1)
	sessUser(t, ts, "Kim Two", k2, "known passphrase two")
	credSame(t, "POST /api/v1/register", api("/api/v1/register", authzFormJSON(reg(k2))), api("/api/v1/register", authzFormJSON(reg(u2))), k2, u2)

	// Let the registration mails go out before counting mails below.
	for _, e := range []string{known, u1, k2, u2} {
		sessWaitMail(t, ts, e, 0)
	}

	// A failed sign-in.
	bad := func(email string) url.Values { return url.Values{"email": {email}, "password": {"not the password"}} }
	credSame(t, "POST /login (wrong password)", web("/login", bad(known)), web("/login", bad(unknown)), known, unknown)
	credSame(t, "POST /api/v1/tokens (wrong password)", api("/api/v1/tokens", authzFormJSON(bad(known))), api("/api/v1/tokens", authzFormJSON(bad(unknown))), known, unknown)

	// A reset request: the answer is the same, the mail goes only to the
	// registered address. The unknown address asks first, so that once the
	// registered address's mail is out, a mail to the unknown one would be
	// out too.
	before := len(ts.outbox(t))
	forgot := url.Values{"email": {unknown}}
	pu := web("/password/forgot", forgot)
	pk := web("/password/forgot", url.Values{"email": {known}})
	credSame(t, "POST /password/forgot", pk, pu, known, unknown)
	au := api("/api/v1/password/forgot", map[string]string{"email": unknown})
	ak := api("/api/v1/password/forgot", map[string]string{"email": known})
	credSame(t, "POST /api/v1/password/forgot", ak, au, known, unknown)
	sessWaitMail(t, ts, known, 2) // registration, then the two reset mails
	if n := len(sessMailsTo(t, ts, unknown)); n != 0 {
		t.Errorf("mails to the unknown address = %d, want none", n)
	}
	if got := len(ts.outbox(t)) - before; got != 2 {
		t.Errorf("reset requests for one registered and one unknown address (web and API) sent %d mails, want 2", got)
	}
	for _, body := range sessMailsTo(t, ts, unknown) {
		if strings.Contains(body, "/password/reset") {
			t.Errorf("a reset link went to the unknown address %s", unknown)
		}
	}
}

// credCommon are common passwords every password form must refuse.
var credCommon = []string{"password123", "123456789", "qwertyuiop"}

// TestCredCommonPasswords: common passwords are refused (422) at
// registration, reset and change, on the web and the API.
func TestCredCommonPasswords(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ctx := context.Background()
	st := ts.app.store
	u := sessUser(t, ts, "Cole Common", "cole@example.org", "common passphrase")
	current := "common passphrase"
	b := ts.browser(t)
	sessSignIn(t, b, "cole@example.org", current)
	for i, pw := range credCommon {
		// Registration.
		form := url.Values{"name": {"Reg Common"}, "email": {fmt.Sprintf("common-%d@example.org", i)}, "password": {pw},
			"affiliation": {"X"}, "stakeholder_group": {"academia"}, "country": {"IT"}}
		if p := ts.browser(t).post("/register", "/register", form); p.status != http.StatusUnprocessableEntity {
			t.Errorf("POST /register with %q: got %d, want 422", pw, p.status)
		}
		form.Set("email", fmt.Sprintf("common-api-%d@example.org", i))
		var apiErr struct {
			Error struct{ Fields map[string]string }
		}
		p := ts.browser(t).api("POST", "/api/v1/register", "", authzFormJSON(form), nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("POST /api/v1/register with %q: got %d, want 422", pw, p.status)
		} else if err := json.Unmarshal([]byte(p.body), &apiErr); err != nil || apiErr.Error.Fields["password"] == "" {
			t.Errorf("POST /api/v1/register with %q: 422 without a password field error: %s", pw, p.body)
		}
		// Reset, with a live token each time (straight from the store).
		for _, web := range []bool{true, false} {
			tok, err := st.NewEmailToken(ctx, u.ID, models.PurposeReset, models.ResetTokenTTL)
			if err != nil {
				t.Fatal(err)
			}
			var p page
			if web {
				p = ts.browser(t).post("/password/reset?token="+tok, "/password/reset", url.Values{"token": {tok}, "password": {pw}})
			} else {
				p = ts.browser(t).api("POST", "/api/v1/password/reset", "", map[string]string{"token": tok, "password": pw}, nil)
			}
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("password reset (web %v) with %q: got %d, want 422", web, pw, p.status)
				if p.status == http.StatusOK {
					current = pw
					b = ts.browser(t)
					sessSignIn(t, b, "cole@example.org", current)
				}
			}
		}
		// Change.
		p = b.post("/me/account", "/me/password", url.Values{"current_password": {current}, "password": {pw}})
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("POST /me/password with %q: got %d, want 422", pw, p.status)
			if p.status == http.StatusSeeOther {
				current = pw
			}
		}
	}
}

// TestCredPasswordReset: a mailed link resets the password once; a used
// or expired link is 400; the old password stops working and the new one
// works.
func TestCredPasswordReset(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	const email, oldPW, newPW = "rita@example.org", "rita old passphrase", "rita new passphrase"
	sessUser(t, ts, "Rita Reset", email, oldPW)
	anon := ts.browser(t)

	if p := anon.post("/password/forgot", "/password/forgot", url.Values{"email": {email}}); p.status != http.StatusAccepted {
		t.Fatalf("forgot: %d", p.status)
	}
	body := sessWaitMail(t, ts, email, 0)
	if !strings.Contains(body, ts.URL+"/password/reset?token=") {
		t.Errorf("reset mail lacks a link to %s/password/reset?token=…:\n%s", ts.URL, body)
	}
	tok := sessResetToken(t, ts, email, 0)
	if p := anon.get("/password/reset?token=" + tok); p.status != http.StatusOK || !strings.Contains(p.body, tok) {
		t.Errorf("GET /password/reset?token=…: %d, token in form %v", p.status, strings.Contains(p.body, tok))
	}
	reset := func(tok, pw string) page {
		return ts.browser(t).post("/password/reset?token="+tok, "/password/reset", url.Values{"token": {tok}, "password": {pw}})
	}
	if p := reset(tok, newPW); p.status != http.StatusOK {
		t.Fatalf("reset: %d %s", p.status, authzSnippet(p))
	}
	if p := reset(tok, "yet another passphrase"); p.status != http.StatusBadRequest {
		t.Errorf("second use of the link: got %d, want 400", p.status)
	}
	if p := credSignIn(ts, t, false, email, oldPW); p.status != http.StatusUnauthorized {
		t.Errorf("old password after the reset: got %d, want 401", p.status)
	}
	if p := credSignIn(ts, t, true, email, newPW); !credSignedIn(true, p) {
		t.Errorf("new password after the reset: got %d, want 303", p.status)
	}

	// An expired link: past models.ResetTokenTTL it is refused; the same
	// link, in time, works (once) on the API.
	if p := anon.post("/password/forgot", "/password/forgot", url.Values{"email": {email}}); p.status != http.StatusAccepted {
		t.Fatalf("second forgot: %d", p.status)
	}
	tok2 := sessResetToken(t, ts, email, 1)

	// No mail for an unknown address, and the same answer. (Before the
	// clock moves: moving it stops the mail worker.)
	n := len(ts.outbox(t))
	pu := anon.post("/password/forgot", "/password/forgot", url.Values{"email": {"ghost@example.org"}})
	pk := anon.post("/password/forgot", "/password/forgot", url.Values{"email": {email}})
	credSame(t, "POST /password/forgot", pk, pu, email, "ghost@example.org")
	sessWaitMail(t, ts, email, 2)
	if got := len(ts.outbox(t)) - n; got != 1 {
		t.Errorf("reset requests for an unknown and a registered address sent %d mails, want 1", got)
	}

	clock := sessInstallClock(t, ts)
	clock.shift(models.ResetTokenTTL + time.Minute)
	if p := reset(tok2, "expired link passphrase"); p.status != http.StatusBadRequest {
		t.Errorf("expired link: got %d, want 400", p.status)
	}
	if p := ts.browser(t).api("POST", "/api/v1/password/reset", "", map[string]string{"token": tok2, "password": "expired link passphrase"}, nil); p.status != http.StatusBadRequest {
		t.Errorf("expired link on the API: got %d, want 400", p.status)
	}
	clock.shift(0)
	if p := credSignIn(ts, t, false, email, newPW); !credSignedIn(false, p) {
		t.Errorf("the refused expired link changed the password: new password now %d", p.status)
	}
	// The API spends a link once too.
	if p := ts.browser(t).api("POST", "/api/v1/password/reset", "", map[string]string{"token": tok2, "password": "api reset passphrase"}, nil); p.status != http.StatusOK {
		t.Errorf("the second link, in time, on the API: got %d %s, want 200", p.status, p.body)
	}
	if p := ts.browser(t).api("POST", "/api/v1/password/reset", "", map[string]string{"token": tok2, "password": "api reset passphrase 2"}, nil); p.status != http.StatusBadRequest {
		t.Errorf("second use of a link on the API: got %d, want 400", p.status)
	}
	if p := credSignIn(ts, t, false, email, "api reset passphrase"); !credSignedIn(false, p) {
		t.Errorf("password set through the API: got %d, want 201", p.status)
	}
}
