package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	cdplog "github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"margin/handlers"
	"margin/models"
)

// The stored-XSS suite: every payload of testdata/xss/payloads.txt is stored
// through the real server in every user-controlled field, then the pages
// that show it are opened in headless Chromium, a sample with the site's CSP
// and all the bulk pages plus larger samples with the CSP bypassed, so that
// a pass proves the sanitiser and the template escaping alone hold.

const (
	xssAdminEmail    = "xss-admin@example.org"
	xssAdminPassword = "xss admin passphrase"
	xssUserPassword  = "xss user passphrase"
	// xssCommenters is how many registered users get an API token, write
	// the comments and sign in in the browser to see their own pages; each
	// token and sign-in costs an argon2 hash, so not every user does.
	xssCommenters = 2
	// xssGroups is how many documents hold the payloads as paragraphs, one
	// run each, with the comments on them.
	xssGroups = 10
	// xssResponsePack is how many payloads one moderator response carries.
	xssResponsePack = 5
)

// xssCarrier is the paragraph stored before payload i, to find it again.
func xssCarrier(i int) string { return fmt.Sprintf("Carrier paragraph for payload %d.", i+1) }

// Fields that take payloads, as reported in the figures.
const (
	xssFieldTitle       = "document title"
	xssFieldParagraph   = "paragraph text"
	xssFieldName        = "user name"
	xssFieldAffiliation = "affiliation"
	xssFieldBody        = "comment body"
	xssFieldProposed    = "proposed text"
	xssFieldResponse    = "moderator response"
)

var xssFields = []string{xssFieldTitle, xssFieldParagraph, xssFieldName, xssFieldAffiliation, xssFieldBody, xssFieldProposed, xssFieldResponse}

// xssChromePath returns the Chromium binary, or "" when there is none.
func xssChromePath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// xssRequireChrome skips the test in -short mode and without Chromium.
func xssRequireChrome(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("stored-XSS browser suite skipped in -short mode")
	}
	p := xssChromePath()
	if p == "" {
		t.Skip("stored-XSS browser suite needs Chromium: /usr/bin/chromium or chromium on PATH")
	}
	return p
}

// xssDecode decodes the escapes of payloads.txt: \n \r \t \0 \\ and \uXXXX.
// Any other backslash stays as it is.
func xssDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		case '\\':
			b.WriteByte('\\')
		case 'u':
			if i+6 <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 5
					continue
				}
			}
			b.WriteByte(c)
			continue
		default:
			b.WriteByte(c)
			continue
		}
		i++
	}
	return b.String()
}

// xssLoadPayloads reads the corpus.
func xssLoadPayloads(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "xss", "payloads.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[string]int{}
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#:") || strings.TrimSpace(line) == "" {
			continue
		}
		p := xssDecode(line)
		if prev, dup := seen[p]; dup {
			t.Fatalf("payloads.txt:%d repeats the payload of line %d", n+1, prev)
		}
		seen[p] = n + 1
		out = append(out, p)
	}
	if len(out) < 200 {
		t.Fatalf("corpus has %d payloads, want at least 200", len(out))
	}
	return out
}

// xssCall is a goroutine-safe JSON API call: it returns the status and body.
func xssCall(base, method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

// xssErrorFields returns the field names of a 422 error body.
func xssErrorFields(body []byte) map[string]string {
	var e struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Fields
}

type xssDoc struct {
	slug, title string
	paraIDs     []int64
	paraTexts   []string
}

// xssGroup is a document that holds a run of payloads, each after a carrier
// paragraph, and the comments on those payloads.
type xssGroup struct {
	xssDoc
	payloads []int
	refs     map[int][]int64 // payload → its carrier paragraph and its own paragraphs
}

type xssUser struct {
	email, name, affiliation, token string
	payloads                        []int
}

type xssComment struct {
	id         int64
	payload    int
	slug       string
	author     int // index into users
	visibility string
	status     string // pending or the decision
	responses  []int  // payloads in the stored response
}

// xssStore holds what was stored and what was refused.
type xssStore struct {
	t          *testing.T
	ts         *testServer
	payloads   []string
	adminTok   string
	docs       []xssDoc   // one per payload, same index: its title and paragraph
	groups     []xssGroup // runs of payloads as paragraphs, with the comments
	extra      []xssDoc   // all payloads inline in sentences, and as plain text
	swallowed  []int      // payloads whose carrier paragraph an earlier payload swallowed
	inlineKept int        // payloads kept as a paragraph of the inline document
	users      []xssUser
	comments   []xssComment
	decided    []xssComment            // with the payloads of their response
	stored     map[string]map[int]bool // field → payload indexes stored
	refused    map[string]map[int]string
	dropped    []int // payloads the splitter kept no paragraph of
}

func (s *xssStore) markStored(field string, i int) {
	if s.stored[field] == nil {
		s.stored[field] = map[int]bool{}
	}
	s.stored[field][i] = true
}

func (s *xssStore) markRefused(field string, i int, why string) {
	if s.refused[field] == nil {
		s.refused[field] = map[int]string{}
	}
	s.refused[field][i] = why
}

// api calls the API from the test goroutine and fails on transport errors.
func (s *xssStore) api(method, path, token string, body any) (int, []byte) {
	s.t.Helper()
	code, out, err := xssCall(s.ts.URL, method, path, token, body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, out
}

func (s *xssStore) adminToken() {
	var tk struct{ Token string }
	code, out := s.api("POST", "/api/v1/tokens", "", map[string]string{"email": xssAdminEmail, "password": xssAdminPassword})
	if code != http.StatusCreated || json.Unmarshal(out, &tk) != nil {
		s.t.Fatalf("admin token: %d %s", code, out)
	}
	s.adminTok = tk.Token
}

// createDocument imports a document and returns it, or the 422 fields.
func (s *xssStore) createDocument(title, slug, format, source string) (xssDoc, map[string]string) {
	s.t.Helper()
	code, out := s.api("POST", "/api/v1/documents", s.adminTok, map[string]string{
		"title": title, "slug": slug, "format": format, "source": source,
	})
	if code == http.StatusUnprocessableEntity {
		return xssDoc{}, xssErrorFields(out)
	}
	var d struct {
		Slug       string
		Title      string
		Paragraphs []struct {
			ID   int64
			Text string
		}
	}
	if code != http.StatusCreated || json.Unmarshal(out, &d) != nil {
		s.t.Fatalf("import %s: %d %s", slug, code, out)
	}
	doc := xssDoc{slug: d.Slug, title: d.Title}
	for _, p := range d.Paragraphs {
		doc.paraIDs = append(doc.paraIDs, p.ID)
		doc.paraTexts = append(doc.paraTexts, p.Text)
	}
	return doc, nil
}

// documents stores each payload as the title and a paragraph of its own
// document, and all of them in two large documents (Markdown, inline in
// a sentence, and plain text).
func (s *xssStore) documents() {
	for i, p := range s.payloads {
		slug := fmt.Sprintf("xss-%03d", i+1)
		title, source := p, fmt.Sprintf("Carrier paragraph for payload %d.\n\n%s\n", i+1, p)
		doc, fields := s.createDocument(title, slug, "markdown", source)
		if fields != nil {
			if fields["title"] == "" && fields["source"] == "" {
				s.t.Fatalf("import of payload %d refused for %v", i+1, fields)
			}
			if why := fields["title"]; why != "" {
				s.markRefused(xssFieldTitle, i, why)
				title = fmt.Sprintf("XSS payload %d (title refused)", i+1)
			}
			if why := fields["source"]; why != "" {
				s.markRefused(xssFieldParagraph, i, why)
				source = fmt.Sprintf("Carrier paragraph for payload %d (source refused).\n", i+1)
			}
			if doc, fields = s.createDocument(title, slug, "markdown", source); fields != nil {
				s.t.Fatalf("import of payload %d without it: %v", i+1, fields)
			}
		}
		if title == p {
			s.markStored(xssFieldTitle, i)
		}
		switch {
		case s.refused[xssFieldParagraph][i] != "":
		case len(doc.paraIDs) >= 2:
			s.markStored(xssFieldParagraph, i)
		default:
			s.dropped = append(s.dropped, i)
		}
		s.docs = append(s.docs, doc)
	}
	var live []int // payloads whose paragraphs are not refused
	for i := range s.payloads {
		if s.refused[xssFieldParagraph][i] == "" {
			live = append(live, i)
		}
	}
	for g := 0; g < xssGroups; g++ {
		run := live[g*len(live)/xssGroups : (g+1)*len(live)/xssGroups]
		var src strings.Builder
		for _, i := range run {
			fmt.Fprintf(&src, "%s\n\n%s\n\n", xssCarrier(i), s.payloads[i])
		}
		title := fmt.Sprintf("XSS payloads %d to %d", run[0]+1, run[len(run)-1]+1)
		doc, fields := s.createDocument(title, fmt.Sprintf("xss-run-%02d", g+1), "markdown", src.String())
		if fields != nil {
			s.t.Fatalf("import %s: %v", title, fields)
		}
		grp := xssGroup{xssDoc: doc, payloads: run, refs: map[int][]int64{}}
		for _, i := range run {
			k := slices.Index(doc.paraTexts, xssCarrier(i))
			if k < 0 {
				s.swallowed = append(s.swallowed, i)
				continue
			}
			refs := []int64{doc.paraIDs[k]}
			for k++; k < len(doc.paraTexts) && !strings.HasPrefix(doc.paraTexts[k], "Carrier paragraph for payload "); k++ {
				refs = append(refs, doc.paraIDs[k])
			}
			grp.refs[i] = refs
		}
		s.groups = append(s.groups, grp)
	}

	var inline, plain []string
	for i, p := range s.payloads {
		if s.refused[xssFieldParagraph][i] != "" {
			continue
		}
		inline = append(inline, fmt.Sprintf("Inline payload %d: %s", i+1, p))
		plain = append(plain, p)
	}
	for _, d := range []struct{ title, slug, format, source string }{
		{"XSS payloads inline in sentences", "xss-inline", "markdown", strings.Join(inline, "\n\n")},
		{"XSS payloads as plain text", "xss-plain", "text", strings.Join(plain, "\n\n")},
	} {
		doc, fields := s.createDocument(d.title, d.slug, d.format, d.source)
		if fields != nil {
			s.t.Fatalf("import %s: %v", d.slug, fields)
		}
		s.extra = append(s.extra, doc)
		if d.format == "markdown" {
			for _, txt := range doc.paraTexts {
				if strings.HasPrefix(txt, "Inline payload ") {
					s.inlineKept++
				}
			}
		}
	}
}

// registerUsers registers accounts whose names and affiliations carry every
// payload that fits on one line, several to an account, and tries the
// others alone (they are expected to be refused).
func (s *xssStore) registerUsers() {
	type reg struct {
		name     string
		payloads []int
	}
	// First fit, longest first, packs the one-line payloads into as few
	// names as possible: every account costs an argon2 hash.
	var regs []reg
	var fits []int
	for i, p := range s.payloads {
		q := strings.TrimSpace(p)
		if strings.ContainsAny(q, "\r\n\x00") || utf8.RuneCountInString(q) > models.MaxNameLength {
			regs = append(regs, reg{name: p, payloads: []int{i}})
			continue
		}
		fits = append(fits, i)
	}
	runes := func(i int) int { return utf8.RuneCountInString(strings.TrimSpace(s.payloads[i])) }
	slices.SortStableFunc(fits, func(a, b int) int { return runes(b) - runes(a) })
	var packs []reg
	for _, i := range fits {
		q := strings.TrimSpace(s.payloads[i])
		k := slices.IndexFunc(packs, func(r reg) bool {
			return utf8.RuneCountInString(r.name)+1+utf8.RuneCountInString(q) <= models.MaxNameLength
		})
		if k < 0 {
			packs = append(packs, reg{name: q, payloads: []int{i}})
			continue
		}
		packs[k].name += " " + q
		packs[k].payloads = append(packs[k].payloads, i)
	}
	regs = append(packs, regs...)

	groups := []string{"government", "private_sector", "civil_society", "technical_community", "academia", "intergovernmental", "media", "other"}
	countries := []string{"KE", "FR", "BR", "IN", "JP", "US"}
	type result struct {
		code int
		body []byte
		err  error
	}
	results := make([]result, len(regs))
	// Two at a time: argon2 already uses both cores, this only hides the
	// HTTP and SQLite round trips.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for k, r := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			code, body, err := xssCall(s.ts.URL, "POST", "/api/v1/register", "", map[string]string{
				"name": r.name, "affiliation": r.name, "email": fmt.Sprintf("xss-u%03d@example.org", k+1),
				"password": xssUserPassword, "stakeholder_group": groups[k%len(groups)], "country": countries[k%len(countries)],
			})
			results[k] = result{code, body, err}
		}()
	}
	wg.Wait()
	for k, r := range regs {
		res := results[k]
		switch {
		case res.err != nil:
			s.t.Fatalf("register %d: %v", k+1, res.err)
		case res.code == http.StatusAccepted:
			u := xssUser{email: fmt.Sprintf("xss-u%03d@example.org", k+1), name: strings.TrimSpace(r.name), affiliation: strings.TrimSpace(r.name), payloads: r.payloads}
			s.users = append(s.users, u)
			for _, i := range r.payloads {
				s.markStored(xssFieldName, i)
				s.markStored(xssFieldAffiliation, i)
			}
		case res.code == http.StatusUnprocessableEntity:
			fields := xssErrorFields(res.body)
			if fields["name"] == "" && fields["affiliation"] == "" {
				s.t.Fatalf("register %d refused for %v", k+1, fields)
			}
			for _, i := range r.payloads {
				for field, key := range map[string]string{xssFieldName: "name", xssFieldAffiliation: "affiliation"} {
					if why := fields[key]; why != "" {
						s.markRefused(field, i, why)
					} else {
						s.markRefused(field, i, "refused because of the other field")
					}
				}
			}
		default:
			s.t.Fatalf("register %d (%q): %d %s", k+1, r.name, res.code, res.body)
		}
	}
	if len(s.users) < xssCommenters {
		s.t.Fatalf("only %d users registered", len(s.users))
	}

	var emails []string
	for _, u := range s.users {
		emails = append(emails, u.email)
	}
	tokens := s.outboxTokens(emails)
	for k, u := range s.users {
		tok := tokens[u.email]
		if code, out := s.api("POST", "/api/v1/verify", "", map[string]string{"token": tok}); code != http.StatusOK {
			s.t.Fatalf("verify %s: %d %s", u.email, code, out)
		}
		if k < xssCommenters {
			var tk struct{ Token string }
			code, out := s.api("POST", "/api/v1/tokens", "", map[string]string{"email": u.email, "password": xssUserPassword})
			if code != http.StatusCreated || json.Unmarshal(out, &tk) != nil {
				s.t.Fatalf("token for %s: %d %s", u.email, code, out)
			}
			s.users[k].token = tk.Token
		}
	}
}

// outboxTokens maps each address in want to the token of its confirmation
// mail. Mail goes out from a queue, so it polls the outbox (up to 30 s)
// until every address has one. Names carry payloads, so the To header is
// matched on the bare address rather than parsed.
func (s *xssStore) outboxTokens(want []string) map[string]string {
	out := map[string]string{}
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(s.ts.dataDir, "outbox", "*.eml"))
		for _, f := range files {
			if seen[f] {
				continue
			}
			seen[f] = true
			raw, err := os.ReadFile(f)
			if err != nil {
				s.t.Fatal(err)
			}
			m, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				s.t.Fatalf("%s does not parse: %v", f, err)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
			if err != nil {
				s.t.Fatal(err)
			}
			to := m.Header.Get("To")
			at := strings.LastIndexByte(to, '<')
			addr := strings.TrimSuffix(strings.TrimSpace(to[at+1:]), ">")
			if sm := tokenLink.FindSubmatch(body); sm != nil {
				out[addr] = string(sm[1])
			}
		}
		missing := slices.IndexFunc(want, func(e string) bool { return out[e] == "" })
		if missing < 0 {
			return out
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no confirmation mail for %s after 30 s (%d mails)", want[missing], len(seen))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// commentsAndDecisions stores each payload as the body and proposed text of
// a comment on its paragraphs, and every payload in a moderator's response:
// every xssResponsePack-th comment is decided with a response that carries
// it and the next payloads, separated by blank lines. The NUL payload is
// tried alone.
func (s *xssStore) commentsAndDecisions() {
	kinds := []string{"general", "substantive", "editorial"}
	visibilities := []string{"public", "anonymous", "private"}
	statuses := []string{models.StatusAccepted, models.StatusDeferred, models.StatusRejected}
	group := map[int]*xssGroup{}
	for g := range s.groups {
		for _, i := range s.groups[g].payloads {
			group[i] = &s.groups[g]
		}
	}
	submit := func(i int, g *xssGroup, body, proposed string) (xssComment, map[string]string) {
		s.t.Helper()
		paras := g.refs[i]
		if paras == nil || i%7 == 6 {
			paras = []int64{} // a comment on the whole document
		}
		author, vis := i%xssCommenters, visibilities[i%len(visibilities)]
		var c struct{ ID int64 }
		code, out := s.api("POST", "/api/v1/documents/"+g.slug+"/comments", s.users[author].token, map[string]any{
			"paragraph_ids": paras, "body": body, "proposed_text": proposed, "kind": kinds[i%len(kinds)], "visibility": vis,
		})
		if code == http.StatusUnprocessableEntity {
			return xssComment{}, xssErrorFields(out)
		}
		if code != http.StatusCreated || json.Unmarshal(out, &c) != nil {
			s.t.Fatalf("comment on %s: %d %s", g.slug, code, out)
		}
		return xssComment{id: c.ID, payload: i, slug: g.slug, author: author, visibility: vis, status: models.StatusPending}, nil
	}
	for i, p := range s.payloads {
		g := group[i]
		if g == nil {
			g = &s.groups[i%len(s.groups)] // its paragraph was refused
		}
		c, fields := submit(i, g, p, p)
		if fields != nil {
			body, proposed := p, p
			for key, field := range map[string]string{"body": xssFieldBody, "proposed_text": xssFieldProposed} {
				if why := fields[key]; why != "" {
					s.markRefused(field, i, why)
					if key == "body" {
						body = fmt.Sprintf("Carrier comment for payload %d.", i+1)
					} else {
						proposed = ""
					}
				}
			}
			if body == p && proposed == p {
				s.t.Fatalf("comment with payload %d refused for %v", i+1, fields)
			}
			if c, fields = submit(i, g, body, proposed); fields != nil {
				s.t.Fatalf("carrier comment for payload %d refused for %v", i+1, fields)
			}
			if body == p {
				s.markStored(xssFieldBody, i)
			}
			if proposed == p {
				s.markStored(xssFieldProposed, i)
			}
		} else {
			s.markStored(xssFieldBody, i)
			s.markStored(xssFieldProposed, i)
		}
		s.comments = append(s.comments, c)
	}

	decide := func(c *xssComment, status string, pack []int) map[string]string {
		s.t.Helper()
		texts := make([]string, len(pack))
		for k, i := range pack {
			texts[k] = s.payloads[i]
		}
		code, out := s.api("POST", fmt.Sprintf("/api/v1/comments/%d/decision", c.id), s.adminTok,
			map[string]string{"status": status, "response": strings.Join(texts, "\n\n")})
		if code == http.StatusUnprocessableEntity {
			return xssErrorFields(out)
		}
		if code != http.StatusOK {
			s.t.Fatalf("decide comment %d: %d %s", c.id, code, out)
		}
		c.status, c.responses = status, pack
		for _, i := range pack {
			s.markStored(xssFieldResponse, i)
		}
		s.decided = append(s.decided, *c)
		return nil
	}
	var pack []int
	n := 0
	flush := func() {
		if len(pack) == 0 {
			return
		}
		c := &s.comments[pack[0]]
		if fields := decide(c, statuses[n%len(statuses)], pack); fields != nil {
			s.t.Fatalf("response with payloads %v refused for %v", pack, fields)
		}
		n++
		pack = nil
	}
	for i, p := range s.payloads {
		if strings.ContainsRune(p, 0) {
			// Alone, so that its refusal refuses nothing else.
			if fields := decide(&s.comments[i], models.StatusRejected, []int{i}); fields != nil {
				s.markRefused(xssFieldResponse, i, fields["response"])
			}
			continue
		}
		pack = append(pack, i)
		if len(pack) == xssResponsePack {
			flush()
		}
	}
	flush()
	for _, d := range s.decided {
		s.comments[d.payload] = d
	}
}

// xssInitScript runs in every frame before the page's own scripts: it
// records CSP violations and every call of a dialog sink or removal of
// <body>/<main>, on top of the dialog events the test listens to.
const xssInitScript = `(() => {
  const w = window;
  w.__xssSinks = [];
  w.__xssCSP = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    w.__xssCSP.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
  }, true);
  for (const k of ['alert', 'confirm', 'prompt', 'print']) {
    const orig = w[k];
    w[k] = function () {
      w.__xssSinks.push(k);
      return k === 'print' ? undefined : orig.apply(this, arguments);
    };
  }
  const remove = Element.prototype.remove;
  Element.prototype.remove = function () {
    if (this === document.body || this === document.documentElement || this.tagName === 'MAIN') {
      w.__xssSinks.push('remove ' + this.tagName);
    }
    return remove.apply(this, arguments);
  };
})();`

// xssCheckScript runs after load (and a short pause for ontoggle, onfocus,
// animations and media errors) and reports what a payload could have done,
// plus a static audit of the DOM for anything script-capable that the
// sanitiser should have removed, whether or not it ran.
const xssCheckScript = `(async (wantText) => {
  await new Promise((r) => setTimeout(r, 30));
  const out = {
    body: document.body !== null,
    main: document.querySelector('main') !== null,
    xss: typeof window.__xss !== 'undefined',
    sinks: window.__xssSinks || ['init script missing'],
    csp: window.__xssCSP || [],
    url: location.href,
    bad: [],
    text: '',
  };
  const origin = location.origin;
  const danger = /^(javascript|vbscript|data|livescript|mocha):/;
  const clean = (v) => v.replace(/[\u0000-\u0020\u007f-\u00a0\u00ad\u200b-\u200f\u2028-\u202e\u2060\ufeff]/g, '').toLowerCase();
  const urlAttrs = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'poster',
    'srcset', 'ping', 'codebase', 'cite', 'longdesc', 'lowsrc', 'dynsrc', 'manifest', 'icon', 'values', 'to', 'from', 'by']);
  const name = (el) => '<' + el.tagName.toLowerCase() + '>';
  for (const el of document.querySelectorAll('*')) {
    for (const a of Array.from(el.attributes)) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on') || n === 'srcdoc' || n === 'style' || n === 'formaction') {
        out.bad.push(name(el) + ' ' + n + '=' + a.value.slice(0, 80));
      } else if (urlAttrs.has(n) && danger.test(clean(a.value))) {
        out.bad.push(name(el) + ' ' + n + '=' + a.value.slice(0, 80));
      }
    }
  }
  for (const el of document.querySelectorAll('script')) {
    if (!el.src || new URL(el.src).origin !== origin || new URL(el.src).pathname !== '/static/margin.js') {
      out.bad.push('<script> ' + (el.src || el.textContent.slice(0, 80)));
    }
  }
  for (const el of document.querySelectorAll('link')) {
    const u = new URL(el.href, location.href);
    if (u.origin !== origin || !u.pathname.startsWith('/static/')) out.bad.push('<link> ' + el.href);
  }
  for (const el of document.querySelectorAll('form')) {
    if (el.getAttribute('action') === null || new URL(el.action, location.href).origin !== origin) {
      out.bad.push('<form> action=' + el.getAttribute('action'));
    }
  }
  const tags = 'iframe,frame,frameset,object,embed,applet,base,style,meta[http-equiv],plaintext,xmp,listing,' +
    'noembed,noframes,marquee,svg,math,template,noscript,isindex,keygen,portal,video,audio,source,area,map';
  for (const el of document.querySelectorAll(tags)) out.bad.push(name(el));
  if (wantText) out.text = (document.querySelector('main') || document.documentElement).innerText;
  return out;
})`

// xssResult is what xssCheckScript returns.
type xssResult struct {
	Body  bool     `json:"body"`
	Main  bool     `json:"main"`
	XSS   bool     `json:"xss"`
	Sinks []string `json:"sinks"`
	CSP   []string `json:"csp"`
	URL   string   `json:"url"`
	Bad   []string `json:"bad"`
	Text  string   `json:"text"`
}

// xssBrowser is one headless Chromium.
type xssBrowser struct {
	ctx context.Context
}

func xssStartBrowser(t *testing.T, chrome string) *xssBrowser {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Nothing but loopback resolves: payload URLs never leave the host.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &xssBrowser{ctx: ctx}
}

// xssTab is one tab in its own browser context (its own cookies), with the
// listeners and the init script installed.
type xssTab struct {
	name string
	base string
	ctx  context.Context

	mu         sync.Mutex
	dialogs    []string
	exceptions []string
	logErrors  []string
	console    int // console.* calls
}

func (b *xssBrowser) newTab(t *testing.T, name, base string) *xssTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tab := &xssTab{name: name, base: base, ctx: ctx}
	if err := chromedp.Listen(ctx, tab.onEvent); err != nil {
		t.Fatalf("listen on %s tab: %v", name, err)
	}
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: xssInitScript}); err != nil {
		t.Fatalf("init script on %s tab: %v", name, err)
	}
	return tab
}

// onEvent runs on chromedp's reader goroutine: it only records, and
// dismisses dialogs from another goroutine.
func (tab *xssTab) onEvent(ev any) {
	switch e := ev.(type) {
	case *cdppage.EventJavascriptDialogOpening:
		tab.mu.Lock()
		tab.dialogs = append(tab.dialogs, fmt.Sprintf("%s(%q) in frame %s", e.Type, e.Message, e.URL))
		tab.mu.Unlock()
		go func() {
			_, _ = chromedp.Call(tab.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}()
	case *cdpruntime.EventExceptionThrown:
		msg := "exception"
		if d := e.ExceptionDetails; d != nil {
			msg = d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			msg += " at " + d.URL
		}
		tab.mu.Lock()
		tab.exceptions = append(tab.exceptions, msg)
		tab.mu.Unlock()
	case *cdpruntime.EventConsoleAPICalled:
		tab.mu.Lock()
		tab.console++
		tab.mu.Unlock()
	case *cdplog.EventEntryAdded:
		if e.Entry != nil && e.Entry.Level == cdplog.EntryLevelError {
			tab.mu.Lock()
			tab.logErrors = append(tab.logErrors, string(e.Entry.Source)+": "+e.Entry.Text+" "+e.Entry.URL)
			tab.mu.Unlock()
		}
	}
}

// counts returns how many dialogs and exceptions were seen so far.
func (tab *xssTab) counts() (int, int) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return len(tab.dialogs), len(tab.exceptions)
}

// since returns the dialogs and exceptions after the given counts.
func (tab *xssTab) since(d, e int) ([]string, []string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return slices.Clone(tab.dialogs[d:]), slices.Clone(tab.exceptions[e:])
}

func (tab *xssTab) bypassCSP(enabled bool) error {
	_, err := chromedp.Call(tab.ctx, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: enabled})
	return err
}

// signIn fills in and submits the login form inside the browser.
func (tab *xssTab) signIn(email, password string) error {
	ctx, cancel := context.WithTimeout(tab.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(tab.base+"/login")); err != nil {
		return err
	}
	if _, err := chromedp.RunResponse(ctx,
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#email")),
	); err != nil {
		return err
	}
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('form.logout-form') !== null`))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("sign-in as %s did not take", email)
	}
	return nil
}

// xssVisit is one page to open, with texts its <main> must show.
type xssVisit struct {
	path string
	want []string
}

// xssOutcome is what one page visit found.
type xssOutcome struct {
	tab, path  string
	status     int64
	err        error
	res        xssResult
	dialogs    []string
	exceptions []string
	missing    []string
	nav, eval  time.Duration
}

// visit opens one page and checks it.
func (tab *xssTab) visit(v xssVisit) xssOutcome {
	o := xssOutcome{tab: tab.name, path: v.path}
	d0, e0 := tab.counts()
	ctx, cancel := context.WithTimeout(tab.ctx, 60*time.Second)
	defer cancel()
	t0 := time.Now()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(tab.base+v.path))
	o.nav = time.Since(t0)
	if err != nil {
		o.err = err
		o.dialogs, o.exceptions = tab.since(d0, e0)
		return o
	}
	if resp != nil {
		o.status = resp.Status
	}
	wantText := "false"
	if len(v.want) > 0 {
		wantText = "true"
	}
	t1 := time.Now()
	o.res, o.err = chromedp.Run(ctx, chromedp.Evaluate[xssResult](xssCheckScript+"("+wantText+")", chromedp.EvalAwaitPromise))
	o.eval = time.Since(t1)
	o.dialogs, o.exceptions = tab.since(d0, e0)
	if len(v.want) > 0 {
		text := xssSqueeze(o.res.Text)
		for _, w := range v.want {
			if !strings.Contains(text, xssSqueeze(w)) {
				o.missing = append(o.missing, w)
			}
		}
	}
	return o
}

// xssSqueeze drops all white space, so that texts compare the same however
// the page wrapped or collapsed them.
func xssSqueeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// problems lists what is wrong with a visit; an empty list is a pass.
func (o xssOutcome) problems(wantStatus int64) []string {
	var p []string
	for _, d := range o.dialogs {
		p = append(p, "DIALOG opened: "+d)
	}
	if o.err != nil {
		return append(p, fmt.Sprintf("load failed: %v", o.err))
	}
	if o.status != wantStatus {
		p = append(p, fmt.Sprintf("HTTP %d, want %d", o.status, wantStatus))
	}
	if !o.res.Body {
		p = append(p, "document.body was removed")
	}
	if !o.res.Main {
		p = append(p, "<main> is gone")
	}
	if o.res.XSS {
		p = append(p, "window.__xss was set")
	}
	for _, s := range o.res.Sinks {
		p = append(p, "sink called: "+s)
	}
	if u := strings.SplitN(o.res.URL, "#", 2)[0]; !strings.HasSuffix(u, o.path) {
		p = append(p, "page navigated away to "+o.res.URL)
	}
	for _, b := range o.res.Bad {
		p = append(p, "script-capable markup left in the DOM: "+b)
	}
	for _, e := range o.exceptions {
		p = append(p, "uncaught exception: "+e)
	}
	for _, m := range o.missing {
		p = append(p, fmt.Sprintf("text not shown: %q", m))
	}
	return p
}

// xssPassStats sums one pass over the pages.
type xssPassStats struct {
	pages, dialogs, bodyGone, csp, problems int
	cspSamples                              []string
	nav, eval, maxNav                       time.Duration
	slowest                                 string
}

// xssRunPass opens every role's pages in its own tab, the tabs in parallel,
// and reports each problem with its page.
func xssRunPass(t *testing.T, pass string, plan map[*xssTab][]xssVisit) xssPassStats {
	t.Helper()
	var mu sync.Mutex
	var st xssPassStats
	var wg sync.WaitGroup
	for tab, visits := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, v := range visits {
				o := tab.visit(v)
				probs := o.problems(http.StatusOK)
				mu.Lock()
				st.pages++
				st.nav += o.nav
				st.eval += o.eval
				if o.nav > st.maxNav {
					st.maxNav, st.slowest = o.nav, tab.name+" "+v.path
				}
				st.dialogs += len(o.dialogs)
				if o.err == nil && !o.res.Body {
					st.bodyGone++
				}
				st.csp += len(o.res.CSP)
				if len(st.cspSamples) < 5 {
					for _, c := range o.res.CSP {
						st.cspSamples = append(st.cspSamples, tab.name+" "+v.path+": "+c)
					}
				}
				for _, p := range probs {
					st.problems++
					if st.problems <= 60 {
						t.Errorf("%s, %s tab, %s: %s", pass, tab.name, v.path, p)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if st.problems > 60 {
		t.Errorf("%s: %d problems in all, the first 60 shown", pass, st.problems)
	}
	return st
}

// TestXSSStoredPayloads stores the corpus in every user-controlled field and
// proves, in a real browser with and without the CSP, that nothing runs.
func TestXSSStoredPayloads(t *testing.T) {
	chrome := xssRequireChrome(t)
	start := time.Now()
	payloads := xssLoadPayloads(t)

	limits := handlers.DefaultLimits()
	lots := models.Limit{Max: 1 << 30, Window: time.Hour}
	limits.RegisterPerAddr, limits.VerifyPerAddr = lots, lots
	limits.SignInPerAddress, limits.SignInPerAccount = lots, lots
	limits.Comments = models.CommentLimits{PerMinute: models.Limit{Max: 1 << 30, Window: time.Minute}, PerDay: models.Limit{Max: 1 << 30, Window: 24 * time.Hour}}
	limits.QueuePageSize = 100000
	ts := newTestServer(t, map[string]string{
		"MARGIN_ADMIN_EMAIL": xssAdminEmail, "MARGIN_ADMIN_PASSWORD": xssAdminPassword,
	}, &limits)

	s := &xssStore{t: t, ts: ts, payloads: payloads, stored: map[string]map[int]bool{}, refused: map[string]map[int]string{}}
	s.adminToken()
	phase := time.Now()
	s.documents()
	t.Logf("documents stored in %v", time.Since(phase).Round(time.Millisecond))
	phase = time.Now()
	s.registerUsers()
	t.Logf("users registered in %v", time.Since(phase).Round(time.Millisecond))
	phase = time.Now()
	s.commentsAndDecisions()
	t.Logf("comments and decisions stored in %v", time.Since(phase).Round(time.Millisecond))
	stored := time.Since(start)

	for i, p := range payloads {
		for _, field := range xssFields {
			if field == xssFieldParagraph {
				continue
			}
			if !s.stored[field][i] && s.refused[field][i] == "" {
				t.Errorf("payload %d %q neither stored nor refused as %s", i+1, p, field)
			}
		}
	}

	phase = time.Now()
	b := xssStartBrowser(t, chrome)
	anon := b.newTab(t, "anonymous", ts.URL)
	mod := b.newTab(t, "moderator", ts.URL)
	if err := mod.signIn(xssAdminEmail, xssAdminPassword); err != nil {
		t.Fatalf("moderator sign-in: %v", err)
	}
	var commenters []*xssTab
	for k := 0; k < xssCommenters; k++ {
		tab := b.newTab(t, fmt.Sprintf("commenter %d", k+1), ts.URL)
		if err := tab.signIn(s.users[k].email, xssUserPassword); err != nil {
			t.Fatalf("commenter %d sign-in: %v", k+1, err)
		}
		commenters = append(commenters, tab)
	}

	// plan lists the pages of one pass. Pass 2 (full) opens every page
	// that shows payloads in bulk, every decided comment and a quarter of the
	// one-payload documents; pass 1 opens a sample of the same kinds.
	plan := func(full bool) map[*xssTab][]xssVisit {
		var titles []string
		for i := range payloads {
			if s.stored[xssFieldTitle][i] {
				titles = append(titles, s.docs[i].title)
			}
		}
		var names []string
		for _, u := range s.users {
			names = append(names, u.name, u.affiliation)
		}
		p := map[*xssTab][]xssVisit{}
		p[anon] = append(p[anon], xssVisit{path: "/", want: titles})
		p[mod] = append(p[mod], xssVisit{path: "/", want: titles}, xssVisit{path: "/admin", want: names})
		// One large page per status; its responses prove nothing is paged away.
		for _, st := range []string{"pending", "accepted", "deferred", "rejected"} {
			var want []string
			for _, c := range s.decided {
				if c.status == st {
					for _, i := range c.responses {
						want = append(want, s.payloads[i])
					}
				}
			}
			p[mod] = append(p[mod], xssVisit{path: "/moderation?status=" + st, want: want})
		}
		for _, g := range s.groups {
			p[anon] = append(p[anon], xssVisit{path: "/documents/" + g.slug})
			p[mod] = append(p[mod], xssVisit{path: "/documents/" + g.slug})
		}
		for _, d := range s.extra {
			p[anon] = append(p[anon], xssVisit{path: "/documents/" + d.slug})
			p[mod] = append(p[mod], xssVisit{path: "/documents/" + d.slug})
		}
		for i, d := range s.docs {
			var want []string
			if s.stored[xssFieldTitle][i] {
				want = []string{d.title}
			}
			if (full && i%4 == 2) || (!full && i%8 == 0) {
				p[anon] = append(p[anon], xssVisit{path: "/documents/" + d.slug, want: want})
			}
			if (full && i%16 == 6) || (!full && i%16 == 12) {
				p[mod] = append(p[mod], xssVisit{path: "/documents/" + d.slug, want: want})
			}
		}
		nAnon, nMod := 0, 0
		for _, c := range s.decided {
			path := fmt.Sprintf("/comments/%d", c.id)
			var want []string
			for _, i := range c.responses {
				want = append(want, s.payloads[i])
			}
			if full || nMod < 30 {
				p[mod] = append(p[mod], xssVisit{path: path, want: want})
				nMod++
			}
			if c.visibility != "private" && (full || nAnon < 10) {
				p[anon] = append(p[anon], xssVisit{path: path, want: want})
				nAnon++
			}
		}
		nPending := 0
		for k, c := range s.comments {
			if c.status == models.StatusPending && (k%2 == 0) == full && nPending < 20 {
				p[mod] = append(p[mod], xssVisit{path: fmt.Sprintf("/comments/%d", c.id)})
				nPending++
			}
		}
		// Authors see their own pending comments, in full and in the edit
		// form, and their name and affiliation on the account page.
		for k, tab := range commenters {
			u := s.users[k]
			p[tab] = append(p[tab], xssVisit{path: "/me/comments"}, xssVisit{path: "/me/account", want: []string{u.name, u.affiliation}}, xssVisit{path: "/"})
			n := 0
			for _, c := range s.comments {
				if c.author != k {
					continue
				}
				if (full && n%6 == 0) || (!full && n < 3) {
					p[tab] = append(p[tab], xssVisit{path: fmt.Sprintf("/comments/%d", c.id)})
				}
				n++
			}
			for g := k; g < len(s.groups); g += 5 {
				p[tab] = append(p[tab], xssVisit{path: "/documents/" + s.groups[g].slug})
			}
		}
		return p
	}

	t.Logf("browser started and signed in in %v", time.Since(phase).Round(time.Millisecond))

	// Pass 1: as a visitor's browser sees the site, CSP on.
	pass1 := xssRunPass(t, "pass 1 (CSP on)", plan(false))
	t1 := time.Since(start)

	// Pass 2: the CSP bypassed, so only the sanitiser and escaping stand.
	for _, tab := range append([]*xssTab{anon, mod}, commenters...) {
		if err := tab.bypassCSP(true); err != nil {
			t.Fatalf("bypass CSP on %s tab: %v", tab.name, err)
		}
	}
	pass2 := xssRunPass(t, "pass 2 (CSP bypassed)", plan(true))

	t.Logf("payloads in corpus: %d", len(payloads))
	for _, field := range xssFields {
		var refused []string
		for i := range payloads {
			if why, ok := s.refused[field][i]; ok {
				refused = append(refused, fmt.Sprintf("#%d (%s)", i+1, why))
			}
		}
		slices.Sort(refused)
		t.Logf("  %-18s stored %3d, refused %3d %s", field+":", len(s.stored[field]), len(refused), strings.Join(refused, ", "))
	}
	var dropped []string
	for _, i := range s.dropped {
		dropped = append(dropped, strconv.Itoa(i+1))
	}
	t.Logf("  own paragraphs the splitter dropped (raw HTML, no visible text): %d [%s]", len(s.dropped), strings.Join(dropped, " "))
	t.Logf("  paragraphs of the inline document: %d of %d payloads; plain-text document: %d paragraphs",
		s.inlineKept, len(payloads)-len(s.refused[xssFieldParagraph]), len(s.extra[1].paraIDs))
	var swallowed []string
	for _, i := range s.swallowed {
		swallowed = append(swallowed, strconv.Itoa(i+1))
	}
	t.Logf("  payloads whose carrier paragraph an earlier payload swallowed in the run documents: %d [%s]", len(s.swallowed), strings.Join(swallowed, " "))
	t.Logf("users: %d registered with payload names, comments: %d (%d decided), documents: %d",
		len(s.users), len(s.comments), len(s.decided), len(s.docs)+len(s.groups)+len(s.extra))
	for _, r := range []struct {
		name string
		st   xssPassStats
	}{{"pass 1 (CSP on)", pass1}, {"pass 2 (CSP bypassed)", pass2}} {
		t.Logf("%s: pages opened %d, dialogs %d, body removed %d, CSP violations %d, problems %d",
			r.name, r.st.pages, r.st.dialogs, r.st.bodyGone, r.st.csp, r.st.problems)
		if r.st.pages > 0 {
			t.Logf("  navigation %v/page (slowest %v: %s), checks %v/page", r.st.nav/time.Duration(r.st.pages), r.st.maxNav, r.st.slowest, r.st.eval/time.Duration(r.st.pages))
		}
		for _, c := range r.st.cspSamples {
			t.Logf("  CSP violation: %s", c)
		}
	}
	var logErrors, console int
	for _, tab := range append([]*xssTab{anon, mod}, commenters...) {
		tab.mu.Lock()
		logErrors += len(tab.logErrors)
		console += tab.console
		for k, l := range tab.logErrors {
			if k < 3 {
				t.Logf("  console error in %s tab: %s", tab.name, l)
			}
		}
		tab.mu.Unlock()
	}
	t.Logf("console.* calls: %d, browser log errors: %d; time: storing %v, pass 1 done at %v, all %v", console, logErrors, stored.Round(time.Millisecond), t1.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if xssRaceBuild() {
		t.Log("(built with -race: argon2 and the server are slower)")
	}
}

// xssRaceBuild reports whether the test binary was built with -race.
func xssRaceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestXSSDetectorCatchesAlert proves that the detectors of the suite fire:
// pages without the sanitiser, served by a plain httptest server, must be
// caught, and the CSP bypass must let an inline handler run.
func TestXSSDetectorCatchesAlert(t *testing.T) {
	chrome := xssRequireChrome(t)
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'"
	pages := map[string]struct {
		csp  bool
		html string
	}{
		"/alert":  {false, `<main><p>hello</p><img src=x onerror=alert(1)></main>`},
		"/remove": {false, `<main><p>hello</p></main><script>document.body.remove()</script>`},
		"/flag":   {false, `<main><svg onload="window.__xss=1"></svg></main>`},
		"/link":   {false, `<main><a href="  java&#x09;script:alert(1)">x</a></main>`},
		"/csp":    {true, `<main><img src=x onerror="alert(document.domain)"></main>`},
		"/clean":  {true, `<main><p>&lt;img src=x onerror=alert(1)&gt;</p><a href="https://example.org/" rel="nofollow">x</a></main>`},
		"/frame":  {false, `<main><iframe srcdoc="<script>parent.alert(1)</script>"></iframe></main>`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if p.csp {
			w.Header().Set("Content-Security-Policy", csp)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>t</title></head><body>%s</body></html>", p.html)
	}))
	defer srv.Close()

	b := xssStartBrowser(t, chrome)
	tab := b.newTab(t, "self-test", srv.URL)
	has := func(probs []string, prefix string) bool {
		return slices.ContainsFunc(probs, func(p string) bool { return strings.HasPrefix(p, prefix) })
	}
	check := func(path string, want ...string) xssOutcome {
		t.Helper()
		o := tab.visit(xssVisit{path: path})
		if o.err != nil {
			t.Fatalf("%s: %v", path, o.err)
		}
		probs := o.problems(http.StatusOK)
		for _, w := range want {
			if !has(probs, w) {
				t.Errorf("%s: detector missed %q; found %q", path, w, probs)
			}
		}
		if len(want) == 0 && len(probs) > 0 {
			t.Errorf("%s: false alarm: %q", path, probs)
		}
		return o
	}

	check("/alert", "DIALOG opened", "sink called: alert", "script-capable markup left in the DOM: <img> onerror")
	check("/remove", "document.body was removed", "sink called: remove BODY")
	check("/flag", "window.__xss was set")
	check("/link", "script-capable markup left in the DOM: <a> href")
	check("/frame", "DIALOG opened", "script-capable markup left in the DOM: <iframe>")
	check("/clean")
	// With the CSP on, the inline handler is blocked and reported...
	o := check("/csp", "script-capable markup left in the DOM: <img> onerror")
	if len(o.dialogs) != 0 || len(o.res.CSP) == 0 {
		t.Errorf("/csp with CSP on: dialogs %q, CSP violations %q; want none and some", o.dialogs, o.res.CSP)
	}
	// ...and with the CSP bypassed it runs, so pass 2 can see a sanitiser bug.
	if err := tab.bypassCSP(true); err != nil {
		t.Fatal(err)
	}
	check("/csp", "DIALOG opened", "sink called: alert")
}
