package caches

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// A cache is renewed once less than a third of its TTL is left, by the
// renewal loop while items keep using it, or by the Get that notices. With
// under a tenth left it is treated as gone and re-created, so that no request
// names a cache that may expire before the provider reads it.

// errExpiring marks a cache too close to its expiry to name in a request.
var errExpiring = errors.New("cache about to expire")

func isGone(err error) bool {
	var pe *runtime.Error
	return errors.Is(err, errExpiring) || errors.As(err, &pe) && pe.CacheGone
}

// renewTimeout bounds one renewal call.
const renewTimeout = 30 * time.Second

// use records that a request is about to name e, renewing it when due.
func (m *Manager) use(ctx context.Context, e *entry) error {
	now := m.opts.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.used = now
	if !e.deleted.IsZero() {
		return errExpiring
	}
	err := m.renewLocked(ctx, e, now)
	if err != nil && !isGone(err) && e.expires.Sub(now) > m.real(ttlOf(e.cache))/10 {
		// A failed renewal of a cache with time left does not fail the
		// request; the loop tries again.
		return nil
	}
	return err
}

// renewLocked extends e's TTL if less than a third of it is left. e.mu is held.
func (m *Manager) renewLocked(ctx context.Context, e *entry, now time.Time) error {
	ttl := ttlOf(e.cache)
	real := m.real(ttl)
	left := e.expires.Sub(now)
	if left > real/3 {
		return nil
	}
	if left <= real/10 {
		return errExpiring
	}
	var ext runtime.Money
	if m.bud != nil {
		// Another TTL of storage, reserved like the first.
		ext = runtime.Dollars(StorageCost(m.price(e.model), e.tokens, ttl)) + 1
		if !m.bud.Reserve(ctx, ext) {
			return fmt.Errorf("renewing cache %q: the budget cannot afford another %s of storage", e.cache.Name, ttl)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	if err := m.opts.Provider.UpdateCacheTTL(rctx, e.name, ttl); err != nil {
		if m.bud != nil {
			m.bud.Settle(ext, 0)
		}
		if isGone(err) {
			return err
		}
		return fmt.Errorf("renewing cache %q: %w", e.cache.Name, err)
	}
	e.expires = now.Add(real)
	e.held += ext
	if m.opts.Store != nil {
		_ = m.opts.Store.SaveCache(context.WithoutCancel(ctx), runtime.CacheRecord{
			Name: e.name, Cache: e.cache.Name, Model: e.model, Tokens: e.tokens, Created: e.created, Expires: e.expires})
	}
	m.emit(runtime.Event{Kind: runtime.EventCacheRenewed, Cache: e.cache.Name, Model: e.model, Message: e.name})
	return nil
}

// startRenewal starts the renewal loop on the first creation, or tells it
// about a new cache. The caller is a creation goroutine counted in m.wg, so
// the Add cannot race with Close's Wait.
func (m *Manager) startRenewal() {
	m.loopOnce.Do(func() {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.renewLoop()
		}()
	})
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *Manager) renewLoop() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		d := m.renewDue()
		t.Reset(d)
		select {
		case <-m.life.Done():
			return
		case <-m.wake:
		case <-t.C:
		}
	}
}

// idleWait is how long the loop sleeps with nothing scheduled.
const idleWait = time.Hour

// renewDue renews every cache that is due and still in use, and returns how
// long until the next one is due.
func (m *Manager) renewDue() time.Duration {
	m.mu.Lock()
	live := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		select {
		case <-e.ready:
			if e.name != "" {
				live = append(live, e)
			}
		default:
		}
	}
	m.mu.Unlock()

	wait := idleWait
	for _, e := range live {
		if d := m.renewEntry(e); d < wait {
			wait = d
		}
	}
	return wait
}

// renewEntry renews e if due and returns how long until it is due next;
// idleWait for a cache that items stopped using (it lapses, and a later Get
// re-creates it).
func (m *Manager) renewEntry(e *entry) time.Duration {
	real := m.real(ttlOf(e.cache))
	now := m.opts.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.deleted.IsZero() || now.Sub(e.used) >= real {
		return idleWait
	}
	due := e.expires.Add(-real / 3)
	if now.Before(due) {
		return due.Sub(now)
	}
	if err := m.renewLocked(m.life, e, now); err != nil {
		// Try again soon; Get re-creates the cache if it really goes.
		return max(real/12, time.Millisecond)
	}
	return e.expires.Add(-real / 3).Sub(now)
}
