package runtime

import (
	"context"
	"errors"
	"fmt"
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
	return quotaPermit{p}, nil
}

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

type quotaPermit struct{ p quota.Permit }

func (q quotaPermit) Done(promptTokens int, latency time.Duration) { q.p.Done(promptTokens, latency) }
func (q quotaPermit) Cancel()                                      { q.p.Cancel() }

func (q quotaPermit) RateLimited(e *Error) {
	rl := quota.RateLimit{RetryDelay: e.RetryDelay}
	for _, v := range e.Quota {
		rl.Axes = append(rl.Axes, quota.Axis(v.Axis))
	}
	q.p.RateLimited(rl)
}
