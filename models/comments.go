package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Comment statuses.
const (
	StatusPending  = "pending"
	StatusAccepted = "accepted"
	StatusDeferred = "deferred"
	StatusRejected = "rejected"
	StatusSpam     = "spam"
)

// Comment visibilities.
const (
	VisibilityPublic    = "public"
	VisibilityAnonymous = "anonymous"
	VisibilityPrivate   = "private"
)

// Comment kinds.
const (
	CommentGeneral     = "general"
	CommentSubstantive = "substantive"
	CommentEditorial   = "editorial"
)

// Comment limits.
const (
	MaxBodyLength           = 20000
	MaxProposedLength       = 20000
	MaxResponseLength       = 10000
	MaxParagraphsPerComment = 50
)

// PublishedStatuses are the outcomes shown to everyone (for comments that
// are not private).
var PublishedStatuses = []string{StatusAccepted, StatusDeferred, StatusRejected}

// Comment is a comment on one or more paragraphs, or on a whole document.
type Comment struct {
	ID           int64
	DocumentID   int64
	UserID       int64
	Body         string
	ProposedText string
	Kind         string
	Visibility   string
	Status       string
	Response     string
	SortNumber   *int
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DecidedAt    *time.Time
	DecidedBy    *int64
	WithdrawnAt  *time.Time
}

// Withdrawn reports whether the author withdrew the comment.
func (c *Comment) Withdrawn() bool { return c.WithdrawnAt != nil }

// commentParagraph links a comment to a paragraph.
type commentParagraph struct {
	CommentID   int64
	ParagraphID int64
}

func (commentParagraph) TableName() string { return "comment_paragraphs" }

// CommentLimits are the per-user rate limits on comment submission.
type CommentLimits struct {
	PerMinute Limit
	PerDay    Limit
}

// DefaultCommentLimits allow a busy commenter through and stop a script.
var DefaultCommentLimits = CommentLimits{
	PerMinute: Limit{Max: 5, Window: time.Minute},
	PerDay:    Limit{Max: 200, Window: 24 * time.Hour},
}

// NewComment is what a commenter submits.
type NewComment struct {
	ParagraphIDs []int64 // empty for the whole document
	Body         string
	ProposedText string
	Kind         string
	Visibility   string
}

// validate cleans and checks the fields, except the paragraph ids.
func (n *NewComment) validate() ValidationError {
	v := ValidationError{}
	checkText(v, "body", n.Body, MaxBodyLength*2, true)
	checkText(v, "proposed_text", n.ProposedText, MaxProposedLength*2, false)
	if len(v) == 0 {
		pasted := strings.TrimSpace(n.Body) != ""
		n.Body = CleanCommentBody(n.Body)
		n.ProposedText = CleanCommentBody(n.ProposedText)
		checkText(v, "body", n.Body, MaxBodyLength, true)
		if pasted && strings.TrimSpace(n.Body) == "" {
			v["body"] = "The pasted text has no readable words once its formatting is removed. Paste it as plain text."
		}
		checkText(v, "proposed_text", n.ProposedText, MaxProposedLength, false)
	}
	if n.Kind == "" {
		n.Kind = CommentGeneral
	}
	if !validOption(CommentKinds, n.Kind) {
		v["kind"] = "Choose general, substantive or editorial."
	}
	if n.Visibility == "" {
		n.Visibility = VisibilityPublic
	}
	if !validOption(Visibilities, n.Visibility) {
		v["visibility"] = "Choose public, anonymous or private."
	}
	if len(n.ParagraphIDs) > MaxParagraphsPerComment {
		v["paragraph_ids"] = fmt.Sprintf("A comment can be on at most %d paragraphs.", MaxParagraphsPerComment)
	}
	return v
}

// CommentPolicy is what the deployment decides about who may comment.
type CommentPolicy struct {
	RequireVerifiedEmail bool
	Limits               CommentLimits
}

// CreateComment stores a pending comment by author on document d. The
// document must be open, the author verified when the policy says so, and
// the paragraphs part of the document's current version.
func (s *Store) CreateComment(ctx context.Context, author *User, d *Document, n NewComment, p CommentPolicy) (*Comment, error) {
	if author == nil {
		return nil, ErrUnauthenticated
	}
	if v := n.validate(); len(v) > 0 {
		return nil, v
	}
	now := s.now()
	if st := d.StatusAt(now); st != DocumentOpen {
		return nil, closedError(d, st)
	}
	if p.RequireVerifiedEmail && !author.Verified() {
		return nil, public(ErrForbidden, "Confirm your e-mail address before commenting: follow the link in the mail we sent you.")
	}
	ids := uniqueIDs(n.ParagraphIDs)
	c := &Comment{
		DocumentID: d.ID, UserID: author.ID, Body: n.Body, ProposedText: n.ProposedText,
		Kind: n.Kind, Visibility: n.Visibility, Status: StatusPending, CreatedAt: now, UpdatedAt: now,
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Counted in the comment's transaction: a comment that fails to be
		// stored does not use up the author's allowance.
		for _, l := range []Limit{p.Limits.PerMinute, p.Limits.PerDay} {
			if l.Max <= 0 {
				continue
			}
			if err := s.hit(tx, fmt.Sprintf("comment:user:%d:%d", author.ID, l.Window/time.Second), l); err != nil {
				return err
			}
		}
		if len(ids) > 0 {
			var ps []Paragraph
			if err := tx.Select("id", "number").
				Where("document_id = ? AND version = ? AND id IN ?", d.ID, d.Version, ids).
				Order("number").Find(&ps).Error; err != nil {
				return err
			}
			if len(ps) != len(ids) {
				return ValidationError{"paragraph_ids": "Some of these paragraphs are not part of this document."}
			}
			first := ps[0].Number
			c.SortNumber = &first
		}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		links := make([]commentParagraph, len(ids))
		for i, id := range ids {
			links[i] = commentParagraph{CommentID: c.ID, ParagraphID: id}
		}
		return tx.Create(&links).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create comment: %w", err)
	}
	return c, nil
}

func closedError(d *Document, status string) error {
	const layout = "2 January 2006 15:04 UTC"
	switch {
	case status == DocumentUpcoming && d.OpensAt != nil:
		return public(ErrConflict, "This document opens for comments on %s.", d.OpensAt.UTC().Format(layout))
	case status == DocumentClosed && d.ClosesAt != nil:
		return public(ErrConflict, "This document closed for comments on %s.", d.ClosesAt.UTC().Format(layout))
	}
	return public(ErrConflict, "This document is not open for comments.")
}

func uniqueIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ParagraphIDsByNumbers maps paragraph numbers of a document's current
// version to ids. Unknown numbers are a ValidationError on field.
func (s *Store) ParagraphIDsByNumbers(ctx context.Context, d *Document, numbers []int, field string) ([]int64, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	if len(numbers) > MaxParagraphsPerComment {
		return nil, ValidationError{field: fmt.Sprintf("A comment can be on at most %d paragraphs.", MaxParagraphsPerComment)}
	}
	var ps []Paragraph
	if err := s.db.WithContext(ctx).Select("id", "number").
		Where("document_id = ? AND version = ? AND number IN ?", d.ID, d.Version, numbers).
		Order("number").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("paragraph ids: %w", err)
	}
	have := make(map[int]int64, len(ps))
	for _, p := range ps {
		have[p.Number] = p.ID
	}
	var missing []string
	ids := make([]int64, 0, len(numbers))
	for _, n := range numbers {
		id, ok := have[n]
		if !ok {
			missing = append(missing, fmt.Sprint(n))
			continue
		}
		ids = append(ids, id)
	}
	if len(missing) > 0 {
		return nil, ValidationError{field: "No paragraph numbered " + strings.Join(missing, ", ") + " in this document."}
	}
	return ids, nil
}

// visibleTo returns an SQL condition on comments aliased a and its arguments:
// moderators see everything; others see published comments that are not
// private, and their own.
func visibleTo(viewer *User, a string) (string, []any) {
	if viewer != nil && viewer.IsModerator() {
		return "1 = 1", nil
	}
	cond := "(" + a + ".status IN ? AND " + a + ".visibility <> ?)"
	args := []any{PublishedStatuses, VisibilityPrivate}
	if viewer != nil {
		cond = "(" + cond + " OR " + a + ".user_id = ?)"
		args = append(args, viewer.ID)
	}
	return cond, args
}

// CommentDetail is a comment with its author, paragraphs and document, as
// lists and pages need it.
type CommentDetail struct {
	Comment
	AuthorName        string
	AuthorAffiliation string
	AuthorGroup       string
	AuthorCountry     string
	AuthorEmail       string
	DocumentSlug      string
	DocumentTitle     string
	ParagraphIDs      []int64 `gorm:"-"`
	ParagraphNumbers  []int   `gorm:"-"`
}

// AuthorShownTo reports whether viewer may see who wrote the comment:
// moderators and the author always; others when the comment is public.
func (c *CommentDetail) AuthorShownTo(viewer *User) bool {
	if viewer != nil && (viewer.IsModerator() || viewer.ID == c.UserID) {
		return true
	}
	return c.Visibility == VisibilityPublic
}

// CommentFilter narrows a comment listing.
type CommentFilter struct {
	DocumentID  int64
	ParagraphID int64    // 0 for any
	Statuses    []string // empty for any the viewer may see
	UserID      int64    // 0 for any author
	CommentID   int64    // 0 for any
	AfterID     int64    // cursor: only ids greater than this
	Limit       int      // 0 for no limit
	OrderByID   bool     // oldest first by id, instead of document order
	Live        bool     // leave out comments their authors withdrew
}

const commentDetailSelect = `c.*, u.name AS author_name, u.affiliation AS author_affiliation,
	u.stakeholder_group AS author_group, u.country AS author_country, u.email AS author_email,
	d.slug AS document_slug, d.title AS document_title`

// Comments lists the comments viewer may see that match f, with their
// paragraphs, in two queries whatever their number.
func (s *Store) Comments(ctx context.Context, viewer *User, f CommentFilter) ([]CommentDetail, error) {
	vis, args := visibleTo(viewer, "c")
	q := s.db.WithContext(ctx).Table("comments c").Select(commentDetailSelect).
		Joins("JOIN users u ON u.id = c.user_id").
		Joins("JOIN documents d ON d.id = c.document_id").
		Where(vis, args...)
	if f.DocumentID != 0 {
		q = q.Where("c.document_id = ?", f.DocumentID)
	}
	if f.ParagraphID != 0 {
		q = q.Where("c.id IN (SELECT comment_id FROM comment_paragraphs WHERE paragraph_id = ?)", f.ParagraphID)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("c.status IN ?", f.Statuses)
	}
	if f.UserID != 0 {
		q = q.Where("c.user_id = ?", f.UserID)
	}
	if f.CommentID != 0 {
		q = q.Where("c.id = ?", f.CommentID)
	}
	if f.AfterID != 0 {
		q = q.Where("c.id > ?", f.AfterID)
	}
	if f.Live {
		q = q.Where("c.withdrawn_at IS NULL")
	}
	if f.OrderByID {
		q = q.Order("c.id")
	} else {
		q = q.Order("c.sort_number IS NULL, c.sort_number, c.id")
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []CommentDetail
	if err := q.Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	if err := s.attachParagraphs(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// attachParagraphs fills ParagraphIDs and ParagraphNumbers in one query.
func (s *Store) attachParagraphs(ctx context.Context, cs []CommentDetail) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	at := make(map[int64]int, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
		at[c.ID] = i
	}
	type link struct {
		CommentID   int64
		ParagraphID int64
		Number      int
	}
	var links []link
	// Chunk to stay under SQLite's bound-parameter limit on long lists.
	for start := 0; start < len(ids); start += 5000 {
		end := min(start+5000, len(ids))
		var part []link
		err := s.db.WithContext(ctx).Raw(`
			SELECT cp.comment_id, cp.paragraph_id, p.number
			FROM comment_paragraphs cp JOIN paragraphs p ON p.id = cp.paragraph_id
			WHERE cp.comment_id IN ?`, ids[start:end]).Scan(&part).Error
		if err != nil {
			return fmt.Errorf("comment paragraphs: %w", err)
		}
		links = append(links, part...)
	}
	sort.Slice(links, func(i, j int) bool {
		if links[i].CommentID != links[j].CommentID {
			return links[i].CommentID < links[j].CommentID
		}
		return links[i].Number < links[j].Number
	})
	for _, l := range links {
		c := &cs[at[l.CommentID]]
		c.ParagraphIDs = append(c.ParagraphIDs, l.ParagraphID)
		c.ParagraphNumbers = append(c.ParagraphNumbers, l.Number)
	}
	return nil
}

// CommentByID returns one comment if viewer may see it, else ErrNotFound.
func (s *Store) CommentByID(ctx context.Context, viewer *User, id int64) (*CommentDetail, error) {
	cs, err := s.Comments(ctx, viewer, CommentFilter{CommentID: id})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("comment %d: %w", id, ErrNotFound)
	}
	return &cs[0], nil
}

// ParagraphsByIDs returns paragraphs by id, in document order.
func (s *Store) ParagraphsByIDs(ctx context.Context, ids []int64) ([]Paragraph, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var ps []Paragraph
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("document_id, version, number").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("paragraphs by id: %w", err)
	}
	return ps, nil
}
