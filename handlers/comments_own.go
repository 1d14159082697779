package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"margin/models"
)

// EditComment saves the author's changes to a pending comment.
func (h *Handler) EditComment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var f commentForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	_, err = h.store.UpdateOwnComment(c.Request().Context(), currentUser(c), id, f.newComment())
	var v models.ValidationError
	var pe *models.PublicError
	switch {
	case errors.As(err, &v):
		return h.renderCommentWith(c, http.StatusUnprocessableEntity, "", &f, v)
	case errors.Is(err, models.ErrConflict) && errors.As(err, &pe):
		return h.renderCommentWith(c, http.StatusConflict, "", &f, map[string]string{"form": pe.Message})
	case err != nil:
		return err
	}
	addFlash(c, "Your comment is updated.")
	return h.redirect(c, "/comments/"+strconv.FormatInt(id, 10))
}

// WithdrawComment takes back the author's pending comment.
func (h *Handler) WithdrawComment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.store.WithdrawComment(c.Request().Context(), currentUser(c), id); err != nil {
		return err
	}
	addFlash(c, "Your comment is withdrawn. The moderators will not consider it.")
	return h.redirect(c, "/me/comments")
}

// APIUpdateComment lets the author change a pending comment.
func (h *Handler) APIUpdateComment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var b commentBody
	if err := c.Bind(&b); err != nil {
		return badRequest(err)
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if _, err := h.store.UpdateOwnComment(ctx, u, id, models.NewComment{
		Body: b.Body, ProposedText: b.ProposedText, Kind: b.Kind, Visibility: b.Visibility,
	}); err != nil {
		return err
	}
	cm, err := h.store.CommentByID(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCommentJSON(cm, u))
}

// APIWithdrawComment withdraws the author's pending comment.
func (h *Handler) APIWithdrawComment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.store.WithdrawComment(c.Request().Context(), currentUser(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (f commentForm) newComment() models.NewComment {
	return models.NewComment{Body: f.Body, ProposedText: f.ProposedText, Kind: f.Kind, Visibility: f.Visibility}
}
