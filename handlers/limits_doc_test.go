package handlers

import (
	"os"
	"strings"
	"testing"
)

// TestSecurityDocStatesTheLimits keeps docs/security.md in step with the
// limits the server and its tests use.
func TestSecurityDocStatesTheLimits(t *testing.T) {
	doc, err := os.ReadFile("../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range LimitsTable(DefaultLimits()) {
		row := "| " + r.Name + " | " + r.Value + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/security.md lacks the row %q", row)
		}
	}
}
