package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"margin/models"
	"margin/views"
)

// APIDocuments lists documents with the number of comments the caller may see.
func (h *Handler) APIDocuments(c echo.Context) error {
	ds, err := h.store.ListDocuments(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	now := h.store.Now()
	out := make([]documentJSON, len(ds))
	for i := range ds {
		out[i] = toDocumentJSON(&ds[i].Document, now)
		n := ds[i].CommentCount
		out[i].CommentCount = &n
	}
	return c.JSON(http.StatusOK, out)
}

// APIDocument returns a document with its paragraphs.
func (h *Handler) APIDocument(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.store.DocumentBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	return h.documentJSON(c, http.StatusOK, d)
}

func (h *Handler) documentJSON(c echo.Context, code int, d *models.Document) error {
	ctx := c.Request().Context()
	ps, err := h.store.Paragraphs(ctx, d)
	if err != nil {
		return err
	}
	counts, err := h.store.ParagraphCommentCounts(ctx, d, currentUser(c))
	if err != nil {
		return err
	}
	out := toDocumentJSON(d, h.store.Now())
	out.Paragraphs = make([]paragraphJSON, len(ps))
	for i, p := range ps {
		out.Paragraphs[i] = paragraphJSON{ID: p.ID, Number: p.Number, Kind: p.Kind, Level: p.Level, Text: p.SourceText, CommentCount: counts[p.ID]}
	}
	return c.JSON(code, out)
}

type documentBody struct {
	Title    string     `json:"title"`
	Slug     string     `json:"slug"`
	Format   string     `json:"format"`
	Source   string     `json:"source"`
	OpensAt  *time.Time `json:"opens_at"`
	ClosesAt *time.Time `json:"closes_at"`
}

// APICreateDocument publishes a document from JSON or a multipart upload.
func (h *Handler) APICreateDocument(c echo.Context) error {
	var n models.NewDocument
	ct := strings.ToLower(c.Request().Header.Get(echo.HeaderContentType))
	switch {
	case strings.HasPrefix(ct, echo.MIMEApplicationJSON):
		var b documentBody
		if err := c.Bind(&b); err != nil {
			return badRequest(err)
		}
		n = models.NewDocument{Title: b.Title, Slug: b.Slug, Format: b.Format, Source: b.Source, OpensAt: b.OpensAt, ClosesAt: b.ClosesAt}
	case strings.HasPrefix(ct, echo.MIMEMultipartForm):
		form := views.ImportForm{
			Title: c.FormValue("title"), Slug: c.FormValue("slug"), Format: c.FormValue("format"),
			Source: c.FormValue("source"), OpensAt: c.FormValue("opens_at"), ClosesAt: c.FormValue("closes_at"),
		}
		var v models.ValidationError
		if n, v = importFromForm(c, form); len(v) > 0 {
			switch v["file"] {
			case msgUnsupportedFile:
				return echo.NewHTTPError(http.StatusUnsupportedMediaType, msgUnsupportedFile)
			case msgFileTooLarge:
				return &models.TooLargeError{Field: "file", Message: msgFileTooLarge}
			}
			return v
		}
	default:
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send application/json or multipart/form-data.")
	}
	d, err := h.store.CreateDocument(c.Request().Context(), currentUser(c), n)
	if err != nil {
		return err
	}
	return h.documentJSON(c, http.StatusCreated, d)
}
