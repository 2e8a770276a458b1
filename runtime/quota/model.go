package quota

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Tuning. The learning constants trade how fast a hidden limit is found
// against how many 429s probing for it costs; see the package comment.
const (
	learnCut     = 0.97  // a per-minute 429 keeps this fraction of the learned limit
	learnFloor   = 0.05  // the learned fraction never drops below this
	learnGrowth  = 0.005 // fraction of the configured limit regained per quiet window
	jitterShare  = 0.01  // per-minute 429s up to this share of calls do not lower the learned limit
	bareShare    = 0.03  // bare 429s up to this share of calls do not shrink concurrency
	ewmaLatency  = 0.05  // weight of one call's latency in the mean
	ewmaTokens   = 0.1   // weight of one call's counted/estimated ratio
	minRatio     = 0.1   // bounds on the token correction ratio
	maxRatio     = 10
	minAuto      = 4    // bounds on automatic concurrency
	maxAuto      = 1000 // also where additive increase ends for an uncapped model
	safetyFactor = 4    // C ≥ N̄ + safetyFactor·√N̄
)

// model is one model's pacing state. Everything but the atomics is guarded
// by mu.
type model struct {
	l    *Limiter
	name string

	fast     atomic.Bool  // nothing limits the model: Acquire skips mu
	inflight atomic.Int64 // permits not yet ended
	acquired atomic.Int64

	mu  sync.Mutex
	lim Limits

	req, tok bucket
	ratio    float64 // EWMA of counted/estimated prompt tokens
	charge   float64 // EWMA of tokens charged per call
	latency  float64 // EWMA of call latency in ns; 0 until measured

	aimd       int           // concurrency cap after bare 429s; 0 when off
	aimdAcks   int           // completions since aimd last grew
	bareCut    time.Duration // when aimd was last cut
	reqCut     time.Duration // when req.factor was last cut
	tokCut     time.Duration // when tok.factor was last cut
	grown      time.Duration // when learned factors last grew
	pauseUntil time.Duration // 0: not paused

	dayEnd     time.Duration // when the current day resets; 0 before first use
	dayUsed    int
	dayStopped bool // a per-day 429 came: nothing until dayEnd

	head, tail *waiter
	waiting    int

	hist      history
	completed int64
	limited   [4]int64 // 429s by axis: rpm, tpm, rpd, other
	bare      int64
}

func newModel(l *Limiter, name string) *model {
	m := &model{l: l, name: name, ratio: 1}
	// Tokens start with the bucket's small capacity so the first calls
	// need not wait for their tokens to accrue; requests start at one so
	// the first calls are spaced, not a burst.
	m.tok.startFull = true
	m.hist.reset(l.opts.Window)
	m.fast.Store(true)
	return m
}

// setLimits applies lim; mu is held.
func (m *model) setLimits(now time.Duration, lim Limits) {
	lim.RPM, lim.TPM = max(lim.RPM, 0), max(lim.TPM, 0)
	lim.RPD, lim.Concurrency = max(lim.RPD, 0), max(lim.Concurrency, 0)
	m.lim = lim
	o := &m.l.opts
	m.req.configure(lim.RPM, o.Headroom, o.Window, now)
	m.tok.configure(lim.TPM, o.Headroom, o.Window, now)
	m.updateFast()
}

func (m *model) updateFast() {
	m.fast.Store(m.lim == Limits{} && m.aimd == 0 && m.pauseUntil == 0 && !m.dayStopped)
}

// refresh brings time-driven state up to now: the day's reset, the end of
// a pause and the slow regrowth of learned limits. mu is held.
func (m *model) refresh(now time.Duration) {
	if m.dayEnd == 0 || now >= m.dayEnd {
		if m.dayEnd != 0 {
			m.dayUsed, m.dayStopped = 0, false
		}
		m.dayEnd = nextReset(m.l.abs(now), m.l.opts.DayLength).Sub(m.l.base)
	}
	if m.pauseUntil != 0 && now >= m.pauseUntil {
		m.pauseUntil = 0
	}
	if dt := now - m.grown; dt > 0 {
		m.grown = now
		step := learnGrowth * float64(dt) / float64(m.l.opts.Window)
		m.regrow(&m.req, now, step)
		m.regrow(&m.tok, now, step)
	}
	m.updateFast()
}

func (m *model) regrow(b *bucket, now time.Duration, step float64) {
	if b.unlimited() || b.factor >= 1 {
		return
	}
	b.advance(now)
	b.factor = min(1, b.factor+step)
	b.retune(m.l.opts.Headroom, m.l.opts.Window)
}

// refuse returns why a call of est tokens cannot be admitted at all now.
func (m *model) refuse(est int) error {
	if m.dayStopped || (m.lim.RPD > 0 && m.dayUsed >= m.lim.RPD) {
		return &DayExhaustedError{Model: m.name, Until: m.l.abs(m.dayEnd)}
	}
	if m.lim.TPM > 0 && est > m.lim.TPM {
		return fmt.Errorf("%w: %s: %d tokens estimated, %d allowed per window", ErrTooLarge, m.name, est, m.lim.TPM)
	}
	return nil
}

// chargeFor is the tokens a call estimated at est is charged up front.
func (m *model) chargeFor(est int) float64 {
	if est <= 0 {
		return 0
	}
	c := float64(est) * m.ratio
	if m.lim.TPM > 0 {
		c = min(c, float64(m.lim.TPM))
	}
	return c
}

// ready reports how long until a call charged c may go (0: now), or that
// it is blocked on a concurrency slot, which only a completion frees.
func (m *model) ready(now time.Duration, c float64) (wait time.Duration, blocked bool) {
	if m.pauseUntil > now {
		return m.pauseUntil - now, false
	}
	if n := m.concurrencyCap(); n > 0 && m.inflight.Load() >= int64(n) {
		return 0, true
	}
	return max(m.req.wait(now, 1), m.tok.wait(now, c)), false
}

// admit spends the quota for one call; timed says the call waited its turn
// on the buckets, so credit they built up meanwhile is its to use.
func (m *model) admit(now time.Duration, est int, c float64, timed bool) Permit {
	m.req.take(1, timed)
	m.tok.take(c, timed)
	m.dayUsed++
	m.inflight.Add(1)
	m.acquired.Add(1)
	m.hist.addSent(now)
	return Permit{m: m, sent: now, charge: c, est: est}
}

// concurrencyCap is the current cap on calls in flight, 0 for none.
func (m *model) concurrencyCap() int {
	n := m.lim.Concurrency
	if n == 0 {
		n = m.autoCap()
	}
	if m.aimd > 0 && (n == 0 || m.aimd < n) {
		n = m.aimd
	}
	return n
}

// autoCap applies Little's law: the mean number in flight is the call rate
// the quota allows times the mean latency, and the cap adds room for its
// fluctuation so that concurrency does not become the binding limit.
func (m *model) autoCap() int {
	perNs := math.Inf(1)
	if !m.req.unlimited() {
		perNs = m.req.rate
	}
	if !m.tok.unlimited() && m.charge > 0 {
		// A TPM-bound model calls at the token rate over tokens per call.
		perNs = min(perNs, m.tok.rate/m.charge)
	}
	if math.IsInf(perNs, 1) {
		return 0
	}
	lat := m.latency
	if lat == 0 {
		lat = float64(m.l.opts.InitialLatency)
	}
	n := perNs * lat
	c := int(math.Ceil(n + safetyFactor*math.Sqrt(n)))
	return min(max(c, minAuto), maxAuto)
}

// pause holds the model until until; the buckets restart from empty then.
func (m *model) pause(now, until time.Duration) {
	m.pauseUntil = max(m.pauseUntil, until)
	m.req.pause(now, m.pauseUntil)
	m.tok.pause(now, m.pauseUntil)
	m.updateFast()
}

// wakeHead tells the first waiter to look again; mu is held.
func (m *model) wakeHead() {
	if m.head != nil {
		select {
		case m.head.wake <- struct{}{}:
		default:
		}
	}
}
