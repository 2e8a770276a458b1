package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// Env is what every scenario runs with.
type Env struct {
	Bin    string        // the llmpipe binary whose `sim` subcommand is the server
	Window time.Duration // the simulated minute
	Seed   int64
	Scale  float64   // multiplies item counts
	Dir    string    // scratch space; each run gets a directory under it
	Out    io.Writer // progress lines
}

func (e *Env) items(n int) int { return max(1, int(float64(n)*e.Scale)) }

// latency is the design's 800 ms median, scaled with the window.
func (e *Env) latency() time.Duration {
	return time.Duration(float64(800*time.Millisecond) * float64(e.Window) / float64(time.Minute))
}

func (e *Env) logf(format string, a ...any) {
	if e.Out != nil {
		fmt.Fprintf(e.Out, format+"\n", a...)
	}
}

// runSpec is one pipeline run against one simulator process.
type runSpec struct {
	Label    string
	Pipeline string   // source text; item files are already in Dir
	Dir      string   // where the pipeline lives
	SimArgs  []string // besides --addr, --window, --seed, --log
	Log      bool     // keep the simulator's request log
	Time     bool     // time every call (for added latency)
	Skew     skew
	Workers  int
	Store    bool             // run with a store in Dir (default: --no-store)
	Provider runtime.Provider // in-process provider: no simulator at all
	Items    int64            // items in the sources, for "lost"
	Expect   time.Duration    // expected duration, to bound the run
}

// runOut is what one run measured.
type runOut struct {
	Stats   *sim.Stats
	Log     []sim.LogEntry
	Calls   map[string][]time.Duration
	Sum     *runtime.Summary
	Models  map[string]runtime.ModelStats
	Elapsed time.Duration
	CPU     time.Duration
	Mallocs uint64
	PeakRSS int64
	BaseRSS int64
	Written int64 // records in all sinks, ok and failed
	// StoreBytes is the store's size on disk after the run (the database,
	// its WAL and shared memory), 0 without a store.
	StoreBytes int64
	RunErr     error // the run's own error (a finished run may report one)
}

// execute runs spec and collects the figures' raw material.
func (e *Env) execute(ctx context.Context, spec runSpec) (*runOut, error) {
	bound := 3*spec.Expect + 90*time.Second
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()

	path := filepath.Join(spec.Dir, "bench.llmp")
	if err := os.WriteFile(path, []byte(spec.Pipeline), 0o644); err != nil {
		return nil, err
	}
	p, err := llmpipe.LoadSource(path, []byte(spec.Pipeline))
	if err != nil {
		return nil, fmt.Errorf("%s: loading the pipeline: %w", spec.Label, err)
	}
	if p.Program == nil {
		return nil, fmt.Errorf("%s: the pipeline has errors:\n%v", spec.Label, p.Diagnostics)
	}

	var srv *simProc
	prov := spec.Provider
	var rec *recorder
	if prov == nil {
		args := append([]string{"--window", e.Window.String(), "--seed", fmt.Sprint(e.Seed)}, spec.SimArgs...)
		logPath := ""
		if spec.Log {
			logPath = filepath.Join(spec.Dir, "sim.log.jsonl")
		}
		srv, err = startSim(ctx, e.Bin, args, logPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
		defer func() {
			if srv != nil {
				srv.kill()
			}
		}()
		if spec.Time {
			rec = &recorder{calls: map[string][]time.Duration{}}
		}
		prov, err = newProvider(ctx, srv.URL, rec, spec.Skew)
		if err != nil {
			return nil, err
		}
	}

	e.logf("  %s: running (%d items, expect ~%s)", spec.Label, spec.Items, spec.Expect.Round(time.Second))
	out := &runOut{BaseRSS: resetPeakRSS()}
	u0, t0 := readUsage(), time.Now()
	ropts := llmpipe.RunOptions{Provider: prov, QuotaWindow: e.Window, NoStore: true, Settings: runtime.Settings{Workers: spec.Workers}}
	storePath := filepath.Join(spec.Dir, "store.db")
	if spec.Store {
		ropts.NoStore, ropts.StorePath = false, storePath
	}
	run, err := p.Start(ctx, ropts)
	if err != nil {
		return nil, fmt.Errorf("%s: starting: %w", spec.Label, err)
	}
	out.Sum, out.RunErr = run.Wait(ctx)
	out.Elapsed = time.Since(t0)
	u1 := readUsage()
	out.PeakRSS = peakRSS()
	out.CPU, out.Mallocs = u1.cpu-u0.cpu, u1.mallocs-u0.mallocs
	if out.Sum != nil {
		out.Models = out.Sum.Models
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: the run did not finish within %s", spec.Label, bound)
	}
	if rec != nil {
		out.Calls = rec.calls
	}

	if srv != nil {
		if out.Stats, err = srv.stats(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
		err := srv.stop()
		srv = nil
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
		if spec.Log {
			if out.Log, err = readLog(filepath.Join(spec.Dir, "sim.log.jsonl")); err != nil {
				return nil, fmt.Errorf("%s: %w", spec.Label, err)
			}
		}
	}
	if spec.Store {
		files, _ := filepath.Glob(storePath + "*")
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				out.StoreBytes += fi.Size()
			}
		}
	}
	sinks, _ := filepath.Glob(filepath.Join(spec.Dir, "out", "*.jsonl"))
	for _, s := range sinks {
		n, err := countLines(s)
		if err != nil {
			return nil, err
		}
		out.Written += n
	}
	e.logf("  %s: done in %s (%d written, run error: %v)", spec.Label, out.Elapsed.Round(time.Millisecond), out.Written, out.RunErr)
	return out, nil
}

// newRunDir makes a fresh directory for one run.
func (e *Env) newRunDir(label string) (string, error) {
	return os.MkdirTemp(e.Dir, strings.NewReplacer("/", "-", " ", "-").Replace(label)+"-")
}
