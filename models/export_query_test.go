package models_test

import (
	"context"
	"errors"
	"testing"

	"margin/models"
)

func TestStreamExportOrderAndContent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Submitted out of document order on purpose.
	general := f.comment(t, f.alice, "General remark")
	late := f.comment(t, f.bob, "On findings", 6)
	multi := f.comment(t, f.alice, "On the list", 4, 3)
	early := f.comment(t, f.bob, "On the scope", 1)
	pending := f.comment(t, f.bob, "Still pending", 2)
	rejected := f.comment(t, f.bob, "Rejected one", 2)
	for _, id := range []int64{general.ID, late.ID, multi.ID, early.ID} {
		if _, err := f.s.Decide(ctx, f.mod, id, "accepted", "Taken up."); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.Decide(ctx, f.mod, rejected.ID, "rejected", "Out of scope."); err != nil {
		t.Fatal(err)
	}
	var got []models.ExportRow
	collect := func(r models.ExportRow) error { got = append(got, r); return nil }
	if err := f.s.StreamExport(ctx, f.mod, f.doc, []string{"accepted"}, collect); err != nil {
		t.Fatal(err)
	}
	wantOrder := []int64{early.ID, multi.ID, late.ID, general.ID}
	if len(got) != len(wantOrder) {
		t.Fatalf("%d rows, want %d", len(got), len(wantOrder))
	}
	for i, r := range got {
		if r.CommentID != wantOrder[i] {
			t.Fatalf("row %d = comment %d, want %d (document order, general last)", i, r.CommentID, wantOrder[i])
		}
	}
	m := got[1]
	if !equalInts(m.ParagraphNumbers, []int{3, 4}) || len(m.ParagraphTexts) != 2 || m.ParagraphTexts[0] != f.paras[2].SourceText {
		t.Fatalf("multi-paragraph row = %+v", m)
	}
	if m.AuthorName != f.alice.Name || m.StakeholderGroup != "civil_society" || m.Response != "Taken up." {
		t.Fatalf("row details = %+v", m)
	}
	got = nil
	if err := f.s.StreamExport(ctx, f.mod, f.doc, []string{"pending", "rejected"}, collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CommentID != pending.ID || got[1].CommentID != rejected.ID {
		t.Fatalf("pending+rejected export = %+v", got)
	}
	if err := f.s.StreamExport(ctx, f.alice, f.doc, []string{"accepted"}, collect); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("commenter export: %v", err)
	}
}

func TestExportStatuses(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
		bad  bool
	}{
		{nil, []string{"accepted"}, false},
		{[]string{"deferred", "rejected", "deferred"}, []string{"deferred", "rejected"}, false},
		{[]string{"all"}, []string{"pending", "accepted", "deferred", "rejected"}, false},
		{[]string{"approved"}, nil, true},
	}
	for _, tc := range tests {
		got, err := models.ExportStatuses(tc.in)
		if (err != nil) != tc.bad || len(got) != len(tc.want) {
			t.Errorf("ExportStatuses(%v) = %v, %v", tc.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ExportStatuses(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}
