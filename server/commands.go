package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"margin/handlers"
	"margin/models"
)

func cmdServe(ctx context.Context, cfg Config, log *slog.Logger) error {
	a, err := newApp(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer a.store.Close()
	return a.serve(ctx, handlers.DefaultLimits().ShutdownGrace)
}

func cmdMigrate(ctx context.Context, cfg Config, stdout io.Writer) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	_, err = fmt.Fprintln(stdout, "database is up to date")
	return err
}

func cmdUserCreate(ctx context.Context, cfg Config, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "e-mail address")
	name := fs.String("name", "", "full name")
	role := fs.String("role", models.RoleCommenter, "admin, moderator or commenter")
	affiliation := fs.String("affiliation", "", "organisation")
	group := fs.String("stakeholder-group", "", "stakeholder group code")
	country := fs.String("country", "", "ISO 3166-1 alpha-2 country code")
	if err := fs.Parse(args); err != nil {
		return err
	}
	password := getenv("MARGIN_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.CreateUser(ctx, models.NewUser{
		Name: *name, Email: *email, Password: password, Role: *role, Affiliation: *affiliation,
		StakeholderGroup: *group, Country: *country, Verified: true,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "created %s %s (id %d)\n", u.Role, u.Email, u.ID)
	return err
}

func cmdImport(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	title := fs.String("title", "", "document title (default: the file name)")
	slug := fs.String("slug", "", "URL slug (default: from the title)")
	opens := fs.String("opens", "", "opening time, RFC 3339 (default: now)")
	closes := fs.String("closes", "", "closing time, RFC 3339 (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: margin import --title T [--slug S] FILE")
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path) // #nosec G304 -- the operator names the file to import
	if err != nil {
		return err
	}
	n := models.NewDocument{Title: *title, Slug: *slug}
	if n.Title == "" {
		n.Title = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		n.Format, n.Source = models.FormatMarkdown, string(data)
	case ".txt", ".text":
		n.Format, n.Source = models.FormatText, string(data)
	case ".docx":
		n.Format, n.File = models.FormatDOCX, data
	default:
		return fmt.Errorf("import: %s: use a .md, .txt or .docx file", path)
	}
	for _, t := range []struct {
		s   string
		dst **time.Time
	}{{*opens, &n.OpensAt}, {*closes, &n.ClosesAt}} {
		if t.s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.s)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		*t.dst = &v
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := store.CreateDocument(ctx, models.SystemActor(), n)
	if err != nil {
		return err
	}
	ps, err := store.Paragraphs(ctx, d)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "imported %q as %s/documents/%s (%d paragraphs)\n", d.Title, cfg.BaseURL, d.Slug, len(ps))
	return err
}

func cmdExport(ctx context.Context, cfg Config, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	slug := fs.String("document", "", "document slug")
	var statuses stringList
	fs.Var(&statuses, "status", "status to export (repeatable, or all; default accepted)")
	format := fs.String("format", "md", "md, csv or json")
	out := fs.String("o", "", "output file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *slug == "" {
		return errors.New("usage: margin export --document SLUG [--status accepted] [--format md|csv|json] [-o FILE]")
	}
	if !slices.Contains(models.ExportFormats, *format) {
		return fmt.Errorf("export: unknown format %q", *format)
	}
	sts, err := models.ExportStatuses(statuses)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := store.DocumentBySlug(ctx, *slug)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriter(w)
	ew, err := models.NewExportWriter(*format, bw)
	if err != nil {
		return err
	}
	if err := ew.Begin(models.ExportMeta{DocumentSlug: d.Slug, DocumentTitle: d.Title, Version: d.Version, Statuses: sts, GeneratedAt: store.Now()}); err != nil {
		return err
	}
	if err := store.StreamExport(ctx, models.SystemActor(), d, sts, ew.Row); err != nil {
		return err
	}
	if err := ew.End(); err != nil {
		return err
	}
	return bw.Flush()
}

func cmdBackup(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: margin backup FILE")
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, args[0]); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "backup written to %s\n", args[0])
	return err
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
