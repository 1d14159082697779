package models

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names a supported SQL database.
type Dialect string

// Supported dialects; each names its folder of migrations.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DatabaseURL is a parsed MARGIN_DATABASE_URL.
type DatabaseURL struct {
	Dialect Dialect
	Path    string // SQLite file
	DSN     string // PostgreSQL connection URL
}

// ParseDatabaseURL understands sqlite://PATH (relative or absolute) and
// sqlite:///abs/path.
func ParseDatabaseURL(raw string) (DatabaseURL, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p == "" {
			return DatabaseURL{}, fmt.Errorf("database url %q: missing file path", raw)
		}
		return DatabaseURL{Dialect: SQLite, Path: p}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return DatabaseURL{Dialect: Postgres, DSN: raw}, nil
	default:
		return DatabaseURL{}, errors.New("database url: want sqlite://PATH or postgres://…")
	}
}

// sqliteDSN builds the go-sqlite3 DSN. WAL lets readers run beside the
// writer; synchronous=FULL makes every commit durable before it returns (so
// an acknowledged comment survives kill -9 and power loss); immediate
// transactions take the write lock up front, so two writers queue on the
// busy timeout instead of failing with SQLITE_BUSY on lock upgrade.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open connects to the database named by rawURL. It does not migrate.
func Open(rawURL string, log logger.Interface) (*gorm.DB, Dialect, error) {
	u, err := ParseDatabaseURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	if log == nil {
		log = logger.Discard
	}
	cfg := &gorm.Config{
		Logger:                 log,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
		SkipDefaultTransaction: true, // writes that need one open it explicitly
	}
	var dialector gorm.Dialector
	switch u.Dialect {
	case Postgres:
		dialector = postgres.Open(u.DSN)
	default:
		if dir := filepath.Dir(u.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, "", fmt.Errorf("open database: %w", err)
			}
		}
		dialector = sqlite.Open(sqliteDSN(u.Path))
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, "", fmt.Errorf("open database: %w", err)
	}
	// SQLite has one writer anyway; PostgreSQL connections are shared by
	// every instance, so each takes a modest pool.
	sqlDB.SetMaxOpenConns(8)
	if u.Dialect == Postgres {
		sqlDB.SetMaxOpenConns(16)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, u.Dialect, nil
}

// Migrate brings the schema up to date from the embedded migrations of dialect.
func Migrate(ctx context.Context, db *gorm.DB, dialect Dialect, migrations fs.FS) error {
	p, err := migrationProvider(db, dialect, migrations)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrationProvider is goose over db with the migrations of its dialect.
func migrationProvider(db *gorm.DB, dialect Dialect, migrations fs.FS) (*goose.Provider, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations, string(dialect))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gooseDialect(dialect), sqlDB, sub)
}

// MigrationProvider gives maintenance commands and tests goose over the
// store's database, with the migrations of its dialect.
func (s *Store) MigrationProvider(migrations fs.FS) (*goose.Provider, error) {
	return migrationProvider(s.db, s.dialect, migrations)
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Backup writes a consistent copy of a live SQLite database to dest with
// VACUUM INTO, which reads one snapshot while writers go on. PostgreSQL is
// backed up with its own tools (pg_dump), as the README says.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if s.dialect == Postgres {
		return errors.New("backup: use pg_dump for PostgreSQL (see README)")
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := sqlDB.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
