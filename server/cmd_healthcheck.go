package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckTimeout bounds one health check; container runtimes give it
// their own timeout too.
const healthcheckTimeout = 5 * time.Second

// cmdHealthcheck asks the server on MARGIN_ADDR for /healthz and fails
// unless it answers 200. It is the container's HEALTHCHECK, so the image
// needs no curl.
func cmdHealthcheck(ctx context.Context, cfg Config, stdout io.Writer) error {
	target := healthURL(cfg.Addr)
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, res.Status)
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", target, res.Status)
	return err
}

// healthURL is the /healthz URL of a listen address; a wildcard host
// (0.0.0.0, ::, or none) is reached on loopback.
func healthURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "80"
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
