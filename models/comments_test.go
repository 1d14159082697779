package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"margin/models"
)

func TestCreateCommentRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	past := time.Now().Add(-48 * time.Hour)
	closed, err := f.s.CreateDocument(ctx, f.admin, models.NewDocument{Title: "Closed", Source: "Text.", OpensAt: ptr(past), ClosesAt: ptr(past.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(48 * time.Hour)
	upcoming, err := f.s.CreateDocument(ctx, f.admin, models.NewDocument{Title: "Later", Source: "Text.", OpensAt: ptr(future)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.s.CreateDocument(ctx, f.admin, models.NewDocument{Title: "Other", Source: "Other text."})
	if err != nil {
		t.Fatal(err)
	}
	otherParas, _ := f.s.Paragraphs(ctx, other)
	many := make([]int64, models.MaxParagraphsPerComment+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	tests := []struct {
		name   string
		author *models.User
		doc    *models.Document
		n      models.NewComment
		is     error  // errors.Is target
		field  string // or a validation error on this field
	}{
		{"closed document", f.alice, closed, models.NewComment{Body: "x"}, models.ErrConflict, ""},
		{"upcoming document", f.alice, upcoming, models.NewComment{Body: "x"}, models.ErrConflict, ""},
		{"unverified author", f.unverified, f.doc, models.NewComment{Body: "x"}, models.ErrForbidden, ""},
		{"anonymous", nil, f.doc, models.NewComment{Body: "x"}, models.ErrUnauthenticated, ""},
		{"empty body", f.alice, f.doc, models.NewComment{Body: "  \n "}, nil, "body"},
		{"body too long", f.alice, f.doc, models.NewComment{Body: strings.Repeat("a", models.MaxBodyLength+1)}, nil, "body"},
		{"proposed too long", f.alice, f.doc, models.NewComment{Body: "x", ProposedText: strings.Repeat("b", models.MaxProposedLength+1)}, nil, "proposed_text"},
		{"bad kind", f.alice, f.doc, models.NewComment{Body: "x", Kind: "technical"}, nil, "kind"},
		{"bad visibility", f.alice, f.doc, models.NewComment{Body: "x", Visibility: "secret"}, nil, "visibility"},
		{"too many paragraphs", f.alice, f.doc, models.NewComment{Body: "x", ParagraphIDs: many}, nil, "paragraph_ids"},
		{"paragraph of another document", f.alice, f.doc, models.NewComment{Body: "x", ParagraphIDs: []int64{otherParas[0].ID}}, nil, "paragraph_ids"},
		{"NUL byte", f.alice, f.doc, models.NewComment{Body: "a\x00b"}, nil, "body"},
		{"invalid UTF-8", f.alice, f.doc, models.NewComment{Body: "a\xffb"}, nil, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.CreateComment(ctx, tc.author, tc.doc, tc.n, f.policy)
			if tc.field != "" {
				var v models.ValidationError
				if !errors.As(err, &v) || v[tc.field] == "" {
					t.Fatalf("err = %v, want validation error on %s", err, tc.field)
				}
				return
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
	all, err := f.s.Comments(ctx, f.mod, models.CommentFilter{})
	if err != nil || len(all) != 0 {
		t.Fatalf("refused comments left rows: %d, %v", len(all), err)
	}
}

func TestCommentOnSeveralParagraphsAndWholeDocument(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	multi := f.comment(t, f.alice, "Same point for three paragraphs", 5, 2, 3, 2)
	whole := f.comment(t, f.alice, "General remark")
	got, err := f.s.CommentByID(ctx, f.alice, multi.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 3, 5}; !equalInts(got.ParagraphNumbers, want) {
		t.Fatalf("paragraph numbers = %v, want %v (deduplicated, in order)", got.ParagraphNumbers, want)
	}
	if *multi.SortNumber != 2 {
		t.Fatalf("sort number = %d, want 2", *multi.SortNumber)
	}
	g, err := f.s.CommentByID(ctx, f.alice, whole.ID)
	if err != nil || len(g.ParagraphNumbers) != 0 || whole.SortNumber != nil {
		t.Fatalf("whole-document comment = %+v, %v", g, err)
	}
	counts, err := f.s.ParagraphCommentCounts(ctx, f.doc, f.mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3, 5} {
		if counts[f.paras[n-1].ID] != 1 {
			t.Errorf("count of ¶%d = %d, want 1", n, counts[f.paras[n-1].ID])
		}
	}
}

func TestCommentVisibility(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mk := func(vis, status string) int64 {
		c, err := f.s.CreateComment(ctx, f.alice, f.doc, models.NewComment{Body: vis + " " + status, Visibility: vis, ParagraphIDs: []int64{f.paras[1].ID}}, f.policy)
		if err != nil {
			t.Fatal(err)
		}
		if status != models.StatusPending {
			if _, err := f.s.Decide(ctx, f.mod, c.ID, status, "noted"); err != nil {
				t.Fatal(err)
			}
		}
		return c.ID
	}
	pubAcc := mk("public", "accepted")
	anonDef := mk("anonymous", "deferred")
	privAcc := mk("private", "accepted")
	pubPending := mk("public", "pending")
	pubSpam := mk("public", "spam")
	pubRej := mk("public", "rejected")
	tests := []struct {
		name   string
		viewer *models.User
		want   []int64
	}{
		{"anonymous visitor", nil, []int64{pubAcc, anonDef, pubRej}},
		{"other commenter", f.bob, []int64{pubAcc, anonDef, pubRej}},
		{"author", f.alice, []int64{pubAcc, anonDef, privAcc, pubPending, pubSpam, pubRej}},
		{"moderator", f.mod, []int64{pubAcc, anonDef, privAcc, pubPending, pubSpam, pubRej}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := f.s.Comments(ctx, tc.viewer, models.CommentFilter{DocumentID: f.doc.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got := commentIDs(cs); !equalIDs(got, tc.want) {
				t.Fatalf("visible = %v, want %v", got, tc.want)
			}
			for _, c := range cs {
				shown := c.AuthorShownTo(tc.viewer)
				wantShown := c.Visibility == "public" || (tc.viewer != nil && (tc.viewer.IsModerator() || tc.viewer.ID == c.UserID))
				if shown != wantShown {
					t.Errorf("comment %d (%s): author shown = %v, want %v", c.ID, c.Visibility, shown, wantShown)
				}
			}
		})
	}
	if _, err := f.s.CommentByID(ctx, f.bob, privAcc); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("other commenter reading a private comment: %v", err)
	}
	if _, err := f.s.CommentByID(ctx, f.bob, pubPending); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("other commenter reading a pending comment: %v", err)
	}
	counts, _ := f.s.ParagraphCommentCounts(ctx, f.doc, nil)
	if counts[f.paras[1].ID] != 3 {
		t.Fatalf("public count = %d, want 3", counts[f.paras[1].ID])
	}
}

func TestCommentRateLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.policy.Limits = models.CommentLimits{PerMinute: models.Limit{Max: 3, Window: time.Minute}}
	for i := 0; i < 3; i++ {
		f.comment(t, f.alice, "ok")
	}
	_, err := f.s.CreateComment(ctx, f.alice, f.doc, models.NewComment{Body: "one too many"}, f.policy)
	var rl *models.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("err = %v, want a rate limit error with a retry time", err)
	}
	// Another user is not affected.
	f.comment(t, f.bob, "bob is fine")
}

func TestCommentBodyFromWordIsCleaned(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	word := `<p class=MsoNormal><span lang=EN-GB style='mso-ansi-language:EN-GB'>We suggest <b>adding</b> a reference.<o:p></o:p></span></p>`
	c, err := f.s.CreateComment(ctx, f.alice, f.doc, models.NewComment{Body: word}, f.policy)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Body, "<") || strings.Contains(c.Body, "mso") || !strings.Contains(c.Body, "**adding**") {
		t.Fatalf("body = %q, want clean Markdown", c.Body)
	}
	plain := "Keep a < b and c > d exactly."
	c2, err := f.s.CreateComment(ctx, f.alice, f.doc, models.NewComment{Body: plain}, f.policy)
	if err != nil || c2.Body != plain {
		t.Fatalf("plain body = %q, %v; want it unchanged", c2.Body, err)
	}
}

func equalInts(a, b []int) bool { return slices.Equal(a, b) }

func equalIDs(a, b []int64) bool { return slices.Equal(a, b) }
