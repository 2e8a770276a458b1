package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/runtime/quota"
)

// QuotaPacer adapts a quota.Limiter to Pacer.
type QuotaPacer struct {
	Limiter *quota.Limiter
	// Window is the limiter's "minute", used to turn its per-window counts
	// into per-minute rates for display.
	Window time.Duration
}

// Acquire implements Pacer.
func (q QuotaPacer) Acquire(ctx context.Context, model string, estTokens int) (Permit, error) {
	p, err := q.Limiter.Acquire(ctx, model, estTokens)
	if err != nil {
		if errors.Is(err, quota.ErrDayExhausted) {
			return nil, fmt.Errorf("%w: %v", ErrQuotaExhausted, err)
		}
		return nil, err
	}
	qp := permitPool.Get().(*quotaPermit)
	qp.p = p
	return qp, nil
}

// permitPool recycles the permits Acquire hands out: boxing a fresh one
// into the Permit interface cost an allocation per call. The runtime ends
// each permit exactly once (callSlot.release, or Cancel when the slot is
// given up), and the permit goes back to the pool then.
var permitPool = sync.Pool{New: func() any { return new(quotaPermit) }}

// SuggestConcurrency implements Pacer.
func (q QuotaPacer) SuggestConcurrency(model string) int { return q.Limiter.SuggestConcurrency(model) }

// SetLimits implements Pacer.
func (q QuotaPacer) SetLimits(model string, l quota.Limits) { q.Limiter.SetLimits(model, l) }

// Stats implements Pacer.
func (q QuotaPacer) Stats(model string) ModelStats {
	s := q.Limiter.Stats(model)
	per := 1.0
	if q.Window > 0 {
		per = float64(time.Minute) / float64(q.Window)
	}
	return ModelStats{
		Calls:       s.Acquired,
		RateLimited: s.RateLimited.RPM + s.RateLimited.TPM + s.RateLimited.RPD + s.RateLimited.Other + s.Bare,
		RPMLimit:    s.Limits.RPM,
		Rate:        float64(s.SentPerWindow) * per,
		Concurrency: s.Concurrency,
		InFlight:    s.InFlight,

		SentPerWindow:   s.SentPerWindow,
		TokensPerWindow: s.TokensPerWindow,
		TPMLimit:        s.Limits.TPM,
		DayUsed:         s.DayUsed,
		RPDLimit:        s.Limits.RPD,
		Window:          q.Window,
	}
}

// quotaPermit is a quota.Permit as a Permit. Its methods end it and give
// it back to permitPool: none may be called again.
type quotaPermit struct{ p quota.Permit }

// end takes the permit out of q and returns q to the pool.
func (q *quotaPermit) end() quota.Permit {
	p := q.p
	q.p = quota.Permit{}
	permitPool.Put(q)
	return p
}

func (q *quotaPermit) Done(promptTokens int, latency time.Duration) {
	q.end().Done(promptTokens, latency)
}

func (q *quotaPermit) Cancel() { q.end().Cancel() }

func (q *quotaPermit) RateLimited(e *Error) {
	rl := quota.RateLimit{RetryDelay: e.RetryDelay}
	for _, v := range e.Quota {
		rl.Axes = append(rl.Axes, quota.Axis(v.Axis))
	}
	q.end().RateLimited(rl)
}
