// Command margin serves Margin and runs its maintenance commands:
// serve (the default), migrate, user create, import, export, backup, copy
// and healthcheck.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: margin [command] [flags]

commands:
  serve                 run the web server (default)
  migrate               bring the database schema up to date
  user create           create a user: --email E --name N --role admin|moderator|commenter
                        (password from MARGIN_PASSWORD or standard input)
  import FILE           import a document: --title T [--slug S] [--opens T] [--closes T] FILE (.md, .txt, .docx)
  export                export comments: --document SLUG [--status accepted] [--format md|csv|json] [-o FILE]
  backup FILE           write a consistent copy of the SQLite database
  copy                  copy an SQLite installation into a new, empty database:
                        [--from sqlite://PATH] --to postgres://… (--from defaults to MARGIN_DATABASE_URL)
  healthcheck           exit 0 when the server on MARGIN_ADDR answers /healthz (for containers)

Configuration comes from MARGIN_* environment variables; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "margin:", err)
		os.Exit(1)
	}
}

// run dispatches a command line; it is main without the process globals, so
// tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, cfg, log)
	case "migrate":
		return cmdMigrate(ctx, cfg, stdout)
	case "user":
		if len(args) == 0 || args[0] != "create" {
			return fmt.Errorf("usage: margin user create --email E --name N --role ROLE")
		}
		return cmdUserCreate(ctx, cfg, args[1:], getenv, stdin, stdout)
	case "import":
		return cmdImport(ctx, cfg, args, stdout)
	case "export":
		return cmdExport(ctx, cfg, args, stdout)
	case "backup":
		return cmdBackup(ctx, cfg, args, stdout)
	case "copy":
		return cmdCopy(ctx, cfg, args, stdout)
	case "healthcheck":
		return cmdHealthcheck(ctx, cfg, stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
