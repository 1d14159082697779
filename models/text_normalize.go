package models

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeText removes the artefacts that Word, PDF viewers and web pages
// leave in pasted text, so that the splitters and signatures see only the
// words and the line structure. It replaces invalid UTF-8, turns every line
// ending and Word's page and line breaks into \n, drops control and
// zero-width characters and soft hyphens, turns non-breaking and other
// Unicode spaces into plain spaces and removes trailing whitespace from each
// line. Smart quotes, dashes and non-Latin scripts are kept as they are.
func NormalizeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			// \r\n is one line ending, a lone \r (old Mac, some PDFs) another.
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteByte('\n')
		case r == '\n' || r == '\v' || r == '\u0085' || r == '\u2028':
			// \v is what Word's Shift+Enter manual line break becomes as text.
			b.WriteByte('\n')
		case r == '\f' || r == '\u2029':
			// A page break or paragraph separator always ends a paragraph.
			b.WriteString("\n\n")
		case r == '\t':
			b.WriteByte('\t')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			// C0 and C1 controls (NUL included) are never text.
		case r == '\u00ad' || (r >= '\u200b' && r <= '\u200d') || r == '\u2060' || r == '\ufeff':
			// Soft hyphens, zero-width spaces, joiners and BOMs are invisible
			// but break word matching and "is this line empty" checks.
		case r != ' ' && unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// Signature returns a fingerprint of the words of text: the hex SHA-256,
// first 32 characters, of its letters, digits and marks, lower-cased and
// NFKC-normalised, with every run of other characters turned into one space.
// Changes of case, punctuation, spacing or Markdown markup keep the
// signature, so a paragraph whose words did not change between two versions
// of a document can be matched to its earlier self.
func Signature(text string) string {
	text = norm.NFKC.String(strings.ToValidUTF8(text, "\uFFFD"))
	var b strings.Builder
	space := false
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Cf, r):
			// Format characters (soft hyphens, joiners) sit inside words.
		case isWordRune(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])[:32]
}

// isWordRune reports whether r belongs to a word: a letter, a digit or a
// combining mark (vowel signs in Indic scripts are marks).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// hasWord reports whether s contains at least one letter or digit, the test
// that separates real text from separators and page-break junk.
func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsNumber(r)
	}) >= 0
}
