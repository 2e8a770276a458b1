package quota

import (
	"testing"
	"time"
)

// TestOdd429sDoNotLowerTheLimit: a per-minute 429 now and then (arrivals
// bunched at a token-bucket server) pauses the model but leaves the learned
// limit alone; a steady share of them lowers it.
func TestOdd429sDoNotLowerTheLimit(t *testing.T) {
	l, clk := newFake(Options{})
	l.SetLimits("m", Limits{RPM: 6000, Concurrency: 1000})
	var ps []Permit
	for range 300 {
		clk.Advance(20 * time.Millisecond)
		ps = append(ps, mustAcquire(t, l, "m", 0))
	}
	ps[0].RateLimited(RateLimit{Axes: []Axis{AxisRPM}, RetryDelay: time.Millisecond})
	if got := l.Stats("m").LearnedRPM; got != 6000 {
		t.Fatalf("learned RPM after one 429 in 300 calls = %v, want 6000", got)
	}
	for _, p := range ps[1:10] {
		p.RateLimited(RateLimit{Axes: []Axis{AxisRPM}, RetryDelay: time.Millisecond})
	}
	if got := l.Stats("m").LearnedRPM; got >= 6000 {
		t.Fatalf("learned RPM after ten 429s in 300 calls = %v, want below 6000", got)
	}
	for _, p := range ps[10:] {
		p.Done(0, time.Millisecond)
	}
}

// TestOddBare429sKeepConcurrency: bare 429s under bareShare of the calls
// are noise; above it they halve the cap.
func TestOddBare429sKeepConcurrency(t *testing.T) {
	l, clk := newFake(Options{})
	l.SetLimits("m", Limits{Concurrency: 200})
	var ps []Permit
	for range 200 {
		clk.Advance(time.Millisecond)
		ps = append(ps, mustAcquire(t, l, "m", 0))
	}
	ps[0].RateLimited(RateLimit{})
	if got := l.Stats("m").Concurrency; got != 200 {
		t.Fatalf("cap after 1 bare 429 in 200 calls = %d, want 200", got)
	}
	for _, p := range ps[1:8] {
		p.RateLimited(RateLimit{})
	}
	if got := l.Stats("m").Concurrency; got != 100 {
		t.Fatalf("cap after 8 bare 429s in 200 calls = %d, want 100", got)
	}
	for _, p := range ps[8:] {
		p.Done(0, time.Millisecond)
	}
}
