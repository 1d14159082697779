package models_test

import (
	"regexp"
	"testing"

	"margin/models"
)

func TestNormalizeText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text unchanged", "Hello, world.\n\nSecond.", "Hello, world.\n\nSecond."},
		{"invalid UTF-8 replaced", "a\xffb", "a\uFFFDb"},
		{"BOM dropped", "\ufeffTitle", "Title"},
		{"CRLF", "a\r\nb\r\n", "a\nb\n"},
		{"lone CR", "a\rb", "a\nb"},
		{"form feed is a paragraph break", "page one\fpage two", "page one\n\npage two"},
		{"vertical tab is Word's line break", "line one\vline two", "line one\nline two"},
		{"NUL and C0 controls dropped", "a\x00b\x01c\x1bd\x7f", "abcd"},
		{"tab and newline kept", "a\tb\nc", "a\tb\nc"},
		{"zero-width characters dropped", "zero\u200bwidth\u200c\u200d\u2060\ufeff!", "zerowidth!"},
		{"soft hyphen dropped", "co\u00adoperation", "cooperation"},
		{"NBSP and narrow NBSP become spaces", "10\u00a0km\u202fand", "10 km and"},
		{"other Unicode spaces", "a\u2003b\u3000c\u2009d", "a b c d"},
		{"line and paragraph separators", "a\u2028b\u2029c", "a\nb\n\nc"},
		{"trailing whitespace per line", "a  \t\nb\u00a0\n", "a\nb\n"},
		{"line of NBSPs becomes empty", "a\n\u00a0\u00a0\nb", "a\n\nb"},
		{"smart quotes and dashes kept", "\u201cQuoted\u201d \u2018x\u2019 \u2013 \u2014", "\u201cQuoted\u201d \u2018x\u2019 \u2013 \u2014"},
		{"non-Latin text kept", "Ελληνικά русский 日本語 العربية हिन्दी", "Ελληνικά русский 日本語 العربية हिन्दी"},
		{"leading indentation kept", "    code", "    code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := models.NormalizeText(tc.in); got != tc.want {
				t.Errorf("NormalizeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestSignature(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"case", "The Council shall decide.", "the council SHALL decide.", true},
		{"punctuation", "The Council shall decide.", "The Council, shall decide!", true},
		{"whitespace", "The Council shall decide.", "  The\tCouncil\n\nshall   decide ", true},
		{"markdown emphasis", "The *Council* shall **decide**.", "The Council shall decide", true},
		{"smart and straight quotes", "the member\u2019s vote", "the member's vote", true},
		{"NBSP and soft hyphen", "co\u00adoperation\u00a0now", "cooperation now", true},
		{"NFC and NFD", "caf\u00e9", "cafe\u0301", true},
		{"word changed", "The Council shall decide.", "The Council may decide.", false},
		{"word added", "The Council shall decide.", "The Council shall not decide.", false},
		{"number changed", "within 30 days", "within 60 days", false},
		{"words joined", "in to", "into", false},
		{"word order", "shall decide", "decide shall", false},
		{"non-Latin words differ", "Совет решает", "Совет не решает", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sa, sb := models.Signature(tc.a), models.Signature(tc.b)
			if !hex32.MatchString(sa) || !hex32.MatchString(sb) {
				t.Fatalf("Signature = %q, %q, want 32 hex characters", sa, sb)
			}
			if (sa == sb) != tc.same {
				t.Errorf("Signature(%q) == Signature(%q) is %v, want %v", tc.a, tc.b, sa == sb, tc.same)
			}
		})
	}
}

func TestSignatureEmpty(t *testing.T) {
	// The hex SHA-256 of "", cut to 32 characters.
	const want = "e3b0c44298fc1c149afbf4c8996fb924"
	for _, in := range []string{"", "   ", "---", "* * *"} {
		if got := models.Signature(in); got != want {
			t.Errorf("Signature(%q) = %q, want %q", in, got, want)
		}
	}
}
