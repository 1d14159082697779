package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"margin/mail"
	"margin/models"
)

// mailWorker delivers the mail that handlers queue in the mail_outbox
// table. Every instance runs one; the claim (a lease in the database) makes
// each mail go out once however many run, and a failed mail is retried
// with backoff (models.MailBackoff) until it goes out.
type mailWorker struct {
	store  *models.Store
	sender mail.Sender
	log    *slog.Logger

	interval    time.Duration // polling period (mail queued by other instances, retries)
	batch       int           // mails claimed at a time
	lease       time.Duration // how long a claim holds
	sendTimeout time.Duration // what one send may take; no send starts with less lease left
	keepSent    time.Duration // sent mails are deleted after this long

	poke chan struct{}
	done chan struct{}
}

func newMailWorker(store *models.Store, sender mail.Sender, log *slog.Logger) *mailWorker {
	return &mailWorker{
		store: store, sender: sender, log: log,
		interval: time.Second, batch: 10, lease: 5 * time.Minute, sendTimeout: time.Minute,
		keepSent: 7 * 24 * time.Hour,
		poke:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

// Notify wakes the worker at once (a handler queued a mail). It never blocks.
func (w *mailWorker) Notify() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// start runs the worker until ctx ends or the store is closed; the returned
// function stops it and waits for the mail in hand to be finished.
func (w *mailWorker) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	go w.run(ctx)
	return func() {
		cancel()
		<-w.done
	}
}

func (w *mailWorker) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	var lastPurge time.Time
	var lastErr string
	var lastErrAt time.Time
	for {
		err := w.deliver(ctx)
		switch {
		case errors.Is(err, models.ErrStoreClosed):
			w.log.Info("mail worker stopped: the store is closed")
			return
		case err != nil && ctx.Err() == nil:
			// A database that fails every second is logged once a minute.
			if err.Error() != lastErr || time.Since(lastErrAt) > time.Minute {
				w.log.Error("mail worker", "err", err)
				lastErr, lastErrAt = err.Error(), time.Now()
			}
		case err == nil:
			lastErr = ""
		}
		if time.Since(lastPurge) > time.Hour && ctx.Err() == nil {
			if n, err := w.store.PurgeSentMail(ctx, w.keepSent); err != nil {
				w.log.Error("mail worker: purge", "err", err)
			} else if n > 0 {
				w.log.Info("mail worker: purged sent mail", "count", n)
			}
			lastPurge = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.poke:
		}
	}
}

// deliver sends due mail, batch after batch, until none is left or ctx ends.
func (w *mailWorker) deliver(ctx context.Context) error {
	for ctx.Err() == nil {
		batch, err := w.store.ClaimMail(ctx, w.batch, w.lease)
		if err != nil {
			return err
		}
		for i, m := range batch {
			// Stopping, or too little lease left to finish a send before
			// another instance may claim the mail again: hand the rest back.
			if ctx.Err() != nil || w.store.Now().Add(w.sendTimeout).After(*m.ClaimedUntil) {
				return w.release(batch[i:])
			}
			w.sendOne(ctx, m)
		}
		if len(batch) < w.batch {
			return nil
		}
	}
	return nil
}

// sendOne sends one claimed mail and records the outcome. The mail in hand
// is finished even when the worker is stopping, so the record is written
// with a context that outlives ctx.
func (w *mailWorker) sendOne(ctx context.Context, m models.OutboxMail) {
	bg := context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(bg, w.sendTimeout)
	err := w.sender.Send(sctx, mail.Message{ToName: m.ToName, ToEmail: m.ToEmail, Subject: m.Subject, Body: m.Body})
	cancel()
	rctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	if err == nil {
		if merr := w.store.MarkMailSent(rctx, m.ID); merr != nil {
			// It went out; the claim expires and it may go out again.
			w.log.Error("mail sent but not recorded", "mail_id", m.ID, "err", merr)
			return
		}
		w.log.Info("mail sent", "mail_id", m.ID, "subject", m.Subject, "attempts", m.Attempts)
		return
	}
	next := w.store.Now().Add(models.MailBackoff(m.Attempts))
	if merr := w.store.MarkMailFailed(rctx, m.ID, err, next); merr != nil {
		w.log.Error("mail failed and not recorded", "mail_id", m.ID, "err", err, "record_err", merr)
		return
	}
	level := slog.LevelWarn
	if m.Attempts >= models.MailMaxAttempts {
		level = slog.LevelError // still retried, hourly
	}
	w.log.Log(ctx, level, "mail failed, will retry", "mail_id", m.ID, "attempts", m.Attempts,
		"next_attempt", next.Format(time.RFC3339), "err", err)
}

func (w *mailWorker) release(rest []models.OutboxMail) error {
	ids := make([]int64, len(rest))
	for i, m := range rest {
		ids[i] = m.ID
	}
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return w.store.ReleaseMail(rctx, ids)
}
