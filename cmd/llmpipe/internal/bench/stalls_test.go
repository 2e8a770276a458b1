package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// Throughput tests run in real time against the simulator, and on a loaded
// machine (two cores shared with other builds and tests) the process may
// get no CPU for hundreds of milliseconds: no pacer can send then. A
// stallMonitor measures those gaps, so that a test can hold the pacer to
// the share of each window in which the process could run at all, instead
// of failing whenever the machine is busy (issue 19 item 20).

// stallMonitor records the gaps in which a goroutine that asks to wake
// every tick did not run.
type stallMonitor struct {
	tick   time.Duration
	mu     sync.Mutex
	stalls []stall
	stop   context.CancelFunc
	done   chan struct{}
}

type stall struct {
	at  time.Time     // when the goroutine ran again
	dur time.Duration // how long past its tick it was
}

// minStall is the shortest lateness counted: below it, timer slack.
const minStall = 5 * time.Millisecond

func startStallMonitor(t *testing.T) *stallMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &stallMonitor{tick: time.Millisecond, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		last := time.Now()
		tk := time.NewTicker(m.tick)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				now = time.Now() // the tick's own time is when it was due
				if late := now.Sub(last) - m.tick; late >= minStall {
					m.mu.Lock()
					m.stalls = append(m.stalls, stall{at: now, dur: late})
					m.mu.Unlock()
				}
				last = now
			}
		}
	}()
	t.Cleanup(m.close)
	return m
}

func (m *stallMonitor) close() {
	m.stop()
	<-m.done
}

// stalledPerWindow returns, for each of the simulator's windows (of length
// w, numbered as the log numbers them), the time the process was stalled
// in it. The windows' origin is recovered from the log: every entry's time
// lies in its window.
func (m *stallMonitor) stalledPerWindow(log []sim.LogEntry, w time.Duration, n int) []time.Duration {
	var origin time.Time
	for _, e := range log {
		// e.Time ∈ [origin + Window·w, origin + (Window+1)·w): each entry
		// bounds the origin from below; the latest bound is the tightest.
		if lo := e.Time.Add(-time.Duration(e.Window+1) * w); origin.IsZero() || lo.After(origin) {
			origin = lo
		}
	}
	out := make([]time.Duration, n)
	if origin.IsZero() {
		return out
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.stalls {
		// A stall is the interval [at-dur, at); split it over the windows
		// it overlaps.
		from, to := s.at.Add(-s.dur), s.at
		for from.Before(to) {
			i := int(from.Sub(origin) / w)
			end := origin.Add(time.Duration(i+1) * w)
			if end.After(to) {
				end = to
			}
			if i >= 0 && i < n {
				out[i] += end.Sub(from)
			}
			from = end
		}
	}
	return out
}

// availableShare returns the interior windows' admitted total (as
// interior measures them) and the total the limit allowed in the time the
// process could run: limit × (1 − stalled/w) per window.
func availableShare(ws []sim.WindowCount, stalled []time.Duration, w time.Duration, limit float64) (got, allowed float64, windows int) {
	first, last := -1, -1
	for i, c := range ws {
		if c.Requests > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first + 1; i < last; i++ {
		got += float64(ws[i].Requests)
		free := 1 - float64(stalled[i])/float64(w)
		allowed += limit * max(free, 0)
		windows++
	}
	return got, allowed, windows
}

func TestStalledPerWindow(t *testing.T) {
	w := time.Second
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	log := []sim.LogEntry{
		{Time: origin.Add(10 * time.Millisecond), Window: 0},
		{Time: origin.Add(2*w + 999*time.Millisecond), Window: 2},
	}
	m := &stallMonitor{stalls: []stall{
		{at: origin.Add(1*w + 300*time.Millisecond), dur: 100 * time.Millisecond}, // inside window 1
		{at: origin.Add(2*w + 50*time.Millisecond), dur: 100 * time.Millisecond},  // 50 ms in each of 1 and 2
	}}
	got := m.stalledPerWindow(log, w, 3)
	want := []time.Duration{0, 150 * time.Millisecond, 50 * time.Millisecond}
	for i := range want {
		if d := got[i] - want[i]; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("window %d: stalled %v, want %v", i, got[i], want[i])
		}
	}
	ws := []sim.WindowCount{{Requests: 5}, {Requests: 85}, {Requests: 90}, {Requests: 3}}
	g, a, n := availableShare(ws, []time.Duration{0, 150 * time.Millisecond, 50 * time.Millisecond, 0}, w, 100)
	if n != 2 || g != 175 || a < 179.9 || a > 180.1 {
		t.Errorf("availableShare = %v, %v, %d; want 175, 180, 2", g, a, n)
	}
}
