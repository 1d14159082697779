package handlers

import (
	"time"

	"margin/models"
)

// JSON shapes of the API (see ../shared/API.md and the OpenAPI file).

type userJSON struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	Email            string    `json:"email"`
	Affiliation      string    `json:"affiliation"`
	StakeholderGroup string    `json:"stakeholder_group"`
	Country          string    `json:"country"`
	Role             string    `json:"role"`
	EmailVerified    bool      `json:"email_verified"`
	CreatedAt        time.Time `json:"created_at"`
}

func toUserJSON(u *models.User) userJSON {
	return userJSON{
		ID: u.ID, Name: u.Name, Email: u.Email, Affiliation: u.Affiliation,
		StakeholderGroup: u.StakeholderGroup, Country: u.Country, Role: u.Role,
		EmailVerified: u.Verified(), CreatedAt: u.CreatedAt,
	}
}

type documentJSON struct {
	ID           int64           `json:"id"`
	Slug         string          `json:"slug"`
	Title        string          `json:"title"`
	Status       string          `json:"status"`
	OpensAt      *time.Time      `json:"opens_at"`
	ClosesAt     *time.Time      `json:"closes_at"`
	Version      int             `json:"version"`
	CommentCount *int64          `json:"comment_count,omitempty"`
	Paragraphs   []paragraphJSON `json:"paragraphs,omitempty"`
}

type paragraphJSON struct {
	ID           int64  `json:"id"`
	Number       int    `json:"number"`
	Kind         string `json:"kind"`
	Level        int    `json:"level"`
	Text         string `json:"text"`
	CommentCount int64  `json:"comment_count"`
}

func toDocumentJSON(d *models.Document, now time.Time) documentJSON {
	return documentJSON{
		ID: d.ID, Slug: d.Slug, Title: d.Title, Status: d.StatusAt(now),
		OpensAt: d.OpensAt, ClosesAt: d.ClosesAt, Version: d.Version,
	}
}

type authorJSON struct {
	Name             string `json:"name"`
	Affiliation      string `json:"affiliation"`
	StakeholderGroup string `json:"stakeholder_group"`
	Country          string `json:"country,omitempty"` // moderators only
	Email            string `json:"email,omitempty"`   // moderators only
}

type commentJSON struct {
	ID               int64       `json:"id"`
	DocumentSlug     string      `json:"document"`
	ParagraphIDs     []int64     `json:"paragraph_ids"`
	ParagraphNumbers []int       `json:"paragraph_numbers"`
	Author           *authorJSON `json:"author"`
	StakeholderGroup string      `json:"stakeholder_group"`
	Body             string      `json:"body"`
	ProposedText     string      `json:"proposed_text"`
	Kind             string      `json:"kind"`
	Visibility       string      `json:"visibility"`
	Status           string      `json:"status"`
	Response         string      `json:"response"`
	CreatedAt        time.Time   `json:"created_at"`
	DecidedAt        *time.Time  `json:"decided_at"`
	WithdrawnAt      *time.Time  `json:"withdrawn_at"` // set when the author withdrew it
}

// toCommentJSON hides the author where viewer may not see them; the
// stakeholder group stays, as anonymous comments are shown by group.
func toCommentJSON(c *models.CommentDetail, viewer *models.User) commentJSON {
	out := commentJSON{
		ID: c.ID, DocumentSlug: c.DocumentSlug, ParagraphIDs: c.ParagraphIDs, ParagraphNumbers: c.ParagraphNumbers,
		StakeholderGroup: c.AuthorGroup, Body: c.Body, ProposedText: c.ProposedText, Kind: c.Kind,
		Visibility: c.Visibility, Status: c.Status, Response: c.Response, CreatedAt: c.CreatedAt, DecidedAt: c.DecidedAt,
		WithdrawnAt: c.WithdrawnAt,
	}
	if out.ParagraphIDs == nil {
		out.ParagraphIDs, out.ParagraphNumbers = []int64{}, []int{}
	}
	if c.AuthorShownTo(viewer) {
		out.Author = &authorJSON{Name: c.AuthorName, Affiliation: c.AuthorAffiliation, StakeholderGroup: c.AuthorGroup}
		if viewer != nil && viewer.IsModerator() {
			out.Author.Country, out.Author.Email = c.AuthorCountry, c.AuthorEmail
		}
	}
	return out
}
