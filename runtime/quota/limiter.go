package quota

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter paces calls to many models, each against its own Limits. All
// methods are safe for concurrent use; models never share a lock.
type Limiter struct {
	opts Options
	base time.Time // internal times are durations since base

	models atomic.Pointer[map[string]*model] // copy on write
	mu     sync.Mutex                        // serialises writers of models

	waiters sync.Pool // *waiter, each with a timer on opts.Clock
}

// New returns a Limiter with no limits set: every model is unlimited until
// SetLimits says otherwise.
func New(opts Options) *Limiter {
	opts = opts.withDefaults()
	l := &Limiter{opts: opts, base: opts.Clock.Now()}
	empty := map[string]*model{}
	l.models.Store(&empty)
	l.waiters.New = func() any { return &waiter{wake: make(chan struct{}, 1)} }
	return l
}

func (l *Limiter) now() time.Duration { return l.opts.Clock.Now().Sub(l.base) }

func (l *Limiter) abs(d time.Duration) time.Time { return l.base.Add(d) }

// model returns the state for name, creating it (unlimited) on first use.
func (l *Limiter) model(name string) *model {
	if m, ok := (*l.models.Load())[name]; ok {
		return m
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := *l.models.Load()
	if m, ok := old[name]; ok {
		return m
	}
	m := newModel(l, name)
	next := make(map[string]*model, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = m
	l.models.Store(&next)
	return m
}

// SetLimits sets a model's quotas. It may be called while calls are
// waiting or in flight (a hot reload): waiters are re-evaluated at once,
// and what the server has taught the limiter about the old limits is
// forgotten for any axis whose limit changed.
func (l *Limiter) SetLimits(model string, lim Limits) {
	m := l.model(model)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := l.now()
	m.refresh(now)
	m.setLimits(now, lim)
	m.wakeHead()
}

// Acquire blocks until model may take one call of about estTokens input
// tokens: a concurrency slot is free, the request and token buckets allow
// it and the model is not paused. Waiters are served first come, first
// served.
//
// It returns at once with an error wrapping ErrTooLarge when estTokens
// exceeds the model's whole token limit, and with a *DayExhaustedError
// (matching ErrDayExhausted) while the model's daily quota is spent, so the
// caller can escalate or fail the item; a daily quota that runs out while
// waiting also ends the wait with it. Otherwise it returns only with a
// Permit or ctx's error.
//
// The caller must end every Permit with exactly one of Done, RateLimited
// or Cancel.
func (l *Limiter) Acquire(ctx context.Context, model string, estTokens int) (Permit, error) {
	m := l.model(model)
	if m.fast.Load() {
		// No limit applies: skip the lock. The counters are kept so a
		// later SetLimits finds the calls in flight.
		m.inflight.Add(1)
		m.acquired.Add(1)
		return Permit{m: m, fast: true}, nil
	}
	return m.acquire(ctx, estTokens)
}

// SuggestConcurrency returns the concurrency cap the model's quota and
// observed latency call for (Little's law with headroom), or the fixed
// cap set in its Limits; 0 when nothing limits the model.
func (l *Limiter) SuggestConcurrency(model string) int {
	m := l.model(model)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.concurrencyCap()
}
