package models

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// utf8BOM starts every CSV export. Excel opens a CSV file without it as
// Windows-1252 and garbles every accented or non-Latin name; with it, Excel,
// LibreOffice, Numbers and Google Sheets all read UTF-8. Programs should
// strip it (Python: encoding="utf-8-sig"; Go: trim "\ufeff" before
// encoding/csv).
const utf8BOM = "\ufeff"

// csvHeader is the first row of a CSV export.
var csvHeader = []string{
	"comment_id", "paragraphs", "paragraph_text", "author", "affiliation",
	"stakeholder_group", "country", "visibility", "kind", "status",
	"comment", "proposed_text", "response", "submitted_at", "decided_at",
}

// csvExport writes one comment per CSV record. encoding/csv buffers through
// its own bufio.Writer, which End flushes.
type csvExport struct {
	exportState
	w   io.Writer
	cw  *csv.Writer
	rec []string
}

func newCSVExport(w io.Writer) *csvExport {
	return &csvExport{w: w, cw: csv.NewWriter(w), rec: make([]string, len(csvHeader))}
}

// Begin writes the byte order mark and the header row.
func (e *csvExport) Begin(ExportMeta) error {
	if err := e.check(true); err != nil {
		return err
	}
	e.begun = true
	if _, err := io.WriteString(e.w, utf8BOM); err != nil {
		return e.fail(err)
	}
	return e.fail(e.cw.Write(csvHeader))
}

// Row writes one record; every cell goes through csvCell.
func (e *csvExport) Row(r ExportRow) error {
	if err := e.check(false); err != nil {
		return err
	}
	paragraphs := "general"
	var texts []string
	if len(r.ParagraphNumbers) > 0 {
		paragraphs = joinInts(r.ParagraphNumbers, "", "; ")
		texts = make([]string, len(r.ParagraphNumbers))
		for i, n := range r.ParagraphNumbers {
			texts[i] = "¶" + strconv.Itoa(n) + ": " + r.paragraphText(i)
		}
	}
	fields := [...]string{
		strconv.FormatInt(r.CommentID, 10),
		paragraphs,
		strings.Join(texts, "\n\n"),
		exportAuthor(r.AuthorName),
		r.Affiliation,
		r.StakeholderGroup,
		r.Country,
		r.Visibility,
		r.Kind,
		r.Status,
		r.Body,
		r.ProposedText,
		r.Response,
		exportTime(r.CreatedAt),
		exportTimePtr(r.DecidedAt),
	}
	for i, f := range fields {
		e.rec[i] = csvCell(f)
	}
	return e.fail(e.cw.Write(e.rec))
}

// End flushes the CSV writer.
func (e *csvExport) End() error {
	if err := e.check(false); err != nil {
		return err
	}
	e.ended = true
	e.cw.Flush()
	return e.fail(e.cw.Error())
}

// csvCell makes s safe to put in a spreadsheet cell: valid UTF-8, CRLF as
// LF (spreadsheets break lines in a cell on LF), and a leading ' when the
// cell would otherwise start with a character that makes Excel, LibreOffice
// or Google Sheets read it as a formula (OWASP "CSV Injection"). The quote
// is shown as text, not data, by those programs.
func csvCell(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if csvFormulaStart(s) {
		return "'" + s
	}
	return s
}

// csvFormulaStart reports whether s starts with =, +, -, @, a tab, a
// carriage return, or a full-width =, +, - or @.
func csvFormulaStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		return true
	}
	return false
}
