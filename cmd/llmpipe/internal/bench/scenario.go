package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// Scenario is one row of the design's scenario table.
type Scenario struct {
	ID, Title string
	run       func(ctx context.Context, e *Env, r *Result) error
}

// Scenarios lists what Run can run, in order. S9 (crash and resume) is
// proved by the root package's TestCrashResume instead: it needs a process
// to kill, which this in-process runner is not.
func Scenarios() []Scenario {
	return []Scenario{
		{"S1", "overhead", runS1},
		{"S2", "RPM-bound, known limit", runS2},
		{"S3", "TPM-bound, estimate off", runS3},
		{"S4", "hidden limit", runS4},
		{"S5", "faults", runS5},
		{"S6", "ladder, three models, one driven into 429s", runS6},
		{"S7", "daily quota", runS7},
		{"S8", "scale and memory", runS8},
		{"S10", "cache lifecycle", runS10},
		{"S11", "Batch Mode results", runS11},
	}
}

// Run runs the scenarios named in ids (all when empty) one after another
// and returns their results; a scenario that cannot run reports its error
// in its Result and the others still run.
func Run(ctx context.Context, e *Env, ids []string) ([]*Result, error) {
	all := Scenarios()
	for _, id := range ids {
		if !slices.ContainsFunc(all, func(s Scenario) bool { return strings.EqualFold(s.ID, id) }) {
			return nil, fmt.Errorf("unknown scenario %q (have S1–S8, S10, S11; S9 is the root package's TestCrashResume)", id)
		}
	}
	if e.Scale <= 0 {
		e.Scale = 1
	}
	var out []*Result
	for _, s := range all {
		if len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return strings.EqualFold(s.ID, id) }) {
			continue
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		e.logf("%s %s", s.ID, s.Title)
		r := &Result{ID: s.ID, Title: s.Title}
		start := time.Now()
		if err := s.run(ctx, e, r); err != nil {
			r.Err = err.Error()
			e.logf("  %s: %v", s.ID, err)
		}
		r.Seconds = time.Since(start).Seconds()
		out = append(out, r)
	}
	return out, nil
}

// plan is one bench pipeline with its item files, ready to execute.
type plan struct {
	label   string
	models  []modelDecl
	steps   []stepDecl
	items   map[string]itemSpec // file name → items
	extra   string              // more blocks (caches, config)
	simArgs []string
	log     bool
	timed   bool
	skew    skew
	workers int
	store   bool    // run with a store (default: --no-store)
	windows float64 // expected length in windows (bounds the run)
}

func (e *Env) runPlan(ctx context.Context, p plan) (*runOut, error) {
	return e.runPlanWith(ctx, p, nil)
}

// runPlanWith runs p; prov, when set, replaces the simulator with an
// in-process provider.
func (e *Env) runPlanWith(ctx context.Context, p plan, prov runtime.Provider) (*runOut, error) {
	dir, err := e.newRunDir(p.label)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var total int64
	for name, spec := range p.items {
		if err := writeItems(filepath.Join(dir, name), spec, e.Seed+int64(len(name))); err != nil {
			return nil, err
		}
		total += int64(spec.N)
	}
	var src strings.Builder
	if slices.ContainsFunc(p.steps, func(s stepDecl) bool { return s.Schema }) {
		src.WriteString(answerSchema + "\n")
	}
	for _, m := range p.models {
		src.WriteString(m.String() + "\n")
	}
	src.WriteString(p.extra)
	for _, s := range p.steps {
		src.WriteString(s.String())
	}
	return e.execute(ctx, runSpec{
		Label: p.label, Pipeline: src.String(), Dir: dir, SimArgs: p.simArgs,
		Log: p.log, Time: p.timed, Skew: p.skew, Workers: p.workers, Store: p.store, Items: total,
		Expect: time.Duration(p.windows * float64(e.Window)), Provider: prov,
	})
}

// limitArgs renders per-model simulator limits: flag name, model, value.
func limitArgs(flag string, limits map[string]int) []string {
	var out []string
	keys := make([]string, 0, len(limits))
	for k := range limits {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, "--"+flag, fmt.Sprintf("%s=%d", k, limits[k]))
	}
	return out
}

// lost is items in the sources that are in no sink.
func lost(o *runOut, items int64) float64 { return float64(max(0, items-o.Written)) }

// Model ids used by the scenarios. The unknown one has no tier limits.
const (
	lite = "gemini-2.5-flash-lite"
	fl   = "gemini-2.5-flash"
	pro  = "gemini-2.5-pro"
	free = "gemini-bench-unlimited"
)

// bigRPD keeps a scenario's client from stopping at the tier's daily
// quota: these runs are many compressed "days" long.
const bigRPD = 1_000_000_000
