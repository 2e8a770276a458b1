package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/eventlog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/metrics"
	"github.com/llmpipe/llmpipe/stdlib/web"
)

// runFlags are the flags shared by run and dev. The flags that set a run
// write straight into opts, which goes to Pipeline.Start as it is; the
// rest are the command's own.
type runFlags struct {
	opts    llmpipe.RunOptions
	simCfg  sim.Config
	events  string
	summary string
	quiet   bool
	watch   bool // run only: apply saves of the file to the running run
	view    viewFlags
}

func cmdRun(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "run", "FILE [flags]", `
Run a pipeline over all its items. Calls go to Gemini (key from
GEMINI_API_KEY or GOOGLE_API_KEY), or with --sim to the built-in simulator on a
loopback port, which needs no key and costs nothing.

Every result is stored the moment it exists (.llmpipe/<name>.db beside the
file), so running the same command again after a crash, a Ctrl-C or a budget
stop resumes: finished items are not called again, and the sinks are rebuilt
complete. A request seen before is answered from the store for free.

The first Ctrl-C stops taking new items and lets calls in flight finish; a
second cancels them. Everything finished is written either way.

Exit codes: 0 all items succeeded · 1 the pipeline could not run · 3 finished
with failed items · 4 stopped by the budget · 130 interrupted.

Examples:
  llmpipe run pipelines/extract_people.llmp --sim
  llmpipe run job.llmp --limit 100 --workers 8        # try the first 100 items
  llmpipe run job.llmp --sim --sim-invalid '*=0.3'    # a simulator that errs 30% of the time
  llmpipe run job.llmp --events events.jsonl --summary summary.json
  llmpipe run job.llmp --watch    # edit prompts, checks, workers while it runs

With --watch, each save of the file is checked and applied to items that
start from then on; calls in flight finish under the version they started
with, and each record's _meta.plan says which version produced it. Worker
count, quotas and budget change at once. A file with errors changes
nothing. Removing, renaming or adding a step, or changing sources or sinks,
is refused until the run ends.`)
	var rf runFlags
	rf.simCfg = sim.DefaultConfig()
	rf.simCfg.ItemSuccesses = false // per-item counts would grow with the source
	addRunFlags(fs, &rf)
	fs.BoolVar(&rf.watch, "watch", false, "apply each save of the file to the running run (see above)")
	addViewFlags(fs, &rf.view, true)
	p, code, ok := pipelineArg(env, fs, args)
	if !ok {
		return code
	}
	if rf.view.ui.on && rf.opts.NoStore {
		env.errorf("run: --ui shows the run store: it cannot be used with --no-store")
		return exitUsage
	}
	if err := p.Runnable(); err != nil {
		env.errorf("%v", err) // before --events or the store creates a file
		return exitError
	}
	opts, closeObs, err := rf.options(args)
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	sum, err := runLive(ctx, env, p, opts, rf.quiet, rf.watch, &rf.view)
	if cerr := closeObs(); cerr != nil && err == nil {
		err = cerr
	}
	code = finishRun(env, &rf, sum, err)
	if sum != nil {
		printOutputs(env, p)
	}
	return code
}

// printOutputs names the files the run wrote, as paths the user can open.
func printOutputs(env *cmdEnv, p *llmpipe.Pipeline) {
	wd, _ := os.Getwd()
	var paths []string
	for _, s := range p.Program.Sinks {
		paths = append(paths, s.Path)
	}
	for _, s := range p.Program.Steps {
		paths = append(paths, filepath.Join(filepath.Dir(firstSinkPath(p)), s.Name+".failed.jsonl"))
	}
	seen := map[string]bool{}
	var shown []string
	for _, path := range paths {
		if seen[path] {
			continue
		}
		seen[path] = true
		if info, err := os.Stat(path); err != nil || info.Size() == 0 {
			continue
		}
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			path = rel
		}
		shown = append(shown, path)
	}
	if len(shown) > 0 {
		fmt.Fprintf(env.stderr, "  %-12s %s\n", "outputs", strings.Join(shown, " · "))
	}
}

// firstSinkPath is where the runtime puts default failed files (beside the
// first sink, else out/ beside the pipeline).
func firstSinkPath(p *llmpipe.Pipeline) string {
	if len(p.Program.Sinks) > 0 {
		return p.Program.Sinks[0].Path
	}
	return filepath.Join(p.Program.Dir, "out", "x")
}

func addRunFlags(fs *flag.FlagSet, rf *runFlags) {
	fs.BoolVar(&rf.opts.Sim, "sim", false, "run against the built-in Gemini simulator (offline, free); its flags take a sim- prefix")
	fs.StringVar(&rf.opts.StorePath, "store", "", "the run store `path` (default: config.store, else .llmpipe/<name>.db beside the file)")
	fs.BoolVar(&rf.opts.NoStore, "no-store", false, "run without a store: nothing is journaled, nothing resumes")
	fs.BoolVar(&rf.opts.Fresh, "fresh", false, "ignore results of earlier runs and run every item again (the response cache still answers)")
	fs.BoolVar(&rf.opts.NoCache, "no-cache", false, "do not answer requests from the response cache")
	fs.BoolVar(&rf.opts.RetryFailed, "retry-failed", false, "run items again that failed in an earlier run")
	fs.Var(workersFlag(&rf.opts.Workers), "workers", "`N` calls in flight at once, 1 to 10000 (default: config.workers, else sized from the quota)")
	fs.Var(limitFlag(&rf.opts.Limit), "limit", "take at most `N` items from each source")
	fs.Var(budgetFlag{&rf.opts.Budget}, "budget", "stop before spending more than this many `dollars` (overrides config.budget)")
	fs.StringVar(&rf.opts.BaseURL, "base-url", "", "Gemini API base `URL` (default: GOOGLE_GEMINI_BASE_URL, else Google's)")
	fs.Var(durationFlag{&rf.opts.MaxOutage, "max-outage"}, "max-outage", "how long the endpoint may refuse every call before the run stops, leaving unfinished items pending (default 5m)")
	fs.BoolVar(&rf.opts.Batch, "batch", false, "send every step's first attempts through Gemini Batch Mode: half the price, hours of latency")
	fs.DurationVar(&rf.opts.BatchPoll, "batch-poll", 30*time.Second, "first wait between polls of a batch job (backs off to 10x, at most 5m)")
	fs.DurationVar(&rf.opts.BatchDeadline, "batch-deadline", 24*time.Hour, "cancel a batch job still running this long after its creation and hand its items back")
	fs.StringVar(&rf.events, "events", "", "write the event stream as JSON lines to `FILE`")
	fs.StringVar(&rf.summary, "summary", "", "write the end-of-run summary as JSON to `FILE`")
	fs.BoolVar(&rf.quiet, "quiet", false, "no progress line")
	rf.simCfg.RegisterFlags(fs, "sim-")
}

// options completes the RunOptions the flags set: the command line, the
// simulator's settings and the event log, which the returned func closes.
func (rf *runFlags) options(args []string) (llmpipe.RunOptions, func() error, error) {
	opts := rf.opts
	opts.Args = args
	if opts.Sim {
		cfg := rf.simCfg
		opts.SimConfig = &cfg
	}
	closeFn := func() error { return nil }
	if rf.events != "" {
		ev, err := eventlog.Open(rf.events)
		if err != nil {
			return opts, closeFn, err
		}
		opts.Observers = append(opts.Observers, ev)
		closeFn = ev.Close
	}
	return opts, closeFn, nil
}

// runLive runs p with two-phase Ctrl-C and a progress display; with
// watchFile it also applies saves of the pipeline file to the running run;
// with vf it also serves the web view (--ui) and the metrics (--metrics).
func runLive(parent context.Context, env *cmdEnv, p *llmpipe.Pipeline, opts llmpipe.RunOptions, quiet, watchFile bool, vf *viewFlags) (*runtime.Summary, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	// Listen before starting, so a bad address fails before any call.
	var (
		uiLn, metricsLn net.Listener
		met             *metrics.Run
		err             error
	)
	if vf != nil && vf.ui.on {
		if uiLn, err = listenView(env, vf); err != nil {
			return nil, err
		}
	}
	if vf != nil && vf.metrics != "" {
		if metricsLn, err = listenMetrics(env, vf.metrics, vf.allowRemote); err != nil {
			if uiLn != nil {
				uiLn.Close()
			}
			return nil, err
		}
		met = metrics.NewRun()
		opts.Observers = append(slices.Clip(opts.Observers), met)
	}
	// An outage would otherwise look like a stalled progress line.
	opts.Observers = append(slices.Clip(opts.Observers), runtime.ObserverFunc(func(e runtime.Event) {
		switch e.Kind {
		case runtime.EventEndpointDown:
			fmt.Fprintf(env.stderr, "\nllmpipe: %s; the run stops if it stays down for %s\n", e.Message, e.Delay)
		case runtime.EventEndpointUp:
			fmt.Fprintf(env.stderr, "\nllmpipe: %s; going on\n", e.Message)
		}
	}))
	r, err := p.Start(ctx, opts)
	if err != nil {
		for _, ln := range []net.Listener{uiLn, metricsLn} {
			if ln != nil {
				ln.Close()
			}
		}
		return nil, err
	}
	var served sync.WaitGroup
	mctx, stopServing := context.WithCancel(ctx)
	defer served.Wait()
	defer stopServing()
	if met != nil {
		met.Attach(r.Runner.Stats, r.Runner.Workers)
		served.Go(func() { serveMetrics(mctx, env, metricsLn, met.Handler()) })
	}
	if uiLn != nil {
		view, err := startView(ctx, env, uiLn, p, r.Store.Path(), web.Options{Stats: r.Runner.Stats,
			RunID: r.Runner.RunID, Workers: r.Runner.Workers})
		if err != nil {
			env.errorf("%v", err)
		} else {
			defer func() {
				view.stop()
				fmt.Fprintf(env.stderr, "llmpipe: the web view stopped with the run; 'llmpipe serve %s' shows it again\n", p.Path)
			}()
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		n := 0
		for {
			select {
			case <-sigs:
				n++
				if n == 1 {
					fmt.Fprintln(env.stderr, "\nllmpipe: stopping: finishing calls in flight (Ctrl-C again to cancel them)")
					r.Drain()
				} else {
					fmt.Fprintln(env.stderr, "\nllmpipe: cancelling calls in flight")
					cancel(errors.New("interrupted"))
				}
			case <-done:
				return
			}
		}
	})
	if !quiet {
		wg.Go(func() { showProgress(env, r.Runner, done) })
	}
	// The watcher stops with the run: an edit after the last item has
	// nothing left to apply to.
	wctx, stopWatch := context.WithCancel(ctx)
	if watchFile {
		wg.Go(func() { watchAndReload(wctx, env, r, p) })
	}
	sum, err := r.Wait(ctx)
	stopWatch()
	close(done)
	wg.Wait()
	return sum, err
}

// showProgress redraws one line on a terminal, or prints a plain line every
// few seconds when output is a file or a pipe.
func showProgress(env *cmdEnv, r *runtime.Runner, done <-chan struct{}) {
	tty := isTerminal(env.stderr)
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			if tty {
				fmt.Fprint(env.stderr, "\r\x1b[2K")
			}
			return
		case <-t.C:
			line := progressLine(r.Stats())
			if tty {
				fmt.Fprint(env.stderr, "\r\x1b[2K"+line)
			} else {
				fmt.Fprintln(env.stderr, line)
			}
		}
	}
}

// finishRun prints the summary and maps the outcome to an exit code.
func finishRun(env *cmdEnv, rf *runFlags, sum *runtime.Summary, err error) int {
	if sum != nil {
		printSummary(env.stderr, sum)
		if rf.summary != "" {
			if werr := writeJSON(rf.summary, sum); werr != nil {
				env.errorf("%v", werr)
			}
		}
	}
	switch {
	case errors.Is(err, runtime.ErrBudgetExceeded):
		env.errorf("%v; run the same command again to resume", err)
		return exitBudget
	case err != nil:
		env.errorf("%v", err)
		return exitError
	case sum.Outcome == runtime.OutcomeInterrupted && sum.BatchLive > 0:
		env.errorf("interrupted; %s still running on the service: run the same command again to collect their results (llmpipe cancel FILE stops them)", plural(sum.BatchLive, "batch job is", "batch jobs are"))
		return exitInterrupted
	case sum.Outcome == runtime.OutcomeInterrupted:
		env.errorf("interrupted; run the same command again to resume")
		return exitInterrupted
	case sum.Failed > 0:
		printRetryHint(env, sum)
		return exitFailedItems
	}
	return exitOK
}

// printRetryHint says how to run a finished run's failed items again.
func printRetryHint(env *cmdEnv, sum *runtime.Summary) {
	other := max(sum.Failed-sum.Retryable-sum.Malformed, 0)
	if sum.Retryable > 0 {
		env.errorf("%d failed on transient errors only (endpoint down or overloaded, quota spent): run the same command again to retry them", sum.Retryable)
	}
	if other > 0 {
		env.errorf("%d failed (their records are in the failed sinks): to call them again, run the same command with --retry-failed", other)
	}
	if sum.Malformed > 0 {
		env.errorf("%d source rows did not parse: fix them in the source and run again", sum.Malformed)
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
