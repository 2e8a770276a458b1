package runtime_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
)

// rpm3000 is a quota book of 3,000 requests a minute (50/s) for every model.
type rpm3000 struct{}

func (rpm3000) Limits(*interp.Model) quota.Limits { return quota.Limits{RPM: 3000} }

// TestAutoWorkersFollowLatency: under workers = auto, when the provider's
// latency jumps from 50 ms to 1 s the pool grows (Little's law: 50/s × 1 s)
// so the run keeps the quota-bound rate, and shrinks once latency falls
// again; each change is a workers_resized event. Time is synctest's, so the
// figures do not depend on the machine's load. With workers = 8 nothing
// resizes.
func TestAutoWorkersFollowLatency(t *testing.T) {
	for _, workers := range []string{"auto", "8"} {
		t.Run("workers="+workers, func(t *testing.T) {
			src := "config {\n  workers     = " + workers + "\n  max_workers = 500\n}\n"
			prog := compile(t, map[string]string{"main.llmp": personPipeline + src, "people.jsonl": people(1600)})
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				jump, fall := start.Add(10*time.Second), start.Add(25*time.Second)
				fp := &fakeProvider{reply: func(*runtime.Request, int) (*runtime.Response, error) {
					d := 50 * time.Millisecond
					if now := time.Now(); now.After(jump) && now.Before(fall) {
						d = time.Second
					}
					time.Sleep(d)
					return textReply(`{"name":"X","age":33}`), nil
				}}
				opts := options(fp)
				opts.Pacer = runtime.QuotaPacer{Limiter: quota.New(quota.Options{InitialLatency: 50 * time.Millisecond}), Window: time.Minute}
				opts.Quotas = func(*interp.Program) runtime.QuotaBook { return rpm3000{} }
				log := &runtime.EventLog{}
				opts.Observers = []runtime.Observer{log}
				r, err := runtime.New(prog, opts)
				if err != nil {
					t.Fatal(err)
				}
				sum, err := r.Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if sum.Succeeded != 1600 {
					t.Fatalf("ok %d, want 1600", sum.Succeeded)
				}
				// Calls finished per second of the run, and the pool's size
				// after each resize.
				var perSec [60]int
				var sizes []int
				var sizeAt []time.Duration
				for _, e := range log.Events() {
					switch e.Kind {
					case runtime.EventCallFinished:
						if s := int(e.Time.Sub(start) / time.Second); s < len(perSec) {
							perSec[s]++
						}
					case runtime.EventWorkersResized:
						if n, _ := strconv.Atoi(e.To); n != e.Workers || e.From == "" {
							t.Errorf("workers_resized %+v: to %q, workers %d", e, e.To, e.Workers)
						}
						sizes = append(sizes, e.Workers)
						sizeAt = append(sizeAt, e.Time.Sub(start))
					}
				}
				if workers == "8" {
					if len(sizes) > 0 || r.Workers() != 8 {
						t.Fatalf("workers = 8 resized to %v (now %d)", sizes, r.Workers())
					}
					return
				}
				t.Logf("calls per second: %v", perSec[:35])
				t.Logf("resizes: %v at %v", sizes, sizeAt)
				peak, last := 0, 0
				for i, n := range sizes {
					if n > 500 {
						t.Errorf("resized to %d, above max_workers = 500", n)
					}
					if sizeAt[i] < 25*time.Second {
						peak = max(peak, n)
					}
					last = n
				}
				// 50/s × 1 s = 50 in flight at least; 50 ms needs about 3.
				if peak < 50 {
					t.Errorf("pool peaked at %d during the 1 s latency, want ≥ 50", peak)
				}
				if last >= peak/2 || last > 30 {
					t.Errorf("pool ends at %d after latency fell (peak %d), want it shrunk", last, peak)
				}
				// Within 10 s of the jump the run is back at ≥ 90 % of 49.5/s.
				for s := 20; s < 25; s++ {
					if perSec[s] < 44 {
						t.Errorf("second %d after start (%d after the jump): %d calls, want ≥ 44 of 49.5", s, s-10, perSec[s])
					}
				}
			})
		})
	}
}
