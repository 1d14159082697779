package models

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidDocument means an uploaded file is not a Word document we can
// read: not a zip, no word/document.xml, broken XML or too large.
var ErrInvalidDocument = errors.New("invalid document")

const (
	// docxMaxXML caps each XML part we read, uncompressed, against zip bombs.
	docxMaxXML = 20 << 20
	// docxMaxEntries caps the zip directory; real documents have a few
	// dozen entries, a few hundred with many images.
	docxMaxEntries = 5000
	// docxMaxNesting caps paragraphs nested through text boxes.
	docxMaxNesting = 32
)

// errDocxTooLarge is returned by docxCapped once the cap is passed.
var errDocxTooLarge = errors.New("part larger than 20 MiB")

// DocxToMarkdown converts a .docx file to Markdown for SplitMarkdown:
// headings (styles Title and Heading 1-6, or an outline level), list items
// (numbered paragraphs or list styles) nested by level, and paragraphs, each
// table cell's paragraphs as their own. Empty paragraphs are skipped, bold
// and italic runs are kept, and Word text that Markdown would read as markup
// is escaped. Errors wrap ErrInvalidDocument.
func DocxToMarkdown(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("%w: not a zip archive: %v", ErrInvalidDocument, err)
	}
	if len(zr.File) > docxMaxEntries {
		return "", fmt.Errorf("%w: %d zip entries", ErrInvalidDocument, len(zr.File))
	}
	var doc, styles *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			doc = f
		case "word/styles.xml":
			styles = f
		}
	}
	if doc == nil {
		return "", fmt.Errorf("%w: no word/document.xml", ErrInvalidDocument)
	}
	st := docxBuiltinStyles()
	if styles != nil {
		// Style IDs are localised ("berschrift1" in German Word), their names
		// are not; a broken styles part only costs us those names.
		_ = docxReadPart(styles, st.read)
	}
	c := &docxConverter{styles: st}
	if err := docxReadPart(doc, c.read); err != nil {
		return "", err
	}
	return c.out.String(), nil
}

// docxReadPart streams one XML part, capped at docxMaxXML uncompressed.
func docxReadPart(f *zip.File, read func(*xml.Decoder) error) error {
	if f.UncompressedSize64 > docxMaxXML {
		return fmt.Errorf("%w: %s: %w", ErrInvalidDocument, f.Name, errDocxTooLarge)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidDocument, f.Name, err)
	}
	defer rc.Close()
	// The size in the zip header may lie, so the stream is capped as well.
	d := xml.NewDecoder(&docxCapped{r: io.LimitReader(rc, docxMaxXML+1)})
	if err := read(d); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidDocument, f.Name, err)
	}
	return nil
}

// docxCapped fails once more than docxMaxXML bytes have been read.
type docxCapped struct {
	r io.Reader
	n int64
}

// Read reads from the underlying part and fails once past the cap.
func (c *docxCapped) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	if c.n > docxMaxXML {
		return k, errDocxTooLarge
	}
	return k, err
}

// docxStyles maps paragraph style IDs to headings and list levels.
type docxStyles struct {
	heading map[string]int  // style ID -> heading level 1-6
	list    map[string]int  // style ID -> list level, 0 = top
	toc     map[string]bool // table of contents styles, whose text repeats the headings
}

// docxBuiltinStyles knows the IDs English Word uses, for files without a
// styles part.
func docxBuiltinStyles() docxStyles {
	st := docxStyles{heading: map[string]int{"Title": 1}, list: map[string]int{"ListParagraph": 0},
		toc: map[string]bool{"TOCHeading": true}}
	for i := 1; i <= 9; i++ {
		if i <= 6 {
			st.heading["Heading"+strconv.Itoa(i)] = i
		}
		st.toc["TOC"+strconv.Itoa(i)] = true
	}
	for _, base := range []string{"ListBullet", "ListNumber", "List"} {
		st.list[base] = 0
		for i := 2; i <= 5; i++ {
			st.list[base+strconv.Itoa(i)] = i - 1
		}
	}
	return st
}

// read learns style IDs from the names and outline levels in styles.xml.
func (st docxStyles) read(d *xml.Decoder) error {
	var id string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "style":
			id = docxAttr(se, "styleId")
		case "name":
			if id == "" {
				continue
			}
			name := strings.ToLower(docxAttr(se, "val"))
			if name == "title" {
				st.heading[id] = 1
			} else if strings.HasPrefix(name, "toc ") {
				st.toc[id] = true
			} else if lvl, ok := strings.CutPrefix(name, "heading "); ok {
				if n, err := strconv.Atoi(lvl); err == nil && n >= 1 && n <= 6 {
					st.heading[id] = n
				}
			} else if rest, ok := strings.CutPrefix(name, "list "); ok {
				f := strings.Fields(rest)
				if len(f) == 0 {
					continue
				}
				lvl := 0
				if n, err := strconv.Atoi(f[len(f)-1]); len(f) > 1 && err == nil && n >= 2 && n <= 9 {
					lvl = n - 1
				}
				if f[0] == "paragraph" || f[0] == "bullet" || f[0] == "number" || f[0] == "continue" {
					st.list[id] = lvl
				}
			}
		case "outlineLvl":
			if n, err := strconv.Atoi(docxAttr(se, "val")); id != "" && err == nil && n >= 0 && n <= 5 {
				if _, ok := st.heading[id]; !ok {
					st.heading[id] = n + 1
				}
			}
		}
	}
}

// docxAttr returns the value of the attribute with local name local.
func docxAttr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// docxOn reads an on/off property such as <w:b/> or <w:b w:val="0"/>.
func docxOn(se xml.StartElement) bool {
	switch docxAttr(se, "val") {
	case "0", "false", "off", "none":
		return false
	}
	return true
}

// docxPara is a paragraph being read.
type docxPara struct {
	style    string
	numbered bool
	ilvl     int
	outline  int // w:outlineLvl, -1 when absent
	segs     []docxSeg
}

// docxSeg is text with one formatting.
type docxSeg struct {
	text         []byte // appended to run by run; a string would make this quadratic
	bold, italic bool
}

// docxConverter turns the token stream of document.xml into Markdown.
type docxConverter struct {
	styles docxStyles
	out    strings.Builder
	paras  []*docxPara // open paragraphs, text boxes nest them
	inPPr  bool
	inRPr  bool
	run    int  // depth inside <w:r>
	skip   int  // depth inside an ignored element
	inText bool // inside <w:t>
	keep   bool // xml:space="preserve" on the current <w:t>
	text   strings.Builder
	bold   bool
	italic bool
	hidden bool
	prev   int // list level of the previous block, -1 when not a list item
}

func (c *docxConverter) read(d *xml.Decoder) error {
	c.prev = -1
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			c.start(t)
		case xml.EndElement:
			c.end(t)
		case xml.CharData:
			if c.inText && c.skip == 0 {
				c.text.Write(t)
			}
		}
	}
}

// top returns the innermost open paragraph, or nil.
func (c *docxConverter) top() *docxPara {
	if len(c.paras) == 0 {
		return nil
	}
	return c.paras[len(c.paras)-1]
}

func (c *docxConverter) start(se xml.StartElement) {
	if c.skip > 0 {
		c.skip++
		return
	}
	p := c.top()
	switch se.Name.Local {
	case "Fallback":
		// mc:AlternateContent repeats text boxes for old readers.
		c.skip = 1
	case "p":
		if len(c.paras) >= docxMaxNesting {
			c.skip = 1
			return
		}
		c.paras = append(c.paras, &docxPara{outline: -1})
	case "pPr":
		c.inPPr = true
	case "rPr":
		c.inRPr = c.run > 0 && !c.inPPr
	case "r":
		c.run++
		c.bold, c.italic, c.hidden = false, false, false
	}
	if p == nil {
		return
	}
	if c.inPPr {
		switch se.Name.Local {
		case "pStyle":
			p.style = docxAttr(se, "val")
		case "numId":
			p.numbered = docxAttr(se, "val") != "0"
		case "ilvl":
			if n, err := strconv.Atoi(docxAttr(se, "val")); err == nil && n >= 0 && n <= 8 {
				p.ilvl = n
			}
		case "outlineLvl":
			if n, err := strconv.Atoi(docxAttr(se, "val")); err == nil && n >= 0 && n <= 5 {
				p.outline = n
			}
		}
		return
	}
	if c.inRPr {
		switch se.Name.Local {
		case "b":
			c.bold = docxOn(se)
		case "i":
			c.italic = docxOn(se)
		case "vanish":
			c.hidden = docxOn(se)
		}
		return
	}
	if c.run == 0 || c.hidden {
		return
	}
	switch se.Name.Local {
	case "t":
		c.inText = true
		c.keep = false
		c.text.Reset()
		for _, a := range se.Attr {
			if a.Name.Local == "space" && a.Value == "preserve" {
				c.keep = true
			}
		}
	case "tab", "br", "cr":
		c.add(p, " ")
	case "noBreakHyphen":
		c.add(p, "-")
	}
}

func (c *docxConverter) end(ee xml.EndElement) {
	if c.skip > 0 {
		c.skip--
		return
	}
	switch ee.Name.Local {
	case "pPr":
		c.inPPr = false
	case "rPr":
		c.inRPr = false
	case "r":
		c.run = max(c.run-1, 0)
	case "t":
		if c.inText {
			c.inText = false
			t := c.text.String()
			if !c.keep {
				t = strings.TrimSpace(t)
			}
			if p := c.top(); p != nil {
				c.add(p, t)
			}
		}
	case "p":
		if p := c.top(); p != nil {
			c.paras = c.paras[:len(c.paras)-1]
			c.emit(p)
		}
	}
}

// add appends text in the current run's formatting, merging it into the
// previous segment when the formatting is the same (Word splits runs often).
func (c *docxConverter) add(p *docxPara, t string) {
	if n := len(p.segs); n > 0 && p.segs[n-1].bold == c.bold && p.segs[n-1].italic == c.italic {
		p.segs[n-1].text = append(p.segs[n-1].text, t...)
		return
	}
	p.segs = append(p.segs, docxSeg{text: []byte(t), bold: c.bold, italic: c.italic})
}

// emit writes one finished paragraph as a Markdown block.
func (c *docxConverter) emit(p *docxPara) {
	if c.styles.toc[p.style] {
		return
	}
	heading := c.styles.heading[p.style]
	if heading == 0 && p.outline >= 0 {
		heading = p.outline + 1
	}
	listLevel, isList := c.styles.list[p.style]
	if p.numbered {
		isList, listLevel = true, p.ilvl
	}
	line := docxLine(p.segs, heading > 0)
	if line == "" {
		return
	}
	switch {
	case heading > 0:
		line = strings.Repeat("#", heading) + " " + line
	case isList:
		// A deeper level than the previous item plus one would turn into
		// an indented code block.
		listLevel = min(listLevel, c.prev+1)
		line = strings.Repeat("  ", listLevel) + "- " + line
	}
	if c.out.Len() > 0 {
		if isList && heading == 0 && c.prev >= 0 {
			c.out.WriteString("\n")
		} else {
			c.out.WriteString("\n\n")
		}
	}
	c.out.WriteString(line)
	c.prev = -1
	if isList && heading == 0 {
		c.prev = listLevel
	}
}

// docxLine renders a paragraph's segments as one line of Markdown; heading
// text needs no block-level escaping since it follows the "#" marker.
func docxLine(segs []docxSeg, heading bool) string {
	var b strings.Builder
	for _, s := range segs {
		core := strings.Join(strings.Fields(NormalizeText(string(s.text))), " ")
		lead, trail := docxSpaceAt(string(s.text), true), docxSpaceAt(string(s.text), false)
		if core == "" {
			if lead {
				b.WriteByte(' ')
			}
			continue
		}
		if lead {
			b.WriteByte(' ')
		}
		core = docxEscape(core)
		if !heading && hasWord(core) {
			switch {
			case s.bold && s.italic:
				core = "***" + core + "***"
			case s.bold:
				core = "**" + core + "**"
			case s.italic:
				core = "*" + core + "*"
			}
		}
		b.WriteString(core)
		if trail {
			b.WriteByte(' ')
		}
	}
	line := strings.Join(strings.Fields(b.String()), " ")
	if heading {
		return docxEscapeClosingHashes(line)
	}
	return docxEscapeLineStart(line)
}

// docxSpaceAt reports whether s starts (or ends) with whitespace, NBSP and
// other Unicode spaces included.
func docxSpaceAt(s string, start bool) bool {
	var r rune
	if start {
		r, _ = utf8.DecodeRuneInString(s)
	} else {
		r, _ = utf8.DecodeLastRuneInString(s)
	}
	return s != "" && unicode.IsSpace(r)
}

// docxEscape backslash-escapes the characters that would make Word text
// Markdown markup anywhere in a line.
func docxEscape(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		var prev, next rune
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\\' || r == '`' || r == '*' || r == '[' || r == ']' || r == '~':
			b.WriteByte('\\')
		case r == '_' && !(isWordRune(prev) && isWordRune(next)):
			b.WriteByte('\\')
		case r == '<' && (isWordRune(next) || next == '/' || next == '!' || next == '?'):
			b.WriteByte('\\')
		case r == '&' && (isWordRune(next) || next == '#'):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// docxEscapeLineStart escapes what Markdown reads as a block marker at the
// start of a line: "# ", "- ", "+ ", "* ", ">", "1. " and "1) ".
func docxEscapeLineStart(s string) string {
	blank := func(i int) bool { return i >= len(s) || s[i] == ' ' || s[i] == '\t' }
	if s == "" {
		return s
	}
	switch s[0] {
	case '>':
		return "\\" + s
	case '-', '+', '*':
		if blank(1) {
			return "\\" + s
		}
	case '#':
		if i := strings.IndexFunc(s, func(r rune) bool { return r != '#' }); i < 0 || (i <= 6 && blank(i)) {
			return "\\" + s
		}
	}
	i := 0
	for i < len(s) && i < 10 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') && blank(i+1) {
		return s[:i] + "\\" + s[i:]
	}
	return s
}

// docxEscapeClosingHashes keeps a heading's trailing "#" from being read as
// an optional closing sequence.
func docxEscapeClosingHashes(s string) string {
	t := strings.TrimRight(s, "#")
	if t != s && (t == "" || strings.HasSuffix(t, " ")) {
		return t + "\\" + s[len(t):]
	}
	return s
}
