package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/cmd/llmpipe/internal/watch"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/pipetest"
	"github.com/llmpipe/llmpipe/stdlib/gemini"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/store"
	"github.com/llmpipe/llmpipe/stdlib/web"
)

const defaultSample = 20

func cmdDev(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "dev", "FILE [flags]", `
Run the pipeline on a sample of items (the first N of each source, the same
every time) and show each item's outcome, the rung that answered, the checks
that failed and a short view of the output. Then watch the file and every
file it reads; on each save, check it again and re-run the sample:

  - a file with errors prints its diagnostics, and the last good version
    stays in force until the file checks clean again;
  - only steps whose definition changed run again; a request made before is
    answered from the store for free, so a check-only edit re-checks the
    stored replies without calling any model;
  - after each round: which items now pass or fail, and what the round cost;
  - the file's test blocks run too (in process, free): their failures and
    a "tests: N passed, N failed" line follow the round.

dev uses the same store as run (.llmpipe/<name>.db beside the file, or
--store), so results made while developing count for the full run when the
pipeline is unchanged. It never writes the pipeline's sinks. An item whose
data you edit runs again, like a step whose definition you edit.

Ctrl-C stops (exit 0).

Examples:
  llmpipe dev pipelines/extract_people.llmp --sim
  llmpipe dev job.llmp --sample 5              # against Gemini: 5 items a round`)
	var rf runFlags
	rf.simCfg = sim.DefaultConfig()
	rf.simCfg.ItemSuccesses = false // per-item counts would grow with the source
	addDevFlags(fs, &rf)
	addViewFlags(fs, &rf.view, false)
	sample := fs.Int("sample", defaultSample, "run the first `N` items of each source each round")
	pos, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		env.errorf("dev: name one .llmp file (see 'llmpipe dev --help')")
		return exitUsage
	}
	if *sample <= 0 {
		env.errorf("dev: --sample must be at least 1")
		return exitUsage
	}
	rf.opts.Limit = *sample
	if rf.view.ui.on && rf.opts.NoStore {
		env.errorf("dev: --ui shows the run store: it cannot be used with --no-store")
		return exitUsage
	}
	opts, closeObs, err := rf.options(args)
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	defer closeObs()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if rf.opts.Sim {
		// One simulator for the whole session, so its request log (--sim-log)
		// covers every round, as one server would.
		srv, err := sim.Start(ctx, rf.simCfg)
		if err != nil {
			env.errorf("starting the simulator: %v", err)
			return exitError
		}
		defer srv.Close()
		opts.SimURL = srv.URL()
		opts.Sim, opts.SimConfig = false, nil
	}
	d := &devLoop{env: env, path: pos[0], opts: opts, vf: &rf.view}
	defer func() { d.view.stop() }()
	return d.run(ctx)
}

// addDevFlags registers the run flags that make sense for a sample re-run
// on every save (not --fresh, which would wipe the store every round, nor
// --limit, which --sample replaces).
func addDevFlags(fs *flag.FlagSet, rf *runFlags) {
	fs.BoolVar(&rf.opts.Sim, "sim", false, "run against the built-in Gemini simulator (offline, free); its flags take a sim- prefix")
	fs.StringVar(&rf.opts.StorePath, "store", "", "the run store `path` (default: config.store, else .llmpipe/<name>.db beside the file, shared with run)")
	fs.BoolVar(&rf.opts.NoStore, "no-store", false, "keep nothing between rounds: every round calls the models again")
	fs.BoolVar(&rf.opts.NoCache, "no-cache", false, "do not answer requests from the response cache")
	fs.BoolVar(&rf.opts.RetryFailed, "retry-failed", false, "run items again that failed in an earlier round with the same pipeline")
	fs.Var(workersFlag(&rf.opts.Workers), "workers", "`N` calls in flight at once, 1 to 10000 (default: config.workers, else sized from the quota)")
	fs.Var(budgetFlag{&rf.opts.Budget}, "budget", "stop a round before it spends more than this many `dollars`")
	fs.StringVar(&rf.opts.BaseURL, "base-url", "", "Gemini API base `URL` (default: GOOGLE_GEMINI_BASE_URL, else Google's)")
	fs.StringVar(&rf.events, "events", "", "write the event stream of every round as JSON lines to `FILE`")
	rf.simCfg.RegisterFlags(fs, "sim-")
}

// devLoop re-runs the sample each time the pipeline or a file it reads
// changes. All its state lives on the goroutine of run.
type devLoop struct {
	env  *cmdEnv
	path string
	opts llmpipe.RunOptions

	rounds int       // rounds started
	last   *devRound // the last round that finished, for the diff
	good   *llmpipe.Pipeline

	vf   *viewFlags
	view *liveView                   // the web view, once started (--ui)
	cur  atomic.Pointer[llmpipe.Run] // the round running or last run, for the view
}

// roundResult is what a round's goroutine hands back.
type roundResult struct {
	round   *devRound
	err     error
	elapsed time.Duration
	tests   []*pipetest.Result // the file's test blocks, run beside the sample
}

// activeRound is a round in progress.
type activeRound struct {
	n      int
	cancel context.CancelFunc
	done   chan roundResult // buffered: the goroutine never blocks on it
}

func (d *devLoop) run(ctx context.Context) int {
	w, err := watch.New(0)
	if err != nil {
		d.env.errorf("%v", err)
		return exitError
	}
	defer w.Close()

	// Watch before loading, so a save made while loading is not missed.
	if err := w.Set([]string{d.path}); err != nil {
		d.env.errorf("dev: %v", err)
	}
	p, err := llmpipe.Load(d.path)
	var de *llmpipe.DiagnosticsError
	switch {
	case errors.As(err, &de):
		printLoadError(d.env, err)
		d.env.errorf("dev: nothing to run until %s checks clean; waiting for a save", d.path)
	case err != nil:
		d.env.errorf("%v", err)
		return exitError
	default:
		printDiagnostics(d.env, p.Diagnostics, map[string][]byte{p.Path: p.Src})
		d.good = p
	}
	if err := w.Set(d.watchList()); err != nil {
		d.env.errorf("dev: %v", err)
	}
	if p != nil {
		w.Baseline(d.path, p.Src)
	}

	changes := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	wg.Go(func() {
		err := w.Run(wctx, func() {
			select {
			case changes <- struct{}{}:
			default: // one pending change stands for any number
			}
		})
		if err != nil {
			d.env.errorf("dev: %v; no longer watching", err)
		}
	})

	var cur *activeRound
	start := func() {
		d.startView(ctx)
		d.rounds++
		rctx, cancel := context.WithCancel(ctx)
		cur = &activeRound{n: d.rounds, cancel: cancel, done: make(chan roundResult, 1)}
		p, n, done := d.good, cur.n, cur.done
		wg.Go(func() {
			t0 := time.Now()
			r, err := d.runRound(rctx, p, n)
			// The file's tests run beside its sample: in process, free.
			tests := p.Test(rctx, llmpipe.TestOptions{})
			done <- roundResult{round: r, err: err, elapsed: time.Since(t0), tests: tests}
		})
	}
	// cancelRound stops the round in progress and waits for it, so two
	// rounds never hold the store at once.
	cancelRound := func(why string) {
		if cur == nil {
			return
		}
		cur.cancel()
		<-cur.done
		fmt.Fprintf(d.env.stderr, "llmpipe: round %d cancelled: %s\n", cur.n, why)
		cur = nil
	}
	defer cancelRound("stopping")
	if d.good != nil {
		start()
	}
	for {
		var done <-chan roundResult
		if cur != nil {
			done = cur.done
		}
		select {
		case <-ctx.Done():
			return exitOK
		case res := <-done:
			cur.cancel()
			cur = nil
			d.report(res)
			if errors.Is(res.err, gemini.ErrNoAPIKey) || errors.Is(res.err, gemini.ErrNoVertexProject) {
				// No save of the file brings a key: waiting would hang.
				return exitError
			}
		case <-changes:
			p, err := llmpipe.Load(d.path)
			if p != nil {
				w.Baseline(d.path, p.Src)
			}
			if err != nil {
				printLoadError(d.env, err)
				if d.good != nil {
					fmt.Fprintf(d.env.stderr, "llmpipe: keeping the last good version of %s\n", d.path)
				}
				continue
			}
			printDiagnostics(d.env, p.Diagnostics, map[string][]byte{p.Path: p.Src})
			cancelRound("the file changed")
			d.good = p
			if err := w.Set(d.watchList()); err != nil {
				d.env.errorf("dev: %v", err)
			}
			start()
		}
	}
}

// startView starts the web view (--ui) the first time a good version of the
// pipeline is about to run, creating the store if this is its first use.
func (d *devLoop) startView(ctx context.Context) {
	if !d.vf.ui.on || d.view != nil || d.good == nil {
		return
	}
	path := d.opts.StorePath
	if path == "" {
		path = d.good.DefaultStorePath()
	}
	if _, err := os.Stat(path); err != nil {
		s, err := store.Open(ctx, path, store.Options{}) // creates and migrates it
		if err != nil {
			d.env.errorf("web view: %v", err)
			d.vf.ui.on = false
			return
		}
		s.Close()
	}
	ln, err := listenView(d.env, d.vf)
	if err == nil {
		d.view, err = startView(ctx, d.env, ln, d.good, path, web.Options{
			Stats: func() runtime.Stats {
				if r := d.cur.Load(); r != nil {
					return r.Runner.Stats()
				}
				return runtime.Stats{Total: -1}
			},
			RunID: func() int64 {
				if r := d.cur.Load(); r != nil {
					return r.Runner.RunID()
				}
				return 0
			},
		})
	}
	if err != nil {
		d.env.errorf("%v", err)
		d.vf.ui.on = false
	}
}

// watchList is the pipeline file and, once it has checked clean, every
// file the last good version reads.
func (d *devLoop) watchList() []string {
	paths := []string{d.path}
	if d.good != nil && d.good.Program != nil {
		paths = append(paths, d.good.Program.Reads...)
	}
	return paths
}

// runRound runs the sample once with every step's records collected in
// memory instead of the pipeline's sinks.
func (d *devLoop) runRound(ctx context.Context, p *llmpipe.Pipeline, n int) (*devRound, error) {
	col := newDevCollector()
	view := *p
	view.Program = devProgram(p.Program)
	opts := d.opts
	opts.OpenSink = col.open
	r, err := view.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	d.cur.Store(r)
	sum, err := r.Wait(ctx)
	if sum == nil {
		return nil, err
	}
	round := &devRound{N: n, Items: col.snapshot(), Sum: sum}
	for _, s := range p.Program.Steps {
		round.Steps = append(round.Steps, s.Name)
	}
	return round, err
}

// printDevTests prints the failures of the file's tests and a count; a
// file without tests prints nothing.
func printDevTests(w io.Writer, path string, tests []*pipetest.Result) {
	if len(tests) == 0 {
		return
	}
	passed, failed := 0, 0
	for _, r := range tests {
		if r.Passed() {
			passed++
			continue
		}
		failed++
		printTestFailure(w, path, r)
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed\n", passed, failed)
}

// report prints a finished round in one write, so a reader of the output
// never sees half of one.
func (d *devLoop) report(res roundResult) {
	if res.round != nil {
		var b bytes.Buffer
		printDevRound(&b, res.round, d.last)
		printDevTests(&b, d.path, res.tests)
		fmt.Fprintf(&b, "round %d took %s\n", res.round.N, shortDuration(res.elapsed))
		// Item ids, outputs and messages are item data: see termSafe.
		io.WriteString(d.env.stdout, termSafe(b.String()))
		d.last = res.round
	}
	if res.err != nil {
		d.env.errorf("dev: %v", res.err)
	}
}
