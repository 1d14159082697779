package models_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"margin/models"
)

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		contain    []string
		notContain []string
	}{
		{"emphasis", "Some *italic* and **bold** and ~~gone~~.",
			[]string{"<em>italic</em>", "<strong>bold</strong>", "<del>gone</del>"}, nil},
		{"lists", "- one\n- two\n\n1. first\n2. second",
			[]string{"<ul>", "<li>one</li>", "<ol>", "<li>second</li>"}, nil},
		{"link gets rel", "[site](https://example.org/a?b=1)",
			[]string{`<a href="https://example.org/a?b=1" rel="nofollow noopener ugc">site</a>`}, nil},
		{"mailto link kept", "[mail](mailto:a@example.org)", []string{`href="mailto:a@example.org"`}, nil},
		{"bare URL linked", "see https://example.org/x", []string{`<a href="https://example.org/x" rel="nofollow noopener ugc">`}, nil},
		{"single newline is a line break", "line one\nline two", []string{"line one<br>"}, nil},
		{"script tag escaped", "<script>alert(1)</script>", []string{"&lt;script&gt;"}, []string{"<script"}},
		{"inline script escaped", "hi <script>alert(1)</script>", []string{"&lt;script&gt;"}, []string{"<script"}},
		{"event handler not rendered", `<a href="https://x.org" onclick="alert(1)">x</a>`, nil, []string{"<a href=\"https://x.org\" onclick"}},
		{"img onerror not rendered", `<img src=x onerror=alert(1)>`, []string{"&lt;img"}, []string{"<img"}},
		{"javascript link dropped", "[click](javascript:alert(1))", []string{">click</a>"}, []string{"javascript:", "href"}},
		{"javascript link with case and entity", "[click](JaVaScRiPt&#58;alert(1))", nil, []string{"javascript:", "href"}},
		{"data link dropped", "[click](data:text/html;base64,PHNjcmlwdD4=)", nil, []string{"data:", "href"}},
		{"vbscript link dropped", "[click](vbscript:msgbox)", nil, []string{"vbscript", "href"}},
		{"image with javascript src", "![x](javascript:alert(1))", nil, []string{"javascript:", "src="}},
		{"plain text with angle brackets", "a < b and c > d", []string{"a &lt; b and c &gt; d"}, nil},
		{"text mentioning the scheme is defused", "never type javascript: in a link",
			[]string{"javascript&#58; in a link"}, []string{"javascript:"}},
		{"NUL dropped", "a\x00b", []string{"<p>ab</p>"}, []string{"\x00", "\uFFFD"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := models.RenderMarkdown(tc.in)
			for _, want := range tc.contain {
				if !strings.Contains(got, want) {
					t.Errorf("RenderMarkdown(%q) = %q, want it to contain %q", tc.in, got, want)
				}
			}
			for _, bad := range tc.notContain {
				if strings.Contains(strings.ToLower(got), bad) {
					t.Errorf("RenderMarkdown(%q) = %q, must not contain %q", tc.in, got, bad)
				}
			}
			if bad := unsafeHTML(got); bad != "" {
				t.Errorf("RenderMarkdown(%q) = %q is unsafe: %s", tc.in, got, bad)
			}
		})
	}
}

// unsafeHTML returns why s could run script in a browser, or "" when it
// cannot: it looks at what a browser parses, not only at substrings.
func unsafeHTML(s string) string {
	low := strings.ToLower(s)
	if strings.Contains(low, "<script") {
		return "<script"
	}
	if strings.Contains(low, "javascript:") {
		return "javascript:"
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "style", "iframe", "object", "embed", "form", "input", "svg", "math", "base", "meta", "link":
			return "element " + tok.Data
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "srcdoc" {
				return "attribute " + a.Key
			}
			v := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, a.Val))
			for _, scheme := range []string{"javascript:", "vbscript:", "data:"} {
				if strings.HasPrefix(v, scheme) {
					return "URL " + a.Val
				}
			}
		}
	}
}
