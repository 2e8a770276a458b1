package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/llmpipe/llmpipe/cmd/llmpipe/internal/bench"
)

func cmdBench(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "bench", "[flags]", `
Run the benchmark scenarios of the design (S1–S8, S10, S11 Batch Mode) and print, per
scenario, each figure against its excellent and acceptable targets.

Method: every scenario starts the Gemini simulator as a separate process
(this binary's 'sim' subcommand) on 127.0.0.1 and runs a small generated
pipeline against it in this process. Rates, 429s and duplicate calls are
read from the simulator's own counts (/stats and its request log), not the
client's. The first and last quota window of a run are left out of the
rates. --window compresses the quota minute for both sides and scales the
simulated latency (median 800 ms × window/60s, σ 0.5) with it, so the
ratios do not depend on it. Client CPU (getrusage), allocations and peak
RSS (VmHWM, reset before each run) are this process's alone.
S9 (crash and resume) is the root package's TestCrashResume.

A full run takes about 15 minutes at the default window; --scale 0.2 gives
a quick look (fewer items, fewer windows measured).

Examples:
  llmpipe bench
  llmpipe bench --scenario S2,S4 --window 3s --json bench.json`)
	scen := fs.String("scenario", "", "comma-separated scenarios to run (default all: S1,S2,S3,S4,S5,S6,S7,S8,S10,S11)")
	window := fs.Duration("window", 6*time.Second, "length of the simulated quota minute")
	jsonPath := fs.String("json", "", "also write the figures as JSON to this file")
	seed := fs.Int64("seed", 0, "seed for the simulator and the generated items (default: from the clock, printed)")
	scale := fs.Float64("scale", 1, "multiply every scenario's item count by this")
	markdown := fs.Bool("markdown", false, "print the tables as Markdown (for docs/benchmarks.md)")
	cpuProfile := fs.String("cpuprofile", "", "write the client's CPU profile to this file")
	if _, code, ok := parseArgs(env, fs, args); !ok {
		return code
	}
	if *window < 100*time.Millisecond || *scale <= 0 {
		env.errorf("bench: --window must be at least 100ms and --scale positive")
		return exitUsage
	}
	bin, err := os.Executable()
	if err != nil {
		env.errorf("bench: finding this binary to run the simulator: %v", err)
		return exitError
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano() % 1_000_000
	}
	dir, err := os.MkdirTemp("", "llmpipe-bench-")
	if err != nil {
		env.errorf("bench: %v", err)
		return exitError
	}
	defer os.RemoveAll(dir)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ids []string
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s != "" {
			ids = append(ids, s)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			env.errorf("bench: %v", err)
			return exitError
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			env.errorf("bench: %v", err)
			return exitError
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(env.stdout, "llmpipe bench: seed %d, window %s, scale %g\n", *seed, *window, *scale)
	e := &bench.Env{Bin: bin, Window: *window, Seed: *seed, Scale: *scale, Dir: dir, Out: env.stderr}
	results, err := bench.Run(ctx, e, ids)
	if err != nil && len(results) == 0 {
		env.errorf("bench: %v", err)
		return exitUsage
	}
	if *markdown {
		bench.Markdown(env.stdout, results)
	} else {
		bench.PrintTables(env.stdout, results)
	}
	if *jsonPath != "" {
		rep := bench.Report{Seed: *seed, Window: window.String(), Scale: *scale, Results: results}
		if err := bench.WriteJSON(*jsonPath, rep); err != nil {
			env.errorf("bench: %v", err)
			return exitError
		}
	}
	if err != nil {
		env.errorf("bench: %v", err)
		return exitInterrupted
	}
	for _, r := range results {
		if r.Err != "" {
			return exitError
		}
	}
	return exitOK
}
