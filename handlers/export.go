package handlers

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"margin/models"
)

// Export streams the comments of a document in the chosen statuses and
// format, in document order. It serves both the page link and the API.
func (h *Handler) Export(c echo.Context) error {
	ctx := c.Request().Context()
	format := c.QueryParam("format")
	if format == "" {
		format = "md"
	}
	if !slices.Contains(models.ExportFormats, format) {
		return models.ValidationError{"format": "Choose one of md, csv or json."}
	}
	statuses, err := models.ExportStatuses(c.QueryParams()["status"])
	if err != nil {
		return err
	}
	d, err := h.store.DocumentBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	res := c.Response()
	ew, err := models.NewExportWriter(format, res)
	if err != nil {
		return err
	}
	started := false
	begin := func() error {
		if started {
			return nil
		}
		started = true
		res.Header().Set(echo.HeaderContentType, models.ExportContentType(format))
		res.Header().Set(echo.HeaderContentDisposition,
			fmt.Sprintf(`attachment; filename="%s-comments.%s"`, d.Slug, models.ExportExtension(format)))
		res.WriteHeader(http.StatusOK)
		return ew.Begin(models.ExportMeta{
			DocumentSlug: d.Slug, DocumentTitle: d.Title, Version: d.Version,
			Statuses: statuses, GeneratedAt: h.store.Now(),
		})
	}
	err = h.store.StreamExport(ctx, currentUser(c), d, statuses, func(r models.ExportRow) error {
		if err := begin(); err != nil {
			return err
		}
		return ew.Row(r)
	})
	if err != nil {
		if started {
			// Headers are gone; all we can do is log and cut the stream.
			h.log.Error("export interrupted", "document", d.Slug, "err", err)
			return nil
		}
		return err
	}
	if err := begin(); err != nil {
		return err
	}
	return ew.End()
}
