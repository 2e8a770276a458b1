package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// handbook returns about tokens tokens of shared context.
func handbook(name string, tokens int) string {
	var b strings.Builder
	for i := 0; b.Len() < tokens*4; i++ {
		fmt.Fprintf(&b, "%s rule %d: %s %s %s. ", name, i, words[i%len(words)], words[(i*7)%len(words)], words[(i*13)%len(words)])
	}
	return b.String()[:tokens*4]
}

func runS10(ctx context.Context, e *Env, r *Result) error {
	const rpm = 1200
	const runWindows = 6
	per := e.items(rpm * runWindows / 3)
	r.Setup = fmt.Sprintf("two shared contexts of 2,000 tokens and one of 200 (below the 1,024-token minimum), TTL two windows, three steps of %d items sharing flash-lite at %d RPM: about six windows", per, rpm)
	extra := ""
	for i, toks := range []int{2000, 2000, 200} {
		extra += fmt.Sprintf("cache h%d {\n  system = %q\n  ttl    = 2m\n}\n\n", i+1, handbook(fmt.Sprintf("H%d", i+1), toks))
	}
	args := []string{"--limit-mode", sim.ModeWindow, "--latency", e.latency().String(), "--latency-sigma", "0.5", "--min-cache-tokens", "1024"}
	args = append(args, limitArgs("rpm", map[string]int{lite: rpm})...)
	o, err := e.runPlan(ctx, plan{
		label:  "S10",
		models: []modelDecl{{Name: "m", ID: lite, RPM: rpm, TPM: 100_000_000, RPD: bigRPD}},
		steps: []stepDecl{
			{Name: "q1", Items: "q1.jsonl", Models: []string{"m"}, Cache: "h1"},
			{Name: "q2", Items: "q2.jsonl", Models: []string{"m"}, Cache: "h2"},
			{Name: "q3", Items: "q3.jsonl", Models: []string{"m"}, Cache: "h3"},
		},
		items: map[string]itemSpec{
			"q1.jsonl": {N: per, Tokens: 40, Spread: 10, Prefix: "a"},
			"q2.jsonl": {N: per, Tokens: 40, Spread: 10, Prefix: "b"},
			"q3.jsonl": {N: per, Tokens: 40, Spread: 10, Prefix: "c"},
		},
		extra:   extra,
		simArgs: args,
		windows: runWindows,
	})
	if err != nil {
		return err
	}
	s := o.Stats
	r.add(Figure{Name: "caches created", Value: float64(s.Caches.Created)})
	r.add(Figure{Name: "caches expired at the server", Value: float64(s.Caches.Expired)})
	r.add(Figure{Name: "caches left after the run", Value: float64(s.Caches.Live), Excellent: AtMost(0), Acceptable: AtMost(0)})
	r.add(Figure{Name: "requests that found their cache gone, per 1,000", Value: per1000(s.Status["403"], s.Generate), Excellent: AtMost(0), Acceptable: AtMost(1)})
	r.add(Figure{Name: "contents sent inline (too small)", Value: float64(o.Sum.CachesInline)})
	r.add(Figure{Name: "cached share of prompt tokens", Value: 100 * float64(s.Tokens.Cached) / float64(max(s.Tokens.Prompt, 1)), Unit: "%"})
	r.add(Figure{Name: "items lost", Value: lost(o, int64(3*per)), Excellent: AtMost(0), Acceptable: AtMost(0)})
	return nil
}
