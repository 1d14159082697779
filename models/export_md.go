package models

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// markdownExport writes a Markdown report:
//
//	# Comments on TITLE (version N)
//	Statuses: … Generated ….
//	## ¶37, ¶39            (or "## Whole document"), when the paragraphs change
//	> ¶37: paragraph text
//	### Comment #ID — Kind, status
//	By NAME (AFFILIATION), Group, CC\
//	Visibility: … · Submitted … · Decided …
//	> body
//	**Proposed text:** / **Response:** and a block quote each, when present
//
// Text people typed (body, proposed text, response, paragraph text) stays
// Markdown but goes inside a block quote (see writeQuote), so it cannot end
// the comment, start a new one or swallow the rest of the report. Names,
// affiliations and the title are put on one line with Markdown punctuation
// escaped (see mdInline).
type markdownExport struct {
	exportState
	bw    *bufio.Writer
	rows  int
	paras []int // paragraph numbers of the previous row
}

func newMarkdownExport(w io.Writer) *markdownExport {
	return &markdownExport{bw: bufio.NewWriter(w)}
}

// Begin writes the title and the statuses line.
func (e *markdownExport) Begin(m ExportMeta) error {
	if err := e.check(true); err != nil {
		return err
	}
	e.begun = true
	w := e.bw
	put(w, "# Comments on ")
	put(w, mdInline(m.DocumentTitle))
	put(w, " (version ")
	put(w, strconv.Itoa(m.Version))
	put(w, ")\n\nStatuses: ")
	if len(m.Statuses) == 0 {
		put(w, "none")
	}
	for i, s := range m.Statuses {
		if i > 0 {
			put(w, ", ")
		}
		put(w, mdInline(s))
	}
	put(w, ". Generated ")
	put(w, exportTime(m.GeneratedAt))
	_, err := w.WriteString(".\n")
	return e.fail(err)
}

// Row writes a paragraph heading when the paragraphs differ from the
// previous row's, then the comment.
func (e *markdownExport) Row(r ExportRow) error {
	if err := e.check(false); err != nil {
		return err
	}
	w := e.bw
	if e.rows == 0 || !slices.Equal(e.paras, r.ParagraphNumbers) {
		e.paras = append(e.paras[:0], r.ParagraphNumbers...)
		if len(r.ParagraphNumbers) == 0 {
			put(w, "\n## Whole document\n")
		} else {
			put(w, "\n## ")
			put(w, joinInts(r.ParagraphNumbers, "¶", ", "))
			put(w, "\n")
			for i, n := range r.ParagraphNumbers {
				put(w, "\n")
				writeQuote(w, "¶"+strconv.Itoa(n)+":", r.paragraphText(i))
			}
		}
	}
	e.rows++

	put(w, "\n### Comment #")
	put(w, strconv.FormatInt(r.CommentID, 10))
	put(w, " — ")
	put(w, mdInline(joinNonEmpty(", ", KindLabel(r.Kind), r.Status)))
	put(w, "\n\nBy ")
	put(w, mdInline(exportAuthor(r.AuthorName)))
	if r.Affiliation != "" {
		put(w, " (")
		put(w, mdInline(r.Affiliation))
		put(w, ")")
	}
	for _, s := range []string{StakeholderGroupLabel(r.StakeholderGroup), r.Country} {
		if s != "" {
			put(w, ", ")
			put(w, mdInline(s))
		}
	}
	put(w, "\\\nVisibility: ")
	put(w, mdVisibility(r.Visibility))
	put(w, " · Submitted ")
	put(w, exportTime(r.CreatedAt))
	if r.DecidedAt != nil {
		put(w, " · Decided ")
		put(w, exportTime(*r.DecidedAt))
	}
	put(w, "\n")
	if r.Body != "" {
		put(w, "\n")
		writeQuote(w, "", r.Body)
	}
	if r.ProposedText != "" {
		put(w, "\n**Proposed text:**\n\n")
		writeQuote(w, "", r.ProposedText)
	}
	if r.Response != "" {
		put(w, "\n**Response:**\n\n")
		writeQuote(w, "", r.Response)
	}
	return e.fail(bufferedErr(w))
}

// End writes a note when there were no comments, and flushes.
func (e *markdownExport) End() error {
	if err := e.check(false); err != nil {
		return err
	}
	e.ended = true
	if e.rows == 0 {
		put(e.bw, "\nNo comments with these statuses.\n")
	}
	return e.fail(e.bw.Flush())
}

// bufferedErr returns the error of an earlier write to w, if any (a
// bufio.Writer keeps its first error and returns it from every later Write).
func bufferedErr(w *bufio.Writer) error {
	_, err := w.Write(nil)
	return err
}

// mdVisibility describes a visibility for editors, with a warning where the
// author must not be credited.
func mdVisibility(v string) string {
	switch v {
	case VisibilityAnonymous:
		return "anonymous (do not credit by name)"
	case VisibilityPrivate:
		return "private (moderators only; do not publish or credit)"
	}
	return mdInline(v)
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// mdInline puts s on one line (runs of white space become one space) and
// backslash-escapes the characters that could make Markdown or HTML of it:
// \ ` * _ [ ] < > ~ |.
func mdInline(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '~', '|':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// writeQuote writes text as a block quote followed by nothing (the caller
// adds blank lines). Every line, blank ones included, gets "> ", so the quote
// is one block; whatever the text opens (a code fence, an HTML comment, a
// list) is closed when the quote ends. ATX headings ("# …") outside code
// fences are escaped so the text cannot add headings to the report's outline.
// A non-empty label ("¶37:") starts the first line, or stands on a line of
// its own when the text starts with code.
func writeQuote(w *bufio.Writer, label, text string) {
	lines := strings.Split(normalizeNewlines(strings.ToValidUTF8(text, "\uFFFD")), "\n")
	if label != "" {
		if startsCode(lines[0]) {
			put(w, "> "+label+"\n>\n")
		} else {
			lines[0] = strings.TrimRight(label+" "+lines[0], " ")
		}
	}
	escapeMarkdownHeadings(lines)
	for _, l := range lines {
		if l == "" {
			put(w, ">\n")
			continue
		}
		put(w, "> ")
		put(w, l)
		put(w, "\n")
	}
}

// startsCode reports whether line starts a fenced or indented code block.
func startsCode(line string) bool {
	if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
		return strings.TrimSpace(line) != ""
	}
	_, _, ok := codeFence(line)
	return ok
}

// codeFence reports whether line is a code fence (up to three spaces, then
// three or more ` or ~) and returns its character, length and whether the
// rest of the line is blank.
func codeFence(line string) (fence string, blankRest bool, ok bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return "", false, false
	}
	n := len(t) - len(strings.TrimLeft(t, t[:1]))
	if n < 3 {
		return "", false, false
	}
	rest := t[n:]
	if t[0] == '`' && strings.Contains(rest, "`") {
		return "", false, false
	}
	return t[:n], strings.TrimSpace(rest) == "", true
}

// escapeMarkdownHeadings puts a backslash before the # of every ATX heading
// line that is not inside a fenced code block.
func escapeMarkdownHeadings(lines []string) {
	open := "" // the fence of the open code block, if any
	for i, l := range lines {
		if f, blank, ok := codeFence(l); ok {
			switch {
			case open == "":
				open = f
			case f[0] == open[0] && len(f) >= len(open) && blank:
				open = ""
			}
			continue
		}
		if open != "" {
			continue
		}
		t := strings.TrimLeft(l, " ")
		if len(l)-len(t) > 3 || !strings.HasPrefix(t, "#") {
			continue
		}
		hashes := len(t) - len(strings.TrimLeft(t, "#"))
		if hashes <= 6 && (hashes == len(t) || t[hashes] == ' ' || t[hashes] == '\t') {
			lines[i] = l[:len(l)-len(t)] + "\\" + t
		}
	}
}
