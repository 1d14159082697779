package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"margin/internal/dbtest"
	"margin/models"
)

// testClock is a settable clock for Store.SetClock, safe for concurrent use.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }
func enqueue(t *testing.T, s *models.Store, n int) {
	t.Helper()
	for i := range n {
		m := models.MailMessage{ToName: "N", ToEmail: fmt.Sprintf("u%d@example.org", i), Subject: "S", Body: fmt.Sprintf("body %d", i)}
		if err := s.EnqueueMail(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func depth(t *testing.T, s *models.Store) int64 {
	t.Helper()
	n, err := s.OutboxDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func claim(t *testing.T, s *models.Store, limit int, lease time.Duration) []models.OutboxMail {
	t.Helper()
	got, err := s.ClaimMail(context.Background(), limit, lease)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestOutboxEnqueueClaimSend(t *testing.T) {
	s := newStore(t)
	clk := newTestClock()
	s.SetClock(clk.now)
	ctx := context.Background()
	if got := claim(t, s, 10, time.Minute); len(got) != 0 {
		t.Fatalf("empty outbox: claimed %d", len(got))
	}
	enqueue(t, s, 3)
	if n := depth(t, s); n != 3 {
		t.Fatalf("depth = %d, want 3", n)
	}

	got := claim(t, s, 2, time.Minute)
	if len(got) != 2 || got[0].ToEmail != "u0@example.org" || got[1].ToEmail != "u1@example.org" {
		t.Fatalf("claimed %+v, want the two oldest", got)
	}
	m := got[0]
	if m.Attempts != 1 || m.ClaimedUntil == nil || !m.ClaimedUntil.Equal(clk.now().Add(time.Minute)) ||
		m.SentAt != nil || m.Body != "body 0" || m.Subject != "S" || m.ToName != "N" || !m.CreatedAt.Equal(clk.now()) {
		t.Fatalf("claimed mail = %+v", m)
	}
	// Claimed mails are not claimed again while the lease holds.
	if rest := claim(t, s, 10, time.Minute); len(rest) != 1 || rest[0].ToEmail != "u2@example.org" {
		t.Fatalf("second claim = %+v, want only the third mail", rest)
	}
	if err := s.MarkMailSent(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if n := depth(t, s); n != 2 {
		t.Fatalf("depth after one sent = %d, want 2", n)
	}
	// Sent mail never comes back, even after the lease.
	clk.advance(time.Hour)
	for _, again := range claim(t, s, 10, time.Minute) {
		if again.ID == m.ID {
			t.Fatal("a sent mail was claimed again")
		}
		if again.Attempts != 2 {
			t.Errorf("re-claimed mail %d has %d attempts, want 2", again.ID, again.Attempts)
		}
	}
	// The body of a sent mail (single-use links) is blanked; it is purged
	// after the given age.
	sqlDB, _ := s.SQLDB()
	var body string
	if err := sqlDB.QueryRow(fmt.Sprintf("SELECT body FROM mail_outbox WHERE id = %d", m.ID)).Scan(&body); err != nil || body != "" {
		t.Errorf("sent mail body = %q, %v; want blank", body, err)
	}
	if n, err := s.PurgeSentMail(ctx, 2*time.Hour); err != nil || n != 0 {
		t.Errorf("purge of recent sent mail = %d, %v", n, err)
	}
	clk.advance(2 * time.Hour)
	if n, err := s.PurgeSentMail(ctx, 2*time.Hour); err != nil || n != 1 {
		t.Errorf("purge of old sent mail = %d, %v; want 1", n, err)
	}
	if n := depth(t, s); n != 2 {
		t.Errorf("purge touched unsent mail: depth %d", n)
	}
}

func TestOutboxLeaseExpiryRedelivers(t *testing.T) {
	s := newStore(t)
	clk := newTestClock()
	s.SetClock(clk.now)
	enqueue(t, s, 1)
	first := claim(t, s, 10, time.Minute)
	if len(first) != 1 {
		t.Fatalf("claimed %d", len(first))
	}
	// The claimer dies without a word. Until the lease ends nobody else
	// gets the mail; after it, the mail is claimed again.
	clk.advance(59 * time.Second)
	if got := claim(t, s, 10, time.Minute); len(got) != 0 {
		t.Fatalf("claimed %d mails during the lease", len(got))
	}
	clk.advance(2 * time.Second)
	again := claim(t, s, 10, time.Minute)
	if len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v, want mail %d on its second attempt", again, first[0].ID)
	}
	// A released claim (a stopping worker) is free at once, the attempt
	// uncounted.
	if err := s.ReleaseMail(context.Background(), []int64{again[0].ID}); err != nil {
		t.Fatal(err)
	}
	released := claim(t, s, 10, time.Minute)
	if len(released) != 1 || released[0].Attempts != 2 {
		t.Fatalf("after release: %+v, want the mail on attempt 2 again", released)
	}
}

func TestOutboxBackoff(t *testing.T) {
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{0, 30 * time.Second},
		{1, 30 * time.Second},
		{2, time.Minute},
		{3, 2 * time.Minute},
		{4, 4 * time.Minute},
		{7, 32 * time.Minute},
		{8, time.Hour},
		{10, time.Hour},
		{1000, time.Hour},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.attempts), func(t *testing.T) {
			if got := models.MailBackoff(tc.attempts); got != tc.want {
				t.Errorf("MailBackoff(%d) = %v, want %v", tc.attempts, got, tc.want)
			}
		})
	}
}

// TestOutboxFailedMailRetries follows one mail through failures: it waits
// out each backoff, keeps its error, and is never dropped.
func TestOutboxFailedMailRetries(t *testing.T) {
	s := newStore(t)
	clk := newTestClock()
	s.SetClock(clk.now)
	ctx := context.Background()
	enqueue(t, s, 1)
	var id int64
	for attempt := 1; attempt <= models.MailMaxAttempts+2; attempt++ {
		got := claim(t, s, 10, time.Minute)
		if len(got) != 1 || got[0].Attempts != attempt {
			t.Fatalf("attempt %d: claimed %+v", attempt, got)
		}
		if attempt > 1 && got[0].LastError != fmt.Sprintf("refused %d", attempt-1) {
			t.Errorf("attempt %d: last error %q", attempt, got[0].LastError)
		}
		id = got[0].ID
		wait := models.MailBackoff(attempt)
		if err := s.MarkMailFailed(ctx, got[0].ID, fmt.Errorf("refused %d", attempt), clk.now().Add(wait)); err != nil {
			t.Fatal(err)
		}
		clk.advance(wait - time.Second)
		if early := claim(t, s, 10, time.Minute); len(early) != 0 {
			t.Fatalf("attempt %d: claimed again before the backoff of %v", attempt, wait)
		}
		clk.advance(time.Second)
	}
	if n := depth(t, s); n != 1 {
		t.Fatalf("depth = %d after many failures, want 1 (never dropped)", n)
	}
	if err := s.MarkMailFailed(ctx, id, errors.New(strings.Repeat("é", 5000)), clk.now()); err != nil {
		t.Fatalf("a long error: %v", err)
	}
}

// TestOutboxConcurrentClaims claims from many goroutines at once, on two
// stores sharing the database: every mail is claimed exactly once.
func TestOutboxConcurrentClaims(t *testing.T) {
	url := dbtest.URL(t)
	// Two pools on one database: two instances on PostgreSQL, two
	// processes on one file with SQLite.
	stores := []*models.Store{openStoreAt(t, url), openStoreAt(t, url)}
	const mails, workers = 200, 8
	enqueue(t, stores[0], mails)

	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			s := stores[w%len(stores)]
			for {
				got, err := s.ClaimMail(context.Background(), 7, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
				for _, m := range got {
					if err := s.MarkMailSent(context.Background(), m.ID); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var twice []int64
	for id, n := range seen {
		if n != 1 {
			twice = append(twice, id)
		}
	}
	slices.Sort(twice)
	if len(seen) != mails || len(twice) > 0 {
		t.Fatalf("%d of %d mails claimed; claimed more than once: %v", len(seen), mails, twice)
	}
	if n := depth(t, stores[1]); n != 0 {
		t.Fatalf("depth = %d after all were sent", n)
	}
}

func TestOutboxClaimAfterClose(t *testing.T) {
	s := openStoreAt(t, dbtest.URL(t))
	s.Close()
	if _, err := s.ClaimMail(context.Background(), 1, time.Minute); !errors.Is(err, models.ErrStoreClosed) {
		t.Fatalf("claim on a closed store: %v, want ErrStoreClosed", err)
	}
}
