package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/interp/tokens"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/caches"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

func cmdPlan(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "plan", "FILE", `
Show what a run of the pipeline would do, without calling any model: each
source and how many items it holds, each step's ladder with prices and
quotas (model block settings, else the built-in table for config.tier), its
output, checks and retry settings, and for each cache the models that would
create it, what creation and storage cost, and the break-even: how many
requests per hour must use a cache for it to cost less than sending its
content inline (storage ÷ (input − cached price)). Content below a model's
minimum cache size is sent inline; the plan says so.

Token counts of cache content are estimates (llmpipe's conservative
per-script count: about 4 characters a token for English, a token per CJK
character).

The estimate: with --pilot N, plan runs about N items spread over each
source (against Gemini, or the simulator with --sim and the same --sim-*
flags as run), measures per rung the pass rate, tokens (input, cached,
output, thinking), latency and cost, and prints for the whole source the
calls per rung, the expected cost with a 90 % range, how long the calls
take at the quotas (and whether a per-day quota makes it a multi-day job),
the cost with and without caching, and in Batch Mode. The pilot's results
are stored like any run's, so run reuses them (and the estimate, which is
for what run will then spend, says so). Without --pilot, plan estimates
from the store's history of earlier runs of the same steps when there is
one. --json FILE writes the estimate with the run's cost in dollars under
expected_cost, cost_low and cost_high.

Examples:
  llmpipe plan pipelines/handbook_qa.llmp
  llmpipe plan job.llmp --pilot 200 --sim --sim-invalid '*=0.2' --json est.json`)
	var rf runFlags
	rf.simCfg = sim.DefaultConfig()
	fs.BoolVar(&rf.opts.Sim, "sim", false, "run the pilot against the built-in Gemini simulator (offline, free); its flags take a sim- prefix")
	fs.StringVar(&rf.opts.StorePath, "store", "", "the run store `path` the pilot writes and history is read from (default: as run)")
	fs.BoolVar(&rf.opts.NoStore, "no-store", false, "do not store the pilot's results (run will not reuse them)")
	fs.Var(workersFlag(&rf.opts.Workers), "workers", "`N` pilot calls in flight at once (default: as run)")
	pilotN := fs.Int("pilot", 0, "run about `N` items spread over each source and estimate the whole run from them")
	jsonOut := fs.String("json", "", "write the estimate as JSON to `FILE`")
	rf.simCfg.RegisterFlags(fs, "sim-")
	p, code, ok := pipelineArg(env, fs, args)
	if !ok {
		return code
	}
	printPlan(ctx, env.stdout, p)
	var est *costEstimate
	switch {
	case *pilotN < 0:
		env.errorf("plan: --pilot %d: want a number of items above 0", *pilotN)
		return exitUsage
	case *pilotN > 0:
		opts, closeFn, err := rf.options(args)
		if err != nil {
			env.errorf("%v", err)
			return exitError
		}
		defer closeFn()
		est, err = pilot(ctx, p, opts, *pilotN)
		if err != nil {
			env.errorf("pilot: %v", err)
			return exitError
		}
	default:
		path := rf.opts.StorePath
		if path == "" {
			path = p.DefaultStorePath()
		}
		est = history(ctx, p, path)
	}
	if est == nil {
		fmt.Fprintf(env.stdout, "\nestimate · none: no earlier run of these steps in the store; --pilot N runs a sample to estimate from\n")
	} else {
		printEstimate(env.stdout, est)
	}
	if *jsonOut != "" && est != nil {
		if err := writeJSON(*jsonOut, est); err != nil {
			env.errorf("%v", err)
			return exitError
		}
	}
	return exitOK
}

// printPlan writes the plan of a checked pipeline.
func printPlan(ctx context.Context, w io.Writer, p *llmpipe.Pipeline) {
	prog := p.Program
	book := catalog.NewBook(prog)
	fmt.Fprintf(w, "%s · quota tier %d\n", filepath.Base(p.Path), book.Tier())
	for _, s := range prog.Sources {
		fmt.Fprintf(w, "\nsource %s · %s %s%s\n", s.Name, s.Kind, relPath(prog.Dir, s.Path), itemCount(ctx, s))
	}
	for _, st := range prog.Steps {
		printStep(w, book, st)
	}
	for _, c := range prog.Caches {
		printCache(w, book, prog, c)
	}
}

func printStep(w io.Writer, book *catalog.Book, st *interp.Step) {
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "  %-8s "+format+"\n", append([]any{k}, a...)...) }
	fmt.Fprintf(w, "\nstep %s\n", st.Name)
	if st.FromSource != nil {
		row("from", "source %s", st.FromSource.Name)
	} else {
		row("from", "step %s", st.FromStep.Name)
	}
	if st.Where != nil {
		row("where", "%s", st.Where.Source)
	}
	for i, m := range st.Models {
		label := ""
		if i == 0 {
			label = "models"
		}
		row(label, "%d. %s · %s · %s", i+1, modelName(m), priceText(book, m), quotaText(book, m))
	}
	if st.Output != nil {
		row("output", "%s", st.Output.Name)
	} else {
		row("output", "text")
	}
	row("checks", "%d", len(st.Checks))
	r := st.Retry
	feedback := "built-in feedback"
	if r.Feedback != nil {
		feedback = "own feedback"
	}
	row("retry", "%s · climb after %s · backoff %s..%s · %s · timeout %s",
		plural(r.Attempts, "attempt", "attempts"), plural(r.EscalateAfter, "failed reply", "failed replies"),
		planDuration(r.BackoffMin), planDuration(r.BackoffMax), feedback, planDuration(st.Timeout))
	if st.Cache != nil {
		row("cache", "%s", st.Cache.Name)
	}
}

// printCache shows, for each model that may use the cache, what it costs and
// how much use it needs to pay off.
func printCache(w io.Writer, book *catalog.Book, prog *interp.Program, c *interp.Cache) {
	n := tokens.Estimate(c.System)
	fmt.Fprintf(w, "\ncache %s · ~%s tokens · ttl %s\n", c.Name, count(int64(n)), planDuration(c.TTL))
	models, first := cacheModels(prog, c)
	if len(models) == 0 {
		fmt.Fprintf(w, "  no step uses it\n")
		return
	}
	for _, m := range models {
		when := "created on the first call"
		if !first[m.ID] {
			when = "created only if an item climbs to it"
		}
		fmt.Fprintf(w, "  %s · %s\n", m.ID, cacheText(book, m, n, when))
	}
}

// cacheModels lists the models of every step using c, once per id, and
// which of them are some step's first rung (created for sure).
func cacheModels(prog *interp.Program, c *interp.Cache) ([]*interp.Model, map[string]bool) {
	var out []*interp.Model
	first := map[string]bool{}
	seen := map[string]bool{}
	for _, st := range prog.Steps {
		if st.Cache != c {
			continue
		}
		for i, m := range st.Models {
			if i == 0 {
				first[m.ID] = true
			}
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	return out, first
}

func cacheText(book *catalog.Book, m *interp.Model, tokens int, when string) string {
	minTokens, caching := book.Caching(m)
	if !caching {
		return "no explicit caching for this model: content sent inline"
	}
	if tokens < minTokens {
		return fmt.Sprintf("below its minimum cache size (%s tokens): content sent inline", count(int64(minTokens)))
	}
	p, ok := book.ModelPrice(m)
	if !ok {
		return when + " · price unknown"
	}
	t := float64(tokens) / 1e6
	parts := []string{
		when,
		fmt.Sprintf("creation $%.4f", t*p.InputPerM),
		fmt.Sprintf("storage $%.4f/h", t*p.StoragePerMHour),
		fmt.Sprintf("saves $%.4f per use", t*(p.InputPerM-p.CachedPerM)),
	}
	if be, ok := caches.BreakEven(p); ok {
		parts = append(parts, fmt.Sprintf("break-even %.1f uses/h", be))
	} else {
		parts = append(parts, "never pays off (no cached discount)")
	}
	return strings.Join(parts, " · ")
}

func modelName(m *interp.Model) string {
	name := m.ID
	if m.Name != "" && m.Name != m.ID {
		name = fmt.Sprintf("%s (%s)", m.ID, m.Name)
	}
	if p := providerText(m); p != "" {
		name += " on " + p
	}
	return name
}

// providerText names the provider of a model that is not on the Gemini
// API (the default, left unsaid), with its endpoint when one is set.
func providerText(m *interp.Model) string {
	switch m.Provider {
	case interp.ProviderOpenAI:
		if m.BaseURL != "" {
			return "openai at " + m.BaseURL
		}
		return "openai"
	case interp.ProviderVertex:
		return "vertex (quota adapts to 429s unless the block sets rpm/tpm)"
	}
	return ""
}

func priceText(book *catalog.Book, m *interp.Model) string {
	p, ok := book.ModelPrice(m)
	if !ok {
		return "price unknown"
	}
	return fmt.Sprintf("$%s in · $%s out · $%s cached per 1M tokens", dollars(p.InputPerM), dollars(p.OutputPerM), dollars(p.CachedPerM))
}

// quotaText is the model's quota as the book has it.
func quotaText(book *catalog.Book, m *interp.Model) string {
	lim := book.Limits(m)
	part := func(n int, unit string) string {
		if n == 0 {
			return "no " + unit + " limit"
		}
		return count(int64(n)) + " " + unit
	}
	return strings.Join([]string{part(lim.RPM, "rpm"), part(lim.TPM, "tpm"), part(lim.RPD, "rpd")}, " · ")
}

// dollars prints a per-1M price with at least two decimals: 0.30, 0.125.
func dollars(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

// itemCount is " · N items" when the source can count itself cheaply.
func itemCount(ctx context.Context, s *interp.Source) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	src, err := stdlib.OpenSource(ctx, s)
	if err != nil {
		return " · cannot open: " + err.Error()
	}
	defer src.Close()
	c, ok := src.(runtime.Counter)
	if !ok {
		return ""
	}
	n, err := c.Count(ctx)
	if err != nil {
		return ""
	}
	text := fmt.Sprintf(" · %s items", count(int64(n)))
	if s.Limit > 0 && s.Limit < n {
		text = fmt.Sprintf(" · %s items (limit %s)", count(int64(n)), count(int64(s.Limit)))
	}
	if s.Where != nil {
		text += " before where"
	}
	return text
}

// planDuration drops zero units: 1h, 1m30s, 250ms.
func planDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func relPath(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
