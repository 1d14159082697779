package models_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"margin/models"
)

// splitGot is the part of a SplitParagraph the structure tests compare.
type splitGot struct {
	Kind  string
	Level int
	Text  string
}

func splitShape(ps []models.SplitParagraph) []splitGot {
	out := make([]splitGot, 0, len(ps))
	for _, p := range ps {
		out = append(out, splitGot{p.Kind, p.Level, p.Text})
	}
	return out
}

const (
	h  = models.KindHeading
	pa = models.KindParagraph
	li = models.KindListItem
	qu = models.KindQuote
	co = models.KindCode
)

func TestSplitMarkdown(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []splitGot
	}{
		{"headings with levels", "# Title\n\n## Scope ##\n\n###### Deep\n\nSetext\n------\n",
			[]splitGot{{h, 1, "Title"}, {h, 2, "Scope"}, {h, 6, "Deep"}, {h, 2, "Setext"}}},
		{"paragraphs keep inline Markdown and line breaks", "First *para*\nwraps here.\n\nSecond [link](https://example.org).",
			[]splitGot{{pa, 0, "First *para*\nwraps here."}, {pa, 0, "Second [link](https://example.org)."}}},
		{"nested lists", "- one\n- two\n  - two a\n    - two a i\n  - two b\n- three\n",
			[]splitGot{{li, 1, "one"}, {li, 1, "two"}, {li, 2, "two a"}, {li, 3, "two a i"}, {li, 2, "two b"}, {li, 1, "three"}}},
		{"ordered list and loose item", "1. first\n2. second\n\n   more second\n",
			[]splitGot{{li, 1, "first"}, {li, 1, "second\n\nmore second"}}},
		{"empty list item dropped", "- a\n-\n- b\n", []splitGot{{li, 1, "a"}, {li, 1, "b"}}},
		{"quote is one paragraph", "> Quoted line\n> continues.\n>\n> Second quoted para.\n\nAfter.",
			[]splitGot{{qu, 0, "Quoted line\ncontinues.\n\nSecond quoted para."}, {pa, 0, "After."}}},
		{"quote keeps fenced code", "> ```\n> x := 1\n> ```\n",
			[]splitGot{{qu, 0, "```\nx := 1\n```"}}},
		{"fenced code", "Intro\n\n```go\nfunc main() {\n\tprintln(1)\n}\n```\n",
			[]splitGot{{pa, 0, "Intro"}, {co, 0, "func main() {\n\tprintln(1)\n}"}}},
		{"indented code", "Intro\n\n    indented code\n    more\n",
			[]splitGot{{pa, 0, "Intro"}, {co, 0, "indented code\nmore"}}},
		{"code without words dropped", "```\n}\n```\n\ntext", []splitGot{{pa, 0, "text"}}},
		{"table is one paragraph", "| Year | Cost |\n|------|-----:|\n| 2024 | 10 |\n",
			[]splitGot{{pa, 0, "| Year | Cost |\n|------|-----:|\n| 2024 | 10 |"}}},
		{"table after paragraph lines", "Intro line\n| a | b |\n|---|---|\n| 1 | 2 |\n\n| h |\n|---|\n\nEnd",
			[]splitGot{{pa, 0, "Intro line"}, {pa, 0, "| a | b |\n|---|---|\n| 1 | 2 |"}, {pa, 0, "| h |\n|---|"}, {pa, 0, "End"}}},
		{"code inside list item keeps indentation", "- Example:\n\n  ```\n  if x {\n      y()\n  }\n  ```\n",
			[]splitGot{{li, 1, "Example:\n\nif x {\n    y()\n}"}}},
		{"breaks and lines without text dropped",
			"A\n\n---\n\n* * *\n\n____\n\n\u2022\n\n|\n\n\u00a0\u00a0\u00a0\n\n\u200b\u200b\n\n- \n\nB",
			[]splitGot{{pa, 0, "A"}, {pa, 0, "B"}}},
		{"stray whitespace and empty paragraphs", "\n\n   \n\t\nA   \n\n\n\n\nB\n\n  ", []splitGot{{pa, 0, "A"}, {pa, 0, "B"}}},
		{"Word artefacts", "\ufeffTitle\r\n=====\r\n\r\nco\u00adoperation\u00a0and \u201cquotes\u201d\vnext line\fNew page",
			[]splitGot{{h, 1, "Title"}, {pa, 0, "cooperation and \u201cquotes\u201d\nnext line"}, {pa, 0, "New page"}}},
		{"HTML block kept as its text", "<div class=\"x\">\n<script>alert(1)</script>\n<p>Visible <b>text</b></p>\n</div>\n\nAfter",
			[]splitGot{{pa, 0, "Visible text"}, {pa, 0, "After"}}},
		{"HTML block without text dropped", "<script>\nalert(1)\n</script>\n\n<!-- comment -->\n\n<img src=x onerror=alert(1)>\n\nText",
			[]splitGot{{pa, 0, "Text"}}},
		{"paragraph of inline HTML only dropped", "A\n\nx <img src=x onerror=alert(1)>\n\n<span></span> <br>", []splitGot{{pa, 0, "A"}, {pa, 0, "x <img src=x onerror=alert(1)>"}}},
		{"reading order", "# 1\n\nP1\n\n- L1\n  - L2\n\n> Q\n\n```\nC\n```\n\n## 2\n\nP2",
			[]splitGot{{h, 1, "1"}, {pa, 0, "P1"}, {li, 1, "L1"}, {li, 2, "L2"}, {qu, 0, "Q"}, {co, 0, "C"}, {h, 2, "2"}, {pa, 0, "P2"}}},
		{"non-Latin text", "# Введение\n\nΚείμενο 一", []splitGot{{h, 1, "Введение"}, {pa, 0, "Κείμενο 一"}}},
		{"empty input", "", []splitGot{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := models.SplitMarkdown(tc.in)
			if got := splitShape(ps); !slices.Equal(got, tc.want) {
				t.Errorf("SplitMarkdown(%q) =\n%+v\nwant\n%+v", tc.in, got, tc.want)
			}
			for _, p := range ps {
				checkSplitParagraph(t, p)
			}
		})
	}
}

func TestSplitMarkdownHTML(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       []string // HTML of each paragraph
		notContain []string
	}{
		{"heading", "## Scope", []string{"<h2>Scope</h2>"}, nil},
		{"paragraph with emphasis", "Some *text*.", []string{"<p>Some <em>text</em>.</p>"}, nil},
		{"list items alone, nested excluded", "- a\n  - b\n",
			[]string{"<ul><li>a</li></ul>", "<ul><li>b</li></ul>"}, nil},
		{"ordered item keeps its number", "3. c\n4. d\n",
			[]string{`<ol start="3"><li>c</li></ol>`, `<ol start="4"><li>d</li></ol>`}, nil},
		{"code keeps language", "```go\nx\n```", []string{"<pre><code class=\"language-go\">x\n</code></pre>"}, nil},
		{"HTML block becomes escaped text", "<div>\na &lt; b <b>c</b>\n</div>", []string{"<p>a &lt; b c</p>"}, nil},
		{"inline script not rendered", "Hi <script>alert(1)</script> there", nil, []string{"<script", "</script"}},
		{"javascript link removed", "[click](javascript:alert(1)) and [ok](https://example.org)", nil, []string{"javascript:", "alert(1)\""}},
		{"data link removed", "[click](data:text/html;base64,PHNjcmlwdD4=)", nil, []string{"data:"}},
		{"event handler removed", "Text <a href=\"#\" onclick=\"alert(1)\">x</a>", nil, []string{"onclick"}},
		{"image onerror removed", "See <img src=x onerror=alert(1)> ![chart](x.png)", []string{`<p>See  <img src="x.png" alt="chart"></p>`}, []string{"onerror"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := models.SplitMarkdown(tc.in)
			var got []string
			for _, p := range ps {
				got = append(got, p.HTML)
				for _, bad := range tc.notContain {
					if strings.Contains(strings.ToLower(p.HTML), bad) {
						t.Errorf("SplitMarkdown(%q) HTML %q contains %q", tc.in, p.HTML, bad)
					}
				}
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("SplitMarkdown(%q) HTML = %q, want %q", tc.in, got, tc.want)
			}
			if len(ps) == 0 {
				t.Errorf("SplitMarkdown(%q) returned no paragraphs", tc.in)
			}
		})
	}
}

func TestSplitMarkdownSignatures(t *testing.T) {
	a := models.SplitMarkdown("# Scope\n\nThe Council shall decide.\n\n- within 30 days")
	b := models.SplitMarkdown("## SCOPE\n\nThe council shall   decide!\n\n* Within 30 days.")
	c := models.SplitMarkdown("# Scope\n\nThe Council may decide.\n\n- within 60 days")
	if len(a) != 3 || len(b) != 3 || len(c) != 3 {
		t.Fatalf("got %d, %d, %d paragraphs, want 3 each", len(a), len(b), len(c))
	}
	for i := range a {
		if a[i].Signature != b[i].Signature {
			t.Errorf("paragraph %d: signatures differ for %q and %q", i+1, a[i].Text, b[i].Text)
		}
		if i > 0 && a[i].Signature == c[i].Signature {
			t.Errorf("paragraph %d: same signature for %q and %q", i+1, a[i].Text, c[i].Text)
		}
		if a[i].Signature != models.Signature(a[i].Text) {
			t.Errorf("paragraph %d: Signature field is not Signature(Text)", i+1)
		}
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"blank lines separate", "One.\n\nTwo.\n\n\n\nThree.", []string{"One.", "Two.", "Three."}},
		{"lines are joined", "A line\nwrapped here\n  and here.", []string{"A line wrapped here and here."}},
		{"separator lines dropped and split", "A\n-----\nB\n\n* * *\n\nC", []string{"A", "B", "C"}},
		{"NBSP and zero-width lines are blank", "A\n\u00a0\u00a0\nB\n\u200b\u200b\nC", []string{"A", "B", "C"}},
		{"Word artefacts", "\ufeffFirst\u00a0line\r\nco\u00adop\r\n\r\n\u201cQuoted\u201d\fPage\vbreak",
			[]string{"First line coop", "\u201cQuoted\u201d", "Page break"}},
		{"no heading guessing", "INTRODUCTION\n\nText.", []string{"INTRODUCTION", "Text."}},
		{"markup is text", "<b>not bold</b> & *x*", []string{"<b>not bold</b> & *x*"}},
		{"empty", "  \n\n \t ", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := models.SplitText(tc.in)
			got := []string{}
			for _, p := range ps {
				got = append(got, p.Text)
				if p.Kind != models.KindParagraph || p.Level != 0 {
					t.Errorf("paragraph %q: kind %q level %d, want paragraph 0", p.Text, p.Kind, p.Level)
				}
				checkSplitParagraph(t, p)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("SplitText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitTextHTMLEscaped(t *testing.T) {
	ps := models.SplitText(`<script>alert("x")</script> & more`)
	want := `<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more</p>`
	if len(ps) != 1 || ps[0].HTML != want {
		t.Fatalf("SplitText HTML = %+v, want %q", ps, want)
	}
}

// checkSplitParagraph asserts the properties every split paragraph has.
func checkSplitParagraph(t *testing.T, p models.SplitParagraph) {
	t.Helper()
	if !strings.ContainsFunc(p.Text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
		t.Errorf("paragraph without a letter or digit: %+v", p)
	}
	if p.Text != strings.TrimSpace(p.Text) {
		t.Errorf("paragraph text not trimmed: %q", p.Text)
	}
	for _, s := range []string{p.Text, p.HTML} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Errorf("invalid UTF-8 or NUL in %q", s)
		}
	}
	if bad := unsafeHTML(p.HTML); bad != "" {
		t.Errorf("unsafe HTML (%s): %q", bad, p.HTML)
	}
	if !hex32.MatchString(p.Signature) || p.Signature != models.Signature(p.Text) {
		t.Errorf("bad signature %q for %q", p.Signature, p.Text)
	}
	switch p.Kind {
	case models.KindHeading:
		if p.Level < 1 || p.Level > 6 {
			t.Errorf("heading level %d", p.Level)
		}
	case models.KindListItem:
		if p.Level < 1 {
			t.Errorf("list item level %d", p.Level)
		}
	case models.KindParagraph, models.KindQuote, models.KindCode:
		if p.Level != 0 {
			t.Errorf("%s level %d", p.Kind, p.Level)
		}
	default:
		t.Errorf("unknown kind %q", p.Kind)
	}
}

func FuzzSplitMarkdown(f *testing.F) {
	for _, s := range []string{
		"# Title\n\nPara *x*\n\n- a\n  - b\n\n> q\n\n```\ncode\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
		"<div>\n<script>alert(1)</script>text\n</div>\n\n[x](javascript:alert(1))",
		"\ufeffco\u00adop\u00a0\r\n\v\f\x00\u200b---\n* * *",
		"> ```\n> x\n\n1. a\n   ```\n   b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, p := range models.SplitMarkdown(src) {
			checkSplitParagraph(t, p)
		}
	})
}

func FuzzSplitText(f *testing.F) {
	for _, s := range []string{"One\n\nTwo\nthree", "\u00a0\n---\n\x00a\xff", "<script>x</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, p := range models.SplitText(src) {
			checkSplitParagraph(t, p)
			if strings.Contains(p.Text, "\n") {
				t.Errorf("SplitText paragraph with a newline: %q", p.Text)
			}
		}
	})
}
