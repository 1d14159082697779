package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"margin/models"
)

type commentBody struct {
	ParagraphIDs []int64 `json:"paragraph_ids"`
	Body         string  `json:"body"`
	ProposedText string  `json:"proposed_text"`
	Kind         string  `json:"kind"`
	Visibility   string  `json:"visibility"`
}

// APISubmitComment stores a pending comment.
func (h *Handler) APISubmitComment(c echo.Context) error {
	var b commentBody
	if err := c.Bind(&b); err != nil {
		return badRequest(err)
	}
	ctx := c.Request().Context()
	d, err := h.store.DocumentBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	u := currentUser(c)
	cm, err := h.store.CreateComment(ctx, u, d, models.NewComment{
		ParagraphIDs: b.ParagraphIDs, Body: b.Body, ProposedText: b.ProposedText, Kind: b.Kind, Visibility: b.Visibility,
	}, h.commentPolicy())
	if err != nil {
		return err
	}
	h.commentCreated()
	detail, err := h.store.CommentByID(ctx, u, cm.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toCommentJSON(detail, u))
}

// APIComments lists the comments on a document the caller may see.
func (h *Handler) APIComments(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.store.DocumentBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f := models.CommentFilter{DocumentID: d.ID}
	if p := c.QueryParam("paragraph_id"); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return models.ValidationError{"paragraph_id": "Must be a paragraph id."}
		}
		f.ParagraphID = id
	}
	for _, s := range c.QueryParams()["status"] {
		if s == "" {
			continue
		}
		if !models.ValidStatus(s) {
			return models.ValidationError{"status": "Unknown status."}
		}
		f.Statuses = append(f.Statuses, s)
	}
	u := currentUser(c)
	cs, err := h.store.Comments(ctx, u, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, commentsJSON(cs, u))
}

// APIComment returns one comment the caller may see.
func (h *Handler) APIComment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u := currentUser(c)
	cm, err := h.store.CommentByID(c.Request().Context(), u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCommentJSON(cm, u))
}

// APIQueue returns a page of the moderation queue, oldest first. The next
// page's cursor is in the Link header (rel="next") and X-Next-Cursor.
func (h *Handler) APIQueue(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	f, err := h.queueFilter(c)
	if err != nil {
		return err
	}
	cs, next, err := h.store.Queue(ctx, u, f)
	if err != nil {
		return err
	}
	if next != 0 {
		q := c.QueryParams()
		q.Set("cursor", strconv.FormatInt(next, 10))
		c.Response().Header().Set("Link", `<`+c.Request().URL.Path+"?"+q.Encode()+`>; rel="next"`)
		c.Response().Header().Set("X-Next-Cursor", strconv.FormatInt(next, 10))
	}
	return c.JSON(http.StatusOK, commentsJSON(cs, u))
}

// APIDecide records a moderation decision.
func (h *Handler) APIDecide(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var f decisionForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if _, err := h.store.Decide(ctx, u, id, f.Status, f.Response); err != nil {
		return err
	}
	cm, err := h.store.CommentByID(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCommentJSON(cm, u))
}

func commentsJSON(cs []models.CommentDetail, viewer *models.User) []commentJSON {
	out := make([]commentJSON, len(cs))
	for i := range cs {
		out[i] = toCommentJSON(&cs[i], viewer)
	}
	return out
}
