package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
)

const metricsSlug = "metrics-draft"

// metricsFixture migrates dbURL and stores a commenter (returning an API
// token) and an open document (returning its first paragraph's id).
func metricsFixture(t *testing.T, dbURL string) (token string, paragraphID int64) {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, Config{DatabaseURL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mod, err := st.CreateUser(ctx, models.NewUser{
		Name: "Mo Moderator", Email: "mod@example.org", Password: "moderator passphrase", Role: models.RoleModerator,
		Affiliation: "Secretariat", StakeholderGroup: "intergovernmental", Country: "CH", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	com, err := st.CreateUser(ctx, models.NewUser{
		Name: "Carl Commenter", Email: "carl@example.org", Password: "commenter passphrase",
		Affiliation: "Example NGO", StakeholderGroup: "civil_society", Country: "KE", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.CreateDocument(ctx, mod, models.NewDocument{
		Title: "Metrics draft", Slug: metricsSlug, Format: models.FormatMarkdown, Source: "# Metrics\n\nFirst paragraph.\n\nSecond paragraph.\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.Paragraphs(ctx, d)
	if err != nil || len(ps) == 0 {
		t.Fatalf("paragraphs: %d, %v", len(ps), err)
	}
	if token, err = st.CreateAPIToken(ctx, com.ID); err != nil {
		t.Fatal(err)
	}
	return token, ps[1].ID
}

// metricsCall makes one request and returns its status and body.
func metricsCall(t *testing.T, method, url, token string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// metricsSample finds one sample in a Prometheus text exposition: name with its
// labels exactly as exposed (sorted by label name), e.g.
// `m_total{method="GET",route="/x"}`.
func metricsSample(exposition, series string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		return v, err == nil
	}
	return 0, false
}

// TestMetricsListener runs `margin serve` with MARGIN_METRICS_ADDR, makes a
// few requests on the public listener, and reads them back from /metrics on
// the other one.
func TestMetricsListener(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	dbURL := dbtest.URL(t)
	token, paragraphID := metricsFixture(t, dbURL)
	env := map[string]string{
		"MARGIN_DATA_DIR": dir, "MARGIN_ADDR": addr, "MARGIN_METRICS_ADDR": metricsAddr, "MARGIN_DATABASE_URL": dbURL,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer // read only once serve has returned
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v\n%s", err, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}
	defer stop()

	public, private := "http://"+addr, "http://"+metricsAddr
	for i := 0; ; i++ {
		res, err := http.Get(private + "/metrics")
		if err == nil {
			res.Body.Close()
			if res2, err2 := http.Get(public + "/healthz"); err2 == nil {
				res2.Body.Close()
				break
			}
		}
		if i == 200 {
			t.Fatalf("listeners did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code, body := metricsCall(t, "GET", public+"/readyz", "", nil); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("GET /readyz = %d %s, want 200 ready", code, body)
	}
	for range 2 {
		if code, _ := metricsCall(t, "GET", public+"/documents/"+metricsSlug, "", nil); code != http.StatusOK {
			t.Fatalf("GET the document = %d, want 200", code)
		}
	}
	if code, _ := metricsCall(t, "GET", public+"/documents/no-such-draft", "", nil); code != http.StatusNotFound {
		t.Errorf("GET a missing document = %d, want 404", code)
	}
	if code, _ := metricsCall(t, "GET", public+"/no/such/page-1234", "", nil); code != http.StatusNotFound {
		t.Errorf("GET an unknown URL = %d, want 404", code)
	}
	if code, body := metricsCall(t, "POST", public+"/api/v1/documents/"+metricsSlug+"/comments", token, map[string]any{
		"paragraph_ids": []int64{paragraphID}, "body": "A comment counted by the metrics.",
	}); code != http.StatusCreated {
		t.Fatalf("API comment = %d %s, want 201", code, body)
	}
	if code, _ := metricsCall(t, "GET", public+"/metrics", "", nil); code != http.StatusNotFound {
		t.Errorf("public GET /metrics = %d, want 404", code)
	}
	if code, _ := metricsCall(t, "GET", private+"/", "", nil); code != http.StatusNotFound {
		t.Errorf("metrics listener GET / = %d, want 404: it serves /metrics only", code)
	}
	if code, _ := metricsCall(t, "GET", private+"/documents/"+metricsSlug, "", nil); code != http.StatusNotFound {
		t.Errorf("metrics listener GET a document = %d, want 404", code)
	}

	code, exp := metricsCall(t, "GET", private+"/metrics", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d\n%s", code, exp)
	}
	want := map[string]float64{
		`margin_http_requests_total{method="GET",route="/documents/:slug",status="200"}`:                     2,
		`margin_http_requests_total{method="GET",route="/documents/:slug",status="404"}`:                     1,
		`margin_http_requests_total{method="GET",route="unmatched",status="404"}`:                            2, // the page and the public /metrics
		`margin_http_requests_total{method="POST",route="/api/v1/documents/:slug/comments",status="201"}`:    1,
		`margin_http_requests_total{method="GET",route="/readyz",status="200"}`:                              1,
		`margin_http_request_duration_seconds_count{method="GET",route="/documents/:slug"}`:                  3,
		`margin_http_request_duration_seconds_bucket{method="GET",route="/documents/:slug",le="+Inf"}`:       3,
		`margin_http_request_duration_seconds_count{method="POST",route="/api/v1/documents/:slug/comments"}`: 1,
		`margin_comments_submitted_total`: 1,
		`margin_moderation_queue_length`:  1,
	}
	for series, v := range want {
		if got, ok := metricsSample(exp, series); !ok || got != v {
			t.Errorf("%s = %v (found %v), want %v", series, got, ok, v)
		}
	}
	if got, ok := metricsSample(exp, "margin_mail_outbox_depth"); !ok || got < 0 {
		t.Errorf("margin_mail_outbox_depth = %v (found %v), want a count", got, ok)
	}
	for _, series := range []string{"go_goroutines", "go_sql_max_open_connections{db_name=\"" + string(metricsDialect(dbURL)) + "\"}"} {
		if _, ok := metricsSample(exp, series); !ok {
			t.Errorf("%s missing from /metrics", series)
		}
	}
	if !strings.Contains(exp, "\nprocess_") {
		t.Error("process metrics missing from /metrics")
	}
	for _, raw := range []string{metricsSlug, "no-such-draft", "page-1234"} {
		if strings.Contains(exp, raw) {
			t.Errorf("/metrics mentions %q: routes must be labelled by pattern only", raw)
		}
	}

	stop()
	if c, err := net.DialTimeout("tcp", metricsAddr, time.Second); err == nil {
		c.Close()
		t.Error("the metrics listener still accepts connections after shutdown")
	}
}

// metricsDialect names the dialect of a test database URL.
func metricsDialect(dbURL string) models.Dialect {
	u, err := models.ParseDatabaseURL(dbURL)
	if err != nil {
		return ""
	}
	return u.Dialect
}

// TestMetricsReadyz checks /readyz turns 503 while the schema is behind the
// binary and when the database is gone, with a generic reason.
func TestMetricsReadyz(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	readyz := func() (int, map[string]string) {
		t.Helper()
		var out map[string]string
		code, body := metricsCall(t, "GET", ts.URL+"/readyz", "", nil)
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("GET /readyz: %q: %v", body, err)
		}
		return code, out
	}
	if code, body := readyz(); code != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("GET /readyz on a migrated database = %d %v, want 200 ready", code, body)
	}

	// Roll the newest migration back on a separate connection, as if a
	// newer binary's migration had not been applied.
	ctx := context.Background()
	db, _, err := models.Open(ts.app.cfg.DatabaseURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := models.NewStore(db)
	defer other.Close()
	p, err := other.MigrationProvider(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := readyz(); code != http.StatusServiceUnavailable || body["status"] != "not_ready" || body["reason"] != "database schema not current" {
		t.Errorf("GET /readyz with a migration missing = %d %v, want 503 not_ready, schema not current", code, body)
	}
	if code, _ := metricsCall(t, "GET", ts.URL+"/healthz", "", nil); code != http.StatusOK {
		t.Errorf("GET /healthz with a migration missing = %d, want 200: the process is alive", code)
	}
	if err := models.Migrate(ctx, db, other.Dialect(), migrations.FS); err != nil {
		t.Fatal(err)
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Errorf("GET /readyz after migrating again = %d %v, want 200", code, body)
	}

	ts.app.store.Close()
	code, body := readyz()
	if code != http.StatusServiceUnavailable || body["status"] != "not_ready" || body["reason"] != "database unavailable" {
		t.Errorf("GET /readyz with the database closed = %d %v, want 503 not_ready, database unavailable", code, body)
	}
	for _, v := range body {
		if strings.Contains(v, "closed") || strings.Contains(v, "sql") {
			t.Errorf("GET /readyz leaks the error: %v", body)
		}
	}
}

// TestMetricsCountsWebComments checks the web form's comments are counted
// too, and only the ones stored.
func TestMetricsCountsWebComments(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ctx := context.Background()
	st := ts.app.store
	mod, err := st.CreateUser(ctx, models.NewUser{
		Name: "Mo Moderator", Email: "mod@example.org", Password: "moderator passphrase", Role: models.RoleModerator,
		Affiliation: "Secretariat", StakeholderGroup: "intergovernmental", Country: "CH", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, models.NewUser{
		Name: "Carl Commenter", Email: "carl@example.org", Password: "commenter passphrase",
		Affiliation: "Example NGO", StakeholderGroup: "civil_society", Country: "KE", Verified: true,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDocument(ctx, mod, models.NewDocument{
		Title: "Metrics draft", Slug: metricsSlug, Format: models.FormatMarkdown, Source: "# Metrics\n\nFirst paragraph.\n",
	}); err != nil {
		t.Fatal(err)
	}
	b := ts.browser(t)
	if p := b.post("/login", "/login", url.Values{"email": {"carl@example.org"}, "password": {"commenter passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in = %d, want 303", p.status)
	}
	doc := "/documents/" + metricsSlug
	if p := b.post(doc, doc+"/comments", url.Values{"paragraphs": {"99"}, "body": {"Not stored."}}); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("comment on a missing paragraph = %d, want 422", p.status)
	}
	if p := b.post(doc, doc+"/comments", url.Values{"paragraphs": {"2"}, "body": {"Stored."}, "kind": {"substantive"}, "visibility": {"public"}}); p.status != http.StatusSeeOther {
		t.Fatalf("comment = %d, want 303", p.status)
	}
	rec := httptest.NewRecorder()
	ts.app.metrics.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for series, v := range map[string]float64{
		`margin_comments_submitted_total`: 1,
		`margin_moderation_queue_length`:  1,
		`margin_http_requests_total{method="POST",route="/documents/:slug/comments",status="303"}`: 1,
		`margin_http_requests_total{method="POST",route="/documents/:slug/comments",status="422"}`: 1,
	} {
		if got, ok := metricsSample(rec.Body.String(), series); !ok || got != v {
			t.Errorf("%s = %v (found %v), want %v", series, got, ok, v)
		}
	}
}

func TestMetricsAddrConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, err := LoadConfig(env(nil))
	if err != nil || c.MetricsAddr != "" {
		t.Errorf("default MetricsAddr = %q, %v; want empty (metrics off)", c.MetricsAddr, err)
	}
	c, err = LoadConfig(env(map[string]string{"MARGIN_METRICS_ADDR": "127.0.0.1:9090"}))
	if err != nil || c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("MetricsAddr = %q, %v; want 127.0.0.1:9090", c.MetricsAddr, err)
	}
	if _, err := LoadConfig(env(map[string]string{"MARGIN_ADDR": "127.0.0.1:8080", "MARGIN_METRICS_ADDR": "127.0.0.1:8080"})); err == nil {
		t.Error("LoadConfig accepted metrics on the public address")
	}
}

// TestMetricsAddrInUse checks serve stops with an error naming the metrics
// listener when its address is taken, instead of running without metrics.
func TestMetricsAddrInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := map[string]string{
		"MARGIN_DATA_DIR": t.TempDir(), "MARGIN_ADDR": freeAddr(t), "MARGIN_METRICS_ADDR": l.Addr().String(),
		"MARGIN_DATABASE_URL": dbtest.URL(t),
	}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "metrics") {
			t.Errorf("serve with the metrics address taken = %v, want a metrics listen error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve kept running with its metrics address taken")
	}
}
