package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"margin/models"
)

// scrapeQueryTimeout bounds the database queries of one scrape.
const scrapeQueryTimeout = 5 * time.Second

// unmatchedRoute labels requests that match no route, so that the URLs
// people probe do not each become a time series.
const unmatchedRoute = "unmatched"

// metrics is one app's Prometheus registry and the collectors the request
// middleware and the handlers update. It is served by its own listener
// (MARGIN_METRICS_ADDR), never by the public one.
type metrics struct {
	reg      *prometheus.Registry
	handler  http.Handler
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	comments prometheus.Counter
	routes   map[string]bool // "METHOD /path/:param" of every route; set once before serving
}

// newMetrics builds the registry: request counts and latencies, comments
// submitted, gauges read from the store at scrape time, and the Go runtime,
// process and connection-pool collectors.
func newMetrics(store *models.Store, log *slog.Logger) (*metrics, error) {
	sqlDB, err := store.SQLDB()
	if err != nil {
		return nil, err
	}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "margin_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "margin_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		comments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "margin_comments_submitted_total",
			Help: "Comments stored by this instance (web form and API).",
		}),
	}
	gauges := &storeGauges{gauges: []storeGauge{
		{
			desc: prometheus.NewDesc("margin_moderation_queue_length",
				"Comments waiting for a moderator (pending, not withdrawn), in the shared database.", nil, nil),
			read: store.QueueLength,
		},
		{
			desc: prometheus.NewDesc("margin_mail_outbox_depth",
				"Mails queued and not sent yet, in the shared database.", nil, nil),
			read: store.OutboxDepth,
		},
	}}
	m.reg.MustRegister(
		m.requests, m.duration, m.comments, gauges,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(sqlDB, string(store.Dialect())),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError, // one failed gauge leaves the rest readable
		Registry:      m.reg,
	})
	return m, nil
}

// useRoutes records the registered routes; call it once, after the routes
// are added and before serving.
func (m *metrics) useRoutes(routes []*echo.Route) {
	m.routes = make(map[string]bool, len(routes))
	for _, r := range routes {
		m.routes[r.Method+" "+r.Path] = true
	}
}

// middleware counts and times every request under its route pattern. It
// goes before the request logger, which has turned any error into a
// response by the time the status is read here.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil && !c.Response().Committed {
			c.Error(err)
		}
		method, route := m.labels(c)
		m.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return err
	}
}

// labels returns the method and route labels of a request: the route's
// pattern (c.Path(), such as /documents/:slug), never the raw URL, or
// "unmatched" when no route of that method matched. Unknown methods become
// "other", so neither label grows with what clients send.
func (m *metrics) labels(c echo.Context) (method, route string) {
	method = c.Request().Method
	if m.routes[method+" "+c.Path()] {
		return method, c.Path()
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
	default:
		method = "other"
	}
	return method, unmatchedRoute
}

// server returns the metrics listener: /metrics only.
func (m *metrics) server(addr string) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler)
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// storeGauge is a gauge whose value is counted in the database.
type storeGauge struct {
	desc *prometheus.Desc
	read func(context.Context) (int64, error)
}

// storeGauges reads its gauges from the database at each scrape, so the
// numbers are those of the shared database, the same on every instance,
// and no instance keeps a copy that could drift.
type storeGauges struct {
	gauges []storeGauge
}

// Describe implements prometheus.Collector.
func (g *storeGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, sg := range g.gauges {
		ch <- sg.desc
	}
}

// Collect implements prometheus.Collector. A failed query leaves its gauge
// out of the scrape (the metrics handler logs why) rather than reporting a
// wrong zero.
func (g *storeGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeQueryTimeout)
	defer cancel()
	for _, sg := range g.gauges {
		n, err := sg.read(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(sg.desc, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(sg.desc, prometheus.GaugeValue, float64(n))
	}
}
