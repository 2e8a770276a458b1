package tokens

import (
	"strings"
	"testing"
)

func TestEstimate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		texts []string
		want  int
	}{
		{"empty", nil, 0},
		{"empty string", []string{""}, 0},
		{"one char rounds up", []string{"a"}, 1},
		{"four chars", []string{"abcd"}, 1},
		{"five chars", []string{"abcde"}, 2},
		{"runes not bytes", []string{"日本語の文"}, 2}, // 5 runes, 15 bytes
		{"parts counted together", []string{"ab", "cd"}, 1},
		{"long", []string{strings.Repeat("x", 2000)}, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Estimate(tc.texts...); got != tc.want {
				t.Errorf("Estimate(%q) = %d, want %d", tc.texts, got, tc.want)
			}
		})
	}
}

func TestCounterMatchesEstimate(t *testing.T) {
	parts := []string{"You are terse.", "Summarise: ", "héllo wörld"}
	var c Counter
	for _, p := range parts {
		c.Add(p)
	}
	if got, want := c.Tokens(), Estimate(parts...); got != want {
		t.Errorf("Counter = %d, Estimate = %d", got, want)
	}
}

func TestEstimateDoesNotAllocate(t *testing.T) {
	sys, prompt := "system", strings.Repeat("word ", 100)
	if n := testing.AllocsPerRun(100, func() { _ = Estimate(sys, prompt) }); n != 0 {
		t.Errorf("Estimate allocates %v times per call", n)
	}
}
