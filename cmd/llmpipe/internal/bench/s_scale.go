package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// instant answers at once without HTTP: the scheduler alone.
type instant struct{}

func (instant) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	return &runtime.Response{Text: "ok", Usage: runtime.Usage{PromptTokens: 8, OutputTokens: 1}}, nil
}

// throughput runs n short items through an unlimited model, with a store
// when store is set.
func (e *Env) throughput(ctx context.Context, label string, n, workers int, store bool, prov runtime.Provider) (*runOut, error) {
	out, err := e.runPlanWith(ctx, plan{
		label:   label,
		models:  []modelDecl{{Name: "m", ID: free}},
		steps:   []stepDecl{{Name: "call", Items: "items.jsonl", Models: []string{"m"}}},
		items:   map[string]itemSpec{"items.jsonl": {N: n, Tokens: 8, Prefix: "i"}},
		workers: workers,
		store:   store,
		windows: float64(n) / 2000 / e.Window.Seconds(), // at 2,000 items/s at worst
	}, prov)
	if err != nil {
		return nil, err
	}
	if out.RunErr != nil {
		return nil, fmt.Errorf("%s: %w", label, out.RunErr)
	}
	return out, nil
}

func perItem(d time.Duration, n int64) float64 {
	return float64(d.Nanoseconds()) / 1000 / float64(max(n, 1))
}

func runS1(ctx context.Context, e *Env, r *Result) error {
	n := e.items(200_000)
	r.Setup = fmt.Sprintf("%d items, zero-latency server, no limits, 64 workers; CPU and allocations are this process's (the client's) only", n)
	o, err := e.throughput(ctx, "S1 http", n, 64, false, nil)
	if err != nil {
		return err
	}
	noStore := o
	rate := float64(o.Written) / o.Elapsed.Seconds()
	r.add(Figure{Name: "end to end over loopback HTTP", Value: rate, Unit: "items/s", Excellent: AtLeast(15000), Acceptable: AtLeast(5000)})
	r.add(Figure{Name: "client CPU per item (HTTP)", Value: perItem(o.CPU, o.Written), Unit: "µs", Excellent: AtMost(20)})
	r.add(Figure{Name: "allocations per item (HTTP)", Value: math.Round(float64(o.Mallocs) / float64(max(o.Written, 1)))})
	r.add(Figure{Name: "items lost (HTTP)", Value: lost(o, int64(n)), Excellent: AtMost(0), Acceptable: AtMost(0)})

	// The same run with the store on: every call journalled and its reply
	// cached, as a plain llmpipe run does.
	o, err = e.throughput(ctx, "S1 http, store on", n, 64, true, nil)
	if err != nil {
		return err
	}
	rate = float64(o.Written) / o.Elapsed.Seconds()
	r.add(Figure{Name: "end to end over loopback HTTP, store on", Value: rate, Unit: "items/s", Excellent: AtLeast(15000), Acceptable: AtLeast(10000)})
	r.add(Figure{Name: "client CPU per item (HTTP, store on)", Value: perItem(o.CPU, o.Written), Unit: "µs"})
	r.add(Figure{Name: "store CPU per item (store on − off)", Value: perItem(o.CPU-noStore.CPU, o.Written), Unit: "µs", Excellent: AtMost(30), Acceptable: AtMost(60)})
	r.add(Figure{Name: "store size per item", Value: float64(o.StoreBytes) / float64(max(o.Written, 1)), Unit: "B", Excellent: AtMost(400)})
	r.add(Figure{Name: "items lost (HTTP, store on)", Value: lost(o, int64(n)), Excellent: AtMost(0), Acceptable: AtMost(0)})

	o, err = e.throughput(ctx, "S1 in-process", n, 64, false, instant{})
	if err != nil {
		return err
	}
	rate = float64(o.Written) / o.Elapsed.Seconds()
	r.add(Figure{Name: "scheduler only (in-process provider)", Value: rate, Unit: "items/s", Excellent: AtLeast(200000), Acceptable: AtLeast(50000)})
	r.add(Figure{Name: "CPU per item (in-process)", Value: perItem(o.CPU, o.Written), Unit: "µs", Excellent: AtMost(5)})
	r.add(Figure{Name: "allocations per item (in-process)", Value: math.Round(float64(o.Mallocs) / float64(max(o.Written, 1))), Excellent: AtMost(3)})
	r.note("the in-process figures cover the whole runtime path: reading the JSONL source, templating, the pacer, the provider call, the sink's JSON encoding and write")
	return nil
}

func runS8(ctx context.Context, e *Env, r *Result) error {
	n := e.items(1_000_000)
	r.Setup = fmt.Sprintf("%d items streamed from a JSONL file, zero latency, no limits, workers auto; once with the store on (a store file in a temporary directory, removed afterwards), once with --no-store", n)
	on, err := e.throughput(ctx, "S8 store on", n, 0, true, nil)
	if err != nil {
		return err
	}
	off, err := e.throughput(ctx, "S8 no store", n, 0, false, nil)
	if err != nil {
		return err
	}
	s8Figures(r, n, on, off)
	r.note("peak RSS is VmHWM, reset before each of the two runs; RSS growth per item is (peak − RSS before the run) / items")
	r.note("memory flatness from 1M to 10M items is issue 3's measurement (its own section below)")
	return nil
}

// s8Figures judges S8's two runs of n items: on with the store, off
// without it (nil when not run).
func s8Figures(r *Result, n int, on, off *runOut) {
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	growth := func(o *runOut) float64 { return float64(o.PeakRSS-o.BaseRSS) / float64(max(n, 1)) }
	r.add(Figure{Name: "peak RSS (client, store on)", Value: mb(on.PeakRSS), Unit: "MB", Excellent: AtMost(300)})
	r.add(Figure{Name: "RSS growth per item (store on)", Value: growth(on), Unit: "B", Acceptable: AtMost(500)})
	r.add(Figure{Name: "store size per item", Value: float64(on.StoreBytes) / float64(max(on.Written, 1)), Unit: "B", Excellent: AtMost(400)})
	r.add(Figure{Name: "items lost (store on)", Value: lost(on, int64(n)), Excellent: AtMost(0), Acceptable: AtMost(0)})
	r.add(Figure{Name: "throughput (store on)", Value: float64(on.Written) / on.Elapsed.Seconds(), Unit: "items/s"})
	if off == nil {
		return
	}
	r.add(Figure{Name: "peak RSS (client, no store)", Value: mb(off.PeakRSS), Unit: "MB", Excellent: AtMost(300)})
	r.add(Figure{Name: "RSS growth per item (no store)", Value: growth(off), Unit: "B", Acceptable: AtMost(500)})
	r.add(Figure{Name: "items lost (no store)", Value: lost(off, int64(n)), Excellent: AtMost(0), Acceptable: AtMost(0)})
	r.add(Figure{Name: "throughput (no store)", Value: float64(off.Written) / off.Elapsed.Seconds(), Unit: "items/s"})
}
