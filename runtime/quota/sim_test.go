package quota

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// This file simulates a run against a server enforcing a limit in one of
// the three ways a server might: fixed window, sliding window or GCRA. It
// runs under testing/synctest, so the limiter's real clock reads the
// bubble's fake time and thousands of calls take milliseconds.

type enforcement int

const (
	fixedWindow enforcement = iota
	slidingWindow
	gcraBucket
)

func (e enforcement) String() string {
	return [...]string{"fixed", "sliding", "gcra"}[e]
}

// quotaServer is an in-test model of one quota axis at the server: at most
// limit units per window. check reports whether n units may pass at t and,
// if not, the retryDelay the server would send; commit records them.
type quotaServer struct {
	mode   enforcement
	window time.Duration
	limit  float64

	// fixed window
	win  int64
	used float64
	// sliding window: log of admitted units
	log []logEntry
	// GCRA with burst 1: the theoretical arrival time of the next unit
	tat time.Time
}

type logEntry struct {
	t time.Time
	n float64
}

func newQuotaServer(mode enforcement, window time.Duration, limit float64) *quotaServer {
	return &quotaServer{mode: mode, window: window, limit: limit}
}

func (s *quotaServer) check(t time.Time, n float64) (bool, time.Duration) {
	if s.limit == 0 {
		return true, 0
	}
	switch s.mode {
	case fixedWindow:
		w := t.UnixNano() / int64(s.window)
		if w != s.win {
			s.win, s.used = w, 0
		}
		if s.used+n > s.limit {
			return false, time.Unix(0, (w+1)*int64(s.window)).Sub(t)
		}
	case slidingWindow:
		i := 0
		for i < len(s.log) && !s.log[i].t.After(t.Add(-s.window)) {
			i++
		}
		s.log = s.log[i:]
		used := 0.0
		for _, e := range s.log {
			used += e.n
		}
		if used+n > s.limit {
			return false, s.log[0].t.Add(s.window).Sub(t)
		}
	case gcraBucket:
		if t.Before(s.tat) {
			return false, s.tat.Sub(t)
		}
	}
	return true, 0
}

func (s *quotaServer) commit(t time.Time, n float64) {
	switch s.mode {
	case fixedWindow:
		s.used += n
	case slidingWindow:
		s.log = append(s.log, logEntry{t, n})
	case gcraBucket:
		if s.limit == 0 {
			return
		}
		per := time.Duration(float64(s.window) / s.limit * n)
		s.tat = maxTime(s.tat, t).Add(per)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// simConfig describes one simulated run.
type simConfig struct {
	limits  Limits
	window  time.Duration
	windows int // run length
	workers int // goroutines calling Acquire
	mode    enforcement
	// serverRPM and serverTPM are what the server enforces (0: as
	// configured in limits).
	serverRPM, serverTPM float64
	// tokens returns the counted and estimated prompt tokens of one call.
	tokens func(r *rand.Rand) (real, est int)
	// inject, if set, may force a 429 on a call the server would accept.
	inject func(t time.Time) (RateLimit, bool)
	// jitter, if set, delays each call's arrival at the server by up to
	// this much (network and scheduling noise).
	jitter time.Duration
}

// simResult is what the server saw.
type simResult struct {
	accepted    []int     // calls accepted per aligned window
	tokens      []float64 // tokens accepted per aligned window
	sends       []time.Time
	rejected    int
	total       int
	maxInWindow int // most calls sent in any window of length W
}

// lognormalLatency is the benchmark's latency: median 800 ms, σ 0.5.
func lognormalLatency(r *rand.Rand) time.Duration {
	return time.Duration(0.8 * math.Exp(0.5*r.NormFloat64()) * float64(time.Second))
}

// simulate runs cfg inside the current synctest bubble.
func simulate(t *testing.T, cfg simConfig) simResult {
	t.Helper()
	start := time.Now()
	lim := New(Options{Window: cfg.window})
	lim.SetLimits("m", cfg.limits)
	srpm, stpm := cfg.serverRPM, cfg.serverTPM
	if srpm == 0 {
		srpm = float64(cfg.limits.RPM)
	}
	if stpm == 0 {
		stpm = float64(cfg.limits.TPM)
	}
	reqSrv := newQuotaServer(cfg.mode, cfg.window, srpm)
	tokSrv := newQuotaServer(cfg.mode, cfg.window, stpm)
	if cfg.tokens == nil {
		cfg.tokens = func(*rand.Rand) (int, int) { return 500, 500 }
	}

	var mu sync.Mutex
	res := simResult{
		accepted: make([]int, cfg.windows),
		tokens:   make([]float64, cfg.windows),
	}
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(time.Duration(cfg.windows)*cfg.window))
	defer cancel()

	var wg sync.WaitGroup
	for i := range cfg.workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 42))
			for {
				real, est := cfg.tokens(r)
				p, err := lim.Acquire(ctx, "m", est)
				if err != nil {
					return
				}
				if cfg.jitter > 0 {
					time.Sleep(time.Duration(r.Int64N(int64(cfg.jitter))))
				}
				now := time.Now()
				mu.Lock()
				ok1, d1 := reqSrv.check(now, 1)
				ok2, d2 := tokSrv.check(now, float64(real))
				var rl RateLimit
				switch {
				case !ok1:
					rl = RateLimit{Axes: []Axis{AxisRPM}, RetryDelay: d1}
				case !ok2:
					rl = RateLimit{Axes: []Axis{AxisTPM}, RetryDelay: d2}
				default:
					reqSrv.commit(now, 1)
					tokSrv.commit(now, float64(real))
					if cfg.inject != nil {
						if forced, yes := cfg.inject(now); yes {
							rl, ok1 = forced, false
						}
					}
				}
				ok := ok1 && ok2
				res.total++
				res.sends = append(res.sends, now)
				if ok {
					w := int(now.Sub(start) / cfg.window)
					if w < cfg.windows {
						res.accepted[w]++
						res.tokens[w] += float64(real)
					}
				} else {
					res.rejected++
				}
				mu.Unlock()

				lat := lognormalLatency(r)
				time.Sleep(lat)
				if ok {
					p.Done(real, lat)
				} else {
					p.RateLimited(rl)
				}
			}
		})
	}
	wg.Wait()

	// The most calls in any window of length W, from the send log.
	j := 0
	for i, s := range res.sends {
		for !res.sends[j].After(s.Add(-cfg.window)) {
			j++
		}
		res.maxInWindow = max(res.maxInWindow, i-j+1)
	}
	return res
}

// ratio returns accepted calls (or tokens) over windows [from, to) divided
// by limit per window.
func ratio(perWindow []float64, from, to int, limit float64) float64 {
	sum := 0.0
	for _, v := range perWindow[from:to] {
		sum += v
	}
	return sum / (float64(to-from) * limit)
}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// simScale divides the simulated rates under the race detector and -short,
// which slow each simulated call tenfold; the ratios do not depend on it.
func simScale() int {
	if raceEnabled || testing.Short() {
		return 4
	}
	return 1
}

func per1000(n, total int) float64 { return 1000 * float64(n) / float64(max(total, 1)) }
