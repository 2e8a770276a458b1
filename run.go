package llmpipe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/caches"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/providers"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// RunOptions configure Pipeline.Start and Pipeline.Run. The zero value runs
// against Gemini with the key from the environment, with the store next to
// the pipeline.
//
// The run's own settings (workers, limit, budget, fresh, observers, …) are
// the embedded runtime.Settings, passed to the runtime as they are; the
// fields here choose what the run is wired to.
type RunOptions struct {
	runtime.Settings

	// Sim runs against the built-in simulator on a loopback port, started
	// for this run with SimConfig (zero: sim.DefaultConfig()).
	Sim       bool
	SimConfig *sim.Config
	// Provider, when set, is used instead of Gemini or the simulator.
	Provider runtime.Provider
	// SimURL points every model's provider at a simulator already running
	// there (dev keeps one across rounds, so its log covers them all).
	SimURL string

	APIKey, BaseURL string // for Gemini; empty: from the environment

	StorePath string // "" : config.store, else .llmpipe/<name>.db beside the file
	NoStore   bool   // run without a store: nothing resumes, nothing is cached

	// BatchInlineLimit is the largest batch job body sent inline, in
	// bytes; bigger jobs upload a JSONL file (default: just under 20 MB).
	BatchInlineLimit int

	// QuotaWindow compresses the quota "minute" (benchmarks, tests); 0 is a minute.
	QuotaWindow time.Duration

	// OpenSink replaces the pipeline's sinks (dev mode shows records instead
	// of writing files); nil writes them as the pipeline says.
	OpenSink runtime.OpenSink
}

// Run is a started pipeline run. Its Runner offers Stats, SetWorkers and
// Drain while Wait runs.
type Run struct {
	*runtime.Runner
	Pipeline *Pipeline
	Sim      *sim.Server // the in-process simulator, when RunOptions.Sim
	Store    *store.Store
	Caches   *caches.Manager

	closers []func() error
}

// Start wires the pipeline to a provider, store, pacer and cache manager.
// Nothing is called until Wait.
func (p *Pipeline) Start(ctx context.Context, opts RunOptions) (_ *Run, err error) {
	// Before the store, the simulator or any output exists: a run that
	// cannot start creates nothing.
	if err := p.Runnable(); err != nil {
		return nil, err
	}
	r := &Run{Pipeline: p}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	prog := p.Program

	provider := opts.Provider
	// The simulator compresses time: cache TTLs pass Window/60s as fast.
	timeScale := 1.0
	if provider == nil && opts.SimURL != "" {
		if provider, err = providers.New(ctx, prog, providers.Options{SimURL: opts.SimURL}); err != nil {
			return nil, err
		}
	}
	if provider == nil {
		if opts.Sim || prog.Config.Provider == "sim" {
			cfg := sim.DefaultConfig()
			if opts.SimConfig != nil {
				cfg = *opts.SimConfig
			}
			// Not stopped by ctx: a cancelled run still deletes its
			// caches on it; Wait closes it.
			srv, err := sim.Start(context.WithoutCancel(ctx), cfg)
			if err != nil {
				return nil, fmt.Errorf("starting the simulator: %w", err)
			}
			r.Sim = srv
			timeScale = float64(cfg.Window) / float64(time.Minute)
			r.closers = append(r.closers, srv.Close)
			provider, err = providers.New(ctx, prog, providers.Options{SimURL: srv.URL(), BatchInlineLimit: opts.BatchInlineLimit})
			if err != nil {
				return nil, err
			}
		} else {
			provider, err = providers.New(ctx, prog, providers.Options{GeminiAPIKey: opts.APIKey, GeminiBaseURL: opts.BaseURL, BatchInlineLimit: opts.BatchInlineLimit})
			if err != nil {
				return nil, err
			}
		}
	}

	// A compressed quota minute means a simulator compressing time the
	// same way (llmpipe bench runs one as its own process): cache TTLs
	// pass as fast there too. An in-process simulator's own window is
	// known and wins, whatever the quota window.
	if r.Sim == nil && opts.QuotaWindow > 0 {
		timeScale = float64(opts.QuotaWindow) / float64(time.Minute)
	}

	var st runtime.Store
	if !opts.NoStore {
		path := opts.StorePath
		if path == "" {
			path = p.DefaultStorePath()
		}
		s, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			return nil, err
		}
		r.Store = s
		st = s
		r.closers = append(r.closers, s.Close)
		// --fresh resets the store in runtime.Run, once the run is sure
		// to start: a run that cannot start must destroy nothing.
	}

	book := catalog.NewBook(prog)
	limiter := quota.New(quota.Options{Window: opts.QuotaWindow})

	var cm runtime.CacheManager
	cp, canCache := provider.(runtime.CacheProvider)
	if canCache && st != nil {
		// Even when the edited pipeline has no cache block any more: a
		// crash's leftovers bill storage until deleted.
		if _, err := caches.Sweep(ctx, cp, st); err != nil {
			return nil, err
		}
	}
	if canCache && len(prog.Caches) > 0 {
		mgr := caches.New(caches.Options{
			Provider: cp, Store: st, Pipeline: p.Name(), Price: book.PriceOf,
			TimeScale: timeScale,
		})
		r.Caches = mgr
		cm = mgr
	}

	openSink := opts.OpenSink
	if openSink == nil {
		openSink = stdlib.OpenSink
	}
	runner, err := runtime.New(prog, runtime.Options{
		Settings:   opts.Settings,
		Provider:   provider,
		OpenSource: stdlib.OpenSource,
		OpenSink:   openSink,
		Store:      st,
		Cost:       book.Cost,
		Price:      book.Price,
		Pacer:      runtime.QuotaPacer{Limiter: limiter, Window: opts.QuotaWindow},
		Quotas:     quotaBook(prog, book),
		Caches:     cm,
		Batches: runtime.BatchOptions{
			Cost: book.BatchCost, Price: book.BatchPrice, Tokens: book.BatchTokens, Name: p.Name(),
		},
	})
	if err != nil {
		return nil, err
	}
	r.Runner = runner
	return r, nil
}

// Wait runs the pipeline to the end and releases what Start opened.
func (r *Run) Wait(ctx context.Context) (*runtime.Summary, error) {
	sum, err := r.Runner.Run(ctx)
	if cerr := r.close(); cerr != nil && err == nil {
		err = cerr
	}
	return sum, err
}

func (r *Run) close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	r.closers = nil
	return errors.Join(errs...)
}

// Run runs the pipeline to the end: Start, then Wait.
func (p *Pipeline) Run(ctx context.Context, opts RunOptions) (*runtime.Summary, error) {
	r, err := p.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return r.Wait(ctx)
}

// quotaBook is runtime.Options.Quotas: the run's book for its own
// program, a new one for an edit (reload).
func quotaBook(prog *interp.Program, book *catalog.Book) func(*interp.Program) runtime.QuotaBook {
	return func(p *interp.Program) runtime.QuotaBook {
		if p == prog {
			return book
		}
		return catalog.NewBook(p)
	}
}

// Reload applies an edited pipeline to the running run (see
// runtime.Runner.Reload): items not yet started use it, quotas, budget and
// workers change at once. It returns the new plan version, or a
// *runtime.ReloadError when the edit changes the run's shape.
func (r *Run) Reload(p *Pipeline) (int, error) {
	if p.Program == nil {
		return r.Runner.Plan(), errors.New("pipeline has errors; nothing to apply")
	}
	v, err := r.Runner.Reload(p.Program)
	if err != nil {
		return v, err
	}
	r.Pipeline = p
	return v, nil
}
