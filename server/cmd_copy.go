package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"margin/migrations"
	"margin/models"
)

// cmdCopy copies an SQLite installation into a new, empty database,
// typically PostgreSQL: every table, row and id, the audit log included.
func cmdCopy(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	from := fs.String("from", cfg.DatabaseURL, "source database, sqlite://PATH (default: MARGIN_DATABASE_URL)")
	to := fs.String("to", "", "target database, empty: postgres://… or sqlite://PATH")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || fs.NArg() != 0 {
		return errors.New("usage: margin copy [--from sqlite://PATH] --to postgres://…")
	}
	start := time.Now()
	var rows int64
	counts, err := models.CopyDatabase(ctx, *from, *to, migrations.FS, func(c models.CopyCount) {
		rows += c.Rows
		fmt.Fprintf(stdout, "%-20s %8d rows\n", c.Table, c.Rows)
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "copied %d rows in %d tables from %s to %s in %s\n",
		rows, len(counts), redactURL(*from), redactURL(*to), time.Since(start).Round(time.Millisecond))
	return err
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
