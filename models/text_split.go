package models

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// Paragraph kinds, stored with each paragraph so that views can style and
// indent it without re-parsing the source.
const (
	KindHeading   = "heading"
	KindParagraph = "paragraph"
	KindListItem  = "list_item"
	KindQuote     = "quote"
	KindCode      = "code"
)

// SplitParagraph is one numbered paragraph produced by a splitter.
type SplitParagraph struct {
	Kind      string // one of the Kind constants
	Level     int    // heading level 1-6; list nesting depth (1 = top) for list items; 0 otherwise
	Text      string // source text of the block (Markdown source for markdown input; trimmed)
	HTML      string // sanitised HTML of the block alone
	Signature string // Signature(Text)
}

// SplitMarkdown splits a Markdown document into the paragraphs stakeholders
// comment on, in reading order: each heading, paragraph, list item (nested
// items separately), block quote, code block and table is one paragraph.
// Thematic breaks and blocks without a letter or digit are dropped, raw HTML
// blocks are kept only as their visible text.
func SplitMarkdown(src string) []SplitParagraph {
	source := []byte(NormalizeText(src))
	doc := documentMarkdown().Parser().Parse(text.NewReader(source))
	s := &mdSplitter{src: source}
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		s.block(c, 0)
	}
	return s.out
}

// SplitText splits plain text into paragraphs at blank lines. Lines without
// a letter or digit ("-----", "* * *") are dropped and also end a paragraph,
// since they are visual separators; the lines of a paragraph are joined with
// single spaces because plain-text sources wrap lines arbitrarily.
func SplitText(src string) []SplitParagraph {
	var out []SplitParagraph
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			t := strings.Join(cur, " ")
			out = append(out, SplitParagraph{
				Kind: KindParagraph, Text: t,
				HTML: defuseJavascript("<p>" + html.EscapeString(t) + "</p>"), Signature: Signature(t),
			})
			cur = cur[:0]
		}
	}
	for _, line := range strings.Split(NormalizeText(src), "\n") {
		line = strings.TrimSpace(line)
		if !hasWord(line) {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

// mdSplitter walks the goldmark AST of one document and collects paragraphs.
type mdSplitter struct {
	src []byte
	out []SplitParagraph
}

// add appends a paragraph unless it has no words, in its source or in what a
// reader would see (a paragraph of raw HTML tags has the first, not the second).
func (s *mdSplitter) add(kind string, level int, txt, visible, htm string) {
	txt = strings.TrimSpace(txt)
	if !hasWord(txt) || !hasWord(visible) {
		return
	}
	s.out = append(s.out, SplitParagraph{Kind: kind, Level: level, Text: txt, HTML: htm, Signature: Signature(txt)})
}

// block turns one block node into paragraphs; depth is the list nesting.
func (s *mdSplitter) block(n ast.Node, depth int) {
	switch n := n.(type) {
	case *ast.ThematicBreak:
	case *ast.Heading:
		s.add(KindHeading, n.Level, s.lines(n), s.visible(n), s.render(n))
	case *ast.Paragraph:
		s.add(KindParagraph, 0, s.lines(n), s.visible(n), s.render(n))
	case *ast.TextBlock:
		s.add(KindParagraph, 0, s.lines(n), s.visible(n), "<p>"+s.render(n)+"</p>")
	case *ast.List:
		i := 0
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			s.listItem(n, item, i, depth+1)
			i++
		}
	case *ast.Blockquote:
		s.add(KindQuote, 0, unquote(s.span(n)), s.visible(n), s.render(n))
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		code := strings.TrimRight(s.lines(n), " \t\n")
		code = strings.TrimLeft(code, "\n")
		s.add(KindCode, 0, code, code, s.render(n))
	case *extast.Table:
		s.add(KindParagraph, 0, dedent(s.span(n)), s.visible(n), s.render(n))
	case *ast.HTMLBlock:
		t := htmlVisibleText(s.htmlBlockSource(n))
		s.add(KindParagraph, 0, t, t, defuseJavascript("<p>"+html.EscapeString(t)+"</p>"))
	default:
		s.add(KindParagraph, 0, dedent(s.span(n)), s.visible(n), s.render(n))
	}
}

// listItem emits the item's own content as one paragraph, then its nested
// lists, so that every item can be commented on separately. The HTML wraps
// the item in its own list so that it keeps its bullet or number.
func (s *mdSplitter) listItem(list *ast.List, item ast.Node, index, depth int) {
	var txt, vis []string
	var body strings.Builder
	var nested []ast.Node
	for c := item.FirstChild(); c != nil; c = c.NextSibling() {
		if _, ok := c.(*ast.List); ok {
			nested = append(nested, c)
			continue
		}
		switch c.(type) {
		case *ast.Paragraph, *ast.TextBlock, *ast.Heading:
			txt = append(txt, strings.TrimSpace(s.lines(c)))
		case *ast.Blockquote:
			txt = append(txt, unquote(s.span(c)))
		case *ast.HTMLBlock:
			txt = append(txt, htmlVisibleText(s.htmlBlockSource(c)))
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			txt = append(txt, strings.Trim(s.lines(c), "\n"))
		default:
			txt = append(txt, dedent(s.span(c)))
		}
		vis = append(vis, s.visible(c))
		body.WriteString(strings.TrimSpace(s.renderRaw(c)))
	}
	open, closing := "<ul>", "</ul>"
	if list.IsOrdered() {
		n := list.Start + index
		open, closing = "<ol>", "</ol>"
		if n != 1 {
			open = fmt.Sprintf(`<ol start="%d">`, n)
		}
	}
	s.add(KindListItem, depth, strings.Join(txt, "\n\n"), strings.Join(vis, " "),
		sanitizeHTML(open+"<li>"+body.String()+"</li>"+closing))
	for _, l := range nested {
		s.block(l, depth)
	}
}

// render returns the sanitised HTML of n alone.
func (s *mdSplitter) render(n ast.Node) string {
	return sanitizeHTML(s.renderRaw(n))
}

// renderRaw returns goldmark's HTML of n alone, not yet sanitised.
func (s *mdSplitter) renderRaw(n ast.Node) string {
	var buf bytes.Buffer
	if err := documentMarkdown().Renderer().Render(&buf, s.src, n); err != nil {
		// Rendering into a bytes.Buffer does not fail; fall back to text.
		return "<p>" + html.EscapeString(s.visible(n)) + "</p>"
	}
	return buf.String()
}

// lines concatenates the source lines of a leaf block.
func (s *mdSplitter) lines(n ast.Node) string {
	var b strings.Builder
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		b.Write(seg.Value(s.src))
	}
	return b.String()
}

// htmlBlockSource returns the raw source of an HTML block.
func (s *mdSplitter) htmlBlockSource(n ast.Node) string {
	t := s.lines(n)
	if b, ok := n.(*ast.HTMLBlock); ok && b.HasClosure() {
		t += string(b.ClosureLine.Value(s.src))
	}
	return t
}

// visible returns the text a reader sees in n: text, code and image alt
// text, but not raw HTML.
func (s *mdSplitter) visible(n ast.Node) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.HTMLBlock:
			b.WriteString(htmlVisibleText(s.htmlBlockSource(c)))
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			b.Write(c.Segment.Value(s.src))
			b.WriteByte(' ')
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(s.src))
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			b.WriteString(s.lines(c))
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// span returns the whole source lines a container block covers. goldmark
// records where blocks start and where their leaf lines are, not where
// containers end, so the end is the last line any descendant touches.
func (s *mdSplitter) span(n ast.Node) string {
	start, stop := len(s.src), 0
	note := func(a, b int) {
		if a >= 0 && a < start {
			start = a
		}
		if b > stop {
			stop = b
		}
	}
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if _, ok := c.(*extast.Table); !ok {
			// A table's position is that of the paragraph it was cut from,
			// which may have kept lines of its own; its rows know better.
			note(c.Pos(), c.Pos()+1)
		}
		if t, ok := c.(*ast.Text); ok {
			note(t.Segment.Start, t.Segment.Stop)
		}
		if c.Type() == ast.TypeBlock {
			for i := 0; i < c.Lines().Len(); i++ {
				note(c.Lines().At(i).Start, c.Lines().At(i).Stop)
			}
		}
		if f, ok := c.(*ast.FencedCodeBlock); ok {
			note(-1, s.closingFence(f))
		}
		return ast.WalkContinue, nil
	})
	if start >= stop {
		return ""
	}
	start = bytes.LastIndexByte(s.src[:start], '\n') + 1
	stop = s.lineEnd(stop)
	if t, ok := n.(*extast.Table); ok && t.ChildCount() == 1 && stop < len(s.src) {
		// A table without body rows ends with its delimiter row.
		if i := bytes.IndexByte(s.src[stop+1:], '\n'); i >= 0 {
			stop += 1 + i
		} else {
			stop = len(s.src)
		}
	}
	return string(s.src[start:stop])
}

// lineEnd returns the end of the line p is in (p just after a newline
// counts as the end of that line), without the newline.
func (s *mdSplitter) lineEnd(p int) int {
	if p > 0 && s.src[p-1] == '\n' {
		return p - 1
	}
	if i := bytes.IndexByte(s.src[p:], '\n'); i >= 0 {
		return p + i
	}
	return len(s.src)
}

// closingFence returns the end of a fenced code block's closing fence line,
// which goldmark does not record, or 0 when the block runs to the end.
func (s *mdSplitter) closingFence(f *ast.FencedCodeBlock) int {
	p := f.Pos()
	if f.Lines().Len() > 0 {
		p = f.Lines().At(f.Lines().Len() - 1).Stop
	} else if i := bytes.IndexByte(s.src[max(p, 0):], '\n'); i >= 0 {
		p += i + 1
	} else {
		return 0
	}
	if p < 0 || p >= len(s.src) {
		return 0
	}
	open := bytes.TrimLeft(s.src[max(f.Pos(), 0):], " \t>")
	if len(open) == 0 || (open[0] != '`' && open[0] != '~') {
		return 0
	}
	line := s.src[p:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if bytes.HasPrefix(bytes.TrimLeft(line, " \t>"), bytes.Repeat(open[:1], 3)) {
		return p + len(line)
	}
	return 0
}

// unquote strips one level of "> " markers from the lines of a block quote.
func unquote(src string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		if strings.HasPrefix(t, ">") {
			t = strings.TrimPrefix(t[1:], " ")
			lines[i] = t
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// dedent trims leading whitespace from every line (a table inside a list
// item carries the item's indentation).
func dedent(src string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
