package handlers

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"margin/models"
	"margin/views"
)

// Moderation shows the queue: comments of one status, oldest first, each
// beside the paragraphs it refers to.
func (h *Handler) Moderation(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	slug, status := c.QueryParam("document"), c.QueryParam("status")
	if status == "" {
		status = models.StatusPending
	}
	f, err := h.queueFilter(c)
	if err != nil {
		return err
	}
	cs, next, err := h.store.Queue(ctx, u, f)
	if err != nil {
		return err
	}
	ds, err := h.store.ListDocuments(ctx, u)
	if err != nil {
		return err
	}
	refs, err := h.paragraphRefs(c, cs)
	if err != nil {
		return err
	}
	p := views.ModerationPage{
		Page: PageBase(c, "Moderation"), Statuses: toViewOptions(models.Statuses),
		Document: slug, Status: status,
	}
	for _, d := range ds {
		p.Documents = append(p.Documents, views.Option{Value: d.Slug, Label: d.Title})
	}
	for i := range cs {
		item := views.QueueItem{Comment: commentView(&cs[i], u)}
		for _, pid := range cs[i].ParagraphIDs {
			item.Paragraphs = append(item.Paragraphs, refs[pid])
		}
		p.Items = append(p.Items, item)
	}
	if next != 0 {
		p.NextCursor = strconv.FormatInt(next, 10)
	}
	return h.render(c, http.StatusOK, "moderation", p)
}

// queueFilter reads the queue's query parameters, shared by the page and
// the API: document, status, cursor and limit.
func (h *Handler) queueFilter(c echo.Context) (models.QueueFilter, error) {
	f := models.QueueFilter{Status: c.QueryParam("status"), Limit: h.cfg.Limits.QueuePageSize}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return f, models.ValidationError{"limit": "Use a number from 1 to 200."}
		}
		f.Limit = n
	}
	if slug := c.QueryParam("document"); slug != "" {
		d, err := h.store.DocumentBySlug(c.Request().Context(), slug)
		if err != nil {
			return f, err
		}
		f.DocumentID = d.ID
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		id, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || id < 0 {
			return f, models.ValidationError{"cursor": "Not a cursor from this site."}
		}
		f.AfterID = id
	}
	return f, nil
}

// paragraphRefs loads the paragraphs of a page of comments in one query.
func (h *Handler) paragraphRefs(c echo.Context, cs []models.CommentDetail) (map[int64]views.ParagraphRef, error) {
	var ids []int64
	for _, cm := range cs {
		ids = append(ids, cm.ParagraphIDs...)
	}
	ps, err := h.store.ParagraphsByIDs(c.Request().Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]views.ParagraphRef, len(ps))
	for _, p := range ps {
		out[p.ID] = views.ParagraphRef{Number: p.Number, HTML: template.HTML(p.HTML)} // #nosec G203 -- sanitised by bluemonday when the document was split
	}
	return out, nil
}

// ShowComment shows one comment with its paragraphs; moderators also see
// its audit log and the decision form. Authors see their own comment.
func (h *Handler) ShowComment(c echo.Context) error {
	return h.renderComment(c, http.StatusOK, "", nil)
}

func (h *Handler) renderComment(c echo.Context, code int, response string, errs map[string]string) error {
	return h.renderCommentWith(c, code, response, nil, errs)
}

// renderCommentWith renders the comment page; edit, when not nil, refills
// the author's edit form after a refused change.
func (h *Handler) renderCommentWith(c echo.Context, code int, response string, edit *commentForm, errs map[string]string) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	cm, err := h.store.CommentByID(ctx, u, id)
	if err != nil {
		return err
	}
	refs, err := h.paragraphRefs(c, []models.CommentDetail{*cm})
	if err != nil {
		return err
	}
	p := views.CommentPage{
		Page: PageBase(c, "Comment #"+strconv.FormatInt(cm.ID, 10)), Comment: commentView(cm, u),
		Response: response, Errors: errs,
	}
	for _, pid := range cm.ParagraphIDs {
		p.Paragraphs = append(p.Paragraphs, refs[pid])
	}
	if u != nil && u.ID == cm.UserID && cm.Status == models.StatusPending && !cm.Withdrawn() {
		p.CanEdit = true
		p.Kinds, p.Visibilities = toViewOptions(models.CommentKinds), toViewOptions(models.Visibilities)
		p.MaxBody, p.MaxProposed = models.MaxBodyLength, models.MaxProposedLength
		p.Form = views.CommentForm{Body: cm.Body, ProposedText: cm.ProposedText, Kind: cm.Kind, Visibility: cm.Visibility}
		if edit != nil {
			p.Form = edit.view()
		}
	}
	if u != nil && u.IsModerator() && !cm.Withdrawn() {
		ds, err := h.store.Decisions(ctx, u, cm.ID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			p.Decisions = append(p.Decisions, views.DecisionView{
				At: d.CreatedAt, Actor: d.ActorName, From: models.StatusLabel(d.FromStatus),
				To: models.StatusLabel(d.ToStatus), Response: d.Response,
			})
		}
		for _, s := range models.AllowedMoves(cm.Status) {
			p.Moves = append(p.Moves, views.Option{Value: s, Label: models.StatusLabel(s)})
		}
		p.CanDecide = len(p.Moves) > 0
		if response == "" {
			p.Response = cm.Response
		}
	}
	return h.render(c, code, "comment", p)
}

type decisionForm struct {
	Status   string `form:"status" json:"status"`
	Response string `form:"response" json:"response"`
	Return   string `form:"return"`
}

// Decide records a moderator's decision and returns to the queue or the
// comment page.
func (h *Handler) Decide(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var f decisionForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	_, err = h.store.Decide(c.Request().Context(), currentUser(c), id, f.Status, f.Response)
	var v models.ValidationError
	var pe *models.PublicError
	switch {
	case errors.As(err, &v):
		return h.renderComment(c, http.StatusUnprocessableEntity, f.Response, v)
	case errors.Is(err, models.ErrInvalidTransition) && errors.As(err, &pe):
		return h.renderComment(c, http.StatusConflict, f.Response, map[string]string{"status": pe.Message})
	case err != nil:
		return err
	}
	addFlash(c, "Decision recorded for comment #"+strconv.FormatInt(id, 10)+": "+models.StatusLabel(f.Status)+".")
	return h.redirect(c, safeReturn(f.Return, "/comments/"+url.PathEscape(strconv.FormatInt(id, 10))))
}
