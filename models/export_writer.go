package models

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ExportMeta describes the export as a whole.
type ExportMeta struct {
	DocumentSlug  string
	DocumentTitle string
	Version       int
	Statuses      []string  // e.g. ["accepted"]
	GeneratedAt   time.Time // UTC
}

// ExportRow is one comment in an export, in document order.
type ExportRow struct {
	CommentID        int64
	ParagraphNumbers []int    // empty for a comment on the whole document
	ParagraphTexts   []string // source text of each paragraph, same order as ParagraphNumbers
	AuthorName       string   // "" when hidden
	Affiliation      string
	StakeholderGroup string // code, e.g. "civil_society"
	Country          string // ISO 3166-1 alpha-2
	Visibility       string // public, anonymous, private
	Kind             string // general, substantive, editorial
	Status           string // accepted, deferred, rejected, pending, spam
	Body             string // Markdown as the user wrote it
	ProposedText     string
	Response         string
	CreatedAt        time.Time
	DecidedAt        *time.Time
}

// ExportWriter writes one export incrementally: Begin once, Row per comment,
// End once. Rows must arrive in the order they are to appear; writers never
// sort or hold more than one row. End flushes everything to the underlying
// writer; after an error, later calls return that error.
type ExportWriter interface {
	Begin(meta ExportMeta) error
	Row(r ExportRow) error
	End() error
}

// ExportFormats lists the formats NewExportWriter accepts.
var ExportFormats = []string{"md", "csv", "json"}

// ErrUnknownFormat is returned by NewExportWriter for a format it does not know.
var ErrUnknownFormat = errors.New("unknown export format")

// anonymousAuthor is shown in Markdown and CSV exports when AuthorName is empty.
const anonymousAuthor = "Anonymous participant"

// NewExportWriter returns a writer for format ("md", "csv" or "json")
// writing to w. Any other format gives an error wrapping ErrUnknownFormat.
func NewExportWriter(format string, w io.Writer) (ExportWriter, error) {
	switch format {
	case "md":
		return newMarkdownExport(w), nil
	case "csv":
		return newCSVExport(w), nil
	case "json":
		return newJSONExport(w), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownFormat, format)
}

// ExportContentType gives the HTTP content type for an export format, or
// "application/octet-stream" for an unknown one.
func ExportContentType(format string) string {
	switch format {
	case "md":
		return "text/markdown; charset=utf-8"
	case "csv":
		return "text/csv; charset=utf-8"
	case "json":
		return "application/json; charset=utf-8"
	}
	return "application/octet-stream"
}

// ExportExtension gives the file extension for an export format, with its
// leading dot (".md", ".csv", ".json"), or "" for an unknown one.
func ExportExtension(format string) string {
	switch format {
	case "md", "csv", "json":
		return "." + format
	}
	return ""
}

// exportState enforces Begin, Row…, End and keeps the first error.
type exportState struct {
	begun, ended bool
	err          error
}

var (
	errExportNotBegun = errors.New("export: Row or End before Begin")
	errExportBegun    = errors.New("export: Begin called twice")
	errExportEnded    = errors.New("export: call after End")
)

// check reports whether a call is allowed now; begin is true for Begin.
func (s *exportState) check(begin bool) error {
	switch {
	case s.err != nil:
		return s.err
	case s.ended:
		return errExportEnded
	case begin && s.begun:
		return errExportBegun
	case !begin && !s.begun:
		return errExportNotBegun
	}
	return nil
}

// fail records err (if any) as the writer's sticky error.
func (s *exportState) fail(err error) error {
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("export: %w", err)
	}
	return s.err
}

// exportTime formats t as RFC 3339 in UTC, to the second.
func exportTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// exportTimePtr is exportTime for an optional time; nil gives "".
func exportTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return exportTime(*t)
}

// exportAuthor is the name to print: the given one or anonymousAuthor.
func exportAuthor(name string) string {
	if name == "" {
		return anonymousAuthor
	}
	return name
}

// paragraphText returns the i-th paragraph text of r, or "" if it is missing.
func (r *ExportRow) paragraphText(i int) string {
	if i < len(r.ParagraphTexts) {
		return r.ParagraphTexts[i]
	}
	return ""
}

// joinInts joins numbers with sep, each preceded by prefix.
func joinInts(nums []int, prefix, sep string) string {
	var b strings.Builder
	for i, n := range nums {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(prefix)
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// put writes s to a bufio.Writer. Its write errors are sticky: Flush returns
// the first one, and every writer's End checks Flush, so no error is lost.
func put(w *bufio.Writer, s string) { _, _ = w.WriteString(s) }
