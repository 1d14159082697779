package models

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// jsonExportDocument is the "document" object of a JSON export.
type jsonExportDocument struct {
	Slug    string `json:"slug"`
	Title   string `json:"title"`
	Version int    `json:"version"`
}

// jsonExportParagraph is one paragraph a comment is on.
type jsonExportParagraph struct {
	Number int    `json:"number"`
	Text   string `json:"text"`
}

// jsonExportAuthor is the author of a comment; it is null when hidden.
type jsonExportAuthor struct {
	Name             string `json:"name"`
	Affiliation      string `json:"affiliation"`
	StakeholderGroup string `json:"stakeholder_group"`
	Country          string `json:"country"`
}

// jsonExportComment is one element of the "comments" array.
type jsonExportComment struct {
	ID               int64                 `json:"id"`
	ParagraphNumbers []int                 `json:"paragraph_numbers"`
	Paragraphs       []jsonExportParagraph `json:"paragraphs"`
	Author           *jsonExportAuthor     `json:"author"`
	Visibility       string                `json:"visibility"`
	Kind             string                `json:"kind"`
	Status           string                `json:"status"`
	Body             string                `json:"body"`
	ProposedText     string                `json:"proposed_text"`
	Response         string                `json:"response"`
	CreatedAt        string                `json:"created_at"`
	DecidedAt        *string               `json:"decided_at"`
}

// jsonExport writes
//
//	{"document": {…}, "statuses": […], "generated_at": "…", "comments": [ … ]}
//
// one comment at a time: it writes the brackets and commas itself and
// encodes only the current row.
type jsonExport struct {
	exportState
	bw   *bufio.Writer
	buf  bytes.Buffer
	enc  *json.Encoder
	rows int
}

func newJSONExport(w io.Writer) *jsonExport {
	e := &jsonExport{bw: bufio.NewWriter(w)}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// value writes v as indented JSON, nested at the given depth.
func (e *jsonExport) value(v any, depth int) error {
	e.buf.Reset()
	prefix := "  "
	if depth > 1 {
		prefix = "    "
	}
	e.enc.SetIndent(prefix, "  ")
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	_, err := e.bw.Write(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
	return err
}

// Begin writes everything up to the opening bracket of "comments".
func (e *jsonExport) Begin(m ExportMeta) error {
	if err := e.check(true); err != nil {
		return err
	}
	e.begun = true
	statuses := m.Statuses
	if statuses == nil {
		statuses = []string{}
	}
	put(e.bw, "{\n  \"document\": ")
	if err := e.value(jsonExportDocument{m.DocumentSlug, m.DocumentTitle, m.Version}, 1); err != nil {
		return e.fail(err)
	}
	put(e.bw, ",\n  \"statuses\": ")
	if err := e.value(statuses, 1); err != nil {
		return e.fail(err)
	}
	put(e.bw, ",\n  \"generated_at\": ")
	if err := e.value(exportTime(m.GeneratedAt), 1); err != nil {
		return e.fail(err)
	}
	_, err := e.bw.WriteString(",\n  \"comments\": [")
	return e.fail(err)
}

// Row writes a separator and one comment object.
func (e *jsonExport) Row(r ExportRow) error {
	if err := e.check(false); err != nil {
		return err
	}
	c := jsonExportComment{
		ID:               r.CommentID,
		ParagraphNumbers: make([]int, len(r.ParagraphNumbers)),
		Paragraphs:       make([]jsonExportParagraph, len(r.ParagraphNumbers)),
		Visibility:       r.Visibility,
		Kind:             r.Kind,
		Status:           r.Status,
		Body:             r.Body,
		ProposedText:     r.ProposedText,
		Response:         r.Response,
		CreatedAt:        exportTime(r.CreatedAt),
	}
	copy(c.ParagraphNumbers, r.ParagraphNumbers)
	for i, n := range r.ParagraphNumbers {
		c.Paragraphs[i] = jsonExportParagraph{Number: n, Text: r.paragraphText(i)}
	}
	if r.AuthorName != "" {
		c.Author = &jsonExportAuthor{r.AuthorName, r.Affiliation, r.StakeholderGroup, r.Country}
	}
	if r.DecidedAt != nil {
		d := exportTime(*r.DecidedAt)
		c.DecidedAt = &d
	}
	sep := ",\n    "
	if e.rows == 0 {
		sep = "\n    "
	}
	e.rows++
	put(e.bw, sep)
	return e.fail(e.value(c, 2))
}

// End closes the array and the object and flushes.
func (e *jsonExport) End() error {
	if err := e.check(false); err != nil {
		return err
	}
	e.ended = true
	if e.rows > 0 {
		put(e.bw, "\n  ")
	}
	put(e.bw, "]\n}\n")
	return e.fail(e.bw.Flush())
}
