package models

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// cleanLooksHTML matches what clipboard HTML from Word or a browser always
// carries. Inline tags count only when closed and "mso-" only inside a tag,
// so a plain-text comment such as "a <b and c> d" is not mistaken for markup.
var cleanLooksHTML = regexp.MustCompile(`(?i)<!--\[if|<[a-z][^<>]*mso-|<(html|head|body|meta|o:p|xml)\b|<br\s*/?>|` +
	`<(p|div|span|li|ul|ol|table|tr|td|h[1-6]|font|blockquote)(\s[^<>]*)?>|` +
	`</(p|div|span|b|i|u|em|strong|li|ul|ol|a|h[1-6]|td|tr|table|font|blockquote|pre|code|sup|sub)\s*>`)

// cleanManyNewlines matches runs of blank lines to collapse into one.
var cleanManyNewlines = regexp.MustCompile(`\n{3,}`)

// CleanCommentBody tidies a comment body before it is stored. A body pasted
// as HTML (from Word or a web page) becomes Markdown-like text: paragraphs,
// line breaks, list items, bold, italics and http(s) links survive, styles,
// scripts and Office markup do not. Any other body stays as the user wrote
// it, apart from NormalizeText and collapsing runs of blank lines.
func CleanCommentBody(s string) string {
	// Normalising first also drops NULs, which the HTML parser would turn
	// into U+FFFD.
	s = NormalizeText(s)
	if cleanLooksHTML.MatchString(s) {
		s = NormalizeText(htmlConvert(s, false))
	}
	s = cleanManyNewlines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// htmlVisibleText returns the text a browser would show for an HTML
// fragment, on one line.
func htmlVisibleText(s string) string {
	return strings.Join(strings.Fields(htmlConvert(s, true)), " ")
}

// htmlConvert converts an HTML fragment or document to Markdown-like text,
// or to bare text when plain is set.
func htmlConvert(s string, plain bool) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// The HTML5 parser accepts anything; only a reader error gets here.
		return s
	}
	c := &htmlConv{plain: plain}
	c.children(doc)
	return string(c.buf)
}

// htmlConv accumulates Markdown while walking an HTML tree.
type htmlConv struct {
	buf      []byte
	plain    bool           // no Markdown markers at all
	lists    []htmlConvList // open <ul>/<ol>, innermost last
	pre      int            // depth inside <pre>, where whitespace is kept
	quotes   int            // depth inside <blockquote>
	wordList bool           // the last block was a Word list paragraph
}

type htmlConvList struct {
	ordered bool
	n       int
}

// htmlConvSkip lists elements dropped with their content: metadata,
// scripts, form controls and Office's private markup.
var htmlConvSkip = map[string]bool{
	"head": true, "title": true, "style": true, "script": true, "noscript": true,
	"template": true, "xml": true, "o:p": true, "iframe": true, "object": true,
	"embed": true, "svg": true, "math": true, "select": true, "textarea": true,
	"button": true, "meta": true, "link": true,
}

// htmlConvBlocks lists elements that start and end a paragraph.
var htmlConvBlocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.H1: true, atom.H2: true, atom.H3: true,
	atom.H4: true, atom.H5: true, atom.H6: true, atom.Ul: true, atom.Ol: true,
	atom.Table: true, atom.Blockquote: true, atom.Pre: true, atom.Section: true,
	atom.Article: true, atom.Header: true, atom.Footer: true, atom.Hr: true,
	atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Figure: true,
	atom.Address: true, atom.Main: true, atom.Nav: true, atom.Aside: true,
	atom.Form: true, atom.Fieldset: true, atom.Body: true, atom.Caption: true,
}

// children converts n's children. Word wraps its typed list bullets in
// downlevel-revealed conditionals, <![if !supportLists]>·<![endif]>, which the
// HTML5 parser turns into two comments around the bullet; that is skipped.
func (c *htmlConv) children(n *html.Node) {
	skipping := false
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		if k.Type == html.CommentNode {
			d := strings.ToLower(strings.TrimSpace(k.Data))
			switch {
			case strings.HasPrefix(d, "[if") && strings.Contains(d, "supportlists"):
				skipping = true
			case strings.HasPrefix(d, "[endif"):
				skipping = false
			}
			continue
		}
		if !skipping {
			c.node(k)
		}
	}
}

func (c *htmlConv) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		c.text(n.Data)
		return
	case html.DocumentNode:
		c.children(n)
		return
	case html.ElementNode:
	default:
		// Comments (conditional ones included) and doctypes carry no text.
		return
	}
	if htmlConvSkip[n.Data] || wordListMarker(n) {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		c.newline()
	case atom.B, atom.Strong:
		c.wrap(n, "**")
	case atom.I, atom.Em:
		c.wrap(n, "*")
	case atom.A:
		c.link(n)
	case atom.Li:
		c.listItem(n)
	case atom.Ul, atom.Ol:
		l := htmlConvList{ordered: n.DataAtom == atom.Ol}
		if start, err := strconv.Atoi(htmlAttr(n, "start")); err == nil && start > 0 && start < 1e6 {
			l.n = start - 1
		}
		nested := len(c.lists) > 0
		c.lists = append(c.lists, l)
		if nested {
			// A list inside a list item continues it, line by line.
			c.newline()
			c.children(n)
			c.newline()
		} else {
			c.block(n)
		}
		c.lists = c.lists[:len(c.lists)-1]
	case atom.Tr:
		c.newline()
		c.children(n)
		c.newline()
	case atom.Td, atom.Th:
		if !c.atLineStart() {
			c.raw(" | ")
		}
		c.children(n)
	case atom.Pre:
		c.pre++
		c.block(n)
		c.pre--
	case atom.Blockquote:
		c.quotes++
		c.block(n)
		c.quotes--
	case atom.P:
		if style := strings.ToLower(htmlAttr(n, "style")); strings.Contains(style, "mso-list:") && len(c.lists) == 0 {
			// Word pastes list items as <p style="mso-list:l0 level1 lfo1">.
			// Consecutive items stay one tight list.
			if c.wordList {
				c.newline()
			} else {
				c.paragraph()
			}
			c.marker(strings.Repeat("  ", wordListLevel(style)) + "- ")
			c.children(n)
			c.newline()
			c.wordList = true
			return
		}
		c.block(n)
	default:
		if htmlConvBlocks[n.DataAtom] {
			c.block(n)
			return
		}
		c.children(n)
	}
}

// block writes n's content as its own paragraph.
func (c *htmlConv) block(n *html.Node) {
	c.paragraph()
	c.children(n)
	c.paragraph()
}

// inner converts n's children on their own, to wrap them in markup. The
// sentinel keeps a leading space from being swallowed as a line start.
func (c *htmlConv) inner(n *html.Node) string {
	in := &htmlConv{buf: []byte{'x'}, plain: c.plain, lists: c.lists, pre: c.pre}
	in.children(n)
	return string(in.buf[1:])
}

// wrap writes n's content between emphasis markers, keeping surrounding
// whitespace outside them so that Markdown still sees the emphasis.
func (c *htmlConv) wrap(n *html.Node, marker string) {
	s := c.inner(n)
	core := strings.TrimSpace(s)
	if c.plain || !hasWord(core) || strings.Contains(core, "\n") {
		c.text(s)
		return
	}
	if strings.TrimLeft(s, " ") != s {
		c.text(" ")
	}
	c.raw(marker + core + marker)
	if strings.TrimRight(s, " ") != s {
		c.text(" ")
	}
}

// link writes [text](href) for http(s) links and just the text otherwise.
func (c *htmlConv) link(n *html.Node) {
	label := strings.Join(strings.Fields(c.inner(n)), " ")
	href := strings.TrimSpace(htmlAttr(n, "href"))
	u, err := url.Parse(href)
	if c.plain || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.text(label)
		return
	}
	dest := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(href)
	if label == "" || label == href {
		c.raw(dest)
		return
	}
	label = strings.NewReplacer("[", `\[`, "]", `\]`).Replace(label)
	c.raw("[" + label + "](" + dest + ")")
}

func (c *htmlConv) listItem(n *html.Node) {
	c.newline()
	depth := max(len(c.lists), 1)
	m := "- "
	if len(c.lists) > 0 && c.lists[len(c.lists)-1].ordered {
		c.lists[len(c.lists)-1].n++
		m = strconv.Itoa(c.lists[len(c.lists)-1].n) + ". "
	}
	c.marker(strings.Repeat("  ", depth-1) + m)
	c.children(n)
	c.newline()
}

// marker writes a list marker, unless only the text is wanted.
func (c *htmlConv) marker(s string) {
	if !c.plain {
		c.raw(s)
	}
}

// text writes character data, collapsing whitespace as a browser does
// outside <pre>.
func (c *htmlConv) text(s string) {
	if c.pre > 0 {
		c.raw(s)
		return
	}
	for i, f := range strings.FieldsFunc(s, isHTMLSpace) {
		if i > 0 || isHTMLSpace(rune(s[0])) {
			c.space()
		}
		c.raw(f)
	}
	if s != "" && isHTMLSpace(rune(s[len(s)-1])) {
		c.space()
	}
}

// space writes one space unless the line is empty or already ends in one.
func (c *htmlConv) space() {
	if !c.atLineStart() && c.buf[len(c.buf)-1] != ' ' {
		c.buf = append(c.buf, ' ')
	}
}

// raw writes s as is, after the quote marker when at the start of a line.
func (c *htmlConv) raw(s string) {
	if s == "" {
		return
	}
	if c.quotes > 0 && !c.plain && c.atLineStart() {
		c.buf = append(c.buf, strings.Repeat("> ", c.quotes)...)
	}
	c.buf = append(c.buf, s...)
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

func (c *htmlConv) atLineStart() bool {
	return len(c.buf) == 0 || c.buf[len(c.buf)-1] == '\n'
}

// newline ends the current line, dropping the spaces before it.
func (c *htmlConv) newline() {
	for len(c.buf) > 0 && c.buf[len(c.buf)-1] == ' ' {
		c.buf = c.buf[:len(c.buf)-1]
	}
	if !c.atLineStart() {
		c.buf = append(c.buf, '\n')
	}
}

// paragraph ends the current paragraph with a blank line.
func (c *htmlConv) paragraph() {
	c.wordList = false
	c.newline()
	if len(c.buf) > 0 && !(len(c.buf) >= 2 && c.buf[len(c.buf)-2] == '\n') {
		c.buf = append(c.buf, '\n')
	}
}

// wordListMarker reports whether n is the bullet or number Word writes before
// a list item's text (style mso-list:Ignore); our own marker replaces it.
func wordListMarker(n *html.Node) bool {
	style := strings.ToLower(strings.Join(strings.Fields(htmlAttr(n, "style")), ""))
	return strings.Contains(style, "mso-list:ignore")
}

// wordListLevel reads the nesting level from "mso-list:l0 level2 lfo1".
func wordListLevel(style string) int {
	i := strings.Index(style, "level")
	if i < 0 {
		return 0
	}
	j := i + len("level")
	k := j
	for k < len(style) && k < j+2 && style[k] >= '0' && style[k] <= '9' {
		k++
	}
	lvl, err := strconv.Atoi(style[j:k])
	if err != nil || lvl < 1 {
		return 0
	}
	return min(lvl-1, 5)
}

// htmlAttr returns the value of n's attribute key, or "".
func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
