package models

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// ErrSchemaBehind is returned by Ready while migrations of this binary are
// not applied to the database yet.
var ErrSchemaBehind = errors.New("database schema is behind this binary")

// Ready reports whether the store can serve requests: the database answers
// and every migration embedded in migrations (one folder per dialect, as for
// Migrate) is applied. A schema newer than the binary counts as ready, so
// instances of the previous release keep serving during a rolling upgrade
// (migrations are written to allow that).
func (s *Store) Ready(ctx context.Context, migrations fs.FS) error {
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if migrations == nil {
		return errors.New("ready: no migrations to compare the schema with")
	}
	p, err := s.MigrationProvider(migrations)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	sources := p.ListSources()
	if len(sources) == 0 {
		return fmt.Errorf("ready: no %s migrations embedded", s.dialect)
	}
	latest := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if current < latest {
		return fmt.Errorf("ready: %w: at version %d, want %d", ErrSchemaBehind, current, latest)
	}
	// A skipped older migration (applied out of order elsewhere) also
	// leaves the schema incomplete; goose reports it as pending or as an
	// error.
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if pending {
		return fmt.Errorf("ready: %w: migrations pending", ErrSchemaBehind)
	}
	return nil
}

// QueueLength counts the comments waiting for a moderator: pending and not
// withdrawn, across all documents.
func (s *Store) QueueLength(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Table("comments").
		Where("status = ? AND withdrawn_at IS NULL", StatusPending).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("queue length: %w", err)
	}
	return n, nil
}

// gooseDialect names dialect for goose.
func gooseDialect(d Dialect) goose.Dialect {
	if d == Postgres {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}
