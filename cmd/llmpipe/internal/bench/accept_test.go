package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// Issue 6's acceptance with a compressed window against the in-process
// simulator: the figures come from the simulator's counts.

const testWindow = 3 * time.Second

// simRun is one pipeline run against an in-process simulator.
type simRun struct {
	stats sim.Stats
	log   []sim.LogEntry
	sum   *runtime.Summary
	dir   string
}

func runAgainstSim(t *testing.T, cfg sim.Config, models []modelDecl, steps []stepDecl, items map[string]itemSpec) simRun {
	t.Helper()
	r, err := tryAgainstSim(t.TempDir(), cfg, models, steps, items)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryAgainstSim is runAgainstSim for goroutines other than the test's.
func tryAgainstSim(dir string, cfg sim.Config, models []modelDecl, steps []stepDecl, items map[string]itemSpec) (simRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var src strings.Builder
	for _, m := range models {
		src.WriteString(m.String())
	}
	for _, s := range steps {
		src.WriteString(s.String())
	}
	for name, spec := range items {
		if err := writeItems(filepath.Join(dir, name), spec, 7); err != nil {
			return simRun{}, err
		}
	}
	path := filepath.Join(dir, "main.llmp")
	if err := os.WriteFile(path, []byte(src.String()), 0o644); err != nil {
		return simRun{}, err
	}
	p, err := llmpipe.LoadSource(path, []byte(src.String()))
	if err != nil || p.Program == nil {
		return simRun{}, fmt.Errorf("loading: %v %v", err, p.Diagnostics)
	}

	cfg.Window = testWindow
	cfg.KeepLog = true
	srv, err := sim.Start(ctx, cfg)
	if err != nil {
		return simRun{}, err
	}
	defer srv.Close()
	prov, err := newProvider(ctx, srv.URL(), nil, nil)
	if err != nil {
		return simRun{}, err
	}
	run, err := p.Start(ctx, llmpipe.RunOptions{Provider: prov, QuotaWindow: testWindow, NoStore: true})
	if err != nil {
		return simRun{}, err
	}
	sum, err := run.Wait(ctx)
	if ctx.Err() != nil {
		return simRun{}, errors.New("the run did not finish in time")
	}
	if err != nil {
		return simRun{}, fmt.Errorf("run: %w", err)
	}
	if err := srv.Close(); err != nil {
		return simRun{}, err
	}
	return simRun{stats: srv.Stats(), log: srv.Log(), sum: sum, dir: dir}, nil
}

func testConfig(mode string) sim.Config {
	cfg := sim.DefaultConfig()
	cfg.LimitMode = mode
	cfg.Seed = 11
	cfg.Latency = 800 * time.Millisecond * testWindow / time.Minute
	cfg.LatencySigma = 0.5
	return cfg
}

func TestPacingReachesTheLimitInEveryMode(t *testing.T) {
	t.Parallel()
	const rpm, n = 300, 300 * 10 // ten windows of items: eight or more measured
	// The concurrency is fixed and ample: this test is about the pacer. With
	// the automatic cap, sized from latencies measured on a loaded machine
	// (three runs here at 100 calls/s each), the cap could bind first and
	// the test failed under load (87-96 % of the limit, issue 19 item 20).
	modes := []string{sim.ModeWindow, sim.ModeSliding, sim.ModeBucket}
	// The three runs overlap in time (goroutines, not parallel subtests,
	// which -parallel would queue two at a time on a 2-core machine).
	stalls := startStallMonitor(t)
	runs := make([]simRun, len(modes))
	errs := make([]error, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		dir := t.TempDir()
		wg.Go(func() {
			cfg := testConfig(mode)
			cfg.RPM = map[string]int{lite: rpm}
			cfg.TPM = map[string]int{lite: 1_000_000}
			runs[i], errs[i] = tryAgainstSim(dir, cfg,
				[]modelDecl{{Name: "m", ID: lite, RPM: rpm, TPM: 1_000_000, RPD: bigRPD, Concurrency: 64}},
				[]stepDecl{{Name: "call", Items: "items.jsonl", Models: []string{"m"}}},
				map[string]itemSpec{"items.jsonl": {N: n, Tokens: 500, Spread: 200, Prefix: "i"}})
		})
	}
	wg.Wait()
	for i, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			r := runs[i]
			w := interior(r.stats.Accepted[lite], false)
			if w.Windows < 8 {
				t.Fatalf("only %d full windows measured: %+v", w.Windows, r.stats.Accepted[lite])
			}
			// Held to the limit over the time the process could run: a
			// stalled process sends nothing, whatever its pacer.
			acc := r.stats.Accepted[lite]
			stalled := stalls.stalledPerWindow(r.log, testWindow, len(acc))
			got, allowed, _ := availableShare(acc, stalled, testWindow, rpm)
			t.Logf("achieved %.1f%% of the limit, %.1f%% of what the process could send (stalled per window %v)",
				100*w.Mean/rpm, 100*got/allowed, stalled)
			if got/allowed < 0.97 {
				t.Errorf("achieved %.1f%% of what the limit allowed while the process ran, want ≥ 97%% (windows %+v, stalled %v)",
					100*got/allowed, acc, stalled)
			}
			if w.Max > rpm {
				t.Errorf("a window admitted %v > limit %d", w.Max, rpm)
			}
			if got := per1000(quota429s(&r.stats, lite), generateCalls(&r.stats, lite)); got > 10 {
				t.Errorf("%.1f 429s per 1,000 requests, want ≤ 10", got)
			}
			if r.sum.Succeeded != n {
				t.Errorf("succeeded %d of %d", r.sum.Succeeded, n)
			}
		})
	}
}

func TestA429OnOneModelDoesNotSlowAnother(t *testing.T) {
	t.Parallel()
	const rpm = 100
	cfg := testConfig(sim.ModeWindow)
	// flash-lite's real limit is half what the client is told: it keeps
	// running into 429s. flash's is what the client is told.
	cfg.RPM = map[string]int{lite: rpm / 2, fl: rpm}
	stalls := startStallMonitor(t)
	r := runAgainstSim(t, cfg,
		[]modelDecl{
			{Name: "a", ID: lite, RPM: rpm, TPM: 100_000_000, RPD: bigRPD},
			{Name: "b", ID: fl, RPM: rpm, TPM: 100_000_000, RPD: bigRPD},
		},
		[]stepDecl{
			{Name: "sa", Items: "a.jsonl", Models: []string{"a"}},
			{Name: "sb", Items: "b.jsonl", Models: []string{"b"}},
		},
		map[string]itemSpec{
			"a.jsonl": {N: rpm / 2 * 10, Tokens: 50, Prefix: "a"},
			"b.jsonl": {N: rpm * 10, Tokens: 50, Prefix: "b"},
		})
	t.Logf("flash-lite: %d 429s, windows %+v; flash windows %+v", quota429s(&r.stats, lite), r.stats.Accepted[lite], r.stats.Accepted[fl])
	if n := quota429s(&r.stats, lite); n == 0 {
		t.Fatalf("flash-lite got no 429s: the test proves nothing")
	}
	w := interior(r.stats.Accepted[fl], false)
	if w.Windows < 8 {
		t.Fatalf("only %d full windows of flash measured", w.Windows)
	}
	acc := r.stats.Accepted[fl]
	stalled := stalls.stalledPerWindow(r.log, testWindow, len(acc))
	got, allowed, _ := availableShare(acc, stalled, testWindow, rpm)
	if got/allowed < 0.95 {
		t.Errorf("flash achieved %.1f%% of its limit (%.1f%% of what the process could send) while flash-lite was rate limited, want ≥ 95%% (windows %+v, stalled %v)",
			100*w.Mean/rpm, 100*got/allowed, acc, stalled)
	}
	if n := quota429s(&r.stats, fl); n != 0 {
		t.Errorf("flash got %d 429s", n)
	}
}

func TestADailyQuota429StopsThatModel(t *testing.T) {
	t.Parallel()
	const rpm, rpd, n = 600, 100, 300
	for _, tc := range []struct {
		name   string
		models []string
	}{
		{"escalates", []string{"a", "b"}},
		{"fails without a rung", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(sim.ModeWindow)
			cfg.RPM = map[string]int{lite: rpm, fl: rpm}
			cfg.RPD = map[string]int{lite: rpd} // the client is not told
			cfg.Day = time.Hour
			r := runAgainstSim(t, cfg,
				[]modelDecl{
					{Name: "a", ID: lite, RPM: rpm, TPM: 100_000_000, RPD: bigRPD},
					{Name: "b", ID: fl, RPM: rpm, TPM: 100_000_000, RPD: bigRPD},
				},
				[]stepDecl{{Name: "call", Items: "items.jsonl", Models: tc.models}},
				map[string]itemSpec{"items.jsonl": {N: n, Tokens: 50, Prefix: "i"}})
			after := callsAfterFirst429(r.log, lite, "rpd")
			if after < 0 {
				t.Fatal("no per-day 429 came")
			}
			capN := r.sum.Models[lite].Concurrency
			if capN <= 0 || after > int64(capN) {
				t.Errorf("%d calls to flash-lite after its first per-day 429, want ≤ the concurrency cap %d", after, capN)
			}
			if r.sum.Succeeded+r.sum.Failed != n {
				t.Errorf("succeeded %d + failed %d != %d items", r.sum.Succeeded, r.sum.Failed, n)
			}
			okRecs, _ := countLines(filepath.Join(r.dir, "out", "call.ok.jsonl"))
			failed, err := os.ReadFile(filepath.Join(r.dir, "out", "call.failed.jsonl"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if len(tc.models) > 1 {
				if okRecs != n || r.sum.Failed != 0 {
					t.Errorf("with a rung to climb: %d ok, %d failed, want all %d ok", okRecs, r.sum.Failed, n)
				}
				if r.sum.AnsweredBy[fl] < n-rpd {
					t.Errorf("flash answered %d, want ≥ %d", r.sum.AnsweredBy[fl], n-rpd)
				}
				return
			}
			if r.sum.Failed < n-rpd {
				t.Errorf("without a rung: %d failed, want ≥ %d", r.sum.Failed, n-rpd)
			}
			if !strings.Contains(string(failed), "daily quota") {
				t.Errorf("failed records do not say why: %.300s", failed)
			}
		})
	}
}
