package quota

import "time"

// Permit is one admitted call. It is a small value: copying it is fine,
// but exactly one of Done, RateLimited or Cancel must be called on it,
// once. The zero Permit ignores all three.
type Permit struct {
	m      *model
	sent   time.Duration
	charge float64 // tokens charged at Acquire
	est    int
	fast   bool // admitted on the lock-free path
}

// release gives back the permit's in-flight slot. It returns the model
// locked, for the caller to update and unlock, or nil when there is nothing
// more to do (a zero Permit, or a model still on the lock-free path).
func (p Permit) release() *model {
	m := p.m
	if m == nil {
		return nil
	}
	m.inflight.Add(-1)
	if p.fast && m.fast.Load() {
		return nil
	}
	m.mu.Lock()
	return m
}

// Done ends a call that reached the server and was not rate limited,
// whether or not it succeeded. promptTokens is usageMetadata's
// promptTokenCount (≤ 0 when unknown: the estimate stands); latency is how
// long the call took (≤ 0 when unknown).
func (p Permit) Done(promptTokens int, latency time.Duration) {
	m := p.release()
	if m == nil {
		return
	}
	defer m.mu.Unlock()
	m.completed++
	if !p.fast {
		m.observe(p, promptTokens, latency)
	}
	if m.aimd > 0 {
		// Additive increase: one more slot per cap's worth of completions.
		if m.aimdAcks++; m.aimdAcks >= m.aimd {
			m.aimd++
			m.aimdAcks = 0
		}
		ceiling := m.lim.Concurrency
		if ceiling == 0 {
			ceiling = m.autoCap()
		}
		if ceiling == 0 {
			ceiling = maxAuto
		}
		if m.aimd >= ceiling {
			m.aimd = 0
			m.updateFast()
		}
	}
	m.wakeHead()
}

// observe folds one completed call into the model's estimates and charges
// the token bucket the difference between what was counted and charged.
func (m *model) observe(p Permit, promptTokens int, latency time.Duration) {
	if latency > 0 {
		if m.latency == 0 {
			m.latency = float64(latency)
		} else {
			m.latency += ewmaLatency * (float64(latency) - m.latency)
		}
	}
	if promptTokens <= 0 {
		return
	}
	m.hist.addTokens(p.sent, promptTokens)
	m.tok.adjust(float64(promptTokens) - p.charge)
	if p.est > 0 {
		r := float64(promptTokens) / float64(p.est)
		m.ratio = min(max(m.ratio+ewmaTokens*(r-m.ratio), minRatio), maxRatio)
	}
	if m.charge == 0 {
		m.charge = float64(promptTokens)
	} else {
		m.charge += ewmaTokens * (float64(promptTokens) - m.charge)
	}
}

// Cancel ends a permit whose call was never sent: its slot, its tokens and
// its place in the day's count are given back. The request bucket is not
// refunded: sending in that slot now could land closer to the previous
// call than the pace allows.
func (p Permit) Cancel() {
	m := p.release()
	if m == nil {
		return
	}
	defer m.mu.Unlock()
	if !p.fast {
		m.tok.adjust(-p.charge)
		m.dayUsed = max(0, m.dayUsed-1)
	}
	m.wakeHead()
}

// RateLimited ends a call the server answered with a 429 and applies what
// the 429 says to the model (and only to it):
//
//   - a per-day violation stops the model until the day resets, whatever
//     RetryDelay says;
//   - per-minute violations pause it for RetryDelay (Options.RetryDelay if
//     none) and lower the learned limit of the axis named, at most once per
//     round trip;
//   - a bare 429 halves the concurrency cap, again once per round trip, and
//     pauses only if it carries a RetryDelay.
//
// The call's tokens stay charged: the server may have counted them.
func (p Permit) RateLimited(info RateLimit) {
	m := p.m
	if m == nil {
		return
	}
	m.inflight.Add(-1)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.l.now()
	m.refresh(now)
	// A permit sent before the last cut saw the old rate or cap; its 429
	// is news already acted on.
	if info.Bare() {
		m.bare++
		// A few bare 429s are the server's noise (Gemini sends them when
		// it is busy, whatever the caller does); shrinking concurrency
		// for each would starve the model. A steady share of them is a
		// real capacity limit.
		m.hist.addLimited(now, true)
		if p.sent >= m.bareCut && m.hist.limitedShare(now, true) > bareShare {
			n := m.concurrencyCap()
			if n == 0 {
				n = int(m.inflight.Load()) + 1
			}
			m.aimd, m.aimdAcks = max(1, n/2), 0
			m.bareCut = now
		}
		if info.RetryDelay > 0 {
			m.pause(now, now+info.RetryDelay)
		}
		m.updateFast()
		m.wakeHead()
		return
	}
	// A server a hair stricter than the pace (a token bucket with a small
	// burst, arrivals bunched by the network or a busy machine) refuses
	// the odd call though the rate is right: learning from those would
	// ratchet the rate down for good. A limit really lower than the
	// configured one refuses a steady share of calls; only then cut.
	minuteAxis := false
	for _, a := range info.Axes {
		minuteAxis = minuteAxis || a != AxisRPD
	}
	learn := false
	if minuteAxis {
		m.hist.addLimited(now, false)
		learn = m.hist.limitedShare(now, false) > jitterShare
	}
	perMinute := false
	for _, a := range info.Axes {
		switch a {
		case AxisRPD:
			m.limited[2]++
			m.dayStopped = true
		case AxisRPM:
			m.limited[0]++
			perMinute = true
			if learn && p.sent >= m.reqCut {
				m.cut(&m.req, now)
				m.reqCut = now
			}
		case AxisTPM:
			m.limited[1]++
			perMinute = true
			if learn && p.sent >= m.tokCut {
				m.cut(&m.tok, now)
				m.tokCut = now
			}
		default:
			m.limited[3]++
			perMinute = true
		}
	}
	if perMinute && !m.dayStopped {
		d := info.RetryDelay
		if d <= 0 {
			d = m.l.opts.RetryDelay
		}
		m.pause(now, now+d)
	}
	m.updateFast()
	m.wakeHead()
}

// cut lowers an axis's learned limit after the server refused it. The
// configured limit was not reached (the pacing sees to that), so the
// server's real limit is lower: step down and let regrowth probe back up.
func (m *model) cut(b *bucket, now time.Duration) {
	if b.unlimited() {
		return
	}
	b.advance(now)
	b.factor = max(learnFloor, b.factor*learnCut)
	b.retune(m.l.opts.Headroom, m.l.opts.Window)
}
