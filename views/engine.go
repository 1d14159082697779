// Package views renders Margin's HTML pages from embedded templates.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed templates
var templateFS embed.FS

// PageNames are the pages New parses; each is templates/pages/<name>.html.
var PageNames = []string{
	"home", "register", "setup", "login", "verify", "document",
	"my_comments", "moderation", "comment", "admin", "error",
	"password_forgot", "password_reset", "account",
}

// Engine renders the embedded page templates.
type Engine struct {
	pages map[string]*template.Template
	bufs  sync.Pool
}

// New parses the layout and every page once, each page into its own clone of
// the layout.
func New() (*Engine, error) {
	layout, err := template.New("layout").Funcs(funcs()).ParseFS(templateFS, "templates/layouts/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	if layout.Lookup("base") == nil {
		return nil, fmt.Errorf("parse layout: no template named %q", "base")
	}
	e := &Engine{
		pages: make(map[string]*template.Template, len(PageNames)),
		bufs:  sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		clone, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout for %s: %w", name, err)
		}
		t, err := clone.ParseFS(templateFS, file)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		for _, part := range []string{"title", "content"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("parse page %s: no template named %q", name, part)
			}
		}
		e.pages[name] = t
	}
	for _, name := range PageNames {
		if e.pages[name] == nil {
			return nil, fmt.Errorf("parse pages: missing page %q", name)
		}
	}
	return e, nil
}

// Render executes page name ("home", "register", "setup", "login", "verify",
// "document", "my_comments", "moderation", "comment", "admin", "error") with
// data (one of the page structs in pages.go) into w. The page is rendered in
// full before anything is written, so a template error never produces half a
// page.
func (e *Engine) Render(w io.Writer, name string, data any) error {
	t, ok := e.pages[name]
	if !ok {
		return fmt.Errorf("render %s: no such page", name)
	}
	buf := e.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer e.bufs.Put(buf)
	if err := t.ExecuteTemplate(buf, "base", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("render %s: write: %w", name, err)
	}
	return nil
}
