package quota

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
)

// TestHiddenLimit: the server allows only 80 % of the configured RPM. After
// a few windows the run must settle between 90 % and 100 % of the true
// limit, with few refusals.
func TestHiddenLimit(t *testing.T) {
	for _, mode := range []enforcement{fixedWindow, slidingWindow, gcraBucket} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				limit := 4000 / simScale()
				truth := limit * 4 / 5
				const windows = 20
				res := simulate(t, simConfig{
					limits:    Limits{RPM: limit},
					window:    time.Minute,
					windows:   windows,
					workers:   200 / simScale(),
					mode:      mode,
					serverRPM: float64(truth),
				})
				got := ratio(floats(res.accepted), 5, windows, float64(truth))
				refused := per1000(res.rejected, res.total)
				t.Logf("achieved %.4f of the true limit, %d calls, %.1f refused per 1000; per window %v", got, res.total, refused, res.accepted)
				if got < 0.90 || got > 1 {
					t.Errorf("achieved %.4f of the true limit, want within [0.90, 1]", got)
				}
				if refused > 20 {
					t.Errorf("%.1f refusals per 1000 calls, want ≤ 20", refused)
				}
			})
		})
	}
}

// TestHiddenTokenLimit: the same on the token axis.
func TestHiddenTokenLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const tpm, truth = 1_000_000, 800_000
		const windows = 20
		res := simulate(t, simConfig{
			limits:    Limits{RPM: 10_000, TPM: tpm},
			window:    time.Minute,
			windows:   windows,
			workers:   100,
			mode:      slidingWindow,
			serverTPM: truth,
			tokens: func(r *rand.Rand) (int, int) {
				real := 1800 + r.IntN(401)
				return real, real
			},
		})
		got := ratio(res.tokens, 5, windows, truth)
		refused := per1000(res.rejected, res.total)
		t.Logf("achieved %.4f of the true TPM, %d calls, %.1f refused per 1000", got, res.total, refused)
		if got < 0.90 || got > 1 {
			t.Errorf("achieved %.4f of the true TPM, want within [0.90, 1]", got)
		}
		if refused > 20 {
			t.Errorf("%.1f refusals per 1000 calls, want ≤ 20", refused)
		}
	})
}

// TestOverProvisioned: the server would allow 120 % of the configured RPM;
// the run must still keep to the configured limit in every window.
func TestOverProvisioned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limit := 4000 / simScale()
		res := simulate(t, simConfig{
			limits:    Limits{RPM: limit},
			window:    time.Minute,
			windows:   5,
			workers:   300 / simScale(),
			mode:      slidingWindow,
			serverRPM: float64(limit) * 1.2,
		})
		if res.maxInWindow > limit {
			t.Errorf("%d calls in one window, configured limit %d", res.maxInWindow, limit)
		}
		if res.rejected != 0 {
			t.Errorf("%d calls refused, want 0", res.rejected)
		}
	})
}

// TestRecoveryAfter429: one 429 with retryDelay d; within d + 1 s the model
// must be back at ≥ 95 % of its rate.
func TestRecoveryAfter429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limit := 4000 / simScale()
		const d = 5 * time.Second
		start := time.Now()
		at := start.Add(2 * time.Minute)
		fired := false
		res := simulate(t, simConfig{
			limits:  Limits{RPM: limit},
			window:  time.Minute,
			windows: 3,
			workers: 200 / simScale(),
			mode:    slidingWindow,
			inject: func(now time.Time) (RateLimit, bool) {
				if fired || now.Before(at) {
					return RateLimit{}, false
				}
				fired = true
				return RateLimit{Axes: []Axis{AxisRPM}, RetryDelay: d}, true
			},
		})
		if !fired {
			t.Fatal("no 429 injected")
		}
		// The 429 reaches the limiter one latency after `at`; measure
		// from d + 1 s after that for 10 s.
		from := at.Add(3*time.Second + d + time.Second)
		to := from.Add(10 * time.Second)
		n := 0
		for _, s := range res.sends {
			if !s.Before(from) && s.Before(to) {
				n++
			}
		}
		rate := float64(n) / 10
		want := 0.95 * 0.99 * float64(limit) / 60
		t.Logf("%.1f calls/s after recovery, want ≥ %.1f", rate, want)
		if rate < want {
			t.Errorf("%.1f calls/s after recovery, want ≥ %.1f", rate, want)
		}
	})
}

// TestPauseIsPerModel: a 429 on one model pauses it and leaves another
// model's pace exactly as it was.
func TestPauseIsPerModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		lim := New(Options{})
		lim.SetLimits("a", Limits{RPM: 600})
		lim.SetLimits("b", Limits{RPM: 600})
		start := time.Now()

		p, err := lim.Acquire(ctx, "a", 0)
		if err != nil {
			t.Fatal(err)
		}
		p.RateLimited(RateLimit{Axes: []Axis{AxisRPM}, RetryDelay: 30 * time.Second})

		aDone := make(chan time.Time, 1)
		go func() {
			p, err := lim.Acquire(ctx, "a", 0)
			if err == nil {
				p.Done(0, 0)
			}
			aDone <- time.Now()
		}()
		const n = 100
		for range n {
			p, err := lim.Acquire(ctx, "b", 0)
			if err != nil {
				t.Fatal(err)
			}
			p.Done(0, time.Millisecond)
		}
		// 600 RPM at 99 %: one call per 60/594 s, the first at once.
		pace := time.Minute / 594
		if got, want := time.Since(start), (n-1)*pace; got > want+time.Millisecond {
			t.Errorf("model b took %v for %d calls, want %v", got, n, want)
		}
		if got := (<-aDone).Sub(start); got < 30*time.Second {
			t.Errorf("model a resumed after %v, want ≥ 30s", got)
		}
		if st := lim.Stats("b"); st.RateLimited != (ByAxis{}) || !st.PausedUntil.IsZero() {
			t.Errorf("model b stats %+v, want no 429s and no pause", st)
		}
	})
}
