package models_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"margin/models"
)

// docxFile is one entry of a test .docx.
type docxFile struct {
	name, body string
}

// buildDocx zips files the way Word lays out a package. Entries are stored
// uncompressed with a fixed time so the bytes do not depend on the Go
// version's deflate, which keeps the committed fixture comparable.
func buildDocx(t *testing.T, files ...docxFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{
			Name: f.name, Method: zip.Store,
			Modified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const docxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`

const docxRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`

// docxDocument wraps body XML in a document element with Word's namespaces.
func docxDocument(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="w14"><w:body>` +
		body + `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`
}

// docxPackage is a complete .docx around body, with an optional styles part.
func docxPackage(t *testing.T, body, styles string) []byte {
	files := []docxFile{
		{"[Content_Types].xml", docxContentTypes},
		{"_rels/.rels", docxRels},
		{"word/document.xml", docxDocument(body)},
	}
	if styles != "" {
		files = append(files, docxFile{"word/styles.xml", styles})
	}
	return buildDocx(t, files...)
}

// docxPara is a paragraph with a style and plain runs.
func docxPara(style string, runs ...string) string {
	ppr := ""
	if style != "" {
		ppr = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + ppr + strings.Join(runs, "") + `</w:p>`
}

func docxRun(text string) string {
	return `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r>`
}

func docxListPara(level, text string) string {
	return `<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="` + level +
		`"/><w:numId w:val="1"/></w:numPr></w:pPr>` + docxRun(text) + `</w:p>`
}

// docxSampleBody is a short consultation draft as Word writes it.
var docxSampleBody = docxPara("Title", docxRun("Draft Policy")) +
	docxPara("TOCHeading", docxRun("Contents")) + docxPara("TOC1", docxRun("1 Scope"), `<w:r><w:tab/><w:t>1</w:t></w:r>`) +
	docxPara("Heading1", docxRun("1 Scope")) +
	docxPara("", `<w:r><w:t xml:space="preserve">This policy </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>app</w:t></w:r>`+
		`<w:r><w:rPr><w:b/><w:bCs/></w:rPr><w:t xml:space="preserve">lies </w:t></w:r>`+
		`<w:r><w:t xml:space="preserve">to </w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>all</w:t></w:r>`+
		`<w:r><w:t xml:space="preserve"> staff.</w:t></w:r>`) +
	docxPara("") +
	docxPara("", docxRun("   ")) +
	docxPara("Heading2", docxRun("1.1 Definitions")) +
	docxListPara("0", "First item") +
	docxListPara("1", "Nested item") +
	docxListPara("0", "Second item") +
	docxListPara("0", "") +
	docxPara("ListBullet", docxRun("Bullet by style")) +
	docxPara("", docxRun("Tabs"), `<w:r><w:tab/><w:t>and</w:t><w:br/><w:t>breaks</w:t></w:r>`,
		`<w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r>`,
		`<w:del w:id="1" w:author="A"><w:r><w:delText>deleted</w:delText></w:r></w:del>`) +
	docxPara("", docxRun("1. Not a list, # not a heading, &lt;b&gt;not HTML&lt;/b&gt;, [not a link], a_b, *x*")) +
	docxPara("", docxRun("- dash"), docxRun(" and > quote")) +
	`<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tr><w:tc><w:tcPr><w:tcW w:w="4513"/></w:tcPr>` +
	docxPara("", docxRun("Cell one")) + `</w:tc><w:tc>` + docxPara("", docxRun("Cell two")) + `</w:tc></w:tr></w:tbl>` +
	docxPara("", `<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>`+
		docxPara("", docxRun("Text box"))+`</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent>`+
		docxPara("", docxRun("Text box"))+`</w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>`, docxRun("Last paragraph."))

const docxSampleMarkdown = `# Draft Policy

# 1 Scope

This policy **applies** to *all* staff.

## 1.1 Definitions

- First item
  - Nested item
- Second item
- Bullet by style

Tabs and breaks

1\. Not a list, # not a heading, \<b>not HTML\</b>, \[not a link\], a_b, \*x\*

\- dash and > quote

Cell one

Cell two

Text box

Last paragraph.`

func TestDocxToMarkdown(t *testing.T) {
	got, err := models.DocxToMarkdown(docxPackage(t, docxSampleBody, ""))
	if err != nil {
		t.Fatal(err)
	}
	if got != docxSampleMarkdown {
		t.Errorf("DocxToMarkdown =\n%s\nwant\n%s", got, docxSampleMarkdown)
	}
	want := []splitGot{
		{h, 1, "Draft Policy"}, {h, 1, "1 Scope"}, {pa, 0, "This policy **applies** to *all* staff."},
		{h, 2, "1.1 Definitions"}, {li, 1, "First item"}, {li, 2, "Nested item"}, {li, 1, "Second item"},
		{li, 1, "Bullet by style"}, {pa, 0, "Tabs and breaks"},
		{pa, 0, `1\. Not a list, # not a heading, \<b>not HTML\</b>, \[not a link\], a_b, \*x\*`},
		{pa, 0, `\- dash and > quote`}, {pa, 0, "Cell one"}, {pa, 0, "Cell two"},
		{pa, 0, "Text box"}, {pa, 0, "Last paragraph."},
	}
	ps := models.SplitMarkdown(got)
	if shape := splitShape(ps); !slices.Equal(shape, want) {
		t.Errorf("SplitMarkdown(DocxToMarkdown) =\n%+v\nwant\n%+v", shape, want)
	}
	if len(ps) > 9 && ps[9].HTML != "<p>1. Not a list, # not a heading, &lt;b&gt;not HTML&lt;/b&gt;, [not a link], a_b, *x*</p>" {
		t.Errorf("escaped Word text renders as %q", ps[9].HTML)
	}
}

func TestDocxToMarkdownStyles(t *testing.T) {
	// German Word: style IDs are localised, names are not.
	styles := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:default="1" w:styleId="Standard"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Eigene"><w:name w:val="Eigene Überschrift"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Aufzhlungszeichen2"><w:name w:val="List Bullet 2"/></w:style>
<w:style w:type="paragraph" w:styleId="Verzeichnis1"><w:name w:val="toc 1"/></w:style>
</w:styles>`
	body := docxPara("berschrift1", docxRun("Einleitung")) +
		docxPara("Eigene", docxRun("Abschnitt")) +
		`<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr>` + docxRun("Direct outline") + `</w:p>` +
		docxPara("Aufzhlungszeichen2", docxRun("Punkt")) +
		docxPara("Verzeichnis1", docxRun("Einleitung 1")) +
		docxPara("Standard", docxRun("Text"))
	got, err := models.DocxToMarkdown(docxPackage(t, body, styles))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Einleitung\n\n### Abschnitt\n\n## Direct outline\n\n- Punkt\n\nText"
	if got != want {
		t.Errorf("DocxToMarkdown = %q, want %q", got, want)
	}
}

func TestDocxToMarkdownEscapes(t *testing.T) {
	tests := []struct {
		name, style, text, want string
	}{
		{"heading closing hashes", "Heading2", "Item #", `## Item \#`},
		{"hash at start", "", "# not a heading", `\# not a heading`},
		{"hashtag at start", "", "#hashtag", `#hashtag`},
		{"number without space", "", "1.1 Definitions", `1.1 Definitions`},
		{"numbered heading", "Heading1", "1. Scope", `# 1. Scope`},
		{"plus at start", "", "+ plus", `\+ plus`},
		{"number paren", "", "2) second", `2\) second`},
		{"quote", "", "> q", `\> q`},
		{"entity", "", "&amp; &copy", `\&amp; \&copy`},
		{"backslash and backtick", "", "a\\b `c`", "a\\\\b \\`c\\`"},
		{"emphasis underscore", "", "_x_ snake_case", `\_x\_ snake_case`},
		{"tilde", "", "~~strike~~", `\~\~strike\~\~`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := docxPara(tc.style, `<w:r><w:t>`+strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(tc.text)+`</w:t></w:r>`)
			got, err := models.DocxToMarkdown(docxPackage(t, body, ""))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("DocxToMarkdown(%q) = %q, want %q", tc.text, got, tc.want)
			}
			ps := models.SplitMarkdown(got)
			if len(ps) != 1 || models.Signature(ps[0].Text) != models.Signature(tc.text) {
				t.Errorf("SplitMarkdown(%q) = %+v, want one paragraph with the words of %q", got, ps, tc.text)
			}
		})
	}
}

func TestDocxToMarkdownInvalid(t *testing.T) {
	big := docxDocument(`<w:p><w:r><w:t>` + strings.Repeat(" ", 21<<20) + `</w:t></w:r></w:p>`)
	many := []docxFile{{"word/document.xml", docxDocument(docxPara("", docxRun("x")))}}
	for i := range 5001 {
		many = append(many, docxFile{"word/media/image" + strconv.Itoa(i) + ".png", ""})
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a zip", []byte("%PDF-1.7 not a zip")},
		{"zip without document.xml", buildDocx(t, docxFile{"[Content_Types].xml", docxContentTypes}, docxFile{"word/styles.xml", "<w:styles/>"})},
		{"broken XML", buildDocx(t, docxFile{"word/document.xml", `<w:document><w:body><w:p>`})},
		{"document.xml over 20 MiB", buildDocx(t, docxFile{"word/document.xml", big})},
		{"too many entries", buildDocx(t, many...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md, err := models.DocxToMarkdown(tc.data)
			if !errors.Is(err, models.ErrInvalidDocument) {
				t.Errorf("DocxToMarkdown = %q, %v; want ErrInvalidDocument", md, err)
			}
		})
	}
}

// TestDocxFixture reads a committed .docx. MARGIN_UPDATE_DOCX=1 rewrites it
// from docxSampleBody; the test fails when the two drift apart.
func TestDocxFixture(t *testing.T) {
	path := filepath.Join("testdata", "word_sample.docx")
	styles := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style></w:styles>`
	built := docxPackage(t, docxSampleBody, styles)
	if os.Getenv("MARGIN_UPDATE_DOCX") == "1" {
		if err := os.WriteFile(path, built, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, built) {
		t.Errorf("%s is out of date: run MARGIN_UPDATE_DOCX=1 go test ./models -run TestDocxFixture", path)
	}
	got, err := models.DocxToMarkdown(data)
	if err != nil {
		t.Fatal(err)
	}
	if got != docxSampleMarkdown {
		t.Errorf("DocxToMarkdown(%s) =\n%s\nwant\n%s", path, got, docxSampleMarkdown)
	}
}

func FuzzDocxToMarkdown(f *testing.F) {
	f.Add(docxDocument(docxSampleBody))
	f.Add(docxDocument(docxListPara("7", "deep") + docxPara("Heading9", docxRun("#")) + `<w:p><w:r><w:t>`))
	f.Fuzz(func(t *testing.T, documentXML string) {
		data := buildDocx(t, docxFile{"word/document.xml", documentXML})
		md, err := models.DocxToMarkdown(data)
		if err != nil {
			if !errors.Is(err, models.ErrInvalidDocument) {
				t.Fatalf("error %v does not wrap ErrInvalidDocument", err)
			}
			return
		}
		if !utf8.ValidString(md) || strings.ContainsRune(md, 0) {
			t.Fatalf("DocxToMarkdown = %q: invalid UTF-8 or NUL", md)
		}
		for _, p := range models.SplitMarkdown(md) {
			checkSplitParagraph(t, p)
		}
	})
}

// FuzzDocxTextSurvives checks the escaping: any one-line Word paragraph must
// come out of DocxToMarkdown and SplitMarkdown as exactly its own text.
func FuzzDocxTextSurvives(f *testing.F) {
	for _, s := range []string{"1. a", "# x", "<b>x</b>", "a_b_", "*x*", "[a](b)", "&amp;", "`x`", "- x", "> q",
		"x \\", "1) y", "~~s~~", "| a |", "<!-- c -->", "Item #", "+ a", "***a***", "[a]: http://x"} {
		f.Add(s)
	}
	tags := regexp.MustCompile(`<[^>]*>`)
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if !unicode.IsPrint(r) || r == utf8.RuneError {
				return ' '
			}
			return r
		}, models.NormalizeText(s))), " ")
		if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
			return
		}
		text := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
		data := docxPackage(t, `<w:p><w:r><w:t xml:space="preserve">`+text+`</w:t></w:r></w:p>`, "")
		md, err := models.DocxToMarkdown(data)
		if err != nil {
			t.Fatal(err)
		}
		ps := models.SplitMarkdown(md)
		if len(ps) != 1 {
			t.Fatalf("%q -> Markdown %q -> %d paragraphs, want 1", s, md, len(ps))
		}
		got := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(ps[0].HTML, ""))), " ")
		if got != s {
			t.Fatalf("%q -> Markdown %q -> HTML %q, shows %q", s, md, ps[0].HTML, got)
		}
	})
}
