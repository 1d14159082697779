package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is the whole configuration, read once from the environment.
type Config struct {
	Addr                 string
	MetricsAddr          string // Prometheus /metrics listener; empty turns metrics off
	DataDir              string
	DatabaseURL          string
	BaseURL              string
	SessionSecret        []byte
	SMTPURL              string
	MailFrom             string
	AdminEmail           string
	AdminPassword        string
	RequireVerifiedEmail bool
	TrustedProxies       []*net.IPNet
	LogFormat            string // text or json
}

// LoadConfig reads MARGIN_* variables through getenv. The session secret is
// read or generated once into the data dir unless MARGIN_SESSION_SECRET is
// set.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:          envOr(getenv, "MARGIN_ADDR", "127.0.0.1:8080"),
		MetricsAddr:   strings.TrimSpace(getenv("MARGIN_METRICS_ADDR")),
		DataDir:       envOr(getenv, "MARGIN_DATA_DIR", "./data"),
		SMTPURL:       getenv("MARGIN_SMTP_URL"),
		AdminEmail:    getenv("MARGIN_ADMIN_EMAIL"),
		AdminPassword: getenv("MARGIN_ADMIN_PASSWORD"),
		LogFormat:     envOr(getenv, "MARGIN_LOG_FORMAT", "text"),
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr {
		return c, errors.New("MARGIN_METRICS_ADDR: use another address than MARGIN_ADDR; metrics are never served on the public listener")
	}
	c.DatabaseURL = envOr(getenv, "MARGIN_DATABASE_URL", "sqlite://"+filepath.Join(c.DataDir, "margin.db"))
	c.BaseURL = strings.TrimRight(envOr(getenv, "MARGIN_BASE_URL", "http://"+c.Addr), "/")
	var err error
	if c.RequireVerifiedEmail, err = envBool(getenv, "MARGIN_REQUIRE_VERIFIED_EMAIL", true); err != nil {
		return c, err
	}
	host := "localhost"
	if i := strings.Index(c.BaseURL, "://"); i >= 0 {
		host = strings.SplitN(c.BaseURL[i+3:], "/", 2)[0]
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	c.MailFrom = envOr(getenv, "MARGIN_MAIL_FROM", "Margin <margin@"+host+">")
	for _, cidr := range strings.FieldsFunc(getenv("MARGIN_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return c, fmt.Errorf("MARGIN_TRUSTED_PROXIES: %w", err)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if s := getenv("MARGIN_SESSION_SECRET"); s != "" {
		if len(s) < 32 {
			return c, errors.New("MARGIN_SESSION_SECRET: use at least 32 characters")
		}
		c.SessionSecret = []byte(s)
	}
	return c, nil
}

// SecureCookies reports whether the site is served over HTTPS.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// ensureSessionSecret reads the generated secret from the data dir, making
// it on first start.
func (c *Config) ensureSessionSecret() error {
	if len(c.SessionSecret) > 0 {
		return nil
	}
	path := filepath.Join(c.DataDir, "session.key")
	b, err := os.ReadFile(path) // #nosec G304 -- the operator's configured data dir
	if err == nil && len(strings.TrimSpace(string(b))) >= 64 {
		c.SessionSecret = []byte(strings.TrimSpace(string(b)))
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("session secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("session secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("session secret: %w", err)
	}
	c.SessionSecret = []byte(secret)
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

func envBool(getenv func(string) string, key string, def bool) (bool, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, fmt.Errorf("%s: want true or false, got %q", key, v)
	}
	return b, nil
}
