package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"margin/models"
)

// contentSecurityPolicy forbids inline script and style, framing, plugins
// and foreign form targets.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets the headers every response carries, error pages and
// static files included.
func SecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if c.Request().TLS != nil || c.Scheme() == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			// Pages carry per-user content and CSRF tokens; nothing dynamic
			// may be kept by shared caches or the browser's history cache.
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// CSRF protects every state-changing browser route with a token (double
// submit cookie) or a same-origin Sec-Fetch-Site signal. The JSON API is
// exempt because it never accepts the session cookie for writes and only
// accepts application/json bodies, which a cross-site form cannot send.
func (h *Handler) CSRF() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{ // #nosec G101 -- names of a form field and cookie, no secret
		Skipper:        IsAPI,
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     "margin_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   h.cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "The form has expired or did not come from this site. Go back, reload the page and try again.").WithInternal(err)
		},
	})
}

// LoadUser finds the caller: a bearer token on the API, else the session
// cookie. On the API a state-changing request is only authenticated by a
// token: the cookie alone never authorises one there.
func (h *Handler) LoadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		sess, err := h.sessions.Get(r, h.cfg.Limits.SessionCookieName)
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		if f := h.sessions.flashes(r); len(f) > 0 {
			c.Set(ctxFlashIn, f)
		}
		if auth := r.Header.Get(echo.HeaderAuthorization); auth != "" {
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok || tok == "" {
				return echo.NewHTTPError(http.StatusUnauthorized, "Use Authorization: Bearer TOKEN.")
			}
			u, err := h.store.UserByAPIToken(r.Context(), strings.TrimSpace(tok))
			if errors.Is(err, models.ErrUnauthenticated) {
				return echo.NewHTTPError(http.StatusUnauthorized, "The API token is not valid.")
			}
			if err != nil {
				return err
			}
			c.Set(ctxUser, u)
			c.Set(ctxViaAPI, true)
			return next(c)
		}
		uid, ok := sess.Values[sessionUserKey].(int64)
		if !ok {
			return next(c)
		}
		if IsAPI(c) && !isSafeMethod(r.Method) {
			return next(c)
		}
		u, err := h.store.UserByID(r.Context(), uid)
		if errors.Is(err, models.ErrNotFound) {
			return next(c)
		}
		if err != nil {
			return err
		}
		// A password change ends sessions started before it.
		if at, ok := sess.Values[sessionAuthAtKey].(int64); !ok || at < u.PasswordChangedAt.Unix() {
			return next(c)
		}
		c.Set(ctxUser, u)
		// Refresh the cookie's signed timestamp: the idle timeout counts
		// from the last request, without a database write.
		if !sess.IsNew && sess.ID != "" {
			if err := h.sessions.setCookie(c.Response(), sess); err != nil {
				return err
			}
		}
		return next(c)
	}
}

const sessionAuthAtKey = "auth_at"

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// RequireUser refuses anonymous callers: pages redirect to sign-in, the API
// answers 401.
func RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) == nil {
			if IsAPI(c) || !isSafeMethod(c.Request().Method) {
				return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
			}
			return c.Redirect(http.StatusSeeOther, "/login?next="+urlQueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// RequireModerator lets moderators and admins through.
func RequireModerator(next echo.HandlerFunc) echo.HandlerFunc {
	return RequireUser(func(c echo.Context) error {
		if !currentUser(c).IsModerator() {
			return models.ErrForbidden
		}
		return next(c)
	})
}

// RequireAdmin lets admins through.
func RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return RequireUser(func(c echo.Context) error {
		if !currentUser(c).IsAdmin() {
			return models.ErrForbidden
		}
		return next(c)
	})
}

// RequireJSON refuses API writes that are not JSON (415), which also keeps
// cross-site HTML forms out of the API.
func RequireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), echo.MIMEApplicationJSON) {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send the request body as application/json.")
		}
		return next(c)
	}
}

// jsonContentType is the API's default content type, as the contract
// spells it; handlers that stream other formats set their own.
const jsonContentType = "application/json; charset=utf-8"

// APIContentType presets the contract's JSON content type; Echo's JSON
// helpers keep a type already set.
func APIContentType(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, jsonContentType)
		return next(c)
	}
}
