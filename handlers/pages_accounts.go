package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"margin/models"
	"margin/views"
)

func (h *Handler) registerPage(c echo.Context, title string) views.RegisterPage {
	return views.RegisterPage{
		Page:              PageBase(c, title),
		StakeholderGroups: toViewOptions(models.StakeholderGroups),
		Countries:         toViewOptions(models.Countries()),
		MinPassword:       models.MinPasswordLength,
		MaxPassword:       models.MaxPasswordLength,
	}
}

func (f registerForm) view() views.RegisterForm {
	return views.RegisterForm{Name: f.Name, Email: f.Email, Affiliation: f.Affiliation, StakeholderGroup: f.StakeholderGroup, Country: f.Country}
}

// ShowRegister shows the registration form.
func (h *Handler) ShowRegister(c echo.Context) error {
	return h.render(c, http.StatusOK, "register", h.registerPage(c, "Register"))
}

// Register creates an account from the form.
func (h *Handler) Register(c echo.Context) error {
	var f registerForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	err := h.register(c, f)
	var v models.ValidationError
	if errors.As(err, &v) {
		p := h.registerPage(c, "Register")
		p.Form, p.Errors = f.view(), v
		return h.render(c, http.StatusUnprocessableEntity, "register", p)
	}
	if err != nil {
		return err
	}
	p := h.registerPage(c, "Check your mail")
	p.Done = true
	return h.render(c, http.StatusAccepted, "register", p)
}

// ShowSetup offers the one-time form that creates the first admin.
func (h *Handler) ShowSetup(c echo.Context) error {
	if !h.setup.valid(c.QueryParam("token")) {
		return models.ErrNotFound
	}
	p := h.registerPage(c, "Set up Margin")
	p.SetupToken = c.QueryParam("token")
	return h.render(c, http.StatusOK, "setup", p)
}

// Setup creates the first admin, signs them in and closes the setup page.
func (h *Handler) Setup(c echo.Context) error {
	tok := c.FormValue("token")
	if !h.setup.valid(tok) {
		return models.ErrNotFound
	}
	ctx := c.Request().Context()
	if has, err := h.store.HasAdmin(ctx); err != nil {
		return err
	} else if has {
		h.setup.spend()
		return models.ErrNotFound
	}
	var f registerForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	n := f.newUser()
	n.Role, n.Verified = models.RoleAdmin, true
	u, err := h.store.CreateUser(ctx, n)
	var v models.ValidationError
	if errors.As(err, &v) {
		p := h.registerPage(c, "Set up Margin")
		p.Form, p.Errors, p.SetupToken = f.view(), v, tok
		return h.render(c, http.StatusUnprocessableEntity, "setup", p)
	}
	if err != nil {
		return err
	}
	h.setup.spend()
	h.log.Info("first administrator created", "user_id", u.ID)
	if err := h.startSession(c, u); err != nil {
		return err
	}
	addFlash(c, "Welcome. You are the administrator: import a draft below to open it for comment.")
	return h.redirect(c, "/admin")
}

// ShowLogin shows the sign-in form.
func (h *Handler) ShowLogin(c echo.Context) error {
	return h.render(c, http.StatusOK, "login", views.LoginPage{
		Page: PageBase(c, "Sign in"), Next: safeReturn(c.QueryParam("next"), ""),
	})
}

type loginForm struct {
	Email    string `form:"email" json:"email"`
	Password string `form:"password" json:"password"`
	Next     string `form:"next"`
}

// Login signs a user in on a new session.
func (h *Handler) Login(c echo.Context) error {
	var f loginForm
	if err := c.Bind(&f); err != nil {
		return badRequest(err)
	}
	u, err := h.signIn(c, f.Email, f.Password)
	if errors.Is(err, models.ErrUnauthenticated) {
		return h.render(c, http.StatusUnauthorized, "login", views.LoginPage{
			Page: PageBase(c, "Sign in"), Email: f.Email, Next: safeReturn(f.Next, ""),
			Error: "The e-mail address or password is not right.",
		})
	}
	if err != nil {
		return err
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return h.redirect(c, safeReturn(f.Next, "/"))
}

// Logout ends the session on the server and clears the cookie.
func (h *Handler) Logout(c echo.Context) error {
	if err := h.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// ShowVerify shows the button that confirms an address; a GET changes
// nothing (mail scanners follow links).
func (h *Handler) ShowVerify(c echo.Context) error {
	return h.render(c, http.StatusOK, "verify", views.VerifyPage{
		Page: PageBase(c, "Confirm your e-mail address"), Token: c.QueryParam("token"),
	})
}

// Verify confirms the address behind the token.
func (h *Handler) Verify(c echo.Context) error {
	if err := h.store.Hit(c.Request().Context(), clientKey(c, "verify"), h.cfg.Limits.VerifyPerAddr); err != nil {
		return err
	}
	tok := c.FormValue("token")
	p := views.VerifyPage{Page: PageBase(c, "Confirm your e-mail address"), Token: tok}
	_, err := h.store.VerifyEmail(c.Request().Context(), tok)
	if errors.Is(err, models.ErrBadToken) {
		p.Error = "This link is not valid: it was used already or has expired. Register again to get a new one."
		return h.render(c, http.StatusBadRequest, "verify", p)
	}
	if err != nil {
		return err
	}
	p.Done = true
	return h.render(c, http.StatusOK, "verify", p)
}

func toViewOptions(opts []models.Option) []views.Option {
	out := make([]views.Option, len(opts))
	for i, o := range opts {
		out[i] = views.Option{Value: o.Value, Label: o.Label}
	}
	return out
}

func badRequest(err error) error {
	return echo.NewHTTPError(http.StatusBadRequest, "The request could not be read.").WithInternal(err)
}
