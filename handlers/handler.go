// Package handlers turns HTTP requests into calls on the models and renders
// pages and JSON. Handlers stay thin: bind a form, make one store call,
// render or redirect.
package handlers

import (
	"io/fs"
	"log/slog"
	"time"

	"margin/models"
	"margin/views"
)

// Config is what handlers need to know about the deployment.
type Config struct {
	BaseURL              string
	RequireVerifiedEmail bool
	SecureCookies        bool   // cookies carry Secure (the site is served over HTTPS)
	SessionSecret        []byte // signs the session cookie
	SetupToken           string // one-time token for /setup; empty when an admin exists
	Limits               Limits
	Migrations           fs.FS  // embedded migrations, for /readyz to compare the schema with
	OnCommentCreated     func() // called after each comment is stored; may be nil
	NotifyMail           func() // called after a mail is queued, to wake the mail worker; may be nil
}

// Limits are the rate limits handlers apply. docs/security.md documents the
// defaults and the tests read them from here.
type Limits struct {
	SignInPerAddress  models.Limit // failed sign-ins per client address
	SignInPerAccount  models.Limit // failed sign-ins per account
	RegisterPerAddr   models.Limit // registrations per client address
	VerifyPerAddr     models.Limit // token redemptions (verify, reset) per client address
	ResetPerAddr      models.Limit // reset requests per client address
	ResetPerAccount   models.Limit // reset mails per account
	Comments          models.CommentLimits
	MaxRequestBytes   int64 // any request body
	MaxJSONBytes      int64 // JSON API bodies
	MaxUploadBytes    int64 // document uploads
	ShutdownGrace     time.Duration
	RequestTimeout    time.Duration
	QueuePageSize     int
	SessionCookieName string
	SessionIdle       time.Duration // sign-out after this long without a request
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{
		SignInPerAddress:  models.Limit{Max: 50, Window: 15 * time.Minute},
		SignInPerAccount:  models.Limit{Max: 10, Window: 15 * time.Minute},
		RegisterPerAddr:   models.Limit{Max: 10, Window: time.Hour},
		VerifyPerAddr:     models.Limit{Max: 30, Window: time.Hour},
		ResetPerAddr:      models.Limit{Max: 10, Window: time.Hour},
		ResetPerAccount:   models.Limit{Max: 3, Window: time.Hour},
		Comments:          models.DefaultCommentLimits,
		MaxRequestBytes:   int64(models.MaxSourceBytes) + 1<<20,
		MaxJSONBytes:      1 << 20,
		MaxUploadBytes:    int64(models.MaxSourceBytes) + 1<<20,
		ShutdownGrace:     20 * time.Second,
		RequestTimeout:    60 * time.Second,
		QueuePageSize:     50,
		SessionCookieName: "margin_session",
		SessionIdle:       models.SessionIdleTimeout,
	}
}

// Handler holds the dependencies of every handler.
type Handler struct {
	store    *models.Store
	views    *views.Engine
	cfg      Config
	log      *slog.Logger
	sessions *sessionStore
	setup    *setupState
}

// New builds the handlers.
func New(store *models.Store, v *views.Engine, cfg Config, log *slog.Logger) *Handler {
	if cfg.Limits.SessionCookieName == "" {
		cfg.Limits = DefaultLimits()
	}
	return &Handler{
		store:    store,
		views:    v,
		cfg:      cfg,
		log:      log,
		sessions: newSessionStore(store, cfg.SessionSecret, cfg.Limits.SessionCookieName, cfg.SecureCookies, cfg.Limits.SessionIdle),
		setup:    &setupState{token: cfg.SetupToken},
	}
}

// commentCreated tells the deployment (its metrics) that a comment was
// stored.
func (h *Handler) commentCreated() {
	if h.cfg.OnCommentCreated != nil {
		h.cfg.OnCommentCreated()
	}
}
