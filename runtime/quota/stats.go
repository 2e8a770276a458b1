package quota

import "time"

// ModelStats is a snapshot of what the limiter knows about one model.
// Windowed figures cover the last Options.Window and count only calls made
// while the model had limits (the lock-free path keeps just the counters).
type ModelStats struct {
	Limits    Limits
	Acquired  int64 // permits granted
	Completed int64 // permits ended with Done on the locked path
	InFlight  int
	Waiting   int // Acquire calls blocked

	RateLimited ByAxis // 429s by the axes they named
	Bare        int64  // 429s without details

	Concurrency int // current cap on calls in flight, 0 for none
	// LearnedRPM and LearnedTPM are the limits the limiter currently
	// believes, per window (the configured ones until a 429 says less);
	// 0 for an unlimited axis. Pacing runs at Headroom times these.
	LearnedRPM float64
	LearnedTPM float64

	PausedUntil  time.Time // zero when not paused
	DayUsed      int
	DayResets    time.Time
	DayExhausted bool

	SentPerWindow   int64   // calls admitted over the last window
	TokensPerWindow int64   // prompt tokens counted over the last window
	TokenRatio      float64 // counted / estimated prompt tokens
	Latency         time.Duration
}

// ByAxis counts per quota axis. One 429 naming two axes counts in both.
type ByAxis struct{ RPM, TPM, RPD, Other int64 }

// Total is the sum over the axes.
func (b ByAxis) Total() int64 { return b.RPM + b.TPM + b.RPD + b.Other }

// Stats returns a snapshot for model.
func (l *Limiter) Stats(model string) ModelStats {
	m := l.model(model)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := l.now()
	m.refresh(now)
	s := ModelStats{
		Limits:      m.lim,
		Acquired:    m.acquired.Load(),
		Completed:   m.completed,
		InFlight:    int(m.inflight.Load()),
		Waiting:     m.waiting,
		RateLimited: ByAxis{m.limited[0], m.limited[1], m.limited[2], m.limited[3]},
		Bare:        m.bare,
		Concurrency: m.concurrencyCap(),
		LearnedRPM:  m.req.limit * m.req.factor,
		LearnedTPM:  m.tok.limit * m.tok.factor,
		DayUsed:     m.dayUsed,
		DayResets:   l.abs(m.dayEnd),
		TokenRatio:  m.ratio,
		Latency:     time.Duration(m.latency),
	}
	s.DayExhausted = m.refuse(0) != nil
	if m.pauseUntil != 0 {
		s.PausedUntil = l.abs(m.pauseUntil)
	}
	s.SentPerWindow, s.TokensPerWindow = m.hist.sums(now)
	return s
}
