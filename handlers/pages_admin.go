package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"margin/models"
	"margin/views"
)

// Admin shows users (admins only) and documents with the import form.
func (h *Handler) Admin(c echo.Context) error {
	return h.renderAdmin(c, http.StatusOK, views.ImportForm{Format: models.FormatMarkdown}, nil)
}

func (h *Handler) renderAdmin(c echo.Context, code int, form views.ImportForm, errs map[string]string) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	p := views.AdminPage{Page: PageBase(c, "Administration"), Roles: toViewOptions(models.Roles), Form: form, Errors: errs}
	if u.IsAdmin() {
		us, err := h.store.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, x := range us {
			p.Users = append(p.Users, views.UserRow{
				ID: x.ID, Name: x.Name, Email: x.Email, Role: x.Role, Affiliation: x.Affiliation,
				StakeholderGroup: models.StakeholderGroupLabel(x.StakeholderGroup), Country: models.CountryName(x.Country),
				Verified: x.Verified(), CreatedAt: x.CreatedAt,
			})
		}
	}
	ds, err := h.store.ListDocuments(ctx, u)
	if err != nil {
		return err
	}
	now := h.store.Now()
	for _, d := range ds {
		p.Documents = append(p.Documents, documentSummary(d, now))
	}
	return h.render(c, code, "admin", p)
}

// SetRole changes a user's role (admins only). Users are loaded afresh on
// every request, so the new rights apply at once.
func (h *Handler) SetRole(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	ctx := c.Request().Context()
	if err := h.store.SetRole(ctx, currentUser(c), id, role); err != nil {
		var pe *models.PublicError
		if errors.As(err, &pe) {
			addFlash(c, pe.Message)
			return h.redirect(c, "/admin")
		}
		return err
	}
	addFlash(c, fmt.Sprintf("Role of user #%d changed to %s.", id, models.RoleLabel(role)))
	return h.redirect(c, "/admin")
}

// ImportDocument creates a document from the admin page's form: pasted
// source or an uploaded .md, .txt or .docx file.
func (h *Handler) ImportDocument(c echo.Context) error {
	form := views.ImportForm{
		Title: c.FormValue("title"), Slug: c.FormValue("slug"), Format: c.FormValue("format"),
		Source: c.FormValue("source"), OpensAt: c.FormValue("opens_at"), ClosesAt: c.FormValue("closes_at"),
	}
	n, errs := importFromForm(c, form)
	if len(errs) > 0 {
		code := http.StatusUnprocessableEntity
		if errs["file"] == msgFileTooLarge {
			code = http.StatusRequestEntityTooLarge
		}
		return h.renderAdmin(c, code, form, errs)
	}
	d, err := h.store.CreateDocument(c.Request().Context(), currentUser(c), n)
	var v models.ValidationError
	var pe *models.PublicError
	var tl *models.TooLargeError
	switch {
	case errors.As(err, &v):
		return h.renderAdmin(c, http.StatusUnprocessableEntity, form, v)
	case errors.As(err, &tl):
		return h.renderAdmin(c, http.StatusRequestEntityTooLarge, form, map[string]string{tl.Field: tl.Message})
	case errors.As(err, &pe) && errors.Is(err, models.ErrConflict):
		return h.renderAdmin(c, http.StatusConflict, form, map[string]string{"slug": pe.Message})
	case err != nil:
		return err
	}
	addFlash(c, "Document published.")
	return h.redirect(c, "/documents/"+d.Slug)
}

// importFromForm reads the import fields shared by the page and the API's
// multipart form.
func importFromForm(c echo.Context, f views.ImportForm) (models.NewDocument, models.ValidationError) {
	v := models.ValidationError{}
	n := models.NewDocument{Title: f.Title, Slug: f.Slug, Format: f.Format, Source: f.Source}
	var err error
	if n.OpensAt, err = parseFormTime(f.OpensAt); err != nil {
		v["opens_at"] = "Use a date and time like 2026-12-21T12:00."
	}
	if n.ClosesAt, err = parseFormTime(f.ClosesAt); err != nil {
		v["closes_at"] = "Use a date and time like 2026-12-21T12:00."
	}
	fh, err := c.FormFile("file")
	switch {
	case errors.Is(err, http.ErrMissingFile), errors.Is(err, http.ErrNotMultipart):
		if n.Format == "" {
			n.Format = models.FormatMarkdown
		}
	case err != nil:
		v["file"] = "The upload could not be read."
	default:
		format, data, msg := readUpload(fh)
		if msg != "" {
			v["file"] = msg
			break
		}
		n.Format = format
		if format == models.FormatDOCX {
			n.File = data
		} else {
			n.Source = string(data)
		}
		if n.Title == "" {
			n.Title = strings.TrimSuffix(fh.Filename, filepath.Ext(fh.Filename))
		}
	}
	return n, v
}

// Upload errors the API answers with 415 and 413.
const msgUnsupportedFile = "Upload a Markdown (.md), plain text (.txt) or Word (.docx) file."

var msgFileTooLarge = fmt.Sprintf("The file is larger than %d MiB.", models.MaxSourceBytes>>20)

// readUpload returns the format and bytes of an uploaded document, or a
// message saying what is wrong with it.
func readUpload(fh *multipart.FileHeader) (string, []byte, string) {
	var format string
	switch strings.ToLower(filepath.Ext(fh.Filename)) {
	case ".md", ".markdown":
		format = models.FormatMarkdown
	case ".txt", ".text":
		format = models.FormatText
	case ".docx":
		format = models.FormatDOCX
	default:
		return "", nil, msgUnsupportedFile
	}
	if fh.Size > models.MaxSourceBytes {
		return "", nil, msgFileTooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, "The upload could not be read."
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, models.MaxSourceBytes+1))
	if err != nil {
		return "", nil, "The upload could not be read."
	}
	return format, data, ""
}

// parseFormTime reads a datetime-local value (taken as UTC) or RFC 3339.
func parseFormTime(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("bad time %q", s)
}
