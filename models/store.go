// Package models owns Margin's data and its rules: accounts, documents and
// their paragraphs, comments and the moderation moves, exports.
package models

import (
	"database/sql"
	"errors"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Store is the data layer. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	clock   atomic.Pointer[func() time.Time] // swapped by tests while workers run
}

// NewStore wraps an open, migrated database.
func NewStore(db *gorm.DB) *Store {
	d := SQLite
	if db.Dialector.Name() == "postgres" {
		d = Postgres
	}
	s := &Store{db: db, dialect: d}
	s.SetClock(func() time.Time { return time.Now().UTC() })
	return s
}

// now reads the store's clock.
func (s *Store) now() time.Time { return (*s.clock.Load())() }

// Dialect names the database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLDB returns the connection pool, for maintenance commands and tests that
// check the database directly.
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// SetClock replaces the clock, for tests of time windows.
func (s *Store) SetClock(now func() time.Time) { s.clock.Store(&now) }

// notFound translates gorm's not-found error into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
