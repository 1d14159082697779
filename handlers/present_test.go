package handlers

import (
	"slices"
	"testing"
)

func TestParseParagraphNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"", nil, true},
		{"12", []int{12}, true},
		{"37, 39, 40", []int{37, 39, 40}, true},
		{"¶37; ¶39-40", []int{37, 39, 40}, true},
		{"p3 p5", []int{3, 5}, true},
		{" 4 ,\n 2 ", []int{4, 2}, true},
		{"3-1", nil, false},
		{"0", nil, false},
		{"-2", nil, false},
		{"two", nil, false},
		{"1-x", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseParagraphNumbers(tc.in, 50)
			if ok != tc.ok || (ok && !slices.Equal(got, tc.want)) {
				t.Fatalf("parseParagraphNumbers(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	// A huge range stops expanding just past the limit.
	got, ok := parseParagraphNumbers("1-100000000", 50)
	if !ok || len(got) != 51 {
		t.Fatalf("huge range expanded to %d numbers", len(got))
	}
}

func TestSafeReturn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/moderation?status=pending", "/moderation?status=pending"},
		{"", "/x"},
		{"https://evil.example/", "/x"},
		{"//evil.example/", "/x"},
		{"/\\evil.example", "/x"},
		{"/ok\r\nSet-Cookie: a=b", "/x"},
		{"javascript:alert(1)", "/x"},
	}
	for _, tc := range tests {
		if got := safeReturn(tc.in, "/x"); got != tc.want {
			t.Errorf("safeReturn(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
