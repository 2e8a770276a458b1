package runtime_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

var errRefused = &runtime.Error{Class: runtime.ClassTransient, Message: "dial tcp 127.0.0.1:1: connect: connection refused", Unreachable: true}

// Issue 19 item 2: an endpoint that refuses every connection for two
// minutes fails no item. The breaker stops calls (so items are not burnt
// through), probes, and the run finishes once the endpoint is back.
func TestOutageFailsNoItem(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(20)})
	synctest.Test(t, func(t *testing.T) {
		back := time.Now().Add(2 * time.Minute)
		var refused atomic.Int64
		fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
			if time.Now().Before(back) {
				refused.Add(1)
				return nil, errRefused
			}
			return textReply(`{"name":"X","age":5}`), nil
		}}
		opts := options(fp)
		opts.Workers = 4
		log := &runtime.EventLog{}
		opts.Observers = []runtime.Observer{log}
		sum, err := runtime.Run(context.Background(), prog, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Succeeded != 20 || sum.Failed != 0 {
			t.Errorf("after a 2m outage: ok %d, failed %d; want 20 and 0", sum.Succeeded, sum.Failed)
		}
		// Probes back off to 30s: a handful of calls in two minutes, not
		// a retry storm (and not one item's attempts each).
		if n := refused.Load(); n > 30 {
			t.Errorf("%d calls went to the endpoint while it was down", n)
		}
		var down, up int
		for _, e := range log.Events() {
			switch e.Kind {
			case runtime.EventEndpointDown:
				down++
			case runtime.EventEndpointUp:
				up++
			}
		}
		if down != 1 || up != 1 {
			t.Errorf("events: %d endpoint_down, %d endpoint_up; want 1 and 1", down, up)
		}
	})
}

// An endpoint down for longer than MaxOutage stops the run with a clear
// error; no item fails, so the same command resumes every one.
func TestOutageStopsTheRun(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(20)})
	synctest.Test(t, func(t *testing.T) {
		fp := &fakeProvider{reply: func(*runtime.Request, int) (*runtime.Response, error) { return nil, errRefused }}
		opts := options(fp)
		opts.Workers = 4
		opts.MaxOutage = time.Minute
		start := time.Now()
		sum, err := runtime.Run(context.Background(), prog, opts)
		if !errors.Is(err, runtime.ErrOutage) {
			t.Fatalf("Run: %v, want ErrOutage", err)
		}
		if !strings.Contains(err.Error(), "unreachable for 1m") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("message %q does not say how long and why", err)
		}
		if took := time.Since(start); took < time.Minute || took > 2*time.Minute {
			t.Errorf("stopped after %s, want about the 1m limit", took)
		}
		if sum == nil || sum.Failed != 0 || sum.Succeeded != 0 {
			t.Errorf("summary %+v: want nothing failed, nothing done", sum)
		}
	})
}

// Items that failed on transient errors only are retried by a plain re-run;
// an item that failed its checks stays failed until --retry-failed.
func TestTransientFailuresRetriedByPlainRerun(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(5)})
	ctx := context.Background()
	run := func(down bool) (*runtime.Summary, []*runtime.Request) {
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(prog.Dir, "run.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
			if req.Item == "p1" {
				return textReply(`{"name":"X","age":212}`), nil // fails its check on every rung
			}
			if down {
				return nil, &runtime.Error{Class: runtime.ClassTransient, Status: 503, Message: "overloaded"}
			}
			return textReply(`{"name":"X","age":5}`), nil
		}}
		opts := options(fp)
		opts.Store = st
		sum, err := runtime.Run(ctx, prog, opts)
		if err != nil {
			t.Fatal(err)
		}
		return sum, fp.requests()
	}
	sum, _ := run(true)
	if sum.Failed != 5 || sum.Retryable != 4 {
		t.Fatalf("first run: failed %d, retryable %d; want 5 and 4", sum.Failed, sum.Retryable)
	}
	sum, reqs := run(false)
	items := map[string]bool{}
	for _, r := range reqs {
		items[r.Item] = true
	}
	if len(items) != 4 || items["p1"] {
		t.Errorf("plain re-run called %v, want p2..p5 (not p1, which failed its check)", items)
	}
	if sum.Succeeded != 4 || sum.Failed != 1 || sum.Retryable != 0 {
		t.Errorf("plain re-run: ok %d, failed %d, retryable %d; want 4, 1, 0", sum.Succeeded, sum.Failed, sum.Retryable)
	}
}
