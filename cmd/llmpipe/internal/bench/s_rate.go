package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// windows is how many simulated minutes of items a rate-bound run gets:
// the first and last are excluded from the figures, leaving ten or more.
const windows = 12

// rateRun is a single-model, single-step rate-bound run.
type rateRun struct {
	label      string
	rpm, tpm   int // the client's configured limits
	srvRPM     int // the server's limits (hidden when they differ)
	srvTPM     int
	mode       string
	tokens     int // prompt length, mean and spread
	spread     int
	perWindow  int // items the quota allows per window
	faults     []string
	poison     int // items that always get 400
	timeout    string
	skew       skew
	timed, log bool
}

func (e *Env) rate(ctx context.Context, rr rateRun) (*runOut, error) {
	n := e.items(rr.perWindow * windows)
	args := []string{"--limit-mode", rr.mode, "--latency", e.latency().String(), "--latency-sigma", "0.5"}
	args = append(args, limitArgs("rpm", map[string]int{lite: rr.srvRPM})...)
	args = append(args, limitArgs("tpm", map[string]int{lite: rr.srvTPM})...)
	args = append(args, rr.faults...)
	if rr.poison > 0 {
		ids := ""
		step := n / rr.poison
		for i := 0; i < rr.poison; i++ {
			if i > 0 {
				ids += ","
			}
			ids += fmt.Sprintf("i%d", i*step+step/2)
		}
		args = append(args, "--poison", ids)
	}
	return e.runPlan(ctx, plan{
		label:   rr.label,
		models:  []modelDecl{{Name: "m", ID: lite, RPM: rr.rpm, TPM: rr.tpm, RPD: bigRPD}},
		steps:   []stepDecl{{Name: "call", Items: "items.jsonl", Models: []string{"m"}, Timeout: rr.timeout}},
		items:   map[string]itemSpec{"items.jsonl": {N: n, Tokens: rr.tokens, Spread: rr.spread, Prefix: "i"}},
		simArgs: args,
		log:     rr.log, timed: rr.timed, skew: rr.skew,
		windows: float64(n) / float64(rr.perWindow),
	})
}

// addRateFigures adds achieved/limit and 429s per 1,000 for model.
func addRateFigures(r *Result, label string, o *runOut, limit float64, tokens bool, achEx, achAcc Target, r429Ex, r429Acc Target) windowRate {
	w := interior(o.Stats.Accepted[lite], tokens)
	axis := "RPM"
	if tokens {
		axis = "TPM"
	}
	r.add(Figure{Name: label + " achieved / " + axis + " limit", Value: 100 * w.Mean / limit, Unit: "%", Excellent: achEx, Acceptable: achAcc})
	r.add(Figure{Name: label + " 429s per 1,000 requests", Value: per1000(quota429s(o.Stats, lite), generateCalls(o.Stats, lite)), Excellent: r429Ex, Acceptable: r429Acc})
	if w.Windows < 8 {
		r.note("%s: only %d full windows measured", label, w.Windows)
	}
	return w
}

func runS2(ctx context.Context, e *Env, r *Result) error {
	r.Setup = fmt.Sprintf("flash-lite shape 4,000 RPM / 4M TPM on client and server, prompts 500 ± 200 tokens, latency lognormal median %s σ 0.5, %d windows of items per mode", e.latency(), windows)
	for _, mode := range []string{sim.ModeWindow, sim.ModeSliding, sim.ModeBucket} {
		o, err := e.rate(ctx, rateRun{
			label: "S2 " + mode, rpm: 4000, tpm: 4_000_000, srvRPM: 4000, srvTPM: 4_000_000,
			mode: mode, tokens: 500, spread: 200, perWindow: 4000, timed: true, log: true,
		})
		if err != nil {
			return err
		}
		addRateFigures(r, mode, o, 4000, false, AtLeast(98), AtLeast(97), AtMost(1), AtMost(10))
		q := addedLatency(o.Log, o.Calls, 0.5, 0.99)
		r.add(Figure{Name: mode + " added latency p50", Value: q[0], Unit: "ms", Excellent: AtMost(5), Acceptable: AtMost(20)})
		r.add(Figure{Name: mode + " added latency p99", Value: q[1], Unit: "ms", Excellent: AtMost(50), Acceptable: AtMost(200)})
		addCost(r, mode, o)
	}
	return nil
}

// addCost reports the client's CPU and allocations per item and its peak
// memory, for context.
func addCost(r *Result, label string, o *runOut) {
	n := float64(max(o.Written, 1))
	r.add(Figure{Name: label + " client CPU per item", Value: float64(o.CPU.Microseconds()) / n, Unit: "µs"})
	r.add(Figure{Name: label + " allocations per item", Value: math.Round(float64(o.Mallocs) / n)})
	r.add(Figure{Name: label + " peak RSS", Value: float64(o.PeakRSS) / (1 << 20), Unit: "MB"})
}

func runS3(ctx context.Context, e *Env, r *Result) error {
	r.Setup = "1M TPM (4,000 RPM), prompts 2,000 ± 400 tokens, window mode; the request sent is resized after the runtime's estimate so the server counts ±10 % (uniform) or +11 % (a −10 % estimate bias) of it"
	variants := []struct {
		name string
		sk   skew
	}{
		{"±10 %", func(item string) float64 { return 1 / (0.9 + 0.2*unit(e.Seed, item)) }},
		{"−10 % bias", func(string) float64 { return 1 / 0.9 }},
	}
	for _, v := range variants {
		o, err := e.rate(ctx, rateRun{
			label: "S3 " + v.name, rpm: 4000, tpm: 1_000_000, srvRPM: 4000, srvTPM: 1_000_000,
			mode: sim.ModeWindow, tokens: 2000, spread: 400, perWindow: 500, skew: v.sk,
		})
		if err != nil {
			return err
		}
		addRateFigures(r, "estimate "+v.name, o, 1_000_000, true, AtLeast(97), AtLeast(95), Target{}, Target{})
	}
	return nil
}

func runS4(ctx context.Context, e *Env, r *Result) error {
	r.Setup = "client told 4,000 RPM; the server enforces 3,200 (hidden), then 4,800 (over-provisioned); window mode, prompts 500 ± 200 tokens"
	o, err := e.rate(ctx, rateRun{
		label: "S4 hidden", rpm: 4000, tpm: 4_000_000, srvRPM: 3200, srvTPM: 4_000_000,
		mode: sim.ModeWindow, tokens: 500, spread: 200, perWindow: 3200,
	})
	if err != nil {
		return err
	}
	addRateFigures(r, "hidden 3,200", o, 3200, false, AtLeast(95), AtLeast(90), AtMost(10), AtMost(20))

	o, err = e.rate(ctx, rateRun{
		label: "S4 over", rpm: 4000, tpm: 4_000_000, srvRPM: 4800, srvTPM: 4_000_000,
		mode: sim.ModeWindow, tokens: 500, spread: 200, perWindow: 4000,
	})
	if err != nil {
		return err
	}
	w := interior(o.Stats.Accepted[lite], false)
	r.add(Figure{Name: "over-provisioned: busiest window / configured 4,000", Value: 100 * w.Max / 4000, Unit: "%", Excellent: AtMost(100)})
	r.add(Figure{Name: "over-provisioned: achieved / configured 4,000", Value: 100 * w.Mean / 4000, Unit: "%"})
	return nil
}

func runS5(ctx context.Context, e *Env, r *Result) error {
	r.Setup = "S2 (window mode) plus 1 % 500, 1 % 503, 0.5 % hangs past the 1 s timeout, 0.1 % resets, 0.1 % truncated bodies, 0.1 % poisoned items (always 400), 1 % bare 429s"
	perWindow := 4000
	n := e.items(perWindow * windows)
	o, err := e.rate(ctx, rateRun{
		label: "S5", rpm: 4000, tpm: 4_000_000, srvRPM: 4000, srvTPM: 4_000_000,
		mode: sim.ModeWindow, tokens: 500, spread: 200, perWindow: perWindow,
		faults: []string{"--fail", "500=0.01", "--fail", "503=0.01", "--fail", "hang=0.005",
			"--fail", "reset=0.001", "--fail", "truncate=0.001", "--fail", "bare429=0.01"},
		poison: max(1, n/1000), timeout: "1s", log: true,
	})
	if err != nil {
		return err
	}
	r.add(Figure{Name: "items lost", Value: lost(o, int64(n)), Excellent: AtMost(0), Acceptable: AtMost(0)})
	dups := duplicates(o.Log)
	r.add(Figure{Name: "duplicate successful calls", Value: 100 * float64(dups) / float64(max(o.Written, 1)), Unit: "%", Excellent: AtMost(0.01), Acceptable: AtMost(0.1)})
	r.add(Figure{Name: "items failed (poisoned: " + itoa(max(1, n/1000)) + ")", Value: float64(o.Sum.Failed)})
	w := interior(o.Stats.Accepted[lite], false)
	r.add(Figure{Name: "achieved / RPM limit", Value: 100 * w.Mean / 4000, Unit: "%"})
	r.add(Figure{Name: "quota 429s per 1,000 requests", Value: per1000(quota429s(o.Stats, lite), generateCalls(o.Stats, lite))})
	r.add(Figure{Name: "run time / ideal", Value: o.Elapsed.Seconds() / (float64(n) / 4000 * e.Window.Seconds())})
	_ = time.Second
	return nil
}
