package llmpipe_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

const autosizePipeline = `
source words {
  lines = "words.txt"
}

model lite {
  id  = "gemini-2.5-flash-lite"
  rpm = 40
}

step answer {
  from   = words
  models = [lite]
  prompt = "Define {{ item.text }}"
}

sink answers {
  from  = answer
  jsonl = "out/answers.jsonl"
}
`

// TestAutoWorkersKeepTheQuotaRateOverHTTP: issue 18's acceptance test on a
// compressed clock, over real loopback HTTP against the simulator. The
// quota is 40 calls per 1 s window; the simulator's latency is 20 ms, then
// 500 ms from 1.5 s, then 20 ms again from 5 s (--sim-latency-schedule).
// At 500 ms the quota needs 20 calls in flight, far more than the ~5 that
// 20 ms needs: workers = auto grows the pool so the rate stays near the
// quota, and shrinks it after. A pool that kept its size would make ~10/s.
// The margins are wide: this runs on a loaded 2-core machine.
func TestAutoWorkersKeepTheQuotaRateOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~7 s of wall time")
	}
	t.Parallel()
	var words strings.Builder
	for i := range 280 {
		fmt.Fprintf(&words, "w%d\n", i)
	}
	p := writePipeline(t, map[string]string{"main.llmp": autosizePipeline, "words.txt": words.String()})
	cfg := sim.DefaultConfig()
	cfg.LatencySigma = 0
	cfg.LatencySchedule = []sim.LatencyStep{
		{At: 0, Median: 20 * time.Millisecond},
		{At: 1500 * time.Millisecond, Median: 500 * time.Millisecond},
		{At: 5 * time.Second, Median: 20 * time.Millisecond},
	}
	// The server enforces twice the client's quota: a 429 means the pool
	// burst past the pacer.
	cfg.Window = time.Second
	cfg.RPM = map[string]int{"*": 80}
	var mu sync.Mutex
	var resized []runtime.Event
	opts := llmpipe.RunOptions{NoStore: true, QuotaWindow: time.Second}
	opts.Observers = []runtime.Observer{runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventWorkersResized {
			mu.Lock()
			resized = append(resized, e)
			mu.Unlock()
		}
	})}
	sum, err, log := simRun(t, p, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 280 {
		t.Fatalf("ok %d of 280", sum.Succeeded)
	}
	var start time.Time
	var perSec [30]int
	limited, calls := 0, 0
	for _, e := range log {
		if !isGenerate(e) {
			continue
		}
		if start.IsZero() {
			start = e.Time
		}
		calls++
		if e.Status == 429 {
			limited++
			continue
		}
		if s := int(e.Time.Sub(start) / time.Second); s < len(perSec) {
			perSec[s]++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var sizes []string
	peak, last := 0, 0
	for _, e := range resized {
		sizes = append(sizes, fmt.Sprintf("%d@%.1fs", e.Workers, e.Time.Sub(start).Seconds()))
		if e.Time.Sub(start) < 5*time.Second {
			peak = max(peak, e.Workers)
		}
		last = e.Workers
	}
	t.Logf("requests admitted per second: %v; 429s %d of %d; resizes %v", perSec[:10], limited, calls, sizes)
	if peak < 15 {
		t.Errorf("the pool peaked at %d during the 500 ms latency, want ≥ 15 (40/s × 0.5 s = 20)", peak)
	}
	// Seconds 3 and 4 (1.5 to 3.5 s after the jump): at least half of the
	// 40/s quota, where a fixed pool of ~5 would make ~10/s.
	if got := perSec[3] + perSec[4]; got < 40 {
		t.Errorf("%d requests in seconds 3–4, want ≥ 40 of the quota's 80", got)
	}
	if last >= peak {
		t.Errorf("the pool did not shrink after latency fell: ends at %d, peak %d", last, peak)
	}
	if limited*100 > calls+100 {
		t.Errorf("%d 429s in %d requests", limited, calls)
	}
}
