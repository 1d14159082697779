package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"margin/models"
)

func TestCreateDocument(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if f.doc.Slug != "bpf-cybersecurity-draft" || f.doc.Version != 1 {
		t.Fatalf("document = %+v", f.doc)
	}
	wantKinds := []string{"heading", "paragraph", "list_item", "list_item", "heading", "paragraph"}
	if len(f.paras) != len(wantKinds) {
		t.Fatalf("%d paragraphs, want %d", len(f.paras), len(wantKinds))
	}
	for i, p := range f.paras {
		if p.Number != i+1 || p.Kind != wantKinds[i] || p.Signature == "" || p.HTML == "" {
			t.Errorf("paragraph %d = %+v", i+1, p)
		}
	}
	tests := []struct {
		name  string
		actor *models.User
		n     models.NewDocument
		is    error
		field string
	}{
		{"commenter", f.alice, models.NewDocument{Title: "X", Source: "x"}, models.ErrForbidden, ""},
		{"duplicate slug", f.admin, models.NewDocument{Title: "BPF Cybersecurity draft", Source: "x"}, models.ErrConflict, ""},
		{"no title", f.admin, models.NewDocument{Source: "x"}, nil, "title"},
		{"bad slug", f.admin, models.NewDocument{Title: "T", Slug: "Not OK!", Source: "x"}, nil, "slug"},
		{"empty source", f.admin, models.NewDocument{Title: "T", Source: " \n\n "}, nil, "source"},
		{"only junk lines", f.admin, models.NewDocument{Title: "T", Source: "---\n\n* * *\n\n\u00a0\n"}, nil, "source"},
		{"window backwards", f.admin, models.NewDocument{Title: "T", Source: "x", OpensAt: ptr(time.Now()), ClosesAt: ptr(time.Now().Add(-time.Hour))}, nil, "closes_at"},
		{"bad format", f.admin, models.NewDocument{Title: "T", Source: "x", Format: "pdf"}, nil, "format"},
		{"bad docx", f.admin, models.NewDocument{Title: "T", Format: "docx", File: []byte("not a zip")}, nil, "file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.CreateDocument(ctx, tc.actor, tc.n)
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
	ds, err := f.s.ListDocuments(ctx, nil)
	if err != nil || len(ds) != 1 || ds[0].ParagraphCount != 6 {
		t.Fatalf("list = %+v, %v (refused imports must leave nothing)", ds, err)
	}
}

func TestDocumentStatus(t *testing.T) {
	now := time.Date(2026, 12, 21, 12, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Minute), now.Add(time.Minute)
	tests := []struct {
		name        string
		opens, ends *time.Time
		want        string
	}{
		{"no window", nil, nil, "open"},
		{"not yet", &after, nil, "upcoming"},
		{"open", &before, &after, "open"},
		{"closes at noon exactly", &before, &now, "closed"},
		{"opens at noon exactly", &now, nil, "open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := models.Document{OpensAt: tc.opens, ClosesAt: tc.ends}
			if got := d.StatusAt(now); got != tc.want {
				t.Fatalf("StatusAt = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BPF Cybersecurity 2026: Draft I", "bpf-cybersecurity-2026-draft-i"},
		{"  Gênero & Acesso  ", "genero-acesso"},
		{"¶¶¶", ""},
	}
	for _, tc := range tests {
		if got := models.Slugify(tc.in); got != tc.want {
			t.Errorf("Slugify(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
