package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"margin/handlers"
	"margin/models"
	"margin/views"
)

// apiError is the JSON error body of the contract.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

var codeNames = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "invalid",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// classify maps an error to a status and a message safe to show. Anything
// unknown is a 500 whose details go to the log only.
func classify(err error) (int, apiError) {
	var (
		he *echo.HTTPError
		ve models.ValidationError
		pe *models.PublicError
		rl *models.RateLimitError
		tl *models.TooLargeError
	)
	status := http.StatusInternalServerError
	e := apiError{Message: "Something went wrong on our side. It has been logged; please try again later."}
	switch {
	case errors.As(err, &ve):
		status, e.Message, e.Fields = http.StatusUnprocessableEntity, "Some fields need attention.", ve
	case errors.As(err, &tl):
		status, e.Message, e.Fields = http.StatusRequestEntityTooLarge, tl.Message, map[string]string{tl.Field: tl.Message}
	case errors.As(err, &rl):
		status, e.Message = http.StatusTooManyRequests, "Too many requests. Please wait and try again."
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok && status < 500 {
			e.Message = m
		} else {
			e.Message = http.StatusText(status)
		}
	case errors.Is(err, models.ErrNotFound):
		status, e.Message = http.StatusNotFound, "This page or record does not exist."
	case errors.Is(err, models.ErrForbidden):
		status, e.Message = http.StatusForbidden, "You are not allowed to do this."
	case errors.Is(err, models.ErrInvalidTransition), errors.Is(err, models.ErrConflict):
		status, e.Message = http.StatusConflict, "This conflicts with the current state."
	case errors.Is(err, models.ErrUnauthenticated):
		status, e.Message = http.StatusUnauthorized, "Sign in first."
	case errors.Is(err, models.ErrBadToken):
		status, e.Message = http.StatusBadRequest, "The token is not valid: it was used already or has expired."
	case models.Unavailable(err):
		status, e.Message = http.StatusServiceUnavailable, "The service cannot save anything right now. Nothing was changed; please try again in a minute."
	}
	if errors.As(err, &pe) && status < 500 {
		e.Message = pe.Message
	}
	e.Code = codeNames[status]
	if e.Code == "" {
		e.Code = "error"
		if status >= 500 {
			e.Code = "internal"
		}
	}
	return status, e
}

// newErrorHandler renders every error in one place: JSON on the API, the
// error page elsewhere, with details only in the log.
func newErrorHandler(v *views.Engine, log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			// The request logger hands each error here first and then
			// returns it up the chain; only an error we have not seen
			// means a response broke off midway.
			if c.Get(ctxErrorHandled) == nil {
				log.Error("error after response started", "err", err, "request_id", requestID(c))
			}
			return
		}
		c.Set(ctxErrorHandled, true)
		status, body := classify(err)
		var rl *models.RateLimitError
		if status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", "60")
		}
		if errors.As(err, &rl) {
			secs := int(rl.RetryAfter.Seconds() + 0.999)
			if secs < 1 {
				secs = 1
			}
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
		if status >= 500 {
			log.Error("request failed", "err", err, "status", status, "request_id", requestID(c),
				"method", c.Request().Method, "path", c.Request().URL.Path)
		} else {
			log.Debug("request refused", "err", err, "status", status, "request_id", requestID(c))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		if handlers.IsAPI(c) {
			_ = c.JSON(status, map[string]apiError{"error": body})
			return
		}
		page := views.ErrorPage{Page: handlers.PageBase(c, http.StatusText(status)), Status: status, Message: body.Message}
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(status)
		if rerr := v.Render(c.Response(), "error", page); rerr != nil {
			log.Error("render error page", "err", rerr)
		}
	}
}

const ctxErrorHandled = "margin.error_handled"

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
