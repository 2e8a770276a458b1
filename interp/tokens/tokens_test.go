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
		{"words", []string{"hello world"}, 4},
		{"a space before a word is free", []string{"a b c"}, 3},
		{"CJK: a token per character", []string{"日本語の文"}, 5}, // bytes/4 said 3, runes/4 said 2
		{"Hangul", []string{"한국어"}, 3},
		{"Cyrillic: two letters a token", []string{"Привет"}, 3},
		{"emoji", []string{"😀"}, 2},
		{"digits one by one", []string{"2026"}, 4},
		{"JSON", []string{`{"a":1}`}, 5},
		{"newlines and indentation", []string{"x\n        y"}, 5},
		{"parts end runs", []string{"ab", "cd"}, 2},
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
