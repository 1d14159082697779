// Package models owns Margin's data and its rules: accounts, documents and
// their paragraphs, comments and the moderation moves, exports.
package models

import (
	"errors"
	"time"

	"gorm.io/gorm"
)

// Store is the data layer. It is safe for concurrent use.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore wraps an open, migrated database.
func NewStore(db *gorm.DB) *Store {
	return &Store{db: db, now: func() time.Time { return time.Now().UTC() }}
}

// SetClock replaces the clock, for tests of time windows.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// notFound translates gorm's not-found error into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
