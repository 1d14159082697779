package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const draft = `# BPF Cybersecurity: Draft I

## Introduction

The Best Practice Forum looked at international norms.

- Norms should be universal.
- Capacity building matters.

## Findings

Stakeholders agree on the value of cooperation.

> A quote from the mailing list.
`

// TestFullCycle walks the whole review cycle through the real server:
// registration, confirmation from the outbox, sign-in, comments on one,
// several and no paragraphs, moderation, publication and exports.
func TestFullCycle(t *testing.T) {
	ts := newTestServer(t, map[string]string{
		"MARGIN_ADMIN_EMAIL": "secretariat@example.org", "MARGIN_ADMIN_PASSWORD": "admin passphrase",
	}, nil)

	// The admin imports the draft from the admin page.
	admin := ts.browser(t)
	if p := admin.post("/login", "/login", url.Values{"email": {"secretariat@example.org"}, "password": {"admin passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d %s", p.status, p.body)
	}
	p := admin.post("/admin", "/admin/documents", url.Values{"title": {"BPF Cybersecurity Draft I"}, "slug": {"bpf-cyber"}, "format": {"markdown"}, "source": {draft}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/documents/bpf-cyber" {
		t.Fatalf("import: %d %s", p.status, p.body)
	}

	// Alice registers on the web, confirms from the outbox, signs in.
	alice := ts.browser(t)
	p = alice.post("/register", "/register", url.Values{
		"name": {"Alice Kamau"}, "email": {"alice@example.org"}, "password": {"alice passphrase"},
		"affiliation": {"KICTANet"}, "stakeholder_group": {"civil_society"}, "country": {"KE"},
	})
	if p.status != http.StatusAccepted {
		t.Fatalf("register: %d %s", p.status, p.body)
	}
	tok := ts.verifyToken(t, "alice@example.org")
	if p = alice.get("/verify?token=" + tok); p.status != http.StatusOK || !strings.Contains(p.body, tok) {
		t.Fatalf("verify page: %d", p.status)
	}
	if p = alice.post("/verify?token="+tok, "/verify", url.Values{"token": {tok}}); p.status != http.StatusOK {
		t.Fatalf("verify: %d %s", p.status, p.body)
	}
	if p = alice.post("/login", "/login", url.Values{"email": {"Alice@Example.org"}, "password": {"alice passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("alice sign-in: %d", p.status)
	}

	// Alice comments on one paragraph, on several, and on the whole document.
	doc := "/documents/bpf-cyber"
	for _, c := range []struct{ paras, body string }{
		{"3", "Say which norms."},
		{"4, 5", "Both list items need sources."},
		{"", "The draft is too short overall."},
	} {
		p = alice.post(doc, doc+"/comments", url.Values{"paragraphs": {c.paras}, "body": {c.body}, "kind": {"substantive"}, "visibility": {"public"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("comment %q: %d %s", c.paras, p.status, p.body)
		}
	}
	if p = alice.post(doc, doc+"/comments", url.Values{"paragraphs": {"99"}, "body": {"x"}}); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("comment on a missing paragraph: %d", p.status)
	}

	// Bob uses the API: register, verify, token, then anonymous and private comments.
	api := ts.browser(t)
	if p = api.api("POST", "/api/v1/register", "", map[string]string{
		"name": "Bob Tan", "email": "bob@example.org", "password": "bob passphrase",
		"affiliation": "Acme Telecom", "stakeholder_group": "private_sector", "country": "SG",
	}, nil); p.status != http.StatusAccepted || !strings.Contains(p.body, "confirmation_sent") {
		t.Fatalf("api register: %d %s", p.status, p.body)
	}
	var tk struct{ Token string }
	if p = api.api("POST", "/api/v1/tokens", "", map[string]string{"email": "bob@example.org", "password": "bob passphrase"}, &tk); p.status != http.StatusCreated {
		t.Fatalf("token: %d %s", p.status, p.body)
	}
	var docJSON struct {
		Paragraphs []struct {
			ID     int64
			Number int
			Kind   string
		}
	}
	api.api("GET", "/api/v1/documents/bpf-cyber", "", nil, &docJSON)
	if len(docJSON.Paragraphs) != 8 || docJSON.Paragraphs[2].Kind != "paragraph" || docJSON.Paragraphs[7].Kind != "quote" {
		t.Fatalf("paragraphs = %+v", docJSON.Paragraphs)
	}
	para := func(n int) int64 { return docJSON.Paragraphs[n-1].ID }
	body := map[string]any{"paragraph_ids": []int64{para(7)}, "body": "Cooperation needs funding.", "visibility": "anonymous", "kind": "editorial"}
	if p = api.api("POST", "/api/v1/documents/bpf-cyber/comments", tk.Token, body, nil); p.status != http.StatusForbidden {
		t.Fatalf("unverified comment: %d %s", p.status, p.body)
	}
	if p = api.api("POST", "/api/v1/verify", "", map[string]string{"token": ts.verifyToken(t, "bob@example.org")}, nil); p.status != http.StatusOK {
		t.Fatalf("api verify: %d %s", p.status, p.body)
	}
	var anon struct {
		ID     int64
		Status string
	}
	if p = api.api("POST", "/api/v1/documents/bpf-cyber/comments", tk.Token, body, &anon); p.status != http.StatusCreated || anon.Status != "pending" {
		t.Fatalf("anonymous comment: %d %s", p.status, p.body)
	}
	body["visibility"], body["body"] = "private", "Confidential concern."
	var priv struct{ ID int64 }
	if p = api.api("POST", "/api/v1/documents/bpf-cyber/comments", tk.Token, body, &priv); p.status != http.StatusCreated {
		t.Fatalf("private comment: %d %s", p.status, p.body)
	}

	// A visitor sees no pending comment.
	visitor := ts.browser(t)
	if p = visitor.get(doc); strings.Contains(p.body, "Say which norms") || !strings.Contains(p.body, `id="p3"`) {
		t.Fatalf("visitor sees pending comments or no anchors")
	}

	// The moderator works the queue: five pending, oldest first, with authors.
	p = admin.get("/moderation")
	if p.status != http.StatusOK || strings.Count(p.body, "/decision") != 5 {
		t.Fatalf("queue: %d, %d decision forms", p.status, strings.Count(p.body, "/decision"))
	}
	if i, j := strings.Index(p.body, "Say which norms"), strings.Index(p.body, "Confidential concern"); i < 0 || j < i {
		t.Fatal("queue is not oldest first")
	}
	for _, s := range []string{"Alice Kamau", "KICTANet", "Civil society", "Kenya", "Bob Tan"} {
		if !strings.Contains(p.body, s) {
			t.Errorf("queue lacks %q", s)
		}
	}
	var queue []struct {
		ID               int64
		ParagraphNumbers []int `json:"paragraph_numbers"`
		Body             string
	}
	var adminTok struct{ Token string }
	admin.api("POST", "/api/v1/tokens", "", map[string]string{"email": "secretariat@example.org", "password": "admin passphrase"}, &adminTok)
	if p = admin.api("GET", "/api/v1/moderation/queue", adminTok.Token, nil, &queue); len(queue) != 5 {
		t.Fatalf("api queue: %d %s", p.status, p.body)
	}
	decide := map[string][2]string{
		"Say which norms.":                {"accepted", "Will list them."},
		"Both list items need sources.":   {"accepted", ""},
		"The draft is too short overall.": {"rejected", "Length is set by the mandate."},
		"Cooperation needs funding.":      {"accepted", "Added."},
		"Confidential concern.":           {"deferred", "For the next call."},
	}
	for _, c := range queue {
		d := decide[c.Body]
		form := url.Values{"status": {d[0]}, "response": {d[1]}, "return": {"/moderation"}}
		if p = admin.post("/moderation", fmt.Sprintf("/comments/%d/decision", c.ID), form); p.status != http.StatusSeeOther {
			t.Fatalf("decide %q: %d %s", c.Body, p.status, p.body)
		}
	}
	if p = admin.post("/moderation", fmt.Sprintf("/comments/%d/decision", queue[0].ID), url.Values{"status": {"spam"}}); p.status != http.StatusConflict {
		t.Fatalf("illegal move accepted -> spam: %d", p.status)
	}
	if p = admin.get(fmt.Sprintf("/comments/%d", queue[0].ID)); !strings.Contains(p.body, "Will list them.") || !strings.Contains(p.body, "secretariat") && !strings.Contains(p.body, "Administrator") {
		t.Fatalf("comment page lacks the audit log")
	}

	// Published comments under their paragraphs; anonymous shows the group only.
	p = visitor.get(doc)
	for _, s := range []string{"Say which norms.", "Will list them.", "Alice Kamau", "Cooperation needs funding.", "Private sector", "Length is set by the mandate."} {
		if !strings.Contains(p.body, s) {
			t.Errorf("document page lacks %q", s)
		}
	}
	for _, s := range []string{"Bob Tan", "Acme Telecom", "Confidential concern"} {
		if strings.Contains(p.body, s) {
			t.Errorf("document page leaks %q", s)
		}
	}
	var pub []struct {
		Body   string
		Author *struct{ Name string }
	}
	visitor.api("GET", "/api/v1/documents/bpf-cyber/comments", "", nil, &pub)
	if len(pub) != 4 {
		t.Fatalf("public comments = %d, want 4", len(pub))
	}
	for _, c := range pub {
		if c.Body == "Cooperation needs funding." && c.Author != nil {
			t.Fatal("anonymous comment has an author in the API")
		}
	}

	// Alice sees her outcomes.
	p = alice.get("/me/comments")
	for _, s := range []string{"Accepted", "Rejected", "Length is set by the mandate."} {
		if !strings.Contains(p.body, s) {
			t.Errorf("my comments lacks %q", s)
		}
	}

	// Exports of accepted comments, in document order, in three formats.
	wantOrder := []string{"Say which norms.", "Both list items need sources.", "Cooperation needs funding."}
	p = admin.get(doc + "/export?format=md&status=accepted")
	if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/markdown") {
		t.Fatalf("md export: %d %s", p.status, p.header.Get("Content-Type"))
	}
	assertOrder(t, "md", p.body, wantOrder)
	if strings.Contains(p.body, "too short overall") {
		t.Fatal("md export has a rejected comment")
	}
	p = admin.api("GET", "/api/v1/documents/bpf-cyber/export?format=csv&status=accepted", adminTok.Token, nil, nil)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("csv export: %v, %d rows", err, len(rows))
	}
	assertOrder(t, "csv", p.body, wantOrder)
	p = admin.api("GET", "/api/v1/documents/bpf-cyber/export?format=json&status=accepted&status=rejected", adminTok.Token, nil, nil)
	var exp struct {
		Comments []struct {
			Body             string
			ParagraphNumbers []int `json:"paragraph_numbers"`
		}
	}
	if err := json.Unmarshal([]byte(p.body), &exp); err != nil || len(exp.Comments) != 4 {
		t.Fatalf("json export: %v, %s", err, p.body)
	}
	if last := exp.Comments[3]; last.Body != "The draft is too short overall." || len(last.ParagraphNumbers) != 0 {
		t.Fatalf("general comment is not last: %+v", exp.Comments)
	}
	if nums := exp.Comments[1].ParagraphNumbers; len(nums) != 2 || nums[0] != 4 || nums[1] != 5 {
		t.Fatalf("multi-paragraph numbers = %v", nums)
	}

	// Exports are for moderators only.
	if p = alice.get(doc + "/export?format=csv"); p.status != http.StatusForbidden {
		t.Fatalf("commenter export: %d", p.status)
	}

	// Signing out ends the session on the server: the old cookie is refused.
	cookies := alice.c.Jar.Cookies(mustURL(ts.URL))
	if p = alice.post("/", "/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	replay := ts.browser(t)
	replay.c.Jar.SetCookies(mustURL(ts.URL), cookies)
	if p = replay.get("/me/comments"); p.status != http.StatusSeeOther {
		t.Fatalf("replayed cookie after sign-out: %d", p.status)
	}
}

func assertOrder(t *testing.T, name, body string, want []string) {
	t.Helper()
	last := -1
	for _, w := range want {
		i := strings.Index(body, w)
		if i < 0 {
			t.Fatalf("%s export lacks %q", name, w)
		}
		if i < last {
			t.Fatalf("%s export: %q is out of document order", name, w)
		}
		last = i
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
