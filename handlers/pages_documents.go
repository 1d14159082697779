package handlers

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"margin/models"
	"margin/views"
)

// Home lists the documents, open ones first.
func (h *Handler) Home(c echo.Context) error {
	ds, err := h.store.ListDocuments(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	p := views.HomePage{Page: PageBase(c, "Documents open for comment")}
	now := h.store.Now()
	for _, d := range ds {
		v := documentSummary(d, now)
		if v.Status == models.DocumentOpen {
			p.Open = append(p.Open, v)
		} else {
			p.Others = append(p.Others, v)
		}
	}
	return h.render(c, http.StatusOK, "home", p)
}

// commentForm is the document page's comment form.
type commentForm struct {
	Paragraphs   string `form:"paragraphs"`
	Body         string `form:"body"`
	ProposedText string `form:"proposed_text"`
	Kind         string `form:"kind"`
	Visibility   string `form:"visibility"`
}

func (f commentForm) view() views.CommentForm {
	return views.CommentForm{Paragraphs: f.Paragraphs, Body: f.Body, ProposedText: f.ProposedText, Kind: f.Kind, Visibility: f.Visibility}
}

// ShowDocument shows a document's numbered paragraphs with their published
// comments and the comment form. It runs a fixed number of queries, however
// many paragraphs and comments there are.
func (h *Handler) ShowDocument(c echo.Context) error {
	form := commentForm{Paragraphs: c.QueryParam("p"), Kind: models.CommentGeneral, Visibility: models.VisibilityPublic}
	return h.renderDocument(c, http.StatusOK, form, nil)
}

func (h *Handler) renderDocument(c echo.Context, code int, form commentForm, errs map[string]string) error {
	ctx := c.Request().Context()
	viewer := currentUser(c)
	d, err := h.store.DocumentBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	ps, err := h.store.Paragraphs(ctx, d)
	if err != nil {
		return err
	}
	counts, err := h.store.ParagraphCommentCounts(ctx, d, viewer)
	if err != nil {
		return err
	}
	cs, err := h.store.Comments(ctx, viewer, models.CommentFilter{
		DocumentID: d.ID,
		Statuses:   []string{models.StatusPending, models.StatusAccepted, models.StatusDeferred, models.StatusRejected},
	})
	if err != nil {
		return err
	}
	now := h.store.Now()
	p := views.DocumentPage{
		Page:          PageBase(c, d.Title),
		Document:      documentView(d, now),
		Form:          form.view(),
		Errors:        errs,
		Kinds:         toViewOptions(models.CommentKinds),
		Visibilities:  toViewOptions(models.Visibilities),
		ExportFormats: exportFormatOptions(),
		MaxBody:       models.MaxBodyLength,
		MaxProposed:   models.MaxProposedLength,
		MaxParagraphs: models.MaxParagraphsPerComment,
		CanModerate:   viewer != nil && viewer.IsModerator(),
	}
	p.CanComment, p.CommentBlocked = h.canComment(viewer, d, now)
	byParagraph := make(map[int64][]views.CommentView)
	for i := range cs {
		v := commentView(&cs[i], viewer)
		if len(cs[i].ParagraphIDs) == 0 {
			p.GeneralComments = append(p.GeneralComments, v)
			continue
		}
		for _, pid := range cs[i].ParagraphIDs {
			byParagraph[pid] = append(byParagraph[pid], v)
		}
	}
	p.Paragraphs = make([]views.ParagraphView, len(ps))
	for i, para := range ps {
		p.Paragraphs[i] = views.ParagraphView{
			ID: para.ID, Number: para.Number, Kind: para.Kind, Level: para.Level,
			HTML:         template.HTML(para.HTML), // #nosec G203 -- sanitised by bluemonday when the document was split
			CommentCount: counts[para.ID],
			Comments:     byParagraph[para.ID],
		}
		if para.Kind == models.KindHeading {
			p.TOC = append(p.TOC, views.TOCEntry{Number: para.Number, Level: para.Level, Text: para.SourceText})
		}
	}
	return h.render(c, code, "document", p)
}

// canComment says whether viewer may comment on d now, and if not, why.
func (h *Handler) canComment(viewer *models.User, d *models.Document, now time.Time) (bool, string) {
	switch st := d.StatusAt(now); {
	case st == models.DocumentUpcoming:
		return false, "This document opens for comments on " + fmtUTC(d.OpensAt) + "."
	case st == models.DocumentClosed:
		return false, "This document closed for comments on " + fmtUTC(d.ClosesAt) + "."
	case viewer == nil:
		return false, "Sign in or register to comment."
	case h.cfg.RequireVerifiedEmail && !viewer.Verified():
		return false, "Confirm your e-mail address to comment: follow the link in the mail we sent you."
	}
	return true, ""
}

func fmtUTC(t *time.Time) string {
	if t == nil {
		return "an unset date"
	}
	return t.UTC().Format("2 January 2006 15:04 UTC")
}

// SubmitComment stores a pending comment from the document page's form.
func (h *Handler) SubmitComment(c echo.Context) error {
	var f commentForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	ctx := c.Request().Context()
	d, err := h.store.DocumentBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	numbers, ok := parseParagraphNumbers(f.Paragraphs, models.MaxParagraphsPerComment)
	if !ok {
		return h.renderDocument(c, http.StatusUnprocessableEntity, f, map[string]string{"paragraphs": "Write paragraph numbers like 37, 39-40."})
	}
	ids, err := h.store.ParagraphIDsByNumbers(ctx, d, numbers, "paragraphs")
	if err == nil {
		_, err = h.store.CreateComment(ctx, currentUser(c), d, models.NewComment{
			ParagraphIDs: ids, Body: f.Body, ProposedText: f.ProposedText, Kind: f.Kind, Visibility: f.Visibility,
		}, h.commentPolicy())
	}
	var v models.ValidationError
	var pe *models.PublicError
	switch {
	case errors.As(err, &v):
		if msg, ok := v["paragraph_ids"]; ok {
			v["paragraphs"] = msg
		}
		return h.renderDocument(c, http.StatusUnprocessableEntity, f, v)
	case errors.As(err, &pe) && (errors.Is(err, models.ErrConflict) || errors.Is(err, models.ErrForbidden)):
		code := http.StatusConflict
		if errors.Is(err, models.ErrForbidden) {
			code = http.StatusForbidden
		}
		return h.renderDocument(c, code, f, map[string]string{"form": pe.Message})
	case err != nil:
		return err
	}
	h.commentCreated()
	addFlash(c, "Thank you. Your comment was received and waits for the moderators. Follow it under My comments.")
	return h.redirect(c, fmt.Sprintf("/documents/%s#comment-form", d.Slug))
}

func (h *Handler) commentPolicy() models.CommentPolicy {
	return models.CommentPolicy{RequireVerifiedEmail: h.cfg.RequireVerifiedEmail, Limits: h.cfg.Limits.Comments}
}

// MyComments lists the signed-in user's comments with their outcomes.
func (h *Handler) MyComments(c echo.Context) error {
	u := currentUser(c)
	cs, err := h.store.Comments(c.Request().Context(), u, models.CommentFilter{UserID: u.ID, OrderByID: true})
	if err != nil {
		return err
	}
	p := views.MyCommentsPage{Page: PageBase(c, "My comments")}
	for i := len(cs) - 1; i >= 0; i-- { // newest first
		p.Comments = append(p.Comments, commentView(&cs[i], u))
	}
	return h.render(c, http.StatusOK, "my_comments", p)
}

func exportFormatOptions() []views.Option {
	labels := map[string]string{"md": "Markdown", "csv": "CSV (spreadsheet)", "json": "JSON"}
	out := make([]views.Option, 0, len(models.ExportFormats))
	for _, f := range models.ExportFormats {
		out = append(out, views.Option{Value: f, Label: labels[f]})
	}
	return out
}

// pathID reads a numeric path parameter; anything else is 404.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id < 1 {
		return 0, models.ErrNotFound
	}
	return id, nil
}
