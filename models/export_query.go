package models

import (
	"context"
	"fmt"
	"time"
)

// ExportStatuses parses the status parameter of an export: one or more
// statuses, or "all" for every status but spam.
func ExportStatuses(values []string) ([]string, error) {
	if len(values) == 0 {
		return []string{StatusAccepted}, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		if v == "all" {
			return []string{StatusPending, StatusAccepted, StatusDeferred, StatusRejected}, nil
		}
		if !validOption(Statuses, v) {
			return nil, ValidationError{"status": fmt.Sprintf("Unknown status %q.", v)}
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// exportLine is one row of the export query: a comment joined with one of
// its paragraphs (or none).
type exportLine struct {
	ID                int64
	Body              string
	ProposedText      string
	Kind              string
	Visibility        string
	Status            string
	Response          string
	CreatedAt         time.Time
	DecidedAt         *time.Time
	AuthorName        string
	AuthorAffiliation string
	AuthorGroup       string
	AuthorCountry     string
	Number            *int
	SourceText        *string
}

// StreamExport calls fn for each comment of document d with one of statuses,
// in document order (by first paragraph, comments on the whole document
// last). It reads rows from one cursor and never holds the whole export in
// memory. Only moderators may export.
func (s *Store) StreamExport(ctx context.Context, viewer *User, d *Document, statuses []string, fn func(ExportRow) error) error {
	if viewer == nil || !viewer.IsModerator() {
		return ErrForbidden
	}
	rows, err := s.db.WithContext(ctx).Raw(`
		SELECT c.id, c.body, c.proposed_text, c.kind, c.visibility, c.status, c.response,
		       c.created_at, c.decided_at,
		       u.name AS author_name, u.affiliation AS author_affiliation,
		       u.stakeholder_group AS author_group, u.country AS author_country,
		       p.number, p.source_text
		FROM comments c
		JOIN users u ON u.id = c.user_id
		LEFT JOIN comment_paragraphs cp ON cp.comment_id = c.id
		LEFT JOIN paragraphs p ON p.id = cp.paragraph_id
		WHERE c.document_id = ? AND c.status IN ? AND c.withdrawn_at IS NULL
		ORDER BY c.sort_number IS NULL, c.sort_number, c.id, p.number`, d.ID, statuses).Rows()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	var cur *ExportRow
	flush := func() error {
		if cur == nil {
			return nil
		}
		r := *cur
		cur = nil
		return fn(r)
	}
	for rows.Next() {
		var l exportLine
		if err := s.db.ScanRows(rows, &l); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if cur == nil || cur.CommentID != l.ID {
			if err := flush(); err != nil {
				return err
			}
			cur = &ExportRow{
				CommentID: l.ID, AuthorName: l.AuthorName, Affiliation: l.AuthorAffiliation,
				StakeholderGroup: l.AuthorGroup, Country: l.AuthorCountry, Visibility: l.Visibility,
				Kind: l.Kind, Status: l.Status, Body: l.Body, ProposedText: l.ProposedText,
				Response: l.Response, CreatedAt: l.CreatedAt, DecidedAt: l.DecidedAt,
			}
		}
		if l.Number != nil {
			cur.ParagraphNumbers = append(cur.ParagraphNumbers, *l.Number)
			cur.ParagraphTexts = append(cur.ParagraphTexts, deref(l.SourceText))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return flush()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
