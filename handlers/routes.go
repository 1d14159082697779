package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"margin/static"
)

// Routes registers every route. Each route states its guard here, so the
// authorisation rules can be read (and tested) in one place.
func (h *Handler) Routes(e *echo.Echo) {
	e.GET("/healthz", h.Healthz)
	e.GET("/readyz", h.Readyz)
	e.GET("/static/*", echo.WrapHandler(staticHandler()))

	api := e.Group("/api/v1", APIContentType, middleware.BodyLimit(bytesString(h.cfg.Limits.MaxJSONBytes)), h.LoadUser)
	api.GET("/openapi.json", h.OpenAPIJSON)
	api.GET("/openapi.yaml", h.OpenAPIYAML)
	api.POST("/register", h.APIRegister, RequireJSON)
	api.POST("/verify", h.APIVerify, RequireJSON)
	api.POST("/tokens", h.APICreateToken, RequireJSON)
	api.POST("/password/forgot", h.APIForgot, RequireJSON)
	api.POST("/password/reset", h.APIReset, RequireJSON)
	api.GET("/me", h.APIMe, RequireUser)
	api.GET("/users", h.APIUsers, RequireAdmin)
	api.POST("/users/:id/role", h.APISetRole, RequireAdmin, RequireJSON)
	api.GET("/documents", h.APIDocuments)
	api.GET("/documents/:slug", h.APIDocument)
	api.GET("/documents/:slug/comments", h.APIComments)
	api.GET("/documents/:slug/export", h.Export, RequireModerator)
	api.POST("/documents/:slug/comments", h.APISubmitComment, RequireUser, RequireJSON)
	api.GET("/comments/:id", h.APIComment)
	api.PATCH("/comments/:id", h.APIUpdateComment, RequireUser, RequireJSON)
	api.DELETE("/comments/:id", h.APIWithdrawComment, RequireUser)
	api.POST("/comments/:id/decision", h.APIDecide, RequireModerator, RequireJSON)
	api.GET("/moderation/queue", h.APIQueue, RequireModerator)
	// Document uploads may be larger than other API bodies.
	e.POST("/api/v1/documents", h.APICreateDocument, APIContentType,
		middleware.BodyLimit(bytesString(h.cfg.Limits.MaxUploadBytes)), h.LoadUser, RequireModerator)

	web := e.Group("", middleware.BodyLimit(bytesString(h.cfg.Limits.MaxRequestBytes)), h.LoadUser, h.CSRF())
	web.GET("/", h.Home)
	web.GET("/register", h.ShowRegister)
	web.POST("/register", h.Register)
	web.GET("/setup", h.ShowSetup)
	web.POST("/setup", h.Setup)
	web.GET("/login", h.ShowLogin)
	web.POST("/login", h.Login)
	web.POST("/logout", h.Logout)
	web.GET("/verify", h.ShowVerify)
	web.POST("/verify", h.Verify)
	web.GET("/password/forgot", h.ShowForgot)
	web.POST("/password/forgot", h.Forgot)
	web.GET("/password/reset", h.ShowReset)
	web.POST("/password/reset", h.Reset)
	web.GET("/documents/:slug", h.ShowDocument)
	web.POST("/documents/:slug/comments", h.SubmitComment, RequireUser)
	web.GET("/documents/:slug/export", h.Export, RequireModerator)
	web.GET("/me/comments", h.MyComments, RequireUser)
	web.GET("/me/account", h.Account, RequireUser)
	web.POST("/me/password", h.ChangePassword, RequireUser)
	web.GET("/comments/:id", h.ShowComment)
	web.POST("/comments/:id/edit", h.EditComment, RequireUser)
	web.POST("/comments/:id/withdraw", h.WithdrawComment, RequireUser)
	web.POST("/comments/:id/decision", h.Decide, RequireModerator)
	web.GET("/moderation", h.Moderation, RequireModerator)
	web.GET("/admin", h.Admin, RequireModerator)
	web.POST("/admin/documents", h.ImportDocument, RequireModerator)
	web.POST("/admin/users/:id/role", h.SetRole, RequireAdmin)
}

func staticHandler() http.Handler {
	fs := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Assets change only with a new binary; a day is a fair trade-off
		// between freshness after upgrades and bandwidth.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fs.ServeHTTP(w, r)
	})
}

func bytesString(n int64) string {
	return formatInt(n) + "B"
}
