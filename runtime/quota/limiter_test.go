package quota

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newFake(opts Options) (*Limiter, *FakeClock) {
	clk := NewFakeClock(t0)
	opts.Clock = clk
	return New(opts), clk
}

// eventually polls cond for up to two seconds of real time: long enough
// for a goroutine to block, short enough to fail a test quickly.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// acquireAsync runs Acquire in a goroutine; the result arrives on the
// returned channel.
type result struct {
	p   Permit
	err error
}

func acquireAsync(ctx context.Context, l *Limiter, model string, est int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		p, err := l.Acquire(ctx, model, est)
		ch <- result{p, err}
	}()
	return ch
}

// recv waits (two seconds at most) for an Acquire's result.
func recv(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * time.Second):
		t.Fatal("Acquire did not return")
		return result{}
	}
}

func mustAcquire(t *testing.T, l *Limiter, model string, est int) Permit {
	t.Helper()
	p, err := l.Acquire(context.Background(), model, est)
	if err != nil {
		t.Fatalf("Acquire(%q, %d): %v", model, est, err)
	}
	return p
}

func TestUnlimitedIsFreeAndNeverBlocks(t *testing.T) {
	l, _ := newFake(Options{})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		p, err := l.Acquire(ctx, "m", 100)
		if err != nil {
			t.Fatal(err)
		}
		p.Done(100, time.Millisecond)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per unlimited Acquire+Done, want 0", allocs)
	}
	st := l.Stats("m")
	if st.Acquired != 1001 || st.InFlight != 0 || st.Concurrency != 0 {
		t.Errorf("stats %+v, want 1001 acquired, none in flight, no cap", st)
	}
}

func TestDayQuota(t *testing.T) {
	l, clk := newFake(Options{DayLength: time.Hour})
	l.SetLimits("m", Limits{RPD: 3})
	for range 3 {
		mustAcquire(t, l, "m", 0).Done(0, 0)
		clk.Advance(time.Second)
	}
	_, err := l.Acquire(context.Background(), "m", 0)
	var de *DayExhaustedError
	if !errors.Is(err, ErrDayExhausted) || !errors.As(err, &de) {
		t.Fatalf("4th Acquire: %v, want ErrDayExhausted", err)
	}
	if want := t0.Truncate(time.Hour).Add(time.Hour); !de.Until.Equal(want) || de.Model != "m" {
		t.Errorf("exhausted %+v, want model m until %v", de, want)
	}
	clk.Set(de.Until)
	mustAcquire(t, l, "m", 0).Done(0, 0)
}

// TestPerDay429 stops the model until the day resets, not for retryDelay,
// and fails calls already waiting.
func TestPerDay429(t *testing.T) {
	l, clk := newFake(Options{DayLength: time.Hour})
	l.SetLimits("m", Limits{Concurrency: 1})
	ctx := context.Background()
	p := mustAcquire(t, l, "m", 0)
	waiting := acquireAsync(ctx, l, "m", 0)
	eventually(t, "a waiter", func() bool { return l.Stats("m").Waiting == 1 })

	p.RateLimited(RateLimit{Axes: []Axis{AxisRPD, AxisRPM}, RetryDelay: 36 * time.Second})
	if r := recv(t, waiting); !errors.Is(r.err, ErrDayExhausted) {
		t.Fatalf("waiting Acquire: %v, want ErrDayExhausted", r.err)
	}
	clk.Advance(37 * time.Second)
	if _, err := l.Acquire(ctx, "m", 0); !errors.Is(err, ErrDayExhausted) {
		t.Fatalf("Acquire after retryDelay: %v, want ErrDayExhausted", err)
	}
	if st := l.Stats("m"); st.RateLimited.RPD != 1 || st.RateLimited.RPM != 1 || !st.DayExhausted {
		t.Errorf("stats %+v", st)
	}
	clk.Set(t0.Truncate(time.Hour).Add(time.Hour))
	mustAcquire(t, l, "m", 0).Done(0, 0)
}

func TestPacificMidnight(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip("no time zone database")
	}
	cases := []struct {
		now, want time.Time
	}{
		{time.Date(2026, 3, 1, 12, 0, 0, 0, la), time.Date(2026, 3, 2, 0, 0, 0, 0, la)},
		{time.Date(2026, 3, 1, 23, 59, 59, 0, la), time.Date(2026, 3, 2, 0, 0, 0, 0, la)},
		{time.Date(2026, 3, 2, 0, 0, 0, 0, la), time.Date(2026, 3, 3, 0, 0, 0, 0, la)},
		// The day clocks spring forward is 23 hours long.
		{time.Date(2026, 3, 8, 1, 0, 0, 0, la), time.Date(2026, 3, 9, 0, 0, 0, 0, la)},
		// 07:59 UTC is still the previous day in Los Angeles in winter.
		{time.Date(2026, 1, 10, 7, 59, 0, 0, time.UTC), time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := nextReset(c.now, 0); !got.Equal(c.want) {
			t.Errorf("nextReset(%v) = %v, want %v", c.now, got, c.want)
		}
	}
	if got := nextReset(t0.Add(10*time.Minute), time.Hour); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("nextReset with a 1h day = %v", got)
	}
}

func TestTooLarge(t *testing.T) {
	l, _ := newFake(Options{})
	l.SetLimits("m", Limits{TPM: 1000})
	if _, err := l.Acquire(context.Background(), "m", 1001); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Acquire 1001 tokens under TPM 1000: %v, want ErrTooLarge", err)
	}
	// As large as the whole limit is allowed: it waits for its tokens.
	l2, clk := newFake(Options{})
	l2.SetLimits("m", Limits{TPM: 1000})
	ch := acquireAsync(context.Background(), l2, "m", 1000)
	eventually(t, "a waiter", func() bool { return clk.Timers() == 1 })
	// 990 tokens to accrue at 99 % of 1000 per minute: a minute.
	clk.Advance(time.Minute - time.Millisecond)
	select {
	case r := <-ch:
		t.Fatalf("Acquire returned %v before its tokens accrued", r.err)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(2 * time.Millisecond)
	if r := recv(t, ch); r.err != nil {
		t.Fatalf("Acquire 1000 tokens under TPM 1000: %v", r.err)
	}
}

// TestBare429 halves the cap once per round trip and grows it back by one
// per cap's worth of completions.
func TestBare429(t *testing.T) {
	l, clk := newFake(Options{})
	l.SetLimits("m", Limits{Concurrency: 16})
	var ps []Permit
	for range 16 {
		ps = append(ps, mustAcquire(t, l, "m", 0))
	}
	clk.Advance(time.Second)
	ps[0].RateLimited(RateLimit{})
	if got := l.Stats("m").Concurrency; got != 8 {
		t.Fatalf("cap after a bare 429 = %d, want 8", got)
	}
	ps[1].RateLimited(RateLimit{}) // sent before the cut: no second halving
	if got := l.Stats("m"); got.Concurrency != 8 || got.Bare != 2 || !got.PausedUntil.IsZero() {
		t.Fatalf("after a second old bare 429: %+v, want cap 8, 2 bare, no pause", got)
	}
	for _, p := range ps[2:10] {
		p.Done(0, time.Second)
	}
	// Eight completions at cap 8: one more slot.
	if got := l.Stats("m").Concurrency; got != 9 {
		t.Fatalf("cap after 8 completions = %d, want 9", got)
	}
	for _, p := range ps[10:] {
		p.Done(0, time.Second)
	}
	// A call sent after the cut that gets a bare 429 halves again.
	clk.Advance(time.Second)
	p := mustAcquire(t, l, "m", 0)
	clk.Advance(time.Second)
	p.RateLimited(RateLimit{})
	if got := l.Stats("m").Concurrency; got != 4 {
		t.Fatalf("cap after a new bare 429 = %d, want 4", got)
	}
	// Growth ends at the configured cap.
	for range 200 {
		mustAcquire(t, l, "m", 0).Done(0, time.Second)
	}
	if got := l.Stats("m").Concurrency; got != 16 {
		t.Fatalf("cap after recovery = %d, want 16", got)
	}
}

func TestConcurrencyCapBlocks(t *testing.T) {
	l, _ := newFake(Options{})
	l.SetLimits("m", Limits{Concurrency: 2})
	ctx := context.Background()
	a, b := mustAcquire(t, l, "m", 0), mustAcquire(t, l, "m", 0)
	ch := acquireAsync(ctx, l, "m", 0)
	eventually(t, "a waiter", func() bool { return l.Stats("m").Waiting == 1 })
	select {
	case r := <-ch:
		t.Fatalf("third Acquire returned %v with two in flight and cap 2", r.err)
	case <-time.After(20 * time.Millisecond):
	}
	a.Done(10, time.Second)
	if r := recv(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
	b.Cancel()
	if st := l.Stats("m"); st.InFlight != 1 || st.Acquired != 3 {
		t.Errorf("stats %+v, want 1 in flight, 3 acquired", st)
	}
}

// TestSetLimitsWakesWaiters: a reload that lifts or raises a limit frees
// calls already waiting, without any time passing.
func TestSetLimitsWakesWaiters(t *testing.T) {
	l, _ := newFake(Options{})
	ctx := context.Background()

	l.SetLimits("rate", Limits{RPM: 1})
	mustAcquire(t, l, "rate", 0).Done(0, 0)
	ch := acquireAsync(ctx, l, "rate", 0)
	eventually(t, "a waiter", func() bool { return l.Stats("rate").Waiting == 1 })
	l.SetLimits("rate", Limits{})
	if r := recv(t, ch); r.err != nil {
		t.Fatal(r.err)
	}

	l.SetLimits("conc", Limits{Concurrency: 1})
	mustAcquire(t, l, "conc", 0)
	ch = acquireAsync(ctx, l, "conc", 0)
	eventually(t, "a waiter", func() bool { return l.Stats("conc").Waiting == 1 })
	l.SetLimits("conc", Limits{Concurrency: 2})
	if r := recv(t, ch); r.err != nil {
		t.Fatal(r.err)
	}

	// Lowering TPM under a waiter's estimate fails it at once.
	l.SetLimits("tok", Limits{Concurrency: 1, TPM: 10_000})
	mustAcquire(t, l, "tok", 0)
	ch = acquireAsync(ctx, l, "tok", 5000)
	eventually(t, "a waiter", func() bool { return l.Stats("tok").Waiting == 1 })
	l.SetLimits("tok", Limits{Concurrency: 1, TPM: 1000})
	if r := recv(t, ch); !errors.Is(r.err, ErrTooLarge) {
		t.Fatalf("waiter after TPM cut: %v, want ErrTooLarge", r.err)
	}
}

// TestCancelUnblocks: cancelling a waiting Acquire returns its context's
// error, and the queue behind it moves on.
func TestCancelUnblocks(t *testing.T) {
	l, clk := newFake(Options{})
	l.SetLimits("m", Limits{RPM: 60})
	mustAcquire(t, l, "m", 0).Done(0, 0)

	ctx, cancel := context.WithCancel(context.Background())
	first := acquireAsync(ctx, l, "m", 0)
	eventually(t, "the head waiting", func() bool { return l.Stats("m").Waiting == 1 })
	second := acquireAsync(context.Background(), l, "m", 0)
	eventually(t, "a second waiter", func() bool { return l.Stats("m").Waiting == 2 })

	cancel()
	if r := recv(t, first); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled Acquire: %v, want context.Canceled", r.err)
	}
	eventually(t, "the new head's timer", func() bool { return clk.Timers() == 1 })
	clk.Advance(2 * time.Second)
	if r := recv(t, second); r.err != nil {
		t.Fatal(r.err)
	}
	if _, err := l.Acquire(ctx, "m", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a done context: %v", err)
	}
}

// TestTokenCorrection: the counted tokens settle the bucket and teach the
// ratio used to scale later estimates.
func TestTokenCorrection(t *testing.T) {
	l, clk := newFake(Options{})
	l.SetLimits("m", Limits{TPM: 1_000_000})
	for range 100 {
		mustAcquire(t, l, "m", 100).Done(150, time.Second)
		clk.Advance(100 * time.Millisecond)
	}
	st := l.Stats("m")
	if st.TokenRatio < 1.49 || st.TokenRatio > 1.51 {
		t.Errorf("token ratio %.3f, want about 1.5", st.TokenRatio)
	}
	if st.TokensPerWindow != 15_000 {
		t.Errorf("tokens per window %d, want 15000", st.TokensPerWindow)
	}
}

func TestAutoConcurrency(t *testing.T) {
	// Little's law at the 99 % pace with a mean latency of 0.91 s; the
	// figures of gemini-quotas.md 1.3, a request or two lower for the pace.
	cases := []struct {
		rpm  int
		want int
	}{
		{10, 4},      // floor
		{4000, 92},   // N̄ 60.1
		{10000, 200}, // N̄ 150.2
		{30000, 536}, // N̄ 450.5
		{100000, 1000},
	}
	for _, c := range cases {
		l, _ := newFake(Options{InitialLatency: 910 * time.Millisecond})
		l.SetLimits("m", Limits{RPM: c.rpm})
		if got := l.SuggestConcurrency("m"); got != c.want {
			t.Errorf("RPM %d: auto concurrency %d, want %d", c.rpm, got, c.want)
		}
	}
	l, _ := newFake(Options{})
	l.SetLimits("m", Limits{RPM: 4000, Concurrency: 7})
	if got := l.SuggestConcurrency("m"); got != 7 {
		t.Errorf("fixed concurrency: %d, want 7", got)
	}
}

// TestAutoConcurrencyTokenBound: a model bound by TPM sizes its cap from
// the token rate and the tokens counted per call, not from its RPM.
func TestAutoConcurrencyTokenBound(t *testing.T) {
	l, clk := newFake(Options{})
	l.SetLimits("m", Limits{RPM: 4000, TPM: 1_000_000})
	for range 200 {
		mustAcquire(t, l, "m", 2000).Done(2000, time.Second)
		clk.Advance(200 * time.Millisecond)
	}
	// 990,000 tokens per minute at 2,000 per call and 1 s: N̄ = 8.25.
	if got := l.SuggestConcurrency("m"); got != 20 {
		t.Errorf("auto concurrency %d, want 20", got)
	}
}
