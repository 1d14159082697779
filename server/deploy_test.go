package main

import (
	"bytes"
	"context"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"margin/handlers"
	"margin/internal/dbtest"
	"margin/migrations"
	"margin/models"
)

// No Docker engine runs where the tests run, so these tests check what can
// be checked without one: the compose file against the configuration the
// server reads, the proxy configuration against the compose file and the
// application's limits, the Dockerfile's shape, and the two commands the
// deployment relies on (healthcheck, copy).

// deployCompose is the part of docker-compose.yml the tests read.
type deployCompose struct {
	Services map[string]deployService `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
	Volumes map[string]any `yaml:"volumes"`
}

type deployService struct {
	Build       any               `yaml:"build"`
	Image       string            `yaml:"image"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Networks    []string          `yaml:"networks"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// deployVars are the values the tests give the variables the compose file
// requires.
var deployVars = map[string]string{
	"MARGIN_SESSION_SECRET": strings.Repeat("0123456789abcdef", 4),
	"POSTGRES_PASSWORD":     "pw0123456789",
}

// deployVarRef matches ${NAME}, ${NAME:-default} and ${NAME:?message}.
var deployVarRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}`)

// deployInterpolate substitutes variables the way compose does, with
// deployVars as the environment.
func deployInterpolate(t *testing.T, s string) string {
	t.Helper()
	return deployVarRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := deployVarRef.FindStringSubmatch(ref)
		if v, ok := deployVars[m[1]]; ok {
			return v
		}
		if m[2] == "?" {
			t.Errorf("compose requires %s, which the test does not set", m[1])
		}
		return m[3]
	})
}

func deployRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func deployLoadCompose(t *testing.T) (deployCompose, string) {
	t.Helper()
	raw := deployRead(t, "docker-compose.yml")
	var c deployCompose
	if err := yaml.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c, raw
}

// deployConfigKeys lists the MARGIN_* variables LoadConfig reads, from the
// source of config.go.
func deployConfigKeys(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`"(MARGIN_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) < 10 {
		t.Fatalf("found only %d MARGIN_ keys in config.go: %v", len(keys), keys)
	}
	return keys
}

// deployGetenv is a getenv over a service's environment, interpolated.
func deployGetenv(t *testing.T, env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return deployInterpolate(t, v)
		}
		return ""
	}
}

// TestDeployCompose checks docker-compose.yml: its services, that the two
// instances share the database and the session secret, that every MARGIN_*
// variable is one the server reads and the instances' environments load,
// and that only the proxy is published.
func TestDeployCompose(t *testing.T) {
	c, raw := deployLoadCompose(t)
	for _, name := range []string{"postgres", "margin-1", "margin-2", "nginx"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("docker-compose.yml: no service %q (have %v)", name, slices.Sorted(maps.Keys(c.Services)))
		}
	}
	m1, m2, pg, nginx := c.Services["margin-1"], c.Services["margin-2"], c.Services["postgres"], c.Services["nginx"]

	for _, k := range []string{"MARGIN_SESSION_SECRET", "MARGIN_DATABASE_URL", "MARGIN_ADDR", "MARGIN_TRUSTED_PROXIES", "MARGIN_BASE_URL"} {
		if m1.Environment[k] == "" || m1.Environment[k] != m2.Environment[k] {
			t.Errorf("%s: margin-1 has %q, margin-2 %q; want the same, set", k, m1.Environment[k], m2.Environment[k])
		}
	}
	if !strings.HasPrefix(m1.Environment["MARGIN_SESSION_SECRET"], "${MARGIN_SESSION_SECRET:?") {
		t.Errorf("MARGIN_SESSION_SECRET = %q: want ${MARGIN_SESSION_SECRET:?…}, so compose refuses to start without it", m1.Environment["MARGIN_SESSION_SECRET"])
	}
	for _, s := range []deployService{m1, m2} {
		if s.Build == nil {
			t.Error("a margin service is not built from the Dockerfile")
		}
		if s.Healthcheck == nil || !slices.Contains(s.Healthcheck.Test, "healthcheck") {
			t.Errorf("a margin service has no `margin healthcheck` healthcheck: %+v", s.Healthcheck)
		}
		if len(s.Ports) > 0 {
			t.Errorf("a margin service publishes %v; only nginx should be reachable from outside", s.Ports)
		}
	}

	// Every MARGIN_* variable is one LoadConfig reads.
	keys := deployConfigKeys(t)
	used := map[string]bool{}
	for _, s := range c.Services {
		for k := range s.Environment {
			if strings.HasPrefix(k, "MARGIN_") {
				used[k] = true
			}
		}
	}
	for _, m := range deployVarRef.FindAllStringSubmatch(raw, -1) {
		if strings.HasPrefix(m[1], "MARGIN_") {
			used[m[1]] = true
		}
	}
	for k := range used {
		if !slices.Contains(keys, k) {
			t.Errorf("docker-compose.yml uses %s, which server/config.go does not read (it reads %v)", k, keys)
		}
	}

	// Both environments load, and say what the rest of the file assumes.
	for name, s := range map[string]deployService{"margin-1": m1, "margin-2": m2} {
		cfg, err := LoadConfig(deployGetenv(t, s.Environment))
		if err != nil {
			t.Fatalf("%s: LoadConfig: %v", name, err)
		}
		if len(cfg.SessionSecret) < 32 || len(cfg.TrustedProxies) == 0 {
			t.Errorf("%s: session secret %d bytes, %d trusted proxies", name, len(cfg.SessionSecret), len(cfg.TrustedProxies))
		}
		if cfg.MetricsAddr != "" {
			_, port, _ := net.SplitHostPort(cfg.MetricsAddr)
			for _, p := range nginx.Ports {
				if strings.HasSuffix(p, ":"+port) {
					t.Errorf("the metrics port %s is published by nginx (%s)", port, p)
				}
			}
		}
		u, err := models.ParseDatabaseURL(cfg.DatabaseURL)
		if err != nil || u.Dialect != models.Postgres {
			t.Fatalf("%s: MARGIN_DATABASE_URL %q: %v, want PostgreSQL", name, cfg.DatabaseURL, err)
		}
		pu, err := url.Parse(u.DSN)
		if err != nil {
			t.Fatal(err)
		}
		pass, _ := pu.User.Password()
		want := map[string]string{
			"host": "postgres", "port": "5432", "user": deployInterpolate(t, pg.Environment["POSTGRES_USER"]),
			"password": deployInterpolate(t, pg.Environment["POSTGRES_PASSWORD"]), "db": deployInterpolate(t, pg.Environment["POSTGRES_DB"]),
		}
		got := map[string]string{"host": pu.Hostname(), "port": pu.Port(), "user": pu.User.Username(), "password": pass, "db": strings.TrimPrefix(pu.Path, "/")}
		for k, v := range want {
			if got[k] != v || v == "" {
				t.Errorf("%s: MARGIN_DATABASE_URL %s is %q, the postgres service's %q", name, k, got[k], v)
			}
		}
	}

	if !strings.HasPrefix(pg.Image, "postgres:16") || pg.Healthcheck == nil || len(pg.Volumes) == 0 {
		t.Errorf("postgres: image %q, healthcheck %v, volumes %v; want postgres:16 with a healthcheck and a volume", pg.Image, pg.Healthcheck, pg.Volumes)
	}
	if m1.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("margin-1 does not wait for a healthy postgres: %+v", m1.DependsOn)
	}
	if !slices.Contains(nginx.Ports, "80:80") {
		t.Errorf("nginx publishes %v, want 80:80", nginx.Ports)
	}
	if !slices.ContainsFunc(nginx.Volumes, func(v string) bool { return strings.HasPrefix(v, "./deploy/nginx.conf:/etc/nginx/nginx.conf") }) {
		t.Errorf("nginx does not mount deploy/nginx.conf: %v", nginx.Volumes)
	}
	for _, p := range pg.Ports {
		t.Errorf("postgres publishes %s; it should be reachable on the compose network only", p)
	}

	t.Run("compose config", func(t *testing.T) {
		var cmd *exec.Cmd
		if bin, err := exec.LookPath("docker-compose"); err == nil {
			cmd = exec.Command(bin, "config", "-q") // #nosec G204 -- docker-compose from PATH, fixed arguments
		} else if bin, err := exec.LookPath("docker"); err == nil && exec.Command(bin, "compose", "version").Run() == nil {
			cmd = exec.Command(bin, "compose", "config", "-q") // #nosec G204 -- docker from PATH, fixed arguments
		} else {
			t.Skip("neither docker-compose nor the docker compose plugin is installed: the compose file is checked by the YAML tests only")
		}
		cmd.Dir = ".."
		cmd.Env = os.Environ()
		for k, v := range deployVars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
		}
	})
}

// TestDeployTrustedProxies checks that the instances trust X-Forwarded-For
// from nginx's address space, which the compose file pins.
func TestDeployTrustedProxies(t *testing.T) {
	c, _ := deployLoadCompose(t)
	cfg, err := LoadConfig(deployGetenv(t, c.Services["margin-1"].Environment))
	if err != nil {
		t.Fatal(err)
	}
	nets := c.Services["nginx"].Networks
	if len(nets) == 0 {
		nets = []string{"default"}
	}
	for _, n := range nets {
		subnets := c.Networks[n].IPAM.Config
		if len(subnets) == 0 {
			t.Fatalf("network %s has no explicit ipam subnet: nginx's address is unknown, so MARGIN_TRUSTED_PROXIES cannot name it", n)
		}
		for _, s := range subnets {
			_, sub, err := net.ParseCIDR(s.Subnet)
			if err != nil {
				t.Fatalf("network %s subnet %q: %v", n, s.Subnet, err)
			}
			subOnes, _ := sub.Mask.Size()
			if !slices.ContainsFunc(cfg.TrustedProxies, func(tp *net.IPNet) bool {
				ones, _ := tp.Mask.Size()
				return tp.Contains(sub.IP) && ones <= subOnes
			}) {
				t.Errorf("nginx's network %s (%s) is not inside MARGIN_TRUSTED_PROXIES %v", n, sub, cfg.TrustedProxies)
			}
		}
	}
}

// deployNginxUpstream returns the server lines of the upstream block.
func deployNginxUpstream(t *testing.T, conf string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)upstream\s+\w+\s*\{(.*?)\}`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("deploy/nginx.conf: no upstream block")
	}
	var out []string
	for _, s := range regexp.MustCompile(`(?m)^\s*server\s+([^\s;]+)`).FindAllStringSubmatch(m[1], -1) {
		out = append(out, s[1])
	}
	return out
}

// TestDeployNginx checks deploy/nginx.conf against the compose file and the
// application, then runs `nginx -t` on it when nginx is installed.
func TestDeployNginx(t *testing.T) {
	c, _ := deployLoadCompose(t)
	conf := deployRead(t, "deploy/nginx.conf")

	var want []string
	for _, name := range []string{"margin-1", "margin-2"} {
		_, port, err := net.SplitHostPort(c.Services[name].Environment["MARGIN_ADDR"])
		if err != nil {
			t.Fatalf("%s MARGIN_ADDR: %v", name, err)
		}
		want = append(want, name+":"+port)
	}
	if got := deployNginxUpstream(t, conf); !slices.Equal(got, want) {
		t.Errorf("nginx upstream servers %v, want %v", got, want)
	}

	m := regexp.MustCompile(`client_max_body_size\s+(\d+)([kKmM]?);`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("deploy/nginx.conf: no client_max_body_size")
	}
	size, _ := strconv.ParseInt(m[1], 10, 64)
	switch strings.ToLower(m[2]) {
	case "k":
		size <<= 10
	case "m":
		size <<= 20
	}
	if limit := handlers.DefaultLimits().MaxUploadBytes; size != limit {
		t.Errorf("client_max_body_size is %d bytes, the application's upload limit %d", size, limit)
	}
	for _, h := range []string{
		`proxy_set_header Host $host;`,
		`proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
		`proxy_set_header X-Forwarded-Proto $scheme;`,
		`proxy_read_timeout`, `proxy_connect_timeout`, `proxy_send_timeout`,
	} {
		if !strings.Contains(conf, h) {
			t.Errorf("deploy/nginx.conf lacks %q", h)
		}
	}

	t.Run("nginx -t", func(t *testing.T) {
		bin, err := exec.LookPath("nginx")
		if err != nil {
			t.Skip("nginx is not installed (Debian package nginx): `nginx -t` not run on deploy/nginx.conf")
		}
		// Compose's service names do not resolve here, and nginx resolves
		// upstream names while it checks.
		local := conf
		for _, name := range []string{"margin-1", "margin-2"} {
			local = strings.ReplaceAll(local, "server "+name+":", "server 127.0.0.1:")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-t", "-p", dir, "-c", path).CombinedOutput() // #nosec G204 -- nginx from PATH, on a file of this test
		if err != nil {
			t.Fatalf("nginx -t: %v\n%s", err, out)
		}
		t.Logf("%s", bytes.TrimSpace(out))
	})
}

// TestDeployDockerfile checks the Dockerfile's shape: a cgo build stage, a
// run stage as a non-root user with a healthcheck.
func TestDeployDockerfile(t *testing.T) {
	df := deployRead(t, "Dockerfile")
	froms := regexp.MustCompile(`(?mi)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?`).FindAllStringSubmatchIndex(df, -1)
	if len(froms) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a run stage", len(froms))
	}
	if !regexp.MustCompile(`(?mi)^FROM\s+golang:\S+\s+AS\s+build\s*$`).MatchString(df) {
		t.Error("Dockerfile has no `FROM golang:… AS build` stage")
	}
	if !strings.Contains(df, "CGO_ENABLED=1") {
		t.Error("Dockerfile does not build with CGO_ENABLED=1 (SQLite needs cgo)")
	}
	final := df[froms[len(froms)-1][0]:]
	if !regexp.MustCompile(`(?m)^FROM\s+debian:\S+-slim`).MatchString(final) {
		t.Errorf("the run stage is not a slim glibc (Debian) image: %s", strings.SplitN(final, "\n", 2)[0])
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(final, -1)
	if len(users) == 0 {
		t.Fatal("the run stage has no USER: it would run as root")
	}
	if u := strings.SplitN(users[len(users)-1][1], ":", 2)[0]; u == "root" || u == "0" {
		t.Errorf("the run stage runs as %s", users[len(users)-1][1])
	}
	hc := regexp.MustCompile(`(?m)^HEALTHCHECK\s+.*$`).FindString(final)
	if hc == "" {
		t.Fatal("the run stage has no HEALTHCHECK")
	}
	if !strings.Contains(hc, `"margin", "healthcheck"`) {
		t.Errorf("HEALTHCHECK %q does not run `margin healthcheck`", hc)
	}
}

// TestHealthcheckCommand runs `margin healthcheck` against a server that
// answers, one that fails, and none.
func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	check := func(addr string) error {
		env := map[string]string{"MARGIN_ADDR": addr, "MARGIN_DATA_DIR": t.TempDir()}
		var out, errOut bytes.Buffer
		return run(context.Background(), []string{"healthcheck"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	}
	if err := check("127.0.0.1:" + port); err != nil {
		t.Errorf("healthy server: %v", err)
	}
	if err := check("0.0.0.0:" + port); err != nil {
		t.Errorf("healthy server on a wildcard address: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := check("127.0.0.1:" + port); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("failing server: err = %v, want a 503 error", err)
	}
	srv.Close()
	if err := check("127.0.0.1:" + port); err == nil {
		t.Error("no server: the healthcheck passed")
	}

	for addr, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		":8080":          "http://127.0.0.1:8080/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"127.0.0.1:9000": "http://127.0.0.1:9000/healthz",
		"[::1]:8080":     "http://[::1]:8080/healthz",
	} {
		if got := healthURL(addr); got != want {
			t.Errorf("healthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestCopyCommand runs `margin copy` from an SQLite installation to a new
// database (PostgreSQL when the suite runs on it).
func TestCopyCommand(t *testing.T) {
	ctx := context.Background()
	src := "sqlite://" + filepath.Join(t.TempDir(), "old.db")
	db, dialect, err := models.Open(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Migrate(ctx, db, dialect, migrations.FS); err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db)
	if _, err := s.CreateUser(ctx, models.NewUser{Name: "Ada", Email: "ada@example.org", Password: "correct horse battery",
		StakeholderGroup: "academia", Country: "GB", Role: models.RoleAdmin, Verified: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	dst := dbtest.URL(t)
	env := map[string]string{"MARGIN_DATABASE_URL": src, "MARGIN_DATA_DIR": t.TempDir()}
	copyCLI := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"copy"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
		return out.String(), err
	}
	if _, err := copyCLI(); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("copy without --to: err = %v, want usage", err)
	}
	out, err := copyCLI("--to", dst) // --from defaults to MARGIN_DATABASE_URL
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^users\s+1 rows$`).MatchString(out) || !strings.Contains(out, "copied 1 rows") {
		t.Errorf("copy printed:\n%s\nwant per-table counts and a total", out)
	}
	if _, err := copyCLI("--from", src, "--to", dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second copy: err = %v, want a not-empty refusal", err)
	}
	if got := redactURL("postgres://margin:secret@postgres:5432/margin"); strings.Contains(got, "secret") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}
