package interp

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"frist", "first", 1}, {"kitten", "sitting", 3},
		{"agee", "age", 1}, {"cheap_frist", "cheap_first", 1}, {"héllo", "hello", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	tests := []struct {
		name  string
		cands []string
		want  string
	}{
		{"cheap_frist", []string{"cheap_first", "flash"}, "cheap_first"},
		{"modles", []string{"models", "output"}, "models"},
		{"x", []string{"y"}, ""},
		{"output", []string{"output"}, ""},
		{"zzzzzz", []string{"models"}, ""},
		{"ab", []string{"ac", "ad"}, "ac"},
	}
	for _, tt := range tests {
		if got := nearest(tt.name, tt.cands); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
