package models

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel is the rel of every link in user content: no SEO credit, no
// window.opener, and marked as user generated.
const linkRel = "nofollow noopener ugc"

// RenderMarkdown turns user Markdown (a comment body, proposed text or a
// moderator's response) into sanitised HTML. Raw HTML in the input is shown
// as text, never interpreted; links get rel="nofollow noopener ugc" and only
// http, https and mailto links (or relative ones) survive. Single newlines
// become line breaks because commenters type them expecting one.
func RenderMarkdown(src string) string {
	var buf bytes.Buffer
	if err := commentMarkdown().Convert([]byte(NormalizeText(src)), &buf); err != nil {
		// Rendering into a bytes.Buffer cannot fail; show the text rather
		// than nothing if a future renderer does.
		return "<p>" + html.EscapeString(src) + "</p>"
	}
	return sanitizeHTML(buf.String())
}

// sanitizeHTML runs generated HTML through the one bluemonday policy used
// for every piece of user or document content.
func sanitizeHTML(s string) string {
	return defuseJavascript(strings.TrimSpace(htmlPolicy().Sanitize(s)))
}

// javascriptScheme matches the scheme wherever it is left: only in text,
// since bluemonday removed it from URLs.
var javascriptScheme = regexp.MustCompile(`(?i)(javascript):`)

// defuseJavascript writes the colon of "javascript:" as an entity. Browsers
// show the same text, but a later bug that puts this HTML into an attribute,
// or a filter that greps for the scheme, finds no live URL.
func defuseJavascript(s string) string {
	return javascriptScheme.ReplaceAllString(s, "${1}&#58;")
}

// htmlPolicy is bluemonday's UGC policy plus what goldmark's output needs:
// list numbering, code language classes and our fixed link rel.
var htmlPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#.-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	return p
})

// documentMarkdown parses and renders document sources. Raw HTML is left to
// goldmark's default (omitted), the splitter handles HTML blocks itself.
var documentMarkdown = sync.OnceValue(func() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkRelTransformer{}, 100))),
	)
})

// commentMarkdown renders comment bodies: GFM-ish, hard line breaks, bare
// URLs linked, raw HTML escaped so that "<b>" typed by a user stays visible.
var commentMarkdown = sync.OnceValue(func() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkRelTransformer{}, 100))),
		goldmark.WithRendererOptions(
			gmhtml.WithHardWraps(),
			renderer.WithNodeRenderers(util.Prioritized(escapedHTMLRenderer{}, 10)),
		),
	)
})

// linkRelTransformer marks every link in the AST with linkRel; bluemonday
// keeps the attribute because the policy allows exactly that value.
type linkRelTransformer struct{}

// Transform sets rel on links and autolinks.
func (linkRelTransformer) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n.(type) {
			case *ast.Link, *ast.AutoLink:
				n.SetAttributeString("rel", []byte(linkRel))
			}
		}
		return ast.WalkContinue, nil
	})
}

// escapedHTMLRenderer renders raw HTML as escaped text instead of markup.
type escapedHTMLRenderer struct{}

// RegisterFuncs overrides goldmark's raw HTML renderers.
func (escapedHTMLRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderEscapedRawHTML)
	reg.Register(ast.KindHTMLBlock, renderEscapedHTMLBlock)
}

func renderEscapedRawHTML(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		segs := n.(*ast.RawHTML).Segments
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			_, _ = w.WriteString(html.EscapeString(string(seg.Value(src))))
		}
	}
	return ast.WalkSkipChildren, nil
}

func renderEscapedHTMLBlock(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	b := n.(*ast.HTMLBlock)
	var raw strings.Builder
	for i := 0; i < b.Lines().Len(); i++ {
		seg := b.Lines().At(i)
		raw.Write(seg.Value(src))
	}
	if b.HasClosure() {
		raw.Write(b.ClosureLine.Value(src))
	}
	lines := strings.Split(strings.TrimSpace(raw.String()), "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	_, _ = w.WriteString("<p>" + strings.Join(lines, "<br>\n") + "</p>\n")
	return ast.WalkSkipChildren, nil
}
