package models

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
)

// updateGolden rewrites golden files in testdata: go test ./models -update.
var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata")

func exportFixtureMeta() ExportMeta {
	return ExportMeta{
		DocumentSlug:  "data-cooperation",
		DocumentTitle: "Draft framework on data cooperation [rev. 2]",
		Version:       2,
		Statuses:      []string{"pending", "accepted", "deferred", "rejected"},
		GeneratedAt:   time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

// exportFixtureRows covers: two comments on one paragraph, a comment on
// several paragraphs, an anonymous one, formula payloads, unicode and CRLF
// newlines with heading and fence injection, comments on the whole document
// (private and pending).
func exportFixtureRows() []ExportRow {
	at := func(day, hour int) time.Time { return time.Date(2026, 1, day, hour, 30, 0, 0, time.UTC) }
	ptr := func(t time.Time) *time.Time { return &t }
	cet := time.FixedZone("CET", 3600)
	return []ExportRow{
		{
			CommentID: 101, ParagraphNumbers: []int{3}, ParagraphTexts: []string{"The Parties shall cooperate in good faith."},
			AuthorName: "Jane Doe", Affiliation: "Acme Ltd", StakeholderGroup: "private_sector", Country: "DE",
			Visibility: "public", Kind: "substantive", Status: "accepted",
			Body:         "Cooperation should be *measurable*.\n\nSee [the report](https://example.org/r).",
			ProposedText: "The Parties shall cooperate in good faith and report annually.",
			Response:     "Agreed; the text now asks for annual reports.",
			CreatedAt:    at(10, 9), DecidedAt: ptr(at(20, 14)),
		},
		{
			CommentID: 102, ParagraphNumbers: []int{3}, ParagraphTexts: []string{"The Parties shall cooperate in good faith."},
			StakeholderGroup: "civil_society", Country: "KE",
			Visibility: "anonymous", Kind: "editorial", Status: "accepted",
			Body:      `"cooperate" is misspelt in the French version.`,
			CreatedAt: at(11, 8), DecidedAt: ptr(at(20, 15)),
		},
		{
			CommentID: 103, ParagraphNumbers: []int{5, 7},
			ParagraphTexts: []string{"- Each Party shall designate a contact point.", "## Reporting"},
			AuthorName:     "@SUM(A1)", Affiliation: "-1+1", StakeholderGroup: "technical_community", Country: "US",
			Visibility: "public", Kind: "general", Status: "accepted",
			Body:         `=HYPERLINK("http://x","y")`,
			ProposedText: "+1",
			Response:     "\t=1",
			CreatedAt:    at(12, 10), DecidedAt: ptr(at(21, 9)),
		},
		{
			CommentID: 104, ParagraphNumbers: []int{12},
			ParagraphTexts: []string{"Les Parties s'engagent à coopérer — 合作。"},
			AuthorName:     "Zoë Ångström", Affiliation: "Université de Genève", StakeholderGroup: "academia", Country: "SE",
			Visibility: "public", Kind: "substantive", Status: "deferred",
			Body: "Première ligne.\r\nDeuxième ligne — 日本語 🌍\r\n\r\n# Injected heading\n## ¶99\n\n" +
				"```\nunclosed fence\n# inside the fence",
			ProposedText: "＝1+2 and ＠home",
			Response:     "We will revisit this in version 3.\nThanks.",
			CreatedAt:    time.Date(2026, 1, 13, 10, 0, 0, 0, cet), DecidedAt: ptr(at(22, 16)),
		},
		{
			CommentID: 105, AuthorName: "Ministry official", Affiliation: "Ministry of Digital Affairs",
			StakeholderGroup: "government", Country: "FR",
			Visibility: "private", Kind: "general", Status: "rejected",
			Body:      "The whole draft is too long.",
			Response:  "Its length is set by the mandate.",
			CreatedAt: at(14, 11), DecidedAt: ptr(at(23, 10)),
		},
		{
			CommentID: 106, AuthorName: "Sam Lee", StakeholderGroup: "media",
			Visibility: "public", Kind: "general", Status: "pending",
			Body:      "<!-- an unclosed HTML comment\n\n### Comment #999 — Fake, accepted",
			CreatedAt: at(15, 12),
		},
	}
}

// runExport writes meta and rows in format and returns the output.
func runExport(t *testing.T, format string, meta ExportMeta, rows []ExportRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewExportWriter(format, &buf)
	if err != nil {
		t.Fatalf("NewExportWriter(%q): %v", format, err)
	}
	if err := w.Begin(meta); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			t.Fatalf("Row(%d): %v", r.CommentID, err)
		}
	}
	if err := w.End(); err != nil {
		t.Fatalf("End: %v", err)
	}
	return buf.Bytes()
}

// checkExportGolden compares got with testdata/export/name, or rewrites it
// with -update.
func checkExportGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "export", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./models -run TestExportWriterGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestExportWriterGolden(t *testing.T) {
	tests := []struct {
		name string
		rows []ExportRow
	}{
		{"comments", exportFixtureRows()},
		{"empty", nil},
	}
	for _, tc := range tests {
		for _, format := range ExportFormats {
			name := tc.name + "." + format + ".golden"
			t.Run(name, func(t *testing.T) {
				checkExportGolden(t, name, runExport(t, format, exportFixtureMeta(), tc.rows))
			})
		}
	}
}

// exportJSONDoc is what a JSON export decodes into in tests.
type exportJSONDoc struct {
	Document struct {
		Slug    string `json:"slug"`
		Title   string `json:"title"`
		Version int    `json:"version"`
	} `json:"document"`
	Statuses    []string `json:"statuses"`
	GeneratedAt string   `json:"generated_at"`
	Comments    []struct {
		ID               int64           `json:"id"`
		ParagraphNumbers json.RawMessage `json:"paragraph_numbers"`
		Paragraphs       []struct {
			Number int    `json:"number"`
			Text   string `json:"text"`
		} `json:"paragraphs"`
		Author *struct {
			Name             string `json:"name"`
			Affiliation      string `json:"affiliation"`
			StakeholderGroup string `json:"stakeholder_group"`
			Country          string `json:"country"`
		} `json:"author"`
		Visibility   string  `json:"visibility"`
		Kind         string  `json:"kind"`
		Status       string  `json:"status"`
		Body         string  `json:"body"`
		ProposedText string  `json:"proposed_text"`
		Response     string  `json:"response"`
		CreatedAt    string  `json:"created_at"`
		DecidedAt    *string `json:"decided_at"`
	} `json:"comments"`
}

func TestExportJSON(t *testing.T) {
	rows := exportFixtureRows()
	out := runExport(t, "json", exportFixtureMeta(), rows)
	var doc exportJSONDoc
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("export is not valid JSON: %v\n%s", err, out)
	}
	if doc.Document.Slug != "data-cooperation" || doc.Document.Version != 2 || doc.GeneratedAt != "2026-03-01T12:00:00Z" {
		t.Errorf("header = %+v, generated_at %q", doc.Document, doc.GeneratedAt)
	}
	if len(doc.Comments) != len(rows) {
		t.Fatalf("got %d comments, want %d", len(doc.Comments), len(rows))
	}
	for i, c := range doc.Comments {
		r := rows[i]
		if c.ID != r.CommentID {
			t.Errorf("comment %d: id %d, want %d (order kept)", i, c.ID, r.CommentID)
		}
		if c.Body != r.Body {
			t.Errorf("comment %d: body %q, want %q", r.CommentID, c.Body, r.Body)
		}
		if (c.Author == nil) != (r.AuthorName == "") {
			t.Errorf("comment %d: author %+v for name %q", r.CommentID, c.Author, r.AuthorName)
		}
		var nums []int
		if err := json.Unmarshal(c.ParagraphNumbers, &nums); err != nil || nums == nil {
			t.Errorf("comment %d: paragraph_numbers = %s, want an array", r.CommentID, c.ParagraphNumbers)
		}
		if !slices.Equal(nums, r.ParagraphNumbers) && len(nums)+len(r.ParagraphNumbers) > 0 {
			t.Errorf("comment %d: paragraph_numbers %v, want %v", r.CommentID, nums, r.ParagraphNumbers)
		}
		for j, p := range c.Paragraphs {
			if p.Number != r.ParagraphNumbers[j] || p.Text != r.ParagraphTexts[j] {
				t.Errorf("comment %d: paragraph %d = %+v", r.CommentID, j, p)
			}
		}
		if (c.DecidedAt == nil) != (r.DecidedAt == nil) {
			t.Errorf("comment %d: decided_at %v", r.CommentID, c.DecidedAt)
		}
		if !strings.HasSuffix(c.CreatedAt, "Z") {
			t.Errorf("comment %d: created_at %q is not UTC", r.CommentID, c.CreatedAt)
		}
	}
	if got := doc.Comments[3].CreatedAt; got != "2026-01-13T09:00:00Z" {
		t.Errorf("created_at in CET = %q, want 2026-01-13T09:00:00Z", got)
	}
	if a := doc.Comments[0].Author; a == nil || a.StakeholderGroup != "private_sector" || a.Country != "DE" {
		t.Errorf("author = %+v", a)
	}
}

// readExportCSV parses a CSV export, checking and removing the BOM.
func readExportCSV(t *testing.T, out []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(out, []byte(utf8BOM)) {
		t.Fatalf("CSV does not start with a UTF-8 BOM: %q", out[:min(len(out), 10)])
	}
	recs, err := csv.NewReader(bytes.NewReader(out[len(utf8BOM):])).ReadAll()
	if err != nil {
		t.Fatalf("export is not valid CSV: %v\n%s", err, out)
	}
	return recs
}

func TestExportCSV(t *testing.T) {
	rows := exportFixtureRows()
	recs := readExportCSV(t, runExport(t, "csv", exportFixtureMeta(), rows))
	if !slices.Equal(recs[0], csvHeader) {
		t.Errorf("header = %q", recs[0])
	}
	if len(recs) != len(rows)+1 {
		t.Fatalf("got %d records, want %d", len(recs), len(rows)+1)
	}
	for _, rec := range recs[1:] {
		for j, cell := range rec {
			if csvFormulaStart(cell) {
				t.Errorf("comment %s, %s = %q starts like a formula", rec[0], csvHeader[j], cell)
			}
		}
	}
	col := func(rec []string, name string) string { return rec[slices.Index(csvHeader, name)] }
	tests := []struct {
		id, column, want string
	}{
		{"101", "paragraphs", "3"},
		{"101", "paragraph_text", "¶3: The Parties shall cooperate in good faith."},
		{"101", "author", "Jane Doe"},
		{"101", "comment", rows[0].Body},
		{"101", "submitted_at", "2026-01-10T09:30:00Z"},
		{"101", "decided_at", "2026-01-20T14:30:00Z"},
		{"102", "author", "Anonymous participant"},
		{"102", "visibility", "anonymous"},
		{"102", "stakeholder_group", "civil_society"},
		{"103", "paragraphs", "5; 7"},
		{"103", "paragraph_text", "¶5: - Each Party shall designate a contact point.\n\n¶7: ## Reporting"},
		{"103", "author", "'@SUM(A1)"},
		{"103", "affiliation", "'-1+1"},
		{"103", "comment", `'=HYPERLINK("http://x","y")`},
		{"103", "proposed_text", "'+1"},
		{"103", "response", "'\t=1"},
		{"104", "author", "Zoë Ångström"},
		{"104", "comment", "Première ligne.\nDeuxième ligne — 日本語 🌍\n\n# Injected heading\n## ¶99\n\n```\nunclosed fence\n# inside the fence"},
		{"104", "proposed_text", "'＝1+2 and ＠home"},
		{"104", "submitted_at", "2026-01-13T09:00:00Z"},
		{"105", "paragraphs", "general"},
		{"105", "paragraph_text", ""},
		{"106", "decided_at", ""},
	}
	for _, tc := range tests {
		t.Run(tc.id+"/"+tc.column, func(t *testing.T) {
			i := slices.IndexFunc(recs, func(rec []string) bool { return rec[0] == tc.id })
			if i < 0 {
				t.Fatalf("no record for comment %s", tc.id)
			}
			if got := col(recs[i], tc.column); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.column, got, tc.want)
			}
		})
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+1", "'+1"},
		{"-1+1", "'-1+1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"＝1+2", "'＝1+2"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"A normal comment = fine; 1+1 -x @y", "A normal comment = fine; 1+1 -x @y"},
		{"", ""},
		{" =1", " =1"},
		{"line one\r\nline two", "line one\nline two"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := csvCell(tc.in); got != tc.want {
				t.Errorf("csvCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

var htmlHeading = regexp.MustCompile(`<h([1-6])>(.*?)</h[1-6]>`)

// markdownHeadings renders md with goldmark (CommonMark) and returns its
// headings as "h2 text".
func markdownHeadings(t *testing.T, md []byte) []string {
	t.Helper()
	var html bytes.Buffer
	if err := goldmark.Convert(md, &html); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range htmlHeading.FindAllStringSubmatch(html.String(), -1) {
		out = append(out, "h"+m[1]+" "+m[2])
	}
	return out
}

func TestExportMarkdownStructure(t *testing.T) {
	out := runExport(t, "md", exportFixtureMeta(), exportFixtureRows())
	want := []string{
		"h1 Comments on Draft framework on data cooperation [rev. 2] (version 2)",
		"h2 ¶3",
		"h3 Comment #101 — Substantive, accepted",
		"h3 Comment #102 — Editorial, accepted",
		"h2 ¶5, ¶7",
		"h3 Comment #103 — General, accepted",
		"h2 ¶12",
		"h3 Comment #104 — Substantive, deferred",
		"h2 Whole document",
		"h3 Comment #105 — General, rejected",
		"h3 Comment #106 — General, pending",
	}
	if got := markdownHeadings(t, out); !slices.Equal(got, want) {
		t.Errorf("headings =\n%s\nwant\n%s\n\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	for _, s := range []string{
		"By Anonymous participant, Civil society, KE\\\nVisibility: anonymous (do not credit by name)",
		"By Zoë Ångström (Université de Genève), Academia, SE\\",
		"By @SUM(A1) (-1+1), Technical community, US\\",
		"Visibility: private (moderators only; do not publish or credit)",
		"> ¶5: - Each Party shall designate a contact point.\n",
		"> ¶7: ## Reporting\n",
		"> \\# Injected heading\n> \\## ¶99\n",
		"> # inside the fence\n",
		"**Proposed text:**\n\n> ＝1+2 and ＠home\n",
	} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("Markdown lacks %q:\n%s", s, out)
		}
	}
}

func TestWriteQuote(t *testing.T) {
	tests := []struct {
		name, label, in, want string
	}{
		{"plain", "", "text", "> text\n"},
		{"blank lines", "", "a\r\n\r\nb", "> a\n>\n> b\n"},
		{"label", "¶3:", "text", "> ¶3: text\n"},
		{"label before heading", "¶7:", "## Scope\n# b", "> ¶7: ## Scope\n> \\# b\n"},
		{"empty with label", "¶3:", "", "> ¶3:\n"},
		{"headings", "", "# a\n   ## b\n####### c\n#nospace\n    # code", "> \\# a\n>    \\## b\n> ####### c\n> #nospace\n>     # code\n"},
		{"fence", "", "```go\n# x\n```\n# y", "> ```go\n> # x\n> ```\n> \\# y\n"},
		{"tilde fence", "", "~~~~\n# x\n~~~\n# y", "> ~~~~\n> # x\n> ~~~\n> # y\n"},
		{"label before code", "¶9:", "```\ncode\n```", "> ¶9:\n>\n> ```\n> code\n> ```\n"},
		{"label before indented code", "¶9:", "    code", "> ¶9:\n>\n>     code\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			w := bufio.NewWriter(&b)
			writeQuote(w, tc.label, tc.in)
			w.Flush()
			if got := b.String(); got != tc.want {
				t.Errorf("writeQuote(%q, %q) = %q, want %q", tc.label, tc.in, got, tc.want)
			}
		})
	}
}

func TestExportWriterEmpty(t *testing.T) {
	meta := exportFixtureMeta()
	t.Run("json", func(t *testing.T) {
		out := runExport(t, "json", meta, nil)
		var doc exportJSONDoc
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, out)
		}
		if doc.Comments == nil || len(doc.Comments) != 0 {
			t.Errorf("comments = %v, want []", doc.Comments)
		}
	})
	t.Run("json no statuses", func(t *testing.T) {
		out := runExport(t, "json", ExportMeta{}, nil)
		if !json.Valid(out) || !bytes.Contains(out, []byte(`"statuses": []`)) {
			t.Errorf("output = %s", out)
		}
	})
	t.Run("csv", func(t *testing.T) {
		recs := readExportCSV(t, runExport(t, "csv", meta, nil))
		if len(recs) != 1 || !slices.Equal(recs[0], csvHeader) {
			t.Errorf("records = %q, want the header only", recs)
		}
	})
	t.Run("md", func(t *testing.T) {
		out := runExport(t, "md", meta, nil)
		got := markdownHeadings(t, out)
		if len(got) != 1 || !strings.HasPrefix(got[0], "h1 ") || !bytes.Contains(out, []byte("No comments")) {
			t.Errorf("headings = %q in\n%s", got, out)
		}
	})
}

func TestNewExportWriterUnknownFormat(t *testing.T) {
	for _, format := range []string{"", "pdf", "MD", "txt"} {
		t.Run(format, func(t *testing.T) {
			w, err := NewExportWriter(format, &bytes.Buffer{})
			if !errors.Is(err, ErrUnknownFormat) || w != nil {
				t.Errorf("NewExportWriter(%q) = %v, %v; want nil, ErrUnknownFormat", format, w, err)
			}
		})
	}
}

func TestExportContentTypeAndExtension(t *testing.T) {
	tests := []struct {
		format, contentType, ext string
	}{
		{"md", "text/markdown; charset=utf-8", ".md"},
		{"csv", "text/csv; charset=utf-8", ".csv"},
		{"json", "application/json; charset=utf-8", ".json"},
		{"pdf", "application/octet-stream", ""},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			if got := ExportContentType(tc.format); got != tc.contentType {
				t.Errorf("ExportContentType(%q) = %q, want %q", tc.format, got, tc.contentType)
			}
			if got := ExportExtension(tc.format); got != tc.ext {
				t.Errorf("ExportExtension(%q) = %q, want %q", tc.format, got, tc.ext)
			}
		})
	}
	for _, f := range ExportFormats {
		if _, err := NewExportWriter(f, &bytes.Buffer{}); err != nil {
			t.Errorf("NewExportWriter(%q) for a listed format: %v", f, err)
		}
	}
}

// exportCountingWriter counts the bytes written to it.
type exportCountingWriter struct{ n int }

func (c *exportCountingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

func TestExportWriterStreams(t *testing.T) {
	row := exportFixtureRows()[0]
	for _, format := range ExportFormats {
		t.Run(format, func(t *testing.T) {
			var cw exportCountingWriter
			w, err := NewExportWriter(format, &cw)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Begin(exportFixtureMeta()); err != nil {
				t.Fatal(err)
			}
			for i := range 1000 {
				row.CommentID = int64(i + 1)
				if err := w.Row(row); err != nil {
					t.Fatal(err)
				}
			}
			before := cw.n
			if before < 100_000 {
				t.Errorf("after 1000 rows and before End only %d bytes reached the writer", before)
			}
			if err := w.End(); err != nil {
				t.Fatal(err)
			}
			if cw.n <= before {
				t.Errorf("End wrote nothing (%d bytes before, %d after): it must flush", before, cw.n)
			}
		})
	}
}

// exportFailingWriter fails every write.
type exportFailingWriter struct{}

func (exportFailingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportWriterErrors(t *testing.T) {
	for _, format := range ExportFormats {
		t.Run(format+"/order", func(t *testing.T) {
			w, _ := NewExportWriter(format, &bytes.Buffer{})
			if err := w.Row(ExportRow{}); err == nil {
				t.Error("Row before Begin succeeded")
			}
			if err := w.Begin(ExportMeta{}); err != nil {
				t.Fatal(err)
			}
			if err := w.Begin(ExportMeta{}); err == nil {
				t.Error("second Begin succeeded")
			}
			if err := w.End(); err != nil {
				t.Fatal(err)
			}
			if err := w.Row(ExportRow{}); err == nil {
				t.Error("Row after End succeeded")
			}
		})
		t.Run(format+"/write error", func(t *testing.T) {
			w, _ := NewExportWriter(format, exportFailingWriter{})
			_ = w.Begin(exportFixtureMeta())
			_ = w.Row(exportFixtureRows()[0])
			if err := w.End(); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("End = %v, want the write error", err)
			}
		})
	}
}
