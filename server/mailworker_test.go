package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"margin/internal/dbtest"
	"margin/mail"
	"margin/models"
)

// mailRecorder is a mail.Sender that records what it sends. While fail is
// above zero it refuses (and counts down); block, when set, holds each send
// until it is closed.
type mailRecorder struct {
	mu       sync.Mutex
	sent     []mail.Message
	attempts int
	fail     int
	block    chan struct{}
	started  chan struct{} // receives once per send started, when set
	delay    time.Duration
}

func (r *mailRecorder) Send(_ context.Context, m mail.Message) error {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.block != nil {
		<-r.block
	}
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.fail > 0 {
		r.fail--
		return errors.New("451 try again later")
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *mailRecorder) counts() (attempts, sent int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts, len(r.sent)
}

func (r *mailRecorder) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.sent {
		out = append(out, m.Body)
	}
	return out
}

// mailTestStore opens (and migrates) the database at url as one instance.
func mailTestStore(t *testing.T, url string) *models.Store {
	t.Helper()
	s, err := openStore(context.Background(), Config{DatabaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mailTestWorker starts a worker that polls often and claims batch mails
// at a time (0: the default); it is stopped when the test ends.
func mailTestWorker(t *testing.T, s *models.Store, sender mail.Sender, batch int) *mailWorker {
	t.Helper()
	w := newMailWorker(s, sender, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.interval = 20 * time.Millisecond
	if batch > 0 {
		w.batch = batch
	}
	stop := w.start(context.Background())
	t.Cleanup(stop)
	return w
}

func mailEnqueue(t *testing.T, s *models.Store, n int) {
	t.Helper()
	for i := range n {
		m := models.MailMessage{ToName: "Reader", ToEmail: fmt.Sprintf("r%d@example.org", i), Subject: "Hello", Body: fmt.Sprintf("mail %d", i)}
		if err := s.EnqueueMail(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// mailWait polls cond for up to 10 s.
func mailWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mailClock is a settable clock for Store.SetClock.
type mailClock struct{ ns atomic.Int64 }

func (c *mailClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *mailClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestMailWorkerRetriesWithBackoff sends through a mail server that refuses
// three times: each retry waits for its backoff (on the store's clock), and
// the mail goes out once the server recovers.
func TestMailWorkerRetriesWithBackoff(t *testing.T) {
	s := mailTestStore(t, dbtest.URL(t))
	clk := &mailClock{}
	clk.ns.Store(time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC).UnixNano())
	s.SetClock(clk.now)
	rec := &mailRecorder{fail: 3}
	sqlDB, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	w := mailTestWorker(t, s, rec, 0)
	mailEnqueue(t, s, 1)
	w.Notify()

	for attempt := 1; attempt <= 3; attempt++ {
		mailWait(t, fmt.Sprintf("attempt %d recorded", attempt), func() bool {
			var n int
			err := sqlDB.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM mail_outbox WHERE attempts = %d AND claimed_until IS NULL AND last_error <> ''", attempt)).Scan(&n)
			return err == nil && n == 1
		})
		// Not retried before the backoff is over, however often the
		// worker looks.
		wait := models.MailBackoff(attempt)
		clk.advance(wait - time.Second)
		w.Notify()
		time.Sleep(100 * time.Millisecond)
		if a, _ := rec.counts(); a != attempt {
			t.Fatalf("attempt %d: retried before its backoff of %v (%d attempts)", attempt, wait, a)
		}
		if n, err := s.OutboxDepth(context.Background()); err != nil || n != 1 {
			t.Fatalf("attempt %d: depth %d, %v", attempt, n, err)
		}
		clk.advance(time.Second)
		w.Notify()
	}
	mailWait(t, "delivery after recovery", func() bool { _, n := rec.counts(); return n == 1 })
	mailWait(t, "an empty queue", func() bool { n, _ := s.OutboxDepth(context.Background()); return n == 0 })
	if a, n := rec.counts(); a != 4 || n != 1 {
		t.Fatalf("%d attempts, %d sent; want 4 attempts, 1 sent", a, n)
	}
	clk.advance(24 * time.Hour)
	w.Notify()
	time.Sleep(100 * time.Millisecond)
	if _, n := rec.counts(); n != 1 {
		t.Fatalf("mail sent %d times", n)
	}
}

// TestMailTwoWorkersDeliverOnce runs two workers, each with its own pool on
// one database (two instances), on one queue: every mail goes out once.
func TestMailTwoWorkersDeliverOnce(t *testing.T) {
	url := dbtest.URL(t)
	a, b := mailTestStore(t, url), mailTestStore(t, url)
	recA, recB := &mailRecorder{delay: time.Millisecond}, &mailRecorder{delay: time.Millisecond}
	const n = 60
	mailEnqueue(t, a, n)
	// Small batches, so that the two interleave.
	wa, wb := mailTestWorker(t, a, recA, 3), mailTestWorker(t, b, recB, 3)
	wa.Notify()
	wb.Notify()
	mailWait(t, "every mail sent", func() bool {
		_, x := recA.counts()
		_, y := recB.counts()
		return x+y >= n
	})
	mailWait(t, "an empty queue", func() bool { d, _ := b.OutboxDepth(context.Background()); return d == 0 })
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show
	all := append(recA.bodies(), recB.bodies()...)
	slices.Sort(all)
	if len(all) != n || len(slices.Compact(slices.Clone(all))) != n {
		t.Fatalf("%d mails sent for %d queued (%d distinct)", len(all), n, len(slices.Compact(all)))
	}
	_, x := recA.counts()
	_, y := recB.counts()
	t.Logf("instance A sent %d, instance B sent %d", x, y)
}

// TestMailQueuedSurvivesRestart queues mail with no worker running, closes
// the database, and starts over: the worker of the new run writes it.
func TestMailQueuedSurvivesRestart(t *testing.T) {
	url := dbtest.URL(t)
	first, err := openStore(context.Background(), Config{DatabaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	mailEnqueue(t, first, 3)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	s := mailTestStore(t, url)
	dir := filepath.Join(t.TempDir(), "outbox")
	mailTestWorker(t, s, &mail.Outbox{Dir: dir, From: "Margin <margin@example.org>"}, 0)
	var files []string
	mailWait(t, "3 .eml files", func() bool {
		files, _ = filepath.Glob(filepath.Join(dir, "*.eml"))
		return len(files) == 3
	})
	var to []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		addr, subject, body := mailTo(t, string(raw))
		if subject != "Hello" || !strings.HasPrefix(body, "mail ") {
			t.Errorf("%s: subject %q, body %q", f, subject, body)
		}
		to = append(to, addr)
	}
	slices.Sort(to)
	if want := []string{"r0@example.org", "r1@example.org", "r2@example.org"}; !slices.Equal(to, want) {
		t.Fatalf("mail to %v, want %v", to, want)
	}
}

// TestMailWorkerStopFinishesMailInHand stops a worker in the middle of a
// send: stop waits for that mail, which is recorded as sent, and the rest
// of the batch is handed back for another instance at once.
func TestMailWorkerStopFinishesMailInHand(t *testing.T) {
	url := dbtest.URL(t)
	s := mailTestStore(t, url)
	mailEnqueue(t, s, 3)
	rec := &mailRecorder{block: make(chan struct{}), started: make(chan struct{}, 10)}
	w := newMailWorker(s, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	stop := w.start(context.Background())
	w.Notify()
	<-rec.started
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned with a mail in hand")
	case <-time.After(100 * time.Millisecond):
	}
	close(rec.block)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return")
	}
	if a, n := rec.counts(); a != 1 || n != 1 {
		t.Fatalf("%d attempts, %d sent; want the mail in hand sent and no other", a, n)
	}
	// The other two are free now, not after the lease.
	other := mailTestStore(t, url)
	got, err := other.ClaimMail(context.Background(), 10, time.Minute)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim after stop: %d mails, %v; want 2", len(got), err)
	}
	for _, m := range got {
		if m.Attempts != 1 {
			t.Errorf("mail %d: %d attempts, want 1 (the handed-back claim is not counted)", m.ID, m.Attempts)
		}
	}
}

// TestMailWorkerStopsWhenStoreCloses checks the worker newApp starts ends
// by itself when the store is closed (tests close only the store).
func TestMailWorkerStopsWhenStoreCloses(t *testing.T) {
	s, err := openStore(context.Background(), Config{DatabaseURL: dbtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	w := newMailWorker(s, &mailRecorder{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.interval = 10 * time.Millisecond
	w.start(context.Background())
	s.Close()
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker still runs after the store was closed")
	}
}
