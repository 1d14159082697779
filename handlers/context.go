package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"margin/models"
	"margin/views"
)

// Context keys set by the middleware.
const (
	ctxUser       = "margin.user"
	ctxSession    = "margin.session"
	ctxViaAPI     = "margin.api_token"
	ctxFlashIn    = "margin.flash_in"    // notices that arrived with the request
	ctxFlashOut   = "margin.flash_out"   // notices for the next page
	ctxFlashShown = "margin.flash_shown" // the arriving notices were rendered
)

// currentUser returns the signed-in user, or nil.
func currentUser(c echo.Context) *models.User {
	u, _ := c.Get(ctxUser).(*models.User)
	return u
}

// session returns the request's browser session (never nil after the
// session middleware ran).
func session(c echo.Context) *sessions.Session {
	s, _ := c.Get(ctxSession).(*sessions.Session)
	return s
}

// addFlash queues a one-time notice for the next page. Notices travel in a
// signed cookie of their own, so showing one never writes to the database.
func addFlash(c echo.Context, msg string) {
	f, _ := c.Get(ctxFlashOut).([]string)
	c.Set(ctxFlashOut, append(f, msg))
}

// csrfToken returns the token forms must carry.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return t
}

// PageBase returns what every page's layout needs, and takes the flashes.
func PageBase(c echo.Context, title string) views.Page {
	p := views.Page{Title: title, CSRF: csrfToken(c), Path: c.Request().URL.Path}
	if u := currentUser(c); u != nil {
		p.User = &views.CurrentUser{
			ID: u.ID, Name: u.Name, Role: u.Role, Verified: u.Verified(),
			IsModerator: u.IsModerator(), IsAdmin: u.IsAdmin(),
		}
	}
	if in, _ := c.Get(ctxFlashIn).([]string); len(in) > 0 {
		p.Flashes = in
		c.Set(ctxFlashShown, true)
	}
	return p
}

// IsAPI reports whether the request is for the JSON API.
func IsAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// render writes a page with status code; the session is saved first so
// flashes taken by PageBase are consumed.
func (h *Handler) render(c echo.Context, code int, name string, data any) error {
	if err := h.saveSession(c); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(code)
	return h.views.Render(c.Response(), name, data)
}

// redirect saves the session and answers 303 See Other (POST, redirect, GET).
func (h *Handler) redirect(c echo.Context, to string) error {
	if err := h.saveSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// writeFlashes sets the notice cookie for the next page: the new notices,
// plus the arriving ones when this response did not show them; it clears the
// cookie once they are shown.
func (h *Handler) writeFlashes(c echo.Context) error {
	out, _ := c.Get(ctxFlashOut).([]string)
	in, _ := c.Get(ctxFlashIn).([]string)
	if c.Get(ctxFlashShown) == nil {
		out = append(in, out...)
	}
	if len(out) == 0 && len(in) == 0 {
		return nil
	}
	return h.sessions.setFlashes(c.Response(), out)
}

// ctxSessionChanged marks a request whose session changed (a sign-in): only
// then is the session row written, so viewing pages never writes to the
// database.
const ctxSessionChanged = "margin.session_changed"

func markSessionChanged(c echo.Context) { c.Set(ctxSessionChanged, true) }

func (h *Handler) saveSession(c echo.Context) error {
	if err := h.writeFlashes(c); err != nil {
		return err
	}
	s := session(c)
	if s == nil || c.Get(ctxSessionChanged) == nil {
		return nil
	}
	// Anonymous visitors without flashes get no session row and no cookie.
	if s.IsNew && len(s.Values) == 0 {
		return nil
	}
	return s.Save(c.Request(), c.Response())
}

// safeReturn accepts only local paths as redirect targets (no open redirect).
func safeReturn(to, fallback string) string {
	if to == "" || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.HasPrefix(to, "/\\") || strings.ContainsAny(to, "\r\n") {
		return fallback
	}
	return to
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// clientKey names the caller's address for rate limits.
func clientKey(c echo.Context, prefix string) string { return prefix + ":ip:" + c.RealIP() }
