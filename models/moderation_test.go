package models_test

import (
	"context"
	"errors"
	"testing"

	"margin/models"
)

// TestDecideEveryMove tries every (from, to) pair of statuses and checks
// the move is allowed exactly when the contract says so, that an allowed
// move writes one audit entry and an illegal one changes nothing.
func TestDecideEveryMove(t *testing.T) {
	legal := map[[2]string]bool{
		{"pending", "accepted"}: true, {"pending", "deferred"}: true, {"pending", "rejected"}: true, {"pending", "spam"}: true,
		{"deferred", "accepted"}: true, {"deferred", "rejected"}: true, {"deferred", "spam"}: true,
		{"accepted", "deferred"}: true, {"rejected", "deferred"}: true,
	}
	// paths reach each starting status from pending by legal moves.
	paths := map[string][]string{
		"pending":  nil,
		"accepted": {"accepted"},
		"deferred": {"deferred"},
		"rejected": {"rejected"},
		"spam":     {"spam"},
	}
	all := []string{"pending", "accepted", "deferred", "rejected", "spam"}
	f := newFixture(t)
	ctx := context.Background()
	for _, from := range all {
		for _, to := range all {
			t.Run(from+"->"+to, func(t *testing.T) {
				c := f.comment(t, f.alice, "A comment", 2)
				for _, step := range paths[from] {
					if _, err := f.s.Decide(ctx, f.mod, c.ID, step, "because"); err != nil {
						t.Fatalf("setting up %s: %v", step, err)
					}
				}
				before, _ := f.s.Decisions(ctx, f.mod, c.ID)
				got, err := f.s.Decide(ctx, f.mod, c.ID, to, "response text")
				after, _ := f.s.Decisions(ctx, f.mod, c.ID)
				cur, _ := f.s.CommentByID(ctx, f.mod, c.ID)
				switch {
				case to == "pending":
					var v models.ValidationError
					if !errors.As(err, &v) {
						t.Fatalf("move to pending: err = %v, want a validation error", err)
					}
				case legal[[2]string{from, to}]:
					if err != nil {
						t.Fatalf("legal move refused: %v", err)
					}
					if got.Status != to || cur.Status != to {
						t.Fatalf("status = %s / %s, want %s", got.Status, cur.Status, to)
					}
					if len(after) != len(before)+1 {
						t.Fatalf("audit entries %d -> %d, want one more", len(before), len(after))
					}
					last := after[len(after)-1]
					if last.FromStatus != from || last.ToStatus != to || last.ActorName != f.mod.Name || last.Response != "response text" {
						t.Fatalf("audit entry = %+v", last)
					}
				default:
					if !errors.Is(err, models.ErrInvalidTransition) {
						t.Fatalf("illegal move: err = %v, want ErrInvalidTransition", err)
					}
					if cur.Status != from || len(after) != len(before) {
						t.Fatalf("illegal move changed state: status %s, audit %d -> %d", cur.Status, len(before), len(after))
					}
				}
			})
		}
	}
}

func TestDecideRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.comment(t, f.alice, "Please reword", 2)
	tests := []struct {
		name     string
		actor    *models.User
		id       int64
		status   string
		response string
		want     error
		field    string
	}{
		{"commenter cannot decide", f.bob, c.ID, "accepted", "", models.ErrForbidden, ""},
		{"anonymous cannot decide", nil, c.ID, "accepted", "", models.ErrForbidden, ""},
		{"reject needs a response", f.mod, c.ID, "rejected", "   ", nil, "response"},
		{"unknown status", f.mod, c.ID, "approved", "", nil, "status"},
		{"missing comment", f.mod, 999999, "accepted", "", models.ErrNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Decide(ctx, tc.actor, tc.id, tc.status, tc.response)
			if tc.field != "" {
				var v models.ValidationError
				if !errors.As(err, &v) || v[tc.field] == "" {
					t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if cur, _ := f.s.CommentByID(ctx, f.mod, c.ID); cur.Status != models.StatusPending {
		t.Fatalf("refused decisions changed status to %s", cur.Status)
	}
	if _, err := f.s.Decide(ctx, f.admin, c.ID, "rejected", "Out of scope for this forum."); err != nil {
		t.Fatalf("admin reject with response: %v", err)
	}
}

func TestQueueOrderFilterAndCursor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 5; i++ {
		ids = append(ids, f.comment(t, f.alice, "queued", 2).ID)
	}
	if _, err := f.s.Decide(ctx, f.mod, ids[1], "accepted", ""); err != nil {
		t.Fatal(err)
	}
	page1, next, err := f.s.Queue(ctx, f.mod, models.QueueFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page1) != 2 || page1[0].ID != ids[0] || page1[1].ID != ids[2] || next != ids[2] {
		t.Fatalf("page 1 = %v next %d", commentIDs(page1), next)
	}
	page2, next, err := f.s.Queue(ctx, f.mod, models.QueueFilter{Limit: 2, AfterID: next})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2) != 2 || page2[0].ID != ids[3] || page2[1].ID != ids[4] || next != 0 {
		t.Fatalf("page 2 = %v next %d", commentIDs(page2), next)
	}
	acc, _, err := f.s.Queue(ctx, f.mod, models.QueueFilter{Status: "accepted"})
	if err != nil || len(acc) != 1 || acc[0].ID != ids[1] {
		t.Fatalf("accepted filter = %v, %v", commentIDs(acc), err)
	}
	if page1[0].AuthorCountry != "KE" || page1[0].AuthorAffiliation == "" || page1[0].ParagraphNumbers[0] != 2 {
		t.Fatalf("queue item lacks author or paragraph details: %+v", page1[0])
	}
	if _, _, err := f.s.Queue(ctx, f.alice, models.QueueFilter{}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("commenter queue: %v", err)
	}
}

func commentIDs(cs []models.CommentDetail) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
