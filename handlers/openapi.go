package handlers

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openAPIYAML is the machine-readable API description. A test checks that
// it lists every /api/v1 route the router has, and nothing more.
//
//go:embed openapi.yaml
var openAPIYAML []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
})

// OpenAPIYAML serves the API description as YAML.
func (h *Handler) OpenAPIYAML(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/yaml; charset=utf-8")
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", openAPIYAML)
}

// OpenAPIJSON serves the API description as JSON.
func (h *Handler) OpenAPIJSON(c echo.Context) error {
	b, err := openAPIJSON()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, jsonContentType, b)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
