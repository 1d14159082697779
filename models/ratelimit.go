package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Limit is a number of events allowed per window.
type Limit struct {
	Max    int
	Window time.Duration
}

type rateCounter struct {
	Key         string
	WindowStart int64
	Count       int
}

func (rateCounter) TableName() string { return "rate_counters" }

// Hit counts one event under key and returns a *RateLimitError when the limit
// for the current window is exceeded. Counters live in the database, so a
// limit holds across every instance sharing it.
func (s *Store) Hit(ctx context.Context, key string, l Limit) error {
	return s.hit(s.db.WithContext(ctx), key, l)
}

// hit counts on db, which may be a transaction: an event whose transaction
// fails is then not counted.
func (s *Store) hit(db *gorm.DB, key string, l Limit) error {
	n, retry, err := s.count(db, key, l, 1)
	if err != nil {
		return err
	}
	if n > l.Max {
		return &RateLimitError{RetryAfter: retry}
	}
	return nil
}

// Check returns a *RateLimitError if key has already used up its limit,
// without counting an event (used for failed sign-ins, counted only on
// failure).
func (s *Store) Check(ctx context.Context, key string, l Limit) error {
	n, retry, err := s.count(s.db.WithContext(ctx), key, l, 0)
	if err != nil {
		return err
	}
	if n >= l.Max {
		return &RateLimitError{RetryAfter: retry}
	}
	return nil
}

func (s *Store) count(db *gorm.DB, key string, l Limit, add int) (int, time.Duration, error) {
	if !safeText(key) || len(key) > 200 {
		// Keys carry user input (an e-mail typed at sign-in): keep them
		// storable on every database and bounded in size.
		key = "h:" + HashToken(key)
	}
	now := s.now()
	win := int64(l.Window / time.Second)
	if win < 1 {
		win = 1
	}
	start := now.Unix() / win * win
	retry := time.Duration(start+win-now.Unix()) * time.Second
	var n int
	var err error
	if add == 0 {
		err = db.Raw(
			"SELECT COALESCE(MAX(count), 0) FROM rate_counters WHERE key = ? AND window_start = ?", key, start).
			Scan(&n).Error
	} else {
		err = db.Raw(
			`INSERT INTO rate_counters (key, window_start, count) VALUES (?, ?, ?)
			 ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + excluded.count
			 RETURNING count`, key, start, add).Scan(&n).Error
	}
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return n, retry, nil
}
