package views

import (
	"html"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DateLayout is how pages show a point in time: always in UTC, with the
// zone spelled out, because comment windows close at a time of day.
const DateLayout = "2 Jan 2006 15:04 UTC"

// FieldError is one entry of a form's error summary.
type FieldError struct {
	Field   string // the form field's name and element id; "form" for the form as a whole
	Message string
}

// decisionChoices are the moderation outcomes in the order the forms offer them.
var decisionChoices = []Option{
	{Value: "accepted", Label: "Accept"},
	{Value: "deferred", Label: "Defer"},
	{Value: "rejected", Label: "Reject"},
	{Value: "spam", Label: "Spam"},
}

// statusNames are the display names of comment and document statuses.
var statusNames = map[string]string{
	"pending":  "Pending",
	"accepted": "Accepted",
	"deferred": "Deferred",
	"rejected": "Rejected",
	"spam":     "Spam",
	"open":     "Open for comment",
	"upcoming": "Upcoming",
	"closed":   "Closed",
}

// visibilityHelp explains each comment visibility beside its radio button.
var visibilityHelp = map[string]string{
	"public":    "Your name, affiliation and stakeholder group are shown with your comment once it is published.",
	"anonymous": "Published as a comment from a participant of your stakeholder group. The moderators see your name.",
	"private":   "Seen by the moderators only and never published.",
}

// visibilityNames are the display names of comment visibilities.
var visibilityNames = map[string]string{
	"public":    "Public",
	"anonymous": "Anonymous",
	"private":   "Private",
}

// kindHelp explains each comment kind beside its radio button.
var kindHelp = map[string]string{
	"general":     "About the document as a whole, its scope or approach.",
	"substantive": "About the content: facts, arguments, recommendations.",
	"editorial":   "About wording, spelling, structure or formatting.",
}

// funcs returns the functions every template may call.
func funcs() template.FuncMap {
	return template.FuncMap{
		"date":          formatDate,
		"isoDate":       isoDate,
		"paragraphList": paragraphList,
		"plural":        plural,
		"excerpt":       excerpt,
		"queryURL":      queryURL,
		"optionLabel":   optionLabel,
		"statusName":    statusName,
		"visibilityHelp": func(v string) string {
			return visibilityHelp[v]
		},
		"visibilityName": func(v string) string {
			if n, ok := visibilityNames[v]; ok {
				return n
			}
			return v
		},
		"kindHelp": func(v string) string {
			return kindHelp[v]
		},
		"decisionChoices": decisionOptions,
		"fieldErrors":     fieldErrors,
		"describedBy":     describedBy,
		"isCurrent":       isCurrent,
		"statusText":      http.StatusText,
		"tocLevel":        tocLevel,
	}
}

// asTime accepts a time.Time or a *time.Time; ok is false for nil and the
// zero time.
func asTime(v any) (t time.Time, ok bool) {
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return time.Time{}, false
		}
		t = *x
	default:
		return time.Time{}, false
	}
	return t.UTC(), !t.IsZero()
}

// formatDate shows a time.Time or *time.Time as "2 Jan 2026 15:04 UTC"; nil
// and the zero time give "".
func formatDate(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	return t.Format(DateLayout)
}

// isoDate gives the RFC 3339 form in UTC for <time datetime>.
func isoDate(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	return t.Format(time.RFC3339)
}

// paragraphList joins paragraph numbers the way people cite them:
// "¶37, ¶39, ¶40".
func paragraphList(numbers []int) string {
	parts := make([]string, len(numbers))
	for i, n := range numbers {
		parts[i] = "¶" + strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// plural gives "1 comment" or "3 comments". n may be any integer type.
func plural(n any, one, many string) string {
	var k int64
	switch x := n.(type) {
	case int:
		k = int64(x)
	case int64:
		k = x
	case int32:
		k = int64(x)
	case uint:
		k = int64(min(x, math.MaxInt64)) // #nosec G115 -- clamped
	case uint64:
		k = int64(min(x, math.MaxInt64)) // #nosec G115 -- clamped
	}
	if k == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(k, 10) + " " + many
}

// excerpt reduces HTML to at most n characters of plain text, cut at a word
// boundary with an ellipsis. The result is a plain string, escaped again when
// the template prints it.
func excerpt(h template.HTML, n int) string {
	var b strings.Builder
	inTag := false
	for _, r := range string(h) {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	text := strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
	if n <= 0 || utf8.RuneCountInString(text) <= n {
		return text
	}
	runes := []rune(text)
	cut := string(runes[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

// queryURL builds path?k1=v1&k2=v2 from key/value pairs, leaving out empty
// values, e.g. queryURL "/moderation" "document" .Document "status" .Status.
func queryURL(path string, kv ...string) string {
	var parts []string // in the order given, unlike url.Values.Encode
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			parts = append(parts, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
		}
	}
	if len(parts) == 0 {
		return path
	}
	return path + "?" + strings.Join(parts, "&")
}

// optionLabel returns the label of the option with value v, or v itself.
func optionLabel(opts []Option, v string) string {
	for _, o := range opts {
		if o.Value == v {
			return o.Label
		}
	}
	return v
}

// statusName is the display name of a comment or document status.
func statusName(s string) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return s
}

// decisionOptions lists the moderation outcomes except the current status.
// The server decides which moves are legal; this only hides the no-op.
func decisionOptions(current string) []Option {
	out := make([]Option, 0, len(decisionChoices))
	for _, o := range decisionChoices {
		if o.Value != current {
			out = append(out, o)
		}
	}
	return out
}

// fieldErrors orders a form's errors for its summary: "form" first, then the
// fields in the order given, then any others by name.
func fieldErrors(errs map[string]string, order ...string) []FieldError {
	if len(errs) == 0 {
		return nil
	}
	out := make([]FieldError, 0, len(errs))
	seen := map[string]bool{}
	for _, f := range append([]string{"form"}, order...) {
		if m, ok := errs[f]; ok && m != "" && !seen[f] {
			out = append(out, FieldError{Field: f, Message: m})
		}
		seen[f] = true
	}
	var rest []string
	for f, m := range errs {
		if !seen[f] && m != "" {
			rest = append(rest, f)
		}
	}
	sort.Strings(rest)
	for _, f := range rest {
		out = append(out, FieldError{Field: f, Message: errs[f]})
	}
	return out
}

// describedBy builds an aria-describedby value: "{id}-error" when the field
// has an error, then the hint ids given. It is empty when there is nothing.
func describedBy(errs map[string]string, id string, hints ...string) string {
	var ids []string
	if errs[id] != "" {
		ids = append(ids, id+"-error")
	}
	for _, h := range hints {
		if h != "" {
			ids = append(ids, h)
		}
	}
	return strings.Join(ids, " ")
}

// isCurrent reports whether the nav item for target is the current page.
// Documents ("/") also covers every document page.
func isCurrent(path, target string) bool {
	if target == "/" {
		return path == "/" || strings.HasPrefix(path, "/documents/")
	}
	return path == target || strings.HasPrefix(path, target+"/")
}

// tocLevel clamps a heading level to 1–6 for the table of contents' classes.
func tocLevel(level int) int {
	return min(max(level, 1), 6)
}
