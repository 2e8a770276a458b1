package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/cmd/llmpipe/internal/estimate"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// The estimate of `llmpipe plan`: from a pilot run of N items spread over
// the sources (--pilot), else from the store's history of earlier runs of
// the same steps. The arithmetic is package estimate's; this file gathers
// the observations and prints them.

// costEstimate is what plan --json writes: the run's cost in dollars under
// expected_cost, cost_low and cost_high (the 90 % range), and the rest.
type costEstimate struct {
	Basis        string  `json:"basis"` // "pilot" or "history"
	ExpectedCost float64 `json:"expected_cost"`
	CostLow      float64 `json:"cost_low"`
	CostHigh     float64 `json:"cost_high"`
	// WholeSource is the cost of every item, as if none were stored yet;
	// Reused what the pilot's stored items (which the run reuses) cost.
	WholeSource    float64            `json:"whole_source_cost"`
	rest           *estimate.Estimate // the items the pilot did not answer
	Reused         float64            `json:"reused_cost"`
	ReusedItems    int                `json:"reused_items"`
	WithoutCaching float64            `json:"without_caching_cost"`
	CacheCost      float64            `json:"cache_cost"`
	Batch          float64            `json:"batch_cost,omitempty"`
	// TopRungCost and CachedSaving predict the summary's figures of the
	// same names for the whole source.
	TopRungCost  float64        `json:"top_rung_cost"`
	CachedSaving float64        `json:"cached_saving"`
	DurationSec  float64        `json:"duration_s"`
	Days         int            `json:"days,omitempty"`
	Wide         []string       `json:"wide,omitempty"`
	Steps        []stepEstimate `json:"steps"`
}

type stepEstimate struct {
	Step         string         `json:"step"`
	Items        int            `json:"items"`
	ExpectedCost float64        `json:"expected_cost"`
	CostLow      float64        `json:"cost_low"`
	CostHigh     float64        `json:"cost_high"`
	Rungs        []rungEstimate `json:"rungs"`
}

type rungEstimate struct {
	Model          string  `json:"model"`
	Calls          float64 `json:"calls"`
	PassRate       float64 `json:"pass_rate"`
	ExpectedCost   float64 `json:"expected_cost"`
	InputTokens    float64 `json:"input_tokens_per_call"`
	OutputTokens   float64 `json:"output_tokens_per_call"`
	CachedTokens   float64 `json:"cached_tokens_per_call"`
	ThinkingTokens float64 `json:"thinking_tokens_per_call"`
	LatencyMS      float64 `json:"latency_ms"`
	Minutes        float64 `json:"minutes_at_quota"`
}

// observer gathers a pilot's observations from its events.
type observer struct {
	mu    sync.Mutex
	steps map[string]*stepObs
}

type stepObs struct {
	items   map[string]float64 // terminal items and what each cost
	rungs   map[string]*estimate.Rung
	reached map[[2]string]bool // (item, model) pairs with a call
}

func (o *observer) step(name string) *stepObs {
	if o.steps == nil {
		o.steps = map[string]*stepObs{}
	}
	s := o.steps[name]
	if s == nil {
		s = &stepObs{items: map[string]float64{}, rungs: map[string]*estimate.Rung{}, reached: map[[2]string]bool{}}
		o.steps[name] = s
	}
	return s
}

func (s *stepObs) rung(model string) *estimate.Rung {
	r := s.rungs[model]
	if r == nil {
		r = &estimate.Rung{Model: model}
		s.rungs[model] = r
	}
	return r
}

// OnEvent implements runtime.Observer.
func (o *observer) OnEvent(e runtime.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch e.Kind {
	case runtime.EventCallFinished:
		s := o.step(e.Step)
		r := s.rung(e.Model)
		r.Calls++
		r.Cost += e.Cost.Dollars()
		r.Latency += e.Delay
		if u := e.Usage; u != nil {
			r.Input += int64(u.PromptTokens)
			r.Output += int64(u.OutputTokens)
			r.Cached += int64(u.CachedTokens)
			r.Thinking += int64(u.ThinkingTokens)
		}
		if k := [2]string{e.Item, e.Model}; !s.reached[k] {
			s.reached[k] = true
			r.Reached++
		}
	case runtime.EventItemSucceeded:
		s := o.step(e.Step)
		s.items[e.Item] = e.Cost.Dollars()
		s.rung(e.Model).Answered++
	case runtime.EventItemFailed:
		o.step(e.Step).items[e.Item] = e.Cost.Dollars()
	}
}

// sampler keeps items of the steps that read a source with probability
// keep[source], by a hash of the item id: a sample spread over the source
// that is the same on every run.
type sampler struct {
	keep   map[string]float64 // step → probability
	mu     sync.Mutex
	counts map[string]int // step → items kept
}

func (s *sampler) Before(_ context.Context, step string, rec *runtime.Record) (bool, error) {
	p, ok := s.keep[step]
	if !ok {
		return false, nil // a step after another: it sees what was kept
	}
	h := fnv.New64a()
	h.Write([]byte(rec.ID))
	// FNV's high bits mix short ids poorly: finish with murmur3's mixer.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	if float64(x>>11)/float64(1<<53) >= p {
		return true, nil
	}
	s.mu.Lock()
	s.counts[step]++
	s.mu.Unlock()
	return false, nil
}

func (s *sampler) After(context.Context, string, *runtime.Record) error { return nil }
func (s *sampler) OnRetry(context.Context, string, *runtime.Record, runtime.AttemptError) {
}

// sourceTotal counts a source's items (after its limit); 0 when it cannot
// count itself.
func sourceTotal(ctx context.Context, s *interp.Source) int {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	src, err := stdlib.OpenSource(ctx, s)
	if err != nil {
		return 0
	}
	defer src.Close()
	c, ok := src.(runtime.Counter)
	if !ok {
		return 0
	}
	n, err := c.Count(ctx)
	if err != nil {
		return 0
	}
	if s.Limit > 0 && s.Limit < n {
		n = s.Limit
	}
	return n
}

// rootSource is the source a step's items come from.
func rootSource(st *interp.Step) *interp.Source {
	for st.FromSource == nil && st.FromStep != nil {
		st = st.FromStep
	}
	return st.FromSource
}

// pilot runs about n items spread over the sources and estimates the run
// from them. The pilot's results are stored like any run's (unless
// opts.NoStore), so the run reuses them.
func pilot(ctx context.Context, p *llmpipe.Pipeline, opts llmpipe.RunOptions, n int) (*costEstimate, error) {
	prog := p.Program
	totals := map[*interp.Source]int{}
	samp := &sampler{keep: map[string]float64{}, counts: map[string]int{}}
	for _, st := range prog.Steps {
		if st.FromSource == nil {
			continue
		}
		total, ok := totals[st.FromSource]
		if !ok {
			total = sourceTotal(ctx, st.FromSource)
			totals[st.FromSource] = total
		}
		keep := 1.0
		if total > n {
			keep = float64(n) / float64(total)
		}
		samp.keep[st.Name] = keep
	}
	obs := &observer{}
	opts.Observers = append(opts.Observers, obs)
	opts.Middleware = append(opts.Middleware, samp)
	book := catalog.NewBook(prog)
	var (
		out                             *costEstimate
		done                            int64
		cacheCost, topCost, cachedSaved float64
	)
	// Rounds: until the range is within ±40 % of the expected cost the
	// sample doubles, up to four times N items (or the whole source).
	// Items of earlier rounds are answered from the store.
	for round := 0; ; round++ {
		r, err := p.Start(ctx, opts)
		if err != nil {
			return nil, err
		}
		sum, err := r.Wait(ctx)
		if err != nil && sum == nil {
			return nil, err
		}
		done += sum.Succeeded + sum.Failed - sum.Resumed
		cacheCost += sum.CacheCost
		topCost += sum.TopRungCost
		cachedSaved += sum.CachedSaving
		est := estimate.Of(pilotSteps(prog, book, totals, samp, obs))
		out = fromEstimate("pilot", est, book, prog)
		if !opts.NoStore {
			out.rest = &est
		}
		wide := est.High-est.Low > 0.8*est.Expected
		if !opts.NoStore {
			wide = est.RestHigh-est.RestLow > 0.8*est.RestExpected
		}
		full := true
		for _, k := range samp.keep {
			full = full && k >= 1
		}
		if !wide || full || round == 2 || ctx.Err() != nil || opts.NoStore {
			break
		}
		for st, k := range samp.keep {
			samp.keep[st] = min(1, 2*k)
		}
	}
	// The pilot's items are stored: the run answers them from the store.
	if !opts.NoStore {
		for _, o := range obs.steps {
			for _, c := range o.items {
				out.Reused += c
			}
		}
		out.ReusedItems = int(done)
	}
	scale := 1.0
	for _, st := range prog.Steps {
		if k := samp.keep[st.Name]; k > 0 {
			scale = 1 / k
			break
		}
	}
	out.CacheCost = cacheCost
	out.TopRungCost = topCost * scale
	out.CachedSaving = cachedSaved * scale
	out.finish()
	return out, nil
}

// pilotSteps turns the observations into estimate.Steps.
func pilotSteps(prog *interp.Program, book *catalog.Book, totals map[*interp.Source]int, samp *sampler, obs *observer) []estimate.Step {
	obs.mu.Lock()
	defer obs.mu.Unlock()
	var steps []estimate.Step
	for _, st := range prog.Steps {
		src := rootSource(st)
		total, keep := totals[src], samp.keep[st.Name]
		if st.FromSource == nil {
			keep = 1.0
			for _, s2 := range prog.Steps {
				if s2.FromSource == src {
					keep = samp.keep[s2.Name]
					break
				}
			}
		}
		es := estimate.Step{Name: st.Name}
		if total > 0 && keep > 0 {
			// Sampled/Total is the sampling probability.
			es.Sampled, es.Total = 1_000_000, int(math.Round(1_000_000/keep))
		}
		o := obs.steps[st.Name]
		for _, m := range st.Models {
			r := estimate.Rung{Model: m.ID}
			if o != nil && o.rungs[m.ID] != nil {
				r = *o.rungs[m.ID]
			}
			lim := book.Limits(m)
			r.RPM, r.TPM, r.RPD = lim.RPM, lim.TPM, lim.RPD
			es.Rungs = append(es.Rungs, r)
		}
		if o != nil {
			for _, c := range o.items {
				es.ItemCosts = append(es.ItemCosts, c)
			}
		}
		steps = append(steps, es)
	}
	return steps
}

// history estimates the run from the store's results of earlier runs of
// the same steps; nil when the store has none.
func history(ctx context.Context, p *llmpipe.Pipeline, storePath string) *costEstimate {
	if _, err := os.Stat(storePath); err != nil {
		return nil
	}
	st, err := store.Open(ctx, storePath, store.Options{ReadOnly: true})
	if err != nil {
		return nil
	}
	defer st.Close()
	prog := p.Program
	book := catalog.NewBook(prog)
	var steps []estimate.Step
	any := false
	for _, s := range prog.Steps {
		es := estimate.Step{Name: s.Name}
		rungs := map[string]*estimate.Rung{}
		for _, m := range s.Models {
			lim := book.Limits(m)
			r := &estimate.Rung{Model: m.ID, RPM: lim.RPM, TPM: lim.TPM, RPD: lim.RPD}
			rungs[m.ID] = r
		}
		_ = st.Results(ctx, s.Name, s.Fingerprint(), func(res *runtime.Result) error {
			es.ItemCosts = append(es.ItemCosts, res.Cost.Dollars())
			if r := rungs[res.Model]; r != nil {
				r.Reached++
				r.Calls += max(res.Attempts, 1)
				r.Cost += res.Cost.Dollars()
				r.Input += int64(res.Usage.PromptTokens)
				r.Output += int64(res.Usage.OutputTokens)
				r.Cached += int64(res.Usage.CachedTokens)
				r.Thinking += int64(res.Usage.ThinkingTokens)
				if res.OK {
					r.Answered++
				}
			}
			return nil
		})
		if len(es.ItemCosts) > 0 {
			any = true
		}
		if src := rootSource(s); src != nil {
			if total := sourceTotal(ctx, src); total > 0 && len(es.ItemCosts) > 0 {
				es.Sampled, es.Total = len(es.ItemCosts), total
			}
		}
		for _, m := range s.Models {
			es.Rungs = append(es.Rungs, *rungs[m.ID])
		}
		steps = append(steps, es)
	}
	if !any {
		return nil
	}
	out := fromEstimate("history", estimate.Of(steps), book, prog)
	out.finish()
	return out
}

// fromEstimate fills the JSON form, with the caching and batch variants.
func fromEstimate(basis string, e estimate.Estimate, book *catalog.Book, prog *interp.Program) *costEstimate {
	out := &costEstimate{Basis: basis, WholeSource: e.Expected, CostLow: e.Low, CostHigh: e.High,
		DurationSec: e.Duration.Seconds(), Days: e.Days, Wide: e.Wide}
	models := map[string]*interp.Model{}
	for _, m := range prog.Models {
		models[m.ID] = m
	}
	batch := 0.0
	saved := 0.0
	for i, se := range e.Steps {
		sj := stepEstimate{Step: se.Name, Items: se.Items, ExpectedCost: se.Expected, CostLow: se.Low, CostHigh: se.High}
		for j, r := range se.Rungs {
			sj.Rungs = append(sj.Rungs, rungEstimate{Model: r.Model, Calls: r.Calls, PassRate: r.PassRate, ExpectedCost: r.Cost,
				InputTokens: r.Input, OutputTokens: r.Output, CachedTokens: r.Cached, ThinkingTokens: r.Thinking,
				LatencyMS: float64(r.Latency) / float64(time.Millisecond), Minutes: r.Minutes})
			m := prog.Steps[i].Models[j]
			p := book.Price(m)
			saved += r.Calls * r.Cached * (p.InputPerM - p.CachedPerM) / 1e6
			u := runtime.Usage{PromptTokens: int(r.Input), OutputTokens: int(r.Output), CachedTokens: int(r.Cached), ThinkingTokens: int(r.Thinking)}
			batch += r.Calls * book.BatchCost(m.ID, u).Dollars()
		}
		out.Steps = append(out.Steps, sj)
	}
	out.WithoutCaching = e.Expected + saved
	out.Batch = batch
	return out
}

// finish works out what the run itself will pay: the whole source less
// what the pilot's stored items cost, plus the caches.
func (c *costEstimate) finish() {
	c.WithoutCaching -= c.Reused
	c.ExpectedCost = math.Max(0, c.WholeSource-c.Reused) + c.CacheCost
	c.CostLow = math.Max(0, c.CostLow-c.Reused) + c.CacheCost
	c.CostHigh = math.Max(0, c.CostHigh-c.Reused) + c.CacheCost
	if r := c.rest; r != nil {
		// Only the items the pilot did not answer are uncertain.
		c.ExpectedCost = r.RestExpected + c.CacheCost
		c.CostLow, c.CostHigh = r.RestLow+c.CacheCost, r.RestHigh+c.CacheCost
	}
	if c.Batch > 0 && c.WholeSource > 0 {
		c.Batch *= math.Max(0, c.WholeSource-c.Reused) / c.WholeSource
	}
}

// printEstimate writes the estimate under the plan.
func printEstimate(w io.Writer, c *costEstimate) {
	basis := "a pilot run"
	if c.Basis == "history" {
		basis = "the store's history of earlier runs of these steps"
	}
	fmt.Fprintf(w, "\nestimate · from %s\n", basis)
	for _, s := range c.Steps {
		fmt.Fprintf(w, "  step %s · %s items · $%.4f (90%%: $%.4f – $%.4f)\n", s.Step, count(int64(s.Items)), s.ExpectedCost, s.CostLow, s.CostHigh)
		for _, r := range s.Rungs {
			if r.Calls == 0 {
				fmt.Fprintf(w, "    %s · not reached\n", r.Model)
				continue
			}
			fmt.Fprintf(w, "    %s · %s calls · passes %.0f%% · $%.4f · per call %.0f in (%.0f cached) · %.0f out · %.0f thinking · %s\n",
				r.Model, count(int64(math.Round(r.Calls))), 100*r.PassRate, r.ExpectedCost, r.InputTokens, r.CachedTokens, r.OutputTokens, r.ThinkingTokens,
				shortDuration(time.Duration(r.LatencyMS*float64(time.Millisecond))))
		}
	}
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "  %-9s "+format+"\n", append([]any{k}, a...)...) }
	row("cost", "$%.4f expected · 90%% range $%.4f – $%.4f", c.ExpectedCost, c.CostLow, c.CostHigh)
	if c.ReusedItems > 0 {
		row("reused", "%s items answered by the pilot are stored: the run reuses them ($%.4f of the whole source's $%.4f)",
			count(int64(c.ReusedItems)), c.Reused, c.WholeSource)
	}
	if c.CacheCost > 0 || c.WithoutCaching > c.ExpectedCost-c.CacheCost+1e-12 {
		row("caching", "with caches $%.4f (of which caches $%.4f) · without $%.4f", c.ExpectedCost, c.CacheCost, c.WithoutCaching)
	}
	if c.Batch > 0 {
		row("batch", "$%.4f in Batch Mode (--batch) against $%.4f online", c.Batch, c.ExpectedCost-c.CacheCost)
	}
	row("summary", "top_rung_cost $%.4f · cached_saving $%.4f (the run summary's terms, whole source)", c.TopRungCost, c.CachedSaving)
	d := "under a minute"
	if c.DurationSec >= 60 {
		d = shortDuration(time.Duration(c.DurationSec * float64(time.Second)))
	}
	days := ""
	if c.Days > 1 {
		days = fmt.Sprintf(" · a %d-day job: the requests-per-day quota allows one day's share at a time", c.Days)
	}
	row("duration", "%s at the quotas%s", d, days)
	if len(c.Wide) > 0 {
		row("note", "the range is wide: %s; a larger --pilot narrows it", strings.Join(c.Wide, ", "))
	}
}
