package views

import (
	"bytes"
	"errors"
	"html/template"
	"regexp"
	"strings"
	"testing"
	"time"
)

const evil = `<script>alert(1)</script>`

var (
	when     = time.Date(2026, 12, 21, 12, 0, 0, 0, time.UTC)
	decided  = time.Date(2026, 12, 22, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	signedIn = Page{
		Title:   "A title",
		CSRF:    "csrf-token-value",
		User:    &CurrentUser{ID: 1, Name: evil, Role: "admin", Verified: true, IsModerator: true, IsAdmin: true},
		Flashes: []string{"Comment submitted for review.", evil},
		Path:    "/documents/bpf",
	}
	options = []Option{{Value: "a", Label: "Option A"}, {Value: evil, Label: evil}}
)

func comment(id int64, numbers ...int) CommentView {
	return CommentView{
		ID:               id,
		ParagraphNumbers: numbers,
		AuthorName:       evil,
		Affiliation:      evil,
		StakeholderGroup: "Civil society",
		Country:          "Kenya",
		Email:            "a@example.org",
		BodyHTML:         template.HTML("<p>The body of the comment.</p>"),
		ProposedHTML:     template.HTML("<p>Better words.</p>"),
		Kind:             "Editorial",
		Visibility:       "public",
		Status:           "accepted",
		StatusLabel:      "Accepted",
		Response:         evil,
		CreatedAt:        when,
		DecidedAt:        &decided,
		DocumentSlug:     "bpf",
		DocumentTitle:    evil,
	}
}

func populated() map[string]any {
	docs := []DocumentSummary{
		{Slug: "bpf", Title: evil, Status: "open", OpensAt: &when, ClosesAt: &decided, Version: 2, CommentCount: 3, ParagraphCount: 40},
		{Slug: "old", Title: "Old draft", Status: "closed", OpensAt: &when, Version: 1, CommentCount: 1, ParagraphCount: 1},
	}
	anon := comment(8, 12)
	anon.Anonymous = true
	anon.AuthorName = ""
	anon.Status = "pending"
	refs := []ParagraphRef{{Number: 12, HTML: "<p>Paragraph twelve.</p>"}, {Number: 13, HTML: "<p>Thirteen.</p>"}}
	register := RegisterPage{
		Page:              signedIn,
		Form:              RegisterForm{Name: evil, Email: "x@example.org", Affiliation: evil, StakeholderGroup: "a", Country: "a"},
		Errors:            map[string]string{"name": evil, "email": "Enter an e-mail address.", "form": "Try again."},
		StakeholderGroups: options,
		Countries:         options,
		MinPassword:       12,
		MaxPassword:       128,
	}
	setup := register
	setup.SetupToken = "setup-token"
	return map[string]any{
		"home":            HomePage{Page: signedIn, Open: docs[:1], Others: docs[1:]},
		"register":        register,
		"setup":           setup,
		"login":           LoginPage{Page: signedIn, Email: evil, Next: "/documents/bpf", Error: evil},
		"verify":          VerifyPage{Page: signedIn, Token: evil},
		"password_forgot": PasswordForgotPage{Page: Page{CSRF: "tok"}, Email: evil, Errors: map[string]string{"email": evil}},
		"password_reset":  PasswordResetPage{Page: Page{CSRF: "tok"}, Token: evil, Errors: map[string]string{"password": evil}, MinPassword: 8, MaxPassword: 256},
		"account":         AccountPage{Page: signedIn, Email: evil, Affiliation: evil, StakeholderGroup: "Civil society", Country: "Kenya", Errors: map[string]string{"current_password": evil}, MinPassword: 8},
		"document": DocumentPage{
			Page:     signedIn,
			Document: DocumentView{Slug: "bpf", Title: evil, Status: "open", OpensAt: &when, Version: 1},
			TOC:      []TOCEntry{{Number: 1, Level: 1, Text: evil}, {Number: 3, Level: 2, Text: "Scope"}},
			Paragraphs: []ParagraphView{
				{ID: 1, Number: 1, Kind: "heading", Level: 1, HTML: "<h2>Introduction</h2>"},
				{ID: 12, Number: 12, Kind: "paragraph", HTML: "<p>Twelve.</p>", CommentCount: 2, Comments: []CommentView{comment(7, 12, 13), anon}},
			},
			GeneralComments: []CommentView{comment(9)},
			CanComment:      true,
			CanModerate:     true,
			Form:            CommentForm{Paragraphs: "12", Body: evil, ProposedText: evil, Kind: "editorial", Visibility: "anonymous"},
			Errors:          map[string]string{"body": evil, "form": "Something is wrong."},
			Kinds:           []Option{{Value: "general", Label: "General"}, {Value: "editorial", Label: "Editorial"}},
			Visibilities:    []Option{{Value: "public", Label: "Public"}, {Value: "anonymous", Label: "Anonymous"}},
			ExportFormats:   []Option{{Value: "md", Label: "Markdown"}, {Value: "csv", Label: "CSV"}},
			MaxBody:         20000,
			MaxProposed:     20000,
			MaxParagraphs:   50,
		},
		"my_comments": MyCommentsPage{Page: signedIn, Comments: []CommentView{comment(7, 12), comment(9), anon}},
		"moderation": ModerationPage{
			Page:       signedIn,
			Documents:  options,
			Statuses:   []Option{{Value: "pending", Label: "Pending"}, {Value: "deferred", Label: "Deferred"}},
			Document:   "bpf",
			Status:     "pending",
			Items:      []QueueItem{{Comment: anon, Paragraphs: refs}, {Comment: comment(9)}},
			NextCursor: "abc=",
		},
		"comment": CommentPage{
			Page:       signedIn,
			Comment:    comment(7, 12, 13),
			Paragraphs: refs,
			Decisions: []DecisionView{
				{At: when, Actor: evil, From: "pending", To: "deferred", Response: evil},
				{At: decided, Actor: "Mod", From: "deferred", To: "accepted"},
			},
			CanDecide: true,
			Moves:     []Option{{Value: "deferred", Label: "Defer"}},
			Response:  evil,
			Errors:    map[string]string{"response": evil},
		},
		"admin": AdminPage{
			Page:      signedIn,
			Users:     []UserRow{{ID: 4, Name: evil, Email: "u@example.org", Role: "moderator", Affiliation: evil, CreatedAt: when}},
			Roles:     []Option{{Value: "commenter", Label: "Commenter"}, {Value: "moderator", Label: "Moderator"}},
			Documents: docs,
			Form:      ImportForm{Title: evil, Format: "text", Source: evil, OpensAt: "2026-12-01T12:00"},
			Errors:    map[string]string{"title": evil, "form": "Could not import."},
		},
		"error": ErrorPage{Page: signedIn, Status: 404, Message: evil},
	}
}

func zero() map[string]any {
	return map[string]any{
		"home":            HomePage{},
		"register":        RegisterPage{},
		"setup":           RegisterPage{SetupToken: "t"},
		"login":           LoginPage{},
		"verify":          VerifyPage{},
		"password_forgot": PasswordForgotPage{},
		"password_reset":  PasswordResetPage{},
		"account":         AccountPage{},
		"document":        DocumentPage{},
		"my_comments":     MyCommentsPage{},
		"moderation":      ModerationPage{},
		"comment":         CommentPage{},
		"admin":           AdminPage{},
		"error":           ErrorPage{},
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	handlerAttr = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	postForm    = regexp.MustCompile(`(?is)<form\b[^>]*method="post"[^>]*>(.*?)</form>`)
	idAttr      = regexp.MustCompile(`\sid="([^"]*)"`)
	labelFor    = regexp.MustCompile(`<label[^>]*\sfor="([^"]*)"`)
	ariaRef     = regexp.MustCompile(`aria-(?:describedby|labelledby)="([^"]*)"`)
	control     = regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*>`)
)

func newEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatalf("New() error: %v", err)
	}
	return e
}

func render(t *testing.T, e *Engine, name string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Render(&buf, name, data); err != nil {
		t.Fatalf("Render(%q) error: %v", name, err)
	}
	return buf.String()
}

// checkSafe applies the rules every page must keep: the Content-Security-Policy
// allows no inline script or style, and every POST form carries the CSRF field.
func checkSafe(t *testing.T, out string) {
	t.Helper()
	for _, tag := range scriptTag.FindAllString(out, -1) {
		if tag != `<script src="/static/margin.js" defer>` {
			t.Errorf("unexpected script tag %s", tag)
		}
	}
	if n := strings.Count(strings.ToLower(out), "<script"); n != 1 {
		t.Errorf("found %d <script tags, want 1", n)
	}
	if strings.Contains(strings.ToLower(out), "<style") {
		t.Error("found a <style> element")
	}
	if m := styleAttr.FindString(out); m != "" {
		t.Errorf("found a style attribute: %q", m)
	}
	if m := handlerAttr.FindString(out); m != "" {
		t.Errorf("found an event handler attribute: %q", m)
	}
	if strings.Contains(out, evil) {
		t.Errorf("user text was not escaped: %s", evil)
	}
	if strings.Contains(out, "ZgotmplZ") {
		t.Error("html/template rejected a value (ZgotmplZ)")
	}
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, `<html lang="en">`) {
		t.Error("missing doctype or lang")
	}
	ids := map[string]bool{}
	for _, m := range idAttr.FindAllStringSubmatch(out, -1) {
		if ids[m[1]] {
			t.Errorf("duplicate id %q", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range labelFor.FindAllStringSubmatch(out, -1) {
		if !ids[m[1]] {
			t.Errorf("label for %q names no element", m[1])
		}
	}
	for _, m := range ariaRef.FindAllStringSubmatch(out, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("%s refers to missing id %q", m[0], id)
			}
		}
	}
	for _, c := range control.FindAllString(out, -1) {
		if strings.Contains(c, `type="hidden"`) {
			continue
		}
		m := idAttr.FindStringSubmatch(c)
		if m == nil || !strings.Contains(out, `for="`+m[1]+`"`) {
			t.Errorf("form control without a label: %s", c)
		}
	}
	for _, m := range postForm.FindAllStringSubmatch(out, -1) {
		if !strings.Contains(m[1], `name="_csrf"`) {
			t.Errorf("POST form without _csrf: %.200s", m[0])
		}
	}
}

func TestRenderEveryPage(t *testing.T) {
	e := newEngine(t)
	sets := map[string]map[string]any{"zero": zero(), "populated": populated()}
	for set, pages := range sets {
		for _, name := range PageNames {
			t.Run(set+"/"+name, func(t *testing.T) {
				data, ok := pages[name]
				if !ok {
					t.Fatalf("no %s test data for page %q", set, name)
				}
				out := render(t, e, name, data)
				checkSafe(t, out)
				if !strings.Contains(out, `id="main"`) {
					t.Error("missing main landmark target")
				}
			})
		}
	}
}

func TestRenderContains(t *testing.T) {
	e := newEngine(t)
	pages := populated()
	tests := []struct {
		name string
		page string
		data any
		want []string
		not  []string
	}{
		{
			name: "layout signed in",
			page: "home",
			want: []string{
				`<a class="skip-link" href="#main">`,
				`<link rel="stylesheet" href="/static/margin.css">`,
				`href="/me/comments"`, `href="/moderation"`, `href="/admin"`,
				`action="/logout"`, `role="status"`,
				`<a href="/" aria-current="page">Documents</a>`,
				"&lt;script&gt;alert(1)&lt;/script&gt;",
			},
			not: []string{`href="/login"`},
		},
		{
			name: "layout signed out",
			page: "home",
			data: HomePage{},
			want: []string{`href="/login"`, `href="/register"`, "No document is open"},
			not:  []string{`action="/logout"`, `href="/moderation"`, `role="status"`},
		},
		{
			name: "home",
			page: "home",
			want: []string{`href="/documents/bpf"`, "badge-open", "21 Dec 2026 12:00 UTC", `datetime="2026-12-21T12:00:00Z"`, "3 comments", "40 paragraphs", "no closing date", "Upcoming and closed"},
		},
		{
			name: "document anchors and form",
			page: "document",
			want: []string{
				`id="p12"`, `href="#p12"`, `id="c12"`, `href="#c12"`, `id="p1"`,
				`href="?p=12#comment-form"`, `data-paragraph="12"`, "Comment on ¶12",
				`class="toc-l2"`, `href="#p3"`,
				`href="/documents/bpf/export?format=md&amp;status=accepted"`,
				`action="/documents/bpf/export"`,
				`id="comment-form"`, `action="/documents/bpf/comments"`,
				`name="paragraphs"`, `value="12"`, `name="body"`, `maxlength="20000"`, `name="proposed_text"`,
				`name="kind" value="editorial" checked`, `name="visibility" value="anonymous" checked`,
				`id="body-error"`, `aria-describedby="body-error body-hint"`, "Something is wrong.",
				"A participant from the Civil society stakeholder group",
				"On ¶12, ¶13", "Proposed text", "Response from the moderators", `href="/comments/7"`,
				"Comments on the whole document", `href="/comments/9"`,
				"Leave empty to comment on the whole document.",
			},
		},
		{
			name: "document blocked, signed out",
			page: "document",
			data: DocumentPage{Document: DocumentView{Slug: "bpf", Title: "T", Status: "open"}, CommentBlocked: "Sign in or register to comment."},
			want: []string{`href="/login?next=%2Fdocuments%2Fbpf"`, `href="/register"`, "No comments on the whole document yet."},
			not:  []string{`id="comment-form"`, "Comment on ¶", "/export", "Sign in or register to comment."},
		},
		{
			name: "document closed",
			page: "document",
			data: DocumentPage{Page: Page{User: &CurrentUser{Name: "Ann"}}, Document: DocumentView{Slug: "bpf", Title: "T", Status: "closed"}, CommentBlocked: "This document closed for comments on 1 Dec 2026."},
			want: []string{"This document closed for comments on 1 Dec 2026.", "badge-closed"},
			not:  []string{`id="comment-form"`, "/login?next"},
		},
		{
			name: "register",
			page: "register",
			want: []string{
				`action="/register"`, `name="name"`, `name="email"`, `type="password"`, `autocomplete="new-password"`,
				`minlength="12"`, `maxlength="128"`, `name="affiliation"`, `name="stakeholder_group"`, `name="country"`,
				`<option value="a" selected>Option A</option>`, `id="email-error"`, `href="#email"`, "There is a problem", "Try again.",
			},
			not: []string{`name="token"`},
		},
		{
			name: "register done",
			page: "register",
			data: RegisterPage{Done: true},
			want: []string{"Check your mail"},
			not:  []string{`action="/register"`},
		},
		{
			name: "setup",
			page: "setup",
			want: []string{`action="/setup"`, `name="token" value="setup-token"`, "first administrator account", `name="stakeholder_group"`},
		},
		{
			name: "login",
			page: "login",
			want: []string{`action="/login"`, `name="email"`, `name="password"`, `name="next" value="/documents/bpf"`, `href="/register"`},
		},
		{
			name: "verify form",
			page: "verify",
			data: VerifyPage{Token: "tok"},
			want: []string{`action="/verify"`, `name="token" value="tok"`, "Confirm my e-mail address"},
		},
		{
			name: "verify done",
			page: "verify",
			data: VerifyPage{Done: true},
			want: []string{"Your e-mail address is confirmed", `href="/login"`},
			not:  []string{`action="/verify"`},
		},
		{
			name: "verify error",
			page: "verify",
			data: VerifyPage{Error: "This link has expired."},
			want: []string{"This link has expired."},
			not:  []string{`action="/verify"`},
		},
		{
			name: "my comments",
			page: "my_comments",
			want: []string{`href="/documents/bpf"`, `href="/documents/bpf#p12"`, "Whole document", "The body of the comment.", "badge-accepted", `href="/comments/9"`, "Response from the moderators"},
		},
		{
			name: "my comments empty",
			page: "my_comments",
			data: MyCommentsPage{},
			want: []string{"You have not commented yet."},
		},
		{
			name: "moderation",
			page: "moderation",
			want: []string{
				`action="/moderation"`, `name="document"`, `<option value="">All documents</option>`, `name="status"`, "Filter",
				`action="/comments/8/decision"`, `name="return" value="/moderation?document=bpf&amp;status=pending"`,
				`value="accepted"`, `value="deferred"`, `value="rejected"`, `value="spam"`, ">Accept<", ">Spam<",
				`name="response"`, "Public response (required to reject)", "Record decision",
				"¶12", "Paragraph twelve.", "Kenya", "a@example.org", `href="/comments/8"`,
				`href="/moderation?document=bpf&amp;status=pending&amp;cursor=abc%3D"`,
				"A comment on the whole document",
			},
		},
		{
			name: "moderation empty",
			page: "moderation",
			data: ModerationPage{},
			want: []string{"Nothing waiting. The queue is empty."},
			not:  []string{"Next page"},
		},
		{
			name: "comment",
			page: "comment",
			want: []string{
				`action="/comments/7/decision"`, `<option value="deferred">Defer</option>`, `name="response"`,
				"&lt;script&gt;alert(1)&lt;/script&gt;</textarea>", `id="response-error"`,
				"Paragraph twelve.", "History", "Pending", "Deferred", "21 Dec 2026 12:00 UTC", "22 Dec 2026 08:30 UTC",
			},
		},
		{
			name: "comment read only",
			page: "comment",
			data: CommentPage{Comment: CommentView{ID: 3, Anonymous: true, AuthorName: "Hidden Person", StakeholderGroup: "Academia", Status: "rejected", Response: "Out of scope."}},
			want: []string{"A participant from the Academia stakeholder group", "Out of scope.", "the whole document"},
			not:  []string{"Hidden Person", "/decision", "History"},
		},
		{
			name: "admin",
			page: "admin",
			want: []string{
				`action="/admin/users/4/role"`, `name="role"`, `<option value="moderator" selected>Moderator</option>`, "Change role",
				`action="/admin/documents"`, `enctype="multipart/form-data"`, `name="title"`, `name="slug"`, `name="format"`,
				`<option value="text" selected>`, `name="source"`, `type="file"`, `accept=".md,.markdown,.txt,.docx"`,
				`name="opens_at"`, `name="closes_at"`, `type="datetime-local"`, `value="2026-12-01T12:00"`, "(UTC)",
				`id="title-error"`, "Could not import.", `href="/documents/bpf"`,
			},
		},
		{
			name: "error",
			page: "error",
			want: []string{"404 Not Found", `href="/"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if data == nil {
				data = pages[tc.page]
			}
			out := render(t, e, tc.page, data)
			checkSafe(t, out)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q", n)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		name string
		page string
		data any
	}{
		{"unknown page", "nope", HomePage{}},
		{"wrong data type", "document", HomePage{}},
		{"not a struct", "home", 42},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := e.Render(&buf, tc.page, tc.data); err == nil {
				t.Fatal("Render succeeded, want an error")
			}
			if buf.Len() != 0 {
				t.Errorf("Render wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestRenderWriteError(t *testing.T) {
	e := newEngine(t)
	if err := e.Render(failingWriter{}, "home", HomePage{}); err == nil {
		t.Error("Render to a failing writer succeeded, want an error")
	}
}

func TestEveryPagePointer(t *testing.T) {
	e := newEngine(t)
	for name, data := range populated() {
		t.Run(name, func(t *testing.T) {
			// Handlers may pass pointers; method-free structs render the same.
			var a, b bytes.Buffer
			ptr := pointerTo(data)
			if err := e.Render(&a, name, data); err != nil {
				t.Fatal(err)
			}
			if err := e.Render(&b, name, ptr); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Error("pointer and value render differently")
			}
		})
	}
}

func pointerTo(v any) any {
	switch x := v.(type) {
	case HomePage:
		return &x
	case RegisterPage:
		return &x
	case LoginPage:
		return &x
	case VerifyPage:
		return &x
	case DocumentPage:
		return &x
	case MyCommentsPage:
		return &x
	case ModerationPage:
		return &x
	case CommentPage:
		return &x
	case AdminPage:
		return &x
	case ErrorPage:
		return &x
	}
	return v
}
