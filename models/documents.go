package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
)

// Document statuses, derived from the comment window and the clock.
const (
	DocumentOpen     = "open"
	DocumentUpcoming = "upcoming"
	DocumentClosed   = "closed"
)

// Source formats.
const (
	FormatMarkdown = "markdown"
	FormatText     = "text"
	FormatDOCX     = "docx"
)

// Document limits.
const (
	MaxTitleLength     = 300
	MaxSourceBytes     = 5 << 20
	MaxParagraphs      = 10000
	MaxSlugLength      = 80
	slugPatternMessage = "Use lower-case letters, digits and hyphens, starting with a letter or digit."
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Document is a draft published for comment.
type Document struct {
	ID        int64
	Slug      string
	Title     string
	Format    string
	Version   int
	OpensAt   *time.Time
	ClosesAt  *time.Time
	CreatedBy *int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// StatusAt returns open, upcoming or closed at time now. A missing opening
// time means open from publication; a missing closing time, open until
// closed.
func (d *Document) StatusAt(now time.Time) string {
	switch {
	case d.OpensAt != nil && now.Before(*d.OpensAt):
		return DocumentUpcoming
	case d.ClosesAt != nil && !now.Before(*d.ClosesAt):
		return DocumentClosed
	}
	return DocumentOpen
}

// Paragraph is one numbered block of one version of a document.
type Paragraph struct {
	ID         int64
	DocumentID int64
	Version    int
	Number     int
	Kind       string
	Level      int
	SourceText string
	HTML       string
	Signature  string
}

// NewDocument is what an import asks for. Source holds Markdown or text;
// File holds the bytes of an uploaded .docx when Format is docx.
type NewDocument struct {
	Title    string
	Slug     string
	Format   string
	Source   string
	File     []byte
	OpensAt  *time.Time
	ClosesAt *time.Time
}

// Slugify derives a URL slug from a title.
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(title)) {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r):
			// accents dropped after NFKD decomposition
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= MaxSlugLength {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// split validates the new document and turns its source into paragraphs.
func (n *NewDocument) split() ([]SplitParagraph, error) {
	v := ValidationError{}
	n.Title = strings.TrimSpace(n.Title)
	checkText(v, "title", n.Title, MaxTitleLength, true)
	if _, ok := v["title"]; !ok && strings.ContainsAny(n.Title, "\r\n") {
		v["title"] = "The title must be on one line."
	}
	n.Slug = strings.TrimSpace(n.Slug)
	if n.Slug == "" {
		n.Slug = Slugify(n.Title)
	}
	switch {
	case n.Slug == "" && v["title"] == "":
		v["slug"] = "Choose a slug: the title has no letters or digits to make one from."
	case n.Slug != "" && (len(n.Slug) > MaxSlugLength || !slugPattern.MatchString(n.Slug)):
		v["slug"] = slugPatternMessage
	}
	if n.OpensAt != nil && n.ClosesAt != nil && !n.OpensAt.Before(*n.ClosesAt) {
		v["closes_at"] = "The closing time must be after the opening time."
	}
	if n.Format == "" {
		n.Format = FormatMarkdown
	}
	source := n.Source
	switch n.Format {
	case FormatMarkdown, FormatText:
		if len(source) > MaxSourceBytes {
			return nil, &TooLargeError{Field: "source", Message: fmt.Sprintf("The document is larger than %d MiB.", MaxSourceBytes>>20)}
		}
		checkText(v, "source", source, MaxSourceBytes, true)
		if v["source"] == "" && strings.TrimSpace(source) == "" {
			v["source"] = "The document is empty."
		}
	case FormatDOCX:
		if len(n.File) > MaxSourceBytes {
			return nil, &TooLargeError{Field: "file", Message: fmt.Sprintf("The file is larger than %d MiB.", MaxSourceBytes>>20)}
		}
		md, err := DocxToMarkdown(n.File)
		if err != nil {
			v["file"] = "This is not a Word document (.docx) that can be read."
			break
		}
		source = md
	default:
		v["format"] = "Choose Markdown, plain text or a .docx file."
	}
	if len(v) > 0 {
		return nil, v
	}
	var ps []SplitParagraph
	if n.Format == FormatText {
		ps = SplitText(source)
	} else {
		ps = SplitMarkdown(source)
	}
	switch {
	case len(ps) == 0:
		v["source"] = "The document has no paragraphs with text."
	case len(ps) > MaxParagraphs:
		v["source"] = fmt.Sprintf("The document has more than %d paragraphs.", MaxParagraphs)
	}
	return ps, v.errOrNil()
}

// CreateDocument validates, splits and stores a new document as version 1.
func (s *Store) CreateDocument(ctx context.Context, actor *User, n NewDocument) (*Document, error) {
	if actor == nil || !actor.IsModerator() {
		return nil, ErrForbidden
	}
	ps, err := n.split()
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &Document{
		Slug: n.Slug, Title: n.Title, Format: n.Format, Version: 1,
		OpensAt: utcPtr(n.OpensAt), ClosesAt: utcPtr(n.ClosesAt),
		CreatedAt: now, UpdatedAt: now,
	}
	if actor.ID != 0 {
		d.CreatedBy = &actor.ID
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(d).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return public(ErrConflict, "A document with the slug %q already exists.", d.Slug)
			}
			return err
		}
		rows := make([]Paragraph, len(ps))
		for i, p := range ps {
			rows[i] = Paragraph{
				DocumentID: d.ID, Version: d.Version, Number: i + 1, Kind: p.Kind, Level: p.Level,
				SourceText: p.Text, HTML: p.HTML, Signature: p.Signature,
			}
		}
		return tx.CreateInBatches(rows, 200).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create document: %w", err)
	}
	return d, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// DocumentBySlug loads a document.
func (s *Store) DocumentBySlug(ctx context.Context, slug string) (*Document, error) {
	// Only well-formed slugs reach the database: PostgreSQL refuses NUL
	// bytes and invalid UTF-8 with an error, SQLite would just miss.
	if len(slug) > MaxSlugLength || !slugPattern.MatchString(slug) {
		return nil, fmt.Errorf("document %q: %w", slug, ErrNotFound)
	}
	var d Document
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).First(&d).Error; err != nil {
		return nil, fmt.Errorf("document %q: %w", slug, notFound(err))
	}
	return &d, nil
}

// Now returns the store's clock reading, so callers judge windows alike.
func (s *Store) Now() time.Time { return s.now() }

// DocumentSummary is a document with its counts, for lists.
type DocumentSummary struct {
	Document
	CommentCount   int64
	ParagraphCount int64
}

// ListDocuments returns every document with the number of paragraphs of its
// current version and of comments the viewer may see, newest first.
func (s *Store) ListDocuments(ctx context.Context, viewer *User) ([]DocumentSummary, error) {
	vis, args := visibleTo(viewer, "c")
	var out []DocumentSummary
	err := s.db.WithContext(ctx).Raw(`
		SELECT d.*,
		  (SELECT COUNT(*) FROM paragraphs p WHERE p.document_id = d.id AND p.version = d.version) AS paragraph_count,
		  (SELECT COUNT(*) FROM comments c WHERE c.document_id = d.id AND c.status <> 'spam' AND c.withdrawn_at IS NULL AND `+vis+`) AS comment_count
		FROM documents d ORDER BY d.created_at DESC, d.id DESC`, args...).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return out, nil
}

// Paragraphs returns the paragraphs of a document's current version in order.
func (s *Store) Paragraphs(ctx context.Context, d *Document) ([]Paragraph, error) {
	var ps []Paragraph
	err := s.db.WithContext(ctx).Where("document_id = ? AND version = ?", d.ID, d.Version).Order("number").Find(&ps).Error
	if err != nil {
		return nil, fmt.Errorf("paragraphs: %w", err)
	}
	return ps, nil
}

// ParagraphCommentCounts returns, per paragraph id of the document, how many
// comments the viewer may see on it, in one query.
func (s *Store) ParagraphCommentCounts(ctx context.Context, d *Document, viewer *User) (map[int64]int64, error) {
	vis, args := visibleTo(viewer, "c")
	type row struct {
		ParagraphID int64
		N           int64
	}
	var rows []row
	err := s.db.WithContext(ctx).Raw(`
		SELECT cp.paragraph_id, COUNT(*) AS n
		FROM comment_paragraphs cp JOIN comments c ON c.id = cp.comment_id
		WHERE c.document_id = ? AND c.status <> 'spam' AND c.withdrawn_at IS NULL AND `+vis+`
		GROUP BY cp.paragraph_id`, append([]any{d.ID}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("paragraph comment counts: %w", err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.ParagraphID] = r.N
	}
	return out, nil
}
