package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Session lifetimes. A session ends after IdleTimeout without a request, and
// in any case AbsoluteTimeout after sign-in. The idle timeout is enforced by
// the signed timestamp of the cookie, which every response refreshes, so
// that reading a page never writes to the database; the absolute one by the
// row's expiry.
const (
	SessionIdleTimeout     = 7 * 24 * time.Hour
	SessionAbsoluteTimeout = 30 * 24 * time.Hour
)

// SessionRow is a browser session; the cookie carries the id, the table its
// hash.
type SessionRow struct {
	IDHash     string `gorm:"primaryKey"`
	UserID     *int64
	Data       []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// TableName names the sessions table.
func (SessionRow) TableName() string { return "sessions" }

// LoadSession returns the live session with this id, or ErrNotFound when it
// does not exist or has timed out.
func (s *Store) LoadSession(ctx context.Context, id string) (*SessionRow, error) {
	var row SessionRow
	err := s.db.WithContext(ctx).Where("id_hash = ?", HashToken(id)).First(&row).Error
	if err != nil {
		return nil, notFound(err)
	}
	if !s.now().Before(row.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &row, nil
}

// SaveSession creates or updates a session. The absolute expiry is set when
// the row is created and never extended.
func (s *Store) SaveSession(ctx context.Context, id string, userID *int64, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	now := s.now()
	row := SessionRow{IDHash: HashToken(id), UserID: userID, Data: data, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionAbsoluteTimeout)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id_hash"}},
		DoUpdates: clause.AssignmentColumns([]string{"user_id", "data", "last_seen_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Where("id_hash = ?", HashToken(id)).Delete(&SessionRow{}).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (password change, role
// change, sign-out everywhere).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&SessionRow{}).Error; err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	return nil
}

// PurgeExpired removes timed-out sessions, used tokens and old rate-limit
// windows. It runs periodically.
func (s *Store) PurgeExpired(ctx context.Context) error {
	now := s.now()
	db := s.db.WithContext(ctx)
	if err := db.Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-SessionAbsoluteTimeout)).Delete(&SessionRow{}).Error; err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	if err := db.Where("expires_at <= ?", now.Add(-24*time.Hour)).Delete(&EmailToken{}).Error; err != nil {
		return fmt.Errorf("purge tokens: %w", err)
	}
	if err := db.Where("window_start < ?", now.Add(-48*time.Hour).Unix()).Delete(&rateCounter{}).Error; err != nil {
		return fmt.Errorf("purge rate counters: %w", err)
	}
	return nil
}
