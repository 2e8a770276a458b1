package caches

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/interp/tokens"
	"github.com/llmpipe/llmpipe/runtime"
)

// createTimeout bounds one creation. It does not follow the item's context:
// a cache the provider made must be known so that Close deletes it.
const createTimeout = 2 * time.Minute

func (m *Manager) create(e *entry) {
	defer close(e.ready)
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	ttl := ttlOf(e.cache)
	display := fmt.Sprintf("llmpipe-%s-%s", m.opts.Pipeline, e.cache.Name)
	var held runtime.Money
	if m.bud != nil {
		// Reserve its creation and a TTL of storage, from the estimate
		// (never below what the provider counts).
		est := tokens.Estimate(e.cache.System)
		p := m.price(e.model)
		held = runtime.Dollars(float64(est)*p.InputPerM/1e6) + runtime.Dollars(StorageCost(p, est, ttl)) + 1
		if !m.bud.Reserve(ctx, held) {
			e.inline = true
			m.emit(runtime.Event{Kind: runtime.EventCacheFallback, Cache: e.cache.Name, Model: e.model,
				Message: "the budget cannot afford creating the cache (and keeping it a TTL); sending its content inline"})
			return
		}
	}
	start := m.opts.Now()
	name, ntokens, err := m.opts.Provider.CreateCache(ctx, e.model, display, e.cache.System, ttl)
	if err != nil && m.bud != nil {
		m.bud.Settle(held, 0)
	}
	if err != nil {
		var pe *runtime.Error
		if errors.As(err, &pe) && pe.TooSmall {
			e.inline = true
			m.emit(runtime.Event{Kind: runtime.EventCacheFallback, Cache: e.cache.Name, Model: e.model,
				Message: "content is below the model's minimum cache size; sending it inline: " + pe.Message})
			return
		}
		e.err = fmt.Errorf("creating cache %q for %s: %w", e.cache.Name, e.model, err)
		return
	}
	now := m.opts.Now()
	e.name, e.tokens, e.created, e.held = name, ntokens, now, held
	// Counted from before the call: the provider's clock started no later.
	e.expires = start.Add(m.real(ttl))
	e.used = now
	if m.opts.Store != nil {
		// Recorded so that a crash's leftover is deleted on the next start.
		_ = m.opts.Store.SaveCache(ctx, runtime.CacheRecord{
			Name: name, Cache: e.cache.Name, Model: e.model, Tokens: ntokens, Created: now, Expires: e.expires})
	}
	m.emit(runtime.Event{Kind: runtime.EventCacheCreated, Cache: e.cache.Name, Model: e.model, Message: name,
		Cost: runtime.Dollars(m.creationCost(e))})
	m.startRenewal()
}

func ttlOf(c *interp.Cache) time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return time.Hour
}

// real converts a nominal duration to the provider's real time.
func (m *Manager) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) * m.opts.TimeScale)
}
