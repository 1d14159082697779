package views

import (
	"html/template"
	"slices"
	"testing"
	"time"
)

func TestFormatDate(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 0, 0, time.FixedZone("EAT", 3*3600))
	var nilTime *time.Time
	tests := []struct {
		name    string
		in      any
		want    string
		wantISO string
	}{
		{"value in another zone", at, "2 Jan 2026 12:04 UTC", "2026-01-02T12:04:00Z"},
		{"pointer", &at, "2 Jan 2026 12:04 UTC", "2026-01-02T12:04:00Z"},
		{"nil pointer", nilTime, "", ""},
		{"zero", time.Time{}, "", ""},
		{"untyped nil", nil, "", ""},
		{"not a time", "yesterday", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatDate(tc.in); got != tc.want {
				t.Errorf("formatDate(%v) = %q, want %q", tc.in, got, tc.want)
			}
			if got := isoDate(tc.in); got != tc.wantISO {
				t.Errorf("isoDate(%v) = %q, want %q", tc.in, got, tc.wantISO)
			}
		})
	}
}

func TestParagraphList(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{12}, "¶12"},
		{[]int{37, 39, 40}, "¶37, ¶39, ¶40"},
	}
	for _, tc := range tests {
		if got := paragraphList(tc.in); got != tc.want {
			t.Errorf("paragraphList(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    any
		want string
	}{
		{0, "0 comments"},
		{1, "1 comment"},
		{int64(1), "1 comment"},
		{int64(3), "3 comments"},
	}
	for _, tc := range tests {
		if got := plural(tc.n, "comment", "comments"); got != tc.want {
			t.Errorf("plural(%v) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		in   template.HTML
		n    int
		want string
	}{
		{"tags and entities", "<p>Fish &amp; chips</p><p>and&nbsp;peas</p>", 100, "Fish & chips and peas"},
		{"short", "<p>Short.</p>", 10, "Short."},
		{"cut at a word", "<p>one two three four five six</p>", 12, "one two…"},
		{"no limit", "<p>a b</p>", 0, "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := excerpt(tc.in, tc.n); got != tc.want {
				t.Errorf("excerpt(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestQueryURL(t *testing.T) {
	tests := []struct {
		path string
		kv   []string
		want string
	}{
		{"/moderation", nil, "/moderation"},
		{"/moderation", []string{"document", "", "status", ""}, "/moderation"},
		{"/moderation", []string{"document", "bpf 2026", "status", "pending"}, "/moderation?document=bpf+2026&status=pending"},
		{"/moderation", []string{"document", "", "status", "pending", "cursor", "a&b"}, "/moderation?status=pending&cursor=a%26b"},
	}
	for _, tc := range tests {
		if got := queryURL(tc.path, tc.kv...); got != tc.want {
			t.Errorf("queryURL(%q, %q) = %q, want %q", tc.path, tc.kv, got, tc.want)
		}
	}
}

func TestFieldErrors(t *testing.T) {
	errs := map[string]string{"zeta": "z", "body": "b", "form": "f", "paragraphs": "p", "empty": ""}
	got := fieldErrors(errs, "paragraphs", "body")
	want := []FieldError{{"form", "f"}, {"paragraphs", "p"}, {"body", "b"}, {"zeta", "z"}}
	if !slices.Equal(got, want) {
		t.Errorf("fieldErrors = %v, want %v", got, want)
	}
	if got := fieldErrors(nil, "body"); got != nil {
		t.Errorf("fieldErrors(nil) = %v, want nil", got)
	}
}

func TestDescribedBy(t *testing.T) {
	errs := map[string]string{"body": "Required."}
	tests := []struct {
		id    string
		hints []string
		want  string
	}{
		{"body", []string{"body-hint"}, "body-error body-hint"},
		{"body", nil, "body-error"},
		{"paragraphs", []string{"paragraphs-hint"}, "paragraphs-hint"},
		{"paragraphs", nil, ""},
	}
	for _, tc := range tests {
		if got := describedBy(errs, tc.id, tc.hints...); got != tc.want {
			t.Errorf("describedBy(%q, %q) = %q, want %q", tc.id, tc.hints, got, tc.want)
		}
	}
}

func TestIsCurrent(t *testing.T) {
	tests := []struct {
		path, target string
		want         bool
	}{
		{"/", "/", true},
		{"/documents/bpf", "/", true},
		{"/moderation", "/", false},
		{"/moderation", "/moderation", true},
		{"/admin/users", "/admin", true},
		{"/administrators", "/admin", false},
		{"/me/comments", "/me/comments", true},
	}
	for _, tc := range tests {
		if got := isCurrent(tc.path, tc.target); got != tc.want {
			t.Errorf("isCurrent(%q, %q) = %v, want %v", tc.path, tc.target, got, tc.want)
		}
	}
}

func TestDecisionOptions(t *testing.T) {
	values := func(opts []Option) []string {
		var out []string
		for _, o := range opts {
			out = append(out, o.Value)
		}
		return out
	}
	if got, want := values(decisionOptions("pending")), []string{"accepted", "deferred", "rejected", "spam"}; !slices.Equal(got, want) {
		t.Errorf("decisionOptions(pending) = %v, want %v", got, want)
	}
	if got, want := values(decisionOptions("deferred")), []string{"accepted", "rejected", "spam"}; !slices.Equal(got, want) {
		t.Errorf("decisionOptions(deferred) = %v, want %v", got, want)
	}
}
