package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Mail retry schedule: the first retry after MailRetryBase, doubling up to
// MailRetryMax. Mail is never dropped; past MailMaxAttempts it is retried
// at MailRetryMax and the worker logs each failure as an error.
const (
	MailRetryBase   = 30 * time.Second
	MailRetryMax    = time.Hour
	MailMaxAttempts = 10
	mailErrorMax    = 1000 // characters of last_error kept
)

// ErrStoreClosed is returned by ClaimMail once the store has been closed,
// so that background loops know to stop.
var ErrStoreClosed = errors.New("store closed")

// MailMessage is a plain-text mail to queue.
type MailMessage struct {
	ToName  string
	ToEmail string
	Subject string
	Body    string
}

// OutboxMail is a queued mail. ClaimedUntil is the lease of the instance
// sending it (nil when free); SentAt is nil until it went out.
type OutboxMail struct {
	ID            int64
	ToName        string
	ToEmail       string
	Subject       string
	Body          string
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	ClaimedUntil  *time.Time
	SentAt        *time.Time
	LastError     string
}

// TableName maps OutboxMail to its table.
func (OutboxMail) TableName() string { return "mail_outbox" }

// MailBackoff returns how long to wait before retrying a mail that has
// failed attempts times: MailRetryBase·2^(attempts-1), at most MailRetryMax.
func MailBackoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	d := MailRetryBase
	for i := 1; i < attempts && d < MailRetryMax; i++ {
		d *= 2
	}
	return min(d, MailRetryMax)
}

// EnqueueMail queues a mail for the worker. It is one insert, so it commits
// with the request that caused it; enqueueMail does the same inside a
// caller's transaction.
func (s *Store) EnqueueMail(ctx context.Context, m MailMessage) error {
	if err := s.enqueueMail(s.db.WithContext(ctx), m); err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

func (s *Store) enqueueMail(tx *gorm.DB, m MailMessage) error {
	now := s.now()
	return tx.Create(&OutboxMail{
		ToName: m.ToName, ToEmail: m.ToEmail, Subject: m.Subject, Body: m.Body,
		CreatedAt: now, NextAttemptAt: now,
	}).Error
}

// mailDue is the condition for a mail that may be claimed at ?-now (the
// parameter is used twice).
const mailDue = "sent_at IS NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"

// ClaimMail leases up to limit due mails for lease and counts an attempt on
// each. A mail is held by one claimer at a time: on PostgreSQL the rows are
// picked FOR UPDATE SKIP LOCKED, so concurrent instances take different
// mails without waiting; SQLite serialises the claim in an immediate
// transaction. A claim that is never completed (the instance died) expires
// with its lease and the mail is claimed again.
func (s *Store) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]OutboxMail, error) {
	now := s.now()
	db := s.db.WithContext(ctx)
	// A read first, so that idle instances polling an empty queue take no
	// write lock.
	var due int64
	if err := db.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM mail_outbox WHERE "+mailDue+" LIMIT 1) d", now, now).Scan(&due).Error; err != nil {
		return nil, claimErr(err)
	}
	if due == 0 {
		return nil, nil
	}
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []OutboxMail
	err := db.Transaction(func(tx *gorm.DB) error {
		var ids []int64
		err := tx.Raw(`UPDATE mail_outbox SET claimed_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM mail_outbox WHERE `+mailDue+` ORDER BY id LIMIT ?`+lock+`)
			RETURNING id`, now.Add(lease), now, now, limit).Scan(&ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		return tx.Where("id IN ?", ids).Order("id").Find(&out).Error
	})
	if err != nil {
		return nil, claimErr(err)
	}
	return out, nil
}

// claimErr wraps a claim error; a closed pool becomes ErrStoreClosed
// (database/sql does not export its own error for it).
func claimErr(err error) error {
	if strings.Contains(err.Error(), "sql: database is closed") {
		return ErrStoreClosed
	}
	return fmt.Errorf("claim mail: %w", err)
}

// MarkMailSent records that a mail went out and blanks its body, which
// carries single-use links that need not outlive the sending.
func (s *Store) MarkMailSent(ctx context.Context, id int64) error {
	err := s.db.WithContext(ctx).Model(&OutboxMail{}).Where("id = ? AND sent_at IS NULL", id).
		Updates(map[string]any{"sent_at": s.now(), "claimed_until": nil, "body": "", "last_error": ""}).Error
	if err != nil {
		return fmt.Errorf("mark mail %d sent: %w", id, err)
	}
	return nil
}

// MarkMailFailed releases a mail after a failed attempt, to be retried at
// next (see MailBackoff).
func (s *Store) MarkMailFailed(ctx context.Context, id int64, sendErr error, next time.Time) error {
	msg := "unknown error"
	if sendErr != nil {
		msg = sendErr.Error()
	}
	if r := []rune(msg); len(r) > mailErrorMax {
		msg = string(r[:mailErrorMax])
	}
	err := s.db.WithContext(ctx).Model(&OutboxMail{}).Where("id = ? AND sent_at IS NULL", id).
		Updates(map[string]any{"claimed_until": nil, "next_attempt_at": next, "last_error": msg}).Error
	if err != nil {
		return fmt.Errorf("mark mail %d failed: %w", id, err)
	}
	return nil
}

// ReleaseMail gives back claimed mails that were not attempted (the worker
// is stopping), uncounting the attempt, so another instance takes them at
// once instead of after the lease.
func (s *Store) ReleaseMail(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Exec(`UPDATE mail_outbox SET claimed_until = NULL,
		attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
		WHERE id IN ? AND sent_at IS NULL`, ids).Error
	if err != nil {
		return fmt.Errorf("release mail: %w", err)
	}
	return nil
}

// OutboxDepth counts the mails not sent yet.
func (s *Store) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&OutboxMail{}).Where("sent_at IS NULL").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("outbox depth: %w", err)
	}
	return n, nil
}

// PurgeSentMail deletes mails sent more than age ago and returns how many.
func (s *Store) PurgeSentMail(ctx context.Context, age time.Duration) (int64, error) {
	res := s.db.WithContext(ctx).Where("sent_at IS NOT NULL AND sent_at < ?", s.now().Add(-age)).Delete(&OutboxMail{})
	if res.Error != nil {
		return 0, fmt.Errorf("purge sent mail: %w", res.Error)
	}
	return res.RowsAffected, nil
}
