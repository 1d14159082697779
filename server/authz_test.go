package main

import "testing"

func TestAuthzDebugRoutes(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	for _, r := range ts.app.echo.Routes() {
		t.Logf("%q %q", r.Method, r.Path)
	}
}
