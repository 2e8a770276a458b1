package runtime_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// gatedProvider tracks how many calls are in flight at once.
type gatedProvider struct {
	inFlight, peak atomic.Int64
	calls          atomic.Int64
	delay          time.Duration
}

func (g *gatedProvider) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	g.calls.Add(1)
	select {
	case <-time.After(g.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return textReply(`{"name":"X","age":5}`), nil
}

func TestSetWorkersWhileRunning(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline + "\nconfig {\n  workers = 2\n}\n", "people.jsonl": people(120)})
	g := &gatedProvider{delay: 10 * time.Millisecond}
	r, err := runtime.New(prog, options(g))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var sum *runtime.Summary
	wg.Go(func() { sum, err = r.Run(context.Background()) })
	for g.calls.Load() < 10 {
		time.Sleep(time.Millisecond)
	}
	if p := g.peak.Load(); p > 2 {
		t.Fatalf("peak concurrency %d with workers = 2", p)
	}
	r.SetWorkers(8)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if p := g.peak.Load(); p <= 2 || p > 8 {
		t.Fatalf("peak concurrency after SetWorkers(8) = %d, want 3..8", p)
	}
	if sum.Succeeded != 120 {
		t.Fatalf("ok %d", sum.Succeeded)
	}
}

func TestDrainFinishesInFlightAndStops(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline + "\nconfig {\n  workers = 4\n}\n", "people.jsonl": people(400)})
	g := &gatedProvider{delay: 20 * time.Millisecond}
	r, err := runtime.New(prog, options(g))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for g.calls.Load() < 20 {
			time.Sleep(time.Millisecond)
		}
		r.Drain()
	}()
	sum, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Outcome != runtime.OutcomeInterrupted {
		t.Fatalf("outcome %s", sum.Outcome)
	}
	calls := g.calls.Load()
	// Every call that was made finished and was written; nothing new started.
	if sum.Succeeded != calls || calls >= 400 {
		t.Fatalf("calls %d, succeeded %d", calls, sum.Succeeded)
	}
	if got := len(readJSONL(t, prog.Dir+"/out/ok.jsonl")); int64(got) != sum.Succeeded {
		t.Fatalf("sink has %d records, summary says %d", got, sum.Succeeded)
	}
}

func TestMiddlewareAfterAndOnRetry(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(5)})
	var p3 atomic.Int64
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		if req.Item == "p3" && p3.Add(1) == 1 {
			return textReply(`{"name":"X","age":500}`), nil
		}
		return textReply(`{"name":"X","age":5}`), nil
	}}
	var retries atomic.Int64
	opts := options(fp)
	opts.Middleware = []runtime.Middleware{runtime.MiddlewareFuncs{
		BeforeFunc: func(ctx context.Context, step string, rec *runtime.Record) (bool, error) {
			return rec.ID == "p5", nil // skip p5
		},
		AfterFunc: func(ctx context.Context, step string, rec *runtime.Record) error {
			if rec.ID == "p1" {
				rec.Failed = true
				rec.Failure = &runtime.Failure{Class: runtime.ClassCheckFailed, Message: "rejected by middleware"}
			}
			return nil
		},
		OnRetryFunc: func(ctx context.Context, step string, rec *runtime.Record, failed runtime.AttemptError) {
			if rec.ID == "p3" && failed.Class == runtime.ClassCheckFailed {
				retries.Add(1)
			}
		},
	}}
	sum, err := runtime.Run(context.Background(), prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != 1 || sum.Failed != 1 || sum.Succeeded != 3 || retries.Load() != 1 {
		t.Fatalf("skipped %d failed %d ok %d retries %d", sum.Skipped, sum.Failed, sum.Succeeded, retries.Load())
	}
	bad := readJSONL(t, prog.Dir+"/out/bad.jsonl")
	if len(bad) != 1 || bad[0]["id"] != "p1" {
		t.Fatalf("failed sink: %v", bad)
	}
}

// Issue 19 item 11: a worker count past MaxWorkers, from the options, the
// pipeline's config or SetWorkers, is clamped.
func TestWorkersAreClamped(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(1)})
	opts := options(&fakeProvider{})
	opts.Workers = 1_000_000
	r, err := runtime.New(prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Workers(); got != runtime.MaxWorkers {
		t.Errorf("Workers() = %d with Options.Workers 1000000, want %d", got, runtime.MaxWorkers)
	}
	r.SetWorkers(5_000_000)
	if got := r.Workers(); got != runtime.MaxWorkers {
		t.Errorf("Workers() = %d after SetWorkers(5000000), want %d", got, runtime.MaxWorkers)
	}
}
