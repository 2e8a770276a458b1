// Package caches manages a run's shared-context caches (Gemini cached
// contents): created per model on first use, renewed ahead of expiry while
// the run uses them, deleted when the run ends, and swept on the next start
// if a crash left any behind.
//
// Cached content belongs to one model, so a ladder that climbs creates the
// next model's cache only when an item first needs it; concurrent items wait
// for that one creation. Content below the model's minimum size is sent
// inline instead, with one warning.
package caches

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// Options configures a Manager.
type Options struct {
	Provider runtime.CacheProvider
	Store    runtime.Store // nil: leftovers of a crash are not tracked
	Pipeline string        // used in display names
	// Price returns a model's prices, for creation and storage costs.
	Price func(modelID string) interp.Price
	Now   func() time.Time
	// OnEvent receives cache_created, cache_renewed, cache_deleted and
	// cache_fallback events.
	OnEvent func(runtime.Event)
}

// Manager implements runtime.CacheManager. It is safe for concurrent use.
type Manager struct {
	opts Options

	mu      sync.Mutex
	entries map[key]*entry
	retired []*entry // re-created after vanishing; still billed for their lifetime
}

// key includes the content, so an edited cache block (hot reload) gets a
// cache of its own instead of the stale one.
type key struct{ cache, model, content string }

type entry struct {
	ready chan struct{} // closed once creation finished
	cache *interp.Cache
	model string
	id    string

	// set before ready closes
	name    string
	inline  bool
	err     error
	tokens  int
	created time.Time

	mu      sync.Mutex // guards expires and renewal
	expires time.Time
	deleted time.Time
}

// New returns a Manager.
func New(opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(runtime.Event) {}
	}
	return &Manager{opts: opts, entries: map[key]*entry{}}
}

// ContentID identifies a cache's content for one model.
func ContentID(c *interp.Cache, model string) string {
	sum := sha256.Sum256([]byte(model + "\x00" + c.System))
	return hex.EncodeToString(sum[:8])
}

// Get implements runtime.CacheManager.
func (m *Manager) Get(ctx context.Context, c *interp.Cache, model string) (name, id string, inline bool, err error) {
	cid := ContentID(c, model)
	k := key{c.Name, model, cid}
	m.mu.Lock()
	e := m.entries[k]
	if e == nil {
		e = &entry{ready: make(chan struct{}), cache: c, model: model, id: cid}
		m.entries[k] = e
		m.mu.Unlock()
		m.create(ctx, e)
	} else {
		m.mu.Unlock()
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return "", "", false, context.Cause(ctx)
	}
	if e.err != nil {
		// Let a later item try again rather than failing every item.
		m.forget(k, e)
		return "", "", false, e.err
	}
	if e.inline {
		return "", e.id, true, nil
	}
	if err := m.renewIfDue(ctx, e); err != nil {
		return "", "", false, err
	}
	return e.name, e.id, false, nil
}

func (m *Manager) create(ctx context.Context, e *entry) {
	defer close(e.ready)
	ttl := ttlOf(e.cache)
	display := fmt.Sprintf("llmpipe-%s-%s", m.opts.Pipeline, e.cache.Name)
	name, tokens, err := m.opts.Provider.CreateCache(ctx, e.model, display, e.cache.System, ttl)
	if err != nil {
		var pe *runtime.Error
		if errors.As(err, &pe) && pe.TooSmall {
			e.inline = true
			m.opts.OnEvent(runtime.Event{Kind: runtime.EventCacheFallback, Cache: e.cache.Name, Model: e.model,
				Message: "content is below the model's minimum cache size; sending it inline: " + pe.Message})
			return
		}
		e.err = fmt.Errorf("creating cache %q for %s: %w", e.cache.Name, e.model, err)
		return
	}
	now := m.opts.Now()
	e.name, e.tokens, e.created = name, tokens, now
	e.expires = now.Add(ttl)
	if m.opts.Store != nil {
		// Recorded so that a crash's leftover is deleted on the next start.
		_ = m.opts.Store.SaveCache(context.WithoutCancel(ctx), runtime.CacheRecord{
			Name: name, Cache: e.cache.Name, Model: e.model, Tokens: tokens, Created: now, Expires: e.expires})
	}
	m.opts.OnEvent(runtime.Event{Kind: runtime.EventCacheCreated, Cache: e.cache.Name, Model: e.model, Message: name,
		Cost: m.creationCost(e)})
}

func ttlOf(c *interp.Cache) time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return time.Hour
}

// renewIfDue extends the TTL once less than a third of it is left, so a
// request never names a cache about to expire. One caller renews; the
// others wait on the entry's lock for the few milliseconds that takes.
func (m *Manager) renewIfDue(ctx context.Context, e *entry) error {
	ttl := ttlOf(e.cache)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.expires.Sub(m.opts.Now()) > ttl/3 {
		return nil
	}
	if err := m.opts.Provider.UpdateCacheTTL(ctx, e.name, ttl); err != nil {
		var pe *runtime.Error
		if errors.As(err, &pe) && pe.CacheGone {
			return err // the caller's request would fail the same way; Gone follows
		}
		return fmt.Errorf("renewing cache %q: %w", e.cache.Name, err)
	}
	e.expires = m.opts.Now().Add(ttl)
	m.opts.OnEvent(runtime.Event{Kind: runtime.EventCacheRenewed, Cache: e.cache.Name, Model: e.model, Message: e.name})
	return nil
}

// Gone implements runtime.CacheManager: the next Get re-creates the cache.
func (m *Manager) Gone(_ context.Context, c *interp.Cache, model, name string) {
	k := key{c.Name, model, ContentID(c, model)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[k]; e != nil && e.name == name {
		delete(m.entries, k)
		e.mu.Lock()
		e.deleted = m.opts.Now()
		e.mu.Unlock()
		m.retired = append(m.retired, e)
	}
}

func (m *Manager) forget(k key, e *entry) {
	m.mu.Lock()
	if m.entries[k] == e {
		delete(m.entries, k)
	}
	m.mu.Unlock()
}

// Close implements runtime.CacheManager: it deletes every cache this run
// created, whether the run finished, failed or was cancelled.
func (m *Manager) Close(ctx context.Context) {
	m.mu.Lock()
	var live []*entry
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
	for _, e := range live {
		err := m.opts.Provider.DeleteCache(ctx, e.name)
		e.mu.Lock()
		e.deleted = m.opts.Now()
		e.mu.Unlock()
		if err == nil && m.opts.Store != nil {
			_ = m.opts.Store.ForgetCache(ctx, e.name)
		}
		msg := e.name
		if err != nil {
			msg = fmt.Sprintf("%s: %v", e.name, err)
		}
		m.opts.OnEvent(runtime.Event{Kind: runtime.EventCacheDeleted, Cache: e.cache.Name, Model: e.model, Message: msg})
	}
}

// Sweep deletes caches that an earlier, crashed run recorded but never
// deleted. Call it before a run starts.
func Sweep(ctx context.Context, p runtime.CacheProvider, s runtime.Store) (int, error) {
	recs, err := s.Caches(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing leftover caches: %w", err)
	}
	n := 0
	for _, r := range recs {
		if err := p.DeleteCache(ctx, r.Name); err != nil {
			return n, fmt.Errorf("deleting leftover cache %s: %w", r.Name, err)
		}
		if err := s.ForgetCache(ctx, r.Name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Costs is what the run's caches cost.
type Costs struct {
	Creation float64 // the content once per cache at the input price
	Storage  float64 // tokens × hours lived × the storage price
	Caches   int     // caches created (including re-creations)
	Inline   int     // caches sent inline because they were too small
}

// Costs returns the caches' costs so far (storage up to now for live caches).
func (m *Manager) Costs() Costs {
	m.mu.Lock()
	all := append([]*entry(nil), m.retired...)
	for _, e := range m.entries {
		all = append(all, e)
	}
	m.mu.Unlock()
	var c Costs
	now := m.opts.Now()
	for _, e := range all {
		select {
		case <-e.ready:
		default:
			continue
		}
		if e.inline {
			c.Inline++
			continue
		}
		if e.name == "" {
			continue
		}
		c.Caches++
		c.Creation += m.creationCost(e)
		e.mu.Lock()
		end := e.deleted
		e.mu.Unlock()
		if end.IsZero() {
			end = now
		}
		c.Storage += StorageCost(m.price(e.model), e.tokens, end.Sub(e.created))
	}
	return c
}

func (m *Manager) price(model string) interp.Price {
	if m.opts.Price == nil {
		return interp.Price{}
	}
	return m.opts.Price(model)
}

func (m *Manager) creationCost(e *entry) float64 {
	return float64(e.tokens) * m.price(e.model).InputPerM / 1e6
}

// StorageCost prices tokens stored for d.
func StorageCost(p interp.Price, tokens int, d time.Duration) float64 {
	return float64(tokens) * p.StoragePerMHour / 1e6 * d.Hours()
}
