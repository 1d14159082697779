package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"margin/models"
	"margin/views"
)

// requestReset mails a reset link when the address has an account. The
// caller's answer is the same either way (no account enumeration); limits
// per address and per account stop mail bombing.
func (h *Handler) requestReset(c echo.Context, email string) error {
	ctx := c.Request().Context()
	if err := h.store.Hit(ctx, clientKey(c, "reset"), h.cfg.Limits.ResetPerAddr); err != nil {
		return err
	}
	u, err := h.store.UserByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// Past the per-account limit we quietly stop mailing, so the answer
	// still does not reveal that the account exists.
	if err := h.store.Hit(ctx, "reset:acct:"+u.Email, h.cfg.Limits.ResetPerAccount); err != nil {
		var rl *models.RateLimitError
		if errors.As(err, &rl) {
			return nil
		}
		return err
	}
	return h.sendReset(ctx, u)
}

func (h *Handler) sendReset(ctx context.Context, u *models.User) error {
	tok, err := h.store.NewEmailToken(ctx, u.ID, models.PurposeReset, models.ResetTokenTTL)
	if err != nil {
		return err
	}
	body := fmt.Sprintf("Hello %s,\n\nsomeone (perhaps you) asked to reset the password of your Margin account. "+
		"Choose a new password here:\n\n%s/password/reset?token=%s\n\n"+
		"The link works once and expires in %d minutes. If you did not ask for it, ignore this mail: your password stays as it is.\n",
		oneLine(u.Name), h.cfg.BaseURL, tok, int(models.ResetTokenTTL.Minutes()))
	return h.send(ctx, u, "Reset your Margin password", body)
}

// ShowForgot asks for the address to send a reset link to.
func (h *Handler) ShowForgot(c echo.Context) error {
	return h.render(c, http.StatusOK, "password_forgot", views.PasswordForgotPage{Page: PageBase(c, "Forgotten password")})
}

// Forgot sends a reset link.
func (h *Handler) Forgot(c echo.Context) error {
	email := c.FormValue("email")
	if err := h.requestReset(c, email); err != nil {
		return err
	}
	return h.render(c, http.StatusAccepted, "password_forgot", views.PasswordForgotPage{
		Page: PageBase(c, "Check your mail"), Email: email, Done: true,
	})
}

func resetPage(c echo.Context, tok string) views.PasswordResetPage {
	return views.PasswordResetPage{
		Page: PageBase(c, "Choose a new password"), Token: tok,
		MinPassword: models.MinPasswordLength, MaxPassword: models.MaxPasswordLength,
	}
}

// ShowReset shows the new-password form; the token is checked on submit.
func (h *Handler) ShowReset(c echo.Context) error {
	return h.render(c, http.StatusOK, "password_reset", resetPage(c, c.QueryParam("token")))
}

// Reset sets a new password with a mailed token and ends every session.
func (h *Handler) Reset(c echo.Context) error {
	if err := h.store.Hit(c.Request().Context(), clientKey(c, "verify"), h.cfg.Limits.VerifyPerAddr); err != nil {
		return err
	}
	p := resetPage(c, c.FormValue("token"))
	_, err := h.store.ResetPassword(c.Request().Context(), p.Token, c.FormValue("password"))
	var v models.ValidationError
	switch {
	case errors.As(err, &v):
		p.Errors = v
		return h.render(c, http.StatusUnprocessableEntity, "password_reset", p)
	case errors.Is(err, models.ErrBadToken):
		p.Errors = map[string]string{"form": "This link is not valid: it was used already or has expired. Ask for a new one."}
		return h.render(c, http.StatusBadRequest, "password_reset", p)
	case err != nil:
		return err
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	p.Done = true
	return h.render(c, http.StatusOK, "password_reset", p)
}

func accountPage(c echo.Context, u *models.User) views.AccountPage {
	return views.AccountPage{
		Page: PageBase(c, "My account"), Email: u.Email, Affiliation: u.Affiliation,
		StakeholderGroup: models.StakeholderGroupLabel(u.StakeholderGroup), Country: models.CountryName(u.Country),
		MinPassword: models.MinPasswordLength, MaxPassword: models.MaxPasswordLength,
	}
}

// Account shows the user's details and the password change form.
func (h *Handler) Account(c echo.Context) error {
	return h.render(c, http.StatusOK, "account", accountPage(c, currentUser(c)))
}

// ChangePassword sets a new password. Every session of the user ends,
// including other devices; this browser gets a fresh one.
func (h *Handler) ChangePassword(c echo.Context) error {
	u := currentUser(c)
	err := h.store.ChangePassword(c.Request().Context(), u, c.FormValue("current_password"), c.FormValue("password"))
	var v models.ValidationError
	if errors.As(err, &v) {
		p := accountPage(c, u)
		p.Errors = v
		return h.render(c, http.StatusUnprocessableEntity, "account", p)
	}
	if err != nil {
		return err
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	addFlash(c, "Your password is changed. Other sessions have been signed out.")
	return h.redirect(c, "/me/account")
}

// APIForgot mails a reset link; the answer is the same for unknown addresses.
func (h *Handler) APIForgot(c echo.Context) error {
	var f struct {
		Email string `json:"email"`
	}
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	if err := h.requestReset(c, f.Email); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "reset_sent_if_registered"})
}

// APIReset sets a new password with a mailed token.
func (h *Handler) APIReset(c echo.Context) error {
	var f struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	if err := h.store.Hit(c.Request().Context(), clientKey(c, "verify"), h.cfg.Limits.VerifyPerAddr); err != nil {
		return err
	}
	if _, err := h.store.ResetPassword(c.Request().Context(), f.Token, f.Password); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "password_changed"})
}
