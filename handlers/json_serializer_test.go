package handlers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestStrictJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int // 0 for success
	}{
		{"plain", `{"body":"hello"}`, 0},
		{"unicode", `{"body":"Gênero ¶ 中文 😀"}`, 0},
		{"escaped pair", `{"body":"\ud83d\ude00"}`, 0},
		{"escaped backslash before u", `{"body":"\\ud800"}`, 0},
		{"invalid utf-8", "{\"body\":\"a\xff\xfe\"}", http.StatusUnprocessableEntity},
		{"lone high surrogate", `{"body":"\ud800"}`, http.StatusUnprocessableEntity},
		{"lone low surrogate", `{"body":"x\udc00"}`, http.StatusUnprocessableEntity},
		{"high then non-low", `{"body":"\ud800\u0041"}`, http.StatusUnprocessableEntity},
		{"trailing value", `{"body":"x"} {"body":"y"}`, http.StatusBadRequest},
		{"trailing junk", `{"body":"x"}]`, http.StatusBadRequest},
		{"malformed", `{"body":`, http.StatusBadRequest},
		{"wrong type", `{"body":42}`, http.StatusBadRequest},
		{"deep nesting", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), http.StatusBadRequest},
		{"trailing whitespace", "{\"body\":\"x\"}\n\t ", 0},
	}
	e := echo.New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			c := e.NewContext(req, httptest.NewRecorder())
			var v struct {
				Body string `json:"body"`
			}
			err := StrictJSON{}.Deserialize(c, &v)
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("Deserialize(%q) = %v", tc.body, err)
				}
				return
			}
			var he *echo.HTTPError
			if !errors.As(err, &he) || he.Code != tc.want {
				t.Fatalf("Deserialize(%q) = %v, want HTTP %d", tc.body, err, tc.want)
			}
		})
	}
}
