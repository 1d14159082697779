package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"margin/models"
)

// APIRegister creates an account; the answer is the same whether or not the
// address was already registered.
func (h *Handler) APIRegister(c echo.Context) error {
	var f registerForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	if err := h.register(c, f); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "confirmation_sent"})
}

// APIVerify confirms an e-mail address.
func (h *Handler) APIVerify(c echo.Context) error {
	var f struct {
		Token string `json:"token"`
	}
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	if err := h.store.Hit(c.Request().Context(), clientKey(c, "verify"), h.cfg.Limits.VerifyPerAddr); err != nil {
		return err
	}
	if _, err := h.store.VerifyEmail(c.Request().Context(), f.Token); err != nil {
		if errors.Is(err, models.ErrBadToken) {
			return echo.NewHTTPError(http.StatusBadRequest, "The token is not valid: it was used already or has expired.")
		}
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "verified"})
}

// APICreateToken exchanges an e-mail and password for a bearer token.
func (h *Handler) APICreateToken(c echo.Context) error {
	var f loginForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	u, err := h.signIn(c, f.Email, f.Password)
	if errors.Is(err, models.ErrUnauthenticated) {
		return echo.NewHTTPError(http.StatusUnauthorized, "The e-mail address or password is not right.")
	}
	if err != nil {
		return err
	}
	tok, err := h.store.CreateAPIToken(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"token": tok})
}

// APIMe returns the caller.
func (h *Handler) APIMe(c echo.Context) error {
	return c.JSON(http.StatusOK, toUserJSON(currentUser(c)))
}

// APIUsers lists every user (admins only).
func (h *Handler) APIUsers(c echo.Context) error {
	us, err := h.store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, len(us))
	for i := range us {
		out[i] = toUserJSON(&us[i])
	}
	return c.JSON(http.StatusOK, out)
}

// APISetRole changes a user's role (admins only).
func (h *Handler) APISetRole(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var f struct {
		Role string `json:"role"`
	}
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	ctx := c.Request().Context()
	if err := h.store.SetRole(ctx, currentUser(c), id, f.Role); err != nil {
		return err
	}
	u, err := h.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}
