package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"margin/handlers"
	"margin/mail"
	"margin/migrations"
	"margin/models"
	"margin/views"
)

// app is a wired server: the store and the Echo instance that serves it.
type app struct {
	cfg   Config
	store *models.Store
	echo  *echo.Echo
	log   *slog.Logger
	lim   handlers.Limits
	// metrics is served on cfg.MetricsAddr, when set, by serve.
	metrics *metrics
	// stopMail stops the mail worker newApp started and waits for the mail
	// in hand to be finished.
	stopMail func()
}

// limits returns the limits the handlers enforce.
func (a *app) limits() handlers.Limits { return a.lim }

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, cfg Config) (*models.Store, error) {
	db, dialect, err := models.Open(cfg.DatabaseURL, nil)
	if err != nil {
		return nil, err
	}
	if err := models.Migrate(ctx, db, dialect, migrations.FS); err != nil {
		return nil, err
	}
	return models.NewStore(db), nil
}

// newApp wires configuration, database, mail, views and routes. limits may
// be nil for the production defaults.
func newApp(ctx context.Context, cfg Config, log *slog.Logger, limits *handlers.Limits) (*app, error) {
	if err := cfg.ensureSessionSecret(); err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	setupToken, err := bootstrapAdmin(ctx, cfg, store, log)
	if err != nil {
		_ = store.Close() // the setup error is the one to report
		return nil, err
	}
	sender, err := newMailer(cfg, log)
	if err != nil {
		_ = store.Close() // the setup error is the one to report
		return nil, err
	}
	v, err := views.New()
	if err != nil {
		_ = store.Close() // the setup error is the one to report
		return nil, err
	}
	met, err := newMetrics(store, log)
	if err != nil {
		_ = store.Close() // the setup error is the one to report
		return nil, err
	}
	hcfg := handlers.Config{
		BaseURL: cfg.BaseURL, RequireVerifiedEmail: cfg.RequireVerifiedEmail, SecureCookies: cfg.SecureCookies(),
		SessionSecret: cfg.SessionSecret, SetupToken: setupToken, Limits: handlers.DefaultLimits(),
	}
	if limits != nil {
		hcfg.Limits = *limits
	}
	hcfg.Migrations, hcfg.OnCommentCreated = migrations.FS, met.comments.Inc
	mailer := newMailWorker(store, sender, log)
	hcfg.NotifyMail = mailer.Notify
	h := handlers.New(store, v, hcfg, log)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(cfg)
	e.JSONSerializer = handlers.StrictJSON{}
	e.HTTPErrorHandler = newErrorHandler(v, log)
	e.Use(middleware.RequestID())
	e.Use(met.middleware)
	e.Use(requestLogger(log))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		log.Error("panic", "err", err, "stack", string(stack), "request_id", requestID(c))
		return err
	}}))
	e.Use(handlers.SecurityHeaders)
	h.Routes(e)
	met.useRoutes(e.Routes())
	// The worker runs from here, not from serve, so that tests driving the
	// app through httptest get their mail too; it stops by itself when the
	// store is closed, and serve stops it on shutdown.
	stopMail := mailer.start(context.WithoutCancel(ctx))
	return &app{cfg: cfg, store: store, echo: e, log: log, lim: hcfg.Limits, stopMail: stopMail, metrics: met}, nil
}

// ipExtractor trusts X-Forwarded-For only from the configured proxies; by
// default the peer address is the client (Echo's default would trust
// headers anyone can send).
func ipExtractor(cfg Config) echo.IPExtractor {
	if len(cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.Info("request", "method", v.Method, "path", v.URIPath, "status", v.Status,
				"latency_ms", v.Latency.Milliseconds(), "request_id", v.RequestID, "ip", v.RemoteIP)
			return nil
		},
	})
}

func newMailer(cfg Config, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPURL != "" {
		return mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
	}
	dir := cfg.DataDir + "/outbox"
	log.Info("no MARGIN_SMTP_URL: mail is written to the outbox folder", "dir", dir)
	return &loggingOutbox{Outbox: mail.Outbox{Dir: dir, From: cfg.MailFrom}, log: log}, nil
}

// loggingOutbox logs each mail it writes, so a developer sees links in the
// console.
type loggingOutbox struct {
	mail.Outbox
	log *slog.Logger
}

func (o *loggingOutbox) Send(ctx context.Context, m mail.Message) error {
	if err := o.Outbox.Send(ctx, m); err != nil {
		return err
	}
	o.log.Info("mail written to outbox", "to", m.ToEmail, "subject", m.Subject, "dir", o.Dir)
	return nil
}

// bootstrapAdmin creates the admin from the environment, or returns a
// one-time setup token while no admin exists.
func bootstrapAdmin(ctx context.Context, cfg Config, store *models.Store, log *slog.Logger) (string, error) {
	if cfg.AdminEmail != "" && cfg.AdminPassword != "" {
		created, err := store.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return "", err
		}
		if created {
			log.Info("administrator created from MARGIN_ADMIN_EMAIL", "email", cfg.AdminEmail)
		}
	}
	has, err := store.HasAdmin(ctx)
	if err != nil || has {
		return "", err
	}
	tok, err := models.RandomToken()
	if err != nil {
		return "", err
	}
	log.Warn("no administrator yet: open the setup page to create one", "url", cfg.BaseURL+"/setup?token="+tok)
	return tok, nil
}

// serve runs the HTTP server until ctx ends, then drains connections.
func (a *app) serve(ctx context.Context, grace time.Duration) error {
	srv := &http.Server{
		Addr:              a.cfg.Addr,
		Handler:           a.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute, // exports stream for a while
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go a.purgeLoop(ctx)
	// Deferred, so the worker stops after the connections drained; mail
	// still queued stays in the table for the other instances, or for this
	// one after a restart.
	defer a.stopMail()
	errc := make(chan error, 2)
	go func() {
		a.log.Info("listening", "addr", a.cfg.Addr, "url", a.cfg.BaseURL)
		errc <- srv.ListenAndServe()
	}()
	// Metrics have their own listener, meant for a private network: the
	// public one never serves /metrics.
	var msrv *http.Server
	if a.cfg.MetricsAddr != "" {
		msrv = a.metrics.server(a.cfg.MetricsAddr)
		go func() {
			a.log.Info("metrics listening", "addr", a.cfg.MetricsAddr, "path", "/metrics")
			errc <- fmt.Errorf("metrics: %w", msrv.ListenAndServe())
		}()
	}
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		a.log.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// The public listener drains first; metrics stay scrapeable meanwhile.
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) && serveErr == nil {
		serveErr = fmt.Errorf("shutdown: %w", err)
	}
	if msrv != nil {
		if err := msrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) && serveErr == nil {
			serveErr = fmt.Errorf("shutdown metrics: %w", err)
		}
	}
	return serveErr
}

// purgeLoop removes expired sessions, tokens and rate counters hourly.
func (a *app) purgeLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.store.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("purge", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
