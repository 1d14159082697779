package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"margin/models"
)

// Healthz answers 200 when the database answers: the process is alive.
func (h *Handler) Healthz(c echo.Context) error {
	if err := h.store.Ping(c.Request().Context()); err != nil {
		h.log.Error("health check failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz answers 200 when this instance may take traffic: the database
// answers and its schema has every migration of this binary. The reason
// given is generic; the details go to the log.
func (h *Handler) Readyz(c echo.Context) error {
	if err := h.store.Ready(c.Request().Context(), h.cfg.Migrations); err != nil {
		h.log.Warn("readiness check failed", "err", err)
		reason := "database unavailable"
		if errors.Is(err, models.ErrSchemaBehind) {
			reason = "database schema not current"
		}
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": reason})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
