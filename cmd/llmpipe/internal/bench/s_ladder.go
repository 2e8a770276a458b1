package bench

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// s6Windows is how many windows of items each S6 model gets.
const s6Windows = 10

// s6 runs the three-model ladder; hidden is pro's real RPM at the server.
func (e *Env) s6(ctx context.Context, label string, hidden int) (*runOut, error) {
	const a, b, c = 3000, 1500, 600
	nA := e.items(a * s6Windows)
	nB := e.items(b * s6Windows) // with lite's escalations, more than flash's quota
	nC := e.items(min(hidden, c) * s6Windows)
	args := []string{"--limit-mode", sim.ModeWindow, "--latency", e.latency().String(), "--latency-sigma", "0.5",
		"--invalid", lite + "=0.05"}
	args = append(args, limitArgs("rpm", map[string]int{lite: a, fl: b, pro: hidden})...)
	return e.runPlan(ctx, plan{
		label: label,
		models: []modelDecl{
			{Name: "a", ID: lite, RPM: a, TPM: 100_000_000, RPD: bigRPD},
			{Name: "b", ID: fl, RPM: b, TPM: 100_000_000, RPD: bigRPD},
			{Name: "c", ID: pro, RPM: c, TPM: 100_000_000, RPD: bigRPD},
		},
		steps: []stepDecl{
			{Name: "cheap", Items: "a.jsonl", Models: []string{"a", "b"}, Schema: true},
			{Name: "mid", Items: "b.jsonl", Models: []string{"b"}, Schema: true},
			{Name: "top", Items: "c.jsonl", Models: []string{"c"}, Schema: true},
		},
		items: map[string]itemSpec{
			"a.jsonl": {N: nA, Tokens: 100, Spread: 30, Prefix: "a"},
			"b.jsonl": {N: nB, Tokens: 100, Spread: 30, Prefix: "b"},
			"c.jsonl": {N: nC, Tokens: 100, Spread: 30, Prefix: "c"},
		},
		simArgs: args,
		windows: s6Windows,
	})
}

func runS6(ctx context.Context, e *Env, r *Result) error {
	r.Setup = "three steps, three models with their own quotas (flash-lite 3,000, flash 1,500, pro 600 RPM), each with more items than its quota takes in the run; 5 % of flash-lite's answers are wrong and climb to flash; pro's server quota is 300, hidden from the client, so pro runs into 429s; an unaffected model's slowdown = 1 − achieved / (0.99 × its limit), 0.99 being the pace the pacer keeps when nothing disturbs it (S2)"
	hit, err := e.s6(ctx, "S6", 300)
	if err != nil {
		return err
	}
	worst := 0.0
	for _, m := range []struct {
		id    string
		limit float64
	}{{lite, 3000}, {fl, 1500}} {
		h := interior(hit.Stats.Accepted[m.id], false)
		slow := 100 * (1 - h.Mean/(0.99*m.limit))
		worst = max(worst, slow)
		r.add(Figure{Name: m.id + " achieved / limit", Value: 100 * h.Mean / m.limit, Unit: "%"})
	}
	r.add(Figure{Name: "unaffected models' slowdown (worst)", Value: worst, Unit: "%", Excellent: AtMost(1), Acceptable: AtMost(5)})
	r.add(Figure{Name: pro + " 429s per 1,000 requests (driven on purpose)", Value: per1000(quota429s(hit.Stats, pro), generateCalls(hit.Stats, pro))})
	r.add(Figure{Name: pro + " achieved / hidden 300", Value: 100 * interior(hit.Stats.Accepted[pro], false).Mean / 300, Unit: "%"})
	esc := int64(0)
	for _, v := range hit.Sum.Escalations {
		esc += v
	}
	r.add(Figure{Name: "escalated items (lite → flash)", Value: float64(esc)})
	r.add(Figure{Name: "items lost", Value: lost(hit, hit.Sum.Stats.Read), Excellent: AtMost(0), Acceptable: AtMost(0)})
	return nil
}

func runS7(ctx context.Context, e *Env, r *Result) error {
	const rpm = 2400
	n := e.items(rpm * 5)
	rpd := n * 6 / 10
	r.Setup = fmt.Sprintf("%d items on the ladder [flash-lite, flash], %d RPM each; the server allows flash-lite %d requests a day (60 %%), which the client does not know; the per-day 429 carries a short retryDelay", n, rpm, rpd)
	args := []string{"--limit-mode", sim.ModeWindow, "--latency", e.latency().String(), "--latency-sigma", "0.5"}
	args = append(args, limitArgs("rpm", map[string]int{lite: rpm, fl: rpm})...)
	args = append(args, limitArgs("rpd", map[string]int{lite: rpd})...)
	o, err := e.runPlan(ctx, plan{
		label: "S7",
		models: []modelDecl{
			{Name: "a", ID: lite, RPM: rpm, TPM: 100_000_000, RPD: bigRPD},
			{Name: "b", ID: fl, RPM: rpm, TPM: 100_000_000, RPD: bigRPD},
		},
		steps:   []stepDecl{{Name: "call", Items: "items.jsonl", Models: []string{"a", "b"}}},
		items:   map[string]itemSpec{"items.jsonl": {N: n, Tokens: 100, Spread: 30, Prefix: "i"}},
		simArgs: args,
		log:     true,
		windows: 6,
	})
	if err != nil {
		return err
	}
	after := callsAfterFirst429(o.Log, lite, "rpd")
	capN := 0
	if ms, ok := o.Models[lite]; ok {
		capN = ms.Concurrency
	}
	r.add(Figure{Name: fmt.Sprintf("calls to flash-lite after its first per-day 429 (cap %d)", capN), Value: float64(after), Excellent: AtMost(float64(capN))})
	r.add(Figure{Name: "items lost", Value: lost(o, int64(n)), Excellent: AtMost(0), Acceptable: AtMost(0)})
	r.add(Figure{Name: "items failed", Value: float64(o.Sum.Failed)})
	esc := int64(0)
	for _, v := range o.Sum.Escalations {
		esc += v
	}
	r.add(Figure{Name: "items that climbed to flash", Value: float64(esc)})
	r.add(Figure{Name: "per-day 429s", Value: float64(o.Stats.Rejected[lite]["rpd"])})
	return nil
}
