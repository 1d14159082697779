package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openAPIMethods are the keys of an OpenAPI path item that are operations.
var openAPIMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// apiRoutes returns "METHOD /path/{param}" for every /api/v1 route the router
// has, leaving out Echo's own not-found and catch-all routes.
func apiRoutes(t *testing.T) map[string]bool {
	t.Helper()
	e := echo.New()
	h := &Handler{cfg: Config{Limits: DefaultLimits()}}
	h.Routes(e)
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	out := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || strings.Contains(r.Path, "*") {
			continue
		}
		if r.Path != "/api/v1" && !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		out[strings.ToUpper(r.Method)+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	return out
}

// loadSpec parses the embedded description as a generic tree.
func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	var spec map[string]any
	if err := yaml.Unmarshal(openAPIYAML, &spec); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	return spec
}

// specOperations returns "METHOD /path" for every operation in paths, with
// the operation objects.
func specOperations(t *testing.T, spec map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := spec["paths"].(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml has no paths object")
	}
	out := map[string]map[string]any{}
	for path, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			t.Errorf("path %s: not an object", path)
			continue
		}
		for key, op := range ops {
			if !openAPIMethods[key] {
				continue
			}
			m, ok := op.(map[string]any)
			if !ok {
				t.Errorf("%s %s: operation is not an object", key, path)
				continue
			}
			out[strings.ToUpper(key)+" "+path] = m
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestOpenAPIMatchesRoutes checks that the description lists every /api/v1
// route of the router and nothing else.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	routes := apiRoutes(t)
	ops := specOperations(t, loadSpec(t))
	if len(routes) == 0 {
		t.Fatal("the router has no /api/v1 routes")
	}
	for _, r := range sortedKeys(routes) {
		if _, ok := ops[r]; !ok {
			t.Errorf("route %s is not described in openapi.yaml", r)
		}
	}
	for _, o := range sortedKeys(ops) {
		if !routes[o] {
			t.Errorf("openapi.yaml describes %s, which the router does not have", o)
		}
	}
}

// TestOpenAPIDocument checks the top-level fields and that each operation is
// complete: an id, responses, and a declared parameter for every {param}.
func TestOpenAPIDocument(t *testing.T) {
	spec := loadSpec(t)
	info, _ := spec["info"].(map[string]any)
	for _, tc := range []struct {
		name string
		got  any
		want string
	}{
		{"openapi", spec["openapi"], "3.0.3"},
		{"info.title", info["title"], "Margin API"},
		{"info.version", info["version"], "1.0.0"},
	} {
		if fmt.Sprint(tc.got) != tc.want {
			t.Errorf("%s = %v, want %q", tc.name, tc.got, tc.want)
		}
	}

	components, _ := spec["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for _, name := range []string{"User", "Document", "DocumentDetail", "Paragraph", "Comment", "Author", "Error"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("components.schemas.%s is missing", name)
		}
	}
	schemes, _ := components["securitySchemes"].(map[string]any)
	if b, _ := schemes["bearerAuth"].(map[string]any); b["type"] != "http" || b["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearerAuth = %v, want an HTTP bearer scheme", schemes["bearerAuth"])
	}

	paths, _ := spec["paths"].(map[string]any)
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	ids := map[string]string{}
	for key, op := range specOperations(t, spec) {
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q is also used by %s", key, id, other)
		} else {
			ids[id] = key
		}
		if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
			t.Errorf("%s: no responses", key)
		}
		path := key[strings.IndexByte(key, ' ')+1:]
		declared := map[string]bool{}
		var params []any
		if item, ok := paths[path].(map[string]any); ok {
			params, _ = item["parameters"].([]any)
		}
		opParams, _ := op["parameters"].([]any)
		for _, p := range append(params, opParams...) {
			pm := resolve(t, spec, p)
			if pm["in"] == "path" {
				declared[fmt.Sprint(pm["name"])] = true
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", key, m[1])
			}
		}
	}
}

// resolve follows a local $ref once.
func resolve(t *testing.T, spec map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	target, err := lookupRef(spec, ref)
	if err != nil {
		t.Errorf("%v", err)
		return nil
	}
	out, _ := target.(map[string]any)
	return out
}

func lookupRef(spec map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local", ref)
	}
	var cur any = spec
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

// TestOpenAPIRefsResolve checks every $ref in the description points at
// something that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	spec := loadSpec(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := lookupRef(spec, ref); err != nil {
					t.Errorf("at %s: %v", at, err)
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", at, i), child)
			}
		}
	}
	walk("#", spec)
}

// TestOpenAPIServed checks both served forms: the JSON is valid JSON of an
// OpenAPI 3 document, the YAML is the embedded file.
func TestOpenAPIServed(t *testing.T) {
	h := &Handler{cfg: Config{Limits: DefaultLimits()}}
	for _, tc := range []struct {
		path    string
		handler echo.HandlerFunc
		ctype   string
		check   func(t *testing.T, body []byte)
	}{
		{"/api/v1/openapi.json", h.OpenAPIJSON, "application/json", func(t *testing.T, body []byte) {
			if !json.Valid(body) {
				t.Fatalf("body is not valid JSON: %.200s", body)
			}
			var doc struct {
				OpenAPI string `json:"openapi"`
				Info    struct {
					Title string `json:"title"`
				} `json:"info"`
				Paths map[string]any `json:"paths"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(doc.OpenAPI, "3.") {
				t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
			}
			if doc.Info.Title != "Margin API" {
				t.Errorf("info.title = %q", doc.Info.Title)
			}
			if len(doc.Paths) == 0 {
				t.Error("no paths in the JSON")
			}
		}},
		{"/api/v1/openapi.yaml", h.OpenAPIYAML, "application/yaml", func(t *testing.T, body []byte) {
			if string(body) != string(openAPIYAML) {
				t.Error("served YAML differs from the embedded file")
			}
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			e := echo.New()
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodGet, tc.path, nil), rec)
			if err := tc.handler(c); err != nil {
				t.Fatalf("handler: %v", err)
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type = %q, want %s", ct, tc.ctype)
			}
			tc.check(t, rec.Body.Bytes())
		})
	}
}
