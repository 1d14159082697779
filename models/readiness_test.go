package models_test

import (
	"context"
	"errors"
	"testing"

	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
)

func TestReady(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.Ready(ctx, migrations.FS); err != nil {
		t.Fatalf("Ready on a migrated database = %v, want nil", err)
	}
	if err := s.Ready(ctx, nil); err == nil {
		t.Error("Ready without migrations = nil, want an error")
	}
	s.Close()
	if err := s.Ready(ctx, migrations.FS); err == nil {
		t.Error("Ready on a closed database = nil, want an error")
	}
}

// TestReadySchemaBehind applies only the first migration, as an instance
// of an older release would have left the database, and checks Ready
// reports it until Migrate catches up.
func TestReadySchemaBehind(t *testing.T) {
	ctx := context.Background()
	db, _, err := models.Open(dbtest.URL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db)
	t.Cleanup(func() { s.Close() })
	p, err := s.MigrationProvider(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ListSources()) < 2 {
		t.Skip("needs at least two migrations")
	}
	if err := s.Ready(ctx, migrations.FS); !errors.Is(err, models.ErrSchemaBehind) {
		t.Errorf("Ready on an empty database = %v, want ErrSchemaBehind", err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx, migrations.FS); !errors.Is(err, models.ErrSchemaBehind) {
		t.Errorf("Ready at version 1 = %v, want ErrSchemaBehind", err)
	}
	if err := models.Migrate(ctx, db, s.Dialect(), migrations.FS); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx, migrations.FS); err != nil {
		t.Errorf("Ready after Migrate = %v, want nil", err)
	}
}

func TestQueueLength(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	count := func() int64 {
		t.Helper()
		n, err := f.s.QueueLength(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("QueueLength with no comments = %d, want 0", n)
	}
	f.comment(t, f.alice, "First pending comment.", 1)
	decided := f.comment(t, f.bob, "Soon accepted.", 2)
	withdrawn := f.comment(t, f.alice, "Soon withdrawn.", 3)
	if n := count(); n != 3 {
		t.Fatalf("QueueLength after three comments = %d, want 3", n)
	}
	if _, err := f.s.Decide(ctx, f.mod, decided.ID, models.StatusAccepted, "Thanks."); err != nil {
		t.Fatal(err)
	}
	if err := f.s.WithdrawComment(ctx, f.alice, withdrawn.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("QueueLength after a decision and a withdrawal = %d, want 1", n)
	}
}
