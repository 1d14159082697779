package handlers

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"margin/models"
	"margin/views"
)

// commentView turns a comment into what pages show, hiding the author of
// anonymous and private comments from those who may not see it.
func commentView(c *models.CommentDetail, viewer *models.User) views.CommentView {
	v := views.CommentView{
		ID:               c.ID,
		ParagraphNumbers: c.ParagraphNumbers,
		StakeholderGroup: models.StakeholderGroupLabel(c.AuthorGroup),
		BodyHTML:         template.HTML(models.RenderMarkdown(c.Body)), // #nosec G203 -- sanitised by bluemonday in RenderMarkdown
		Kind:             models.KindLabel(c.Kind),
		Visibility:       c.Visibility,
		Status:           c.Status,
		StatusLabel:      models.StatusLabel(c.Status),
		Response:         c.Response,
		CreatedAt:        c.CreatedAt,
		DecidedAt:        c.DecidedAt,
		DocumentSlug:     c.DocumentSlug,
		DocumentTitle:    c.DocumentTitle,
	}
	if c.Withdrawn() {
		v.Status, v.StatusLabel = models.StatusWithdrawn, "Withdrawn"
	}
	if c.ProposedText != "" {
		v.ProposedHTML = template.HTML(models.RenderMarkdown(c.ProposedText)) // #nosec G203 -- sanitised by bluemonday in RenderMarkdown
	}
	if c.AuthorShownTo(viewer) {
		v.AuthorName, v.Affiliation = c.AuthorName, c.AuthorAffiliation
	} else {
		v.Anonymous = true
	}
	if viewer != nil && viewer.IsModerator() {
		v.Country, v.Email = models.CountryName(c.AuthorCountry), c.AuthorEmail
	}
	return v
}

// documentSummary turns a listed document into its view at time now.
func documentSummary(d models.DocumentSummary, now time.Time) views.DocumentSummary {
	return views.DocumentSummary{
		Slug: d.Slug, Title: d.Title, Status: d.StatusAt(now), OpensAt: d.OpensAt, ClosesAt: d.ClosesAt,
		Version: d.Version, CommentCount: d.CommentCount, ParagraphCount: d.ParagraphCount,
	}
}

func documentView(d *models.Document, now time.Time) views.DocumentView {
	return views.DocumentView{Slug: d.Slug, Title: d.Title, Status: d.StatusAt(now), OpensAt: d.OpensAt, ClosesAt: d.ClosesAt, Version: d.Version}
}

// parseParagraphNumbers reads "37, 39-40" (also ¶ signs and spaces) into
// numbers. It stops expanding ranges past limit so "1-1000000" stays cheap;
// the caller reports too many.
func parseParagraphNumbers(s string, limit int) ([]int, bool) {
	var out []int
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	for _, f := range fields {
		f = strings.TrimLeft(strings.TrimSpace(f), "¶#p")
		if f == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.Atoi(strings.TrimLeft(lo, "¶#p"))
		if err != nil || a < 1 {
			return nil, false
		}
		b := a
		if isRange {
			b, err = strconv.Atoi(strings.TrimLeft(hi, "¶#p"))
			if err != nil || b < a {
				return nil, false
			}
		}
		for n := a; n <= b; n++ {
			out = append(out, n)
			if len(out) > limit {
				return out, true
			}
		}
	}
	return out, true
}
