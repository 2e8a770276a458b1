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
	// TimeScale is how much real time one nominal second takes on the
	// provider: a simulator with a compressed minute (Window/60s) expires a
	// 1 h TTL after Window×60 real seconds, so renewal must come sooner and
	// storage is billed for the nominal time. 0 means 1.
	TimeScale float64
}

// Manager implements runtime.CacheManager. It is safe for concurrent use.
// Close must be called once the run is over: it ends the renewal goroutine
// and waits for creations still in flight before deleting every cache.
type Manager struct {
	opts Options
	// emit receives cache_created, cache_renewed, cache_deleted and
	// cache_fallback events, possibly from the renewal goroutine: the
	// runner's emitter (SetEmitter), else nothing.
	emit func(runtime.Event)
	// bud is the run's budget (SetBudget); nil: caches are not reserved.
	bud runtime.CacheBudget

	mu      sync.Mutex
	entries map[key]*entry
	retired []*entry // vanished and re-created; still billed for their lifetime
	closed  bool

	wg       sync.WaitGroup // creations in flight and the renewal loop
	loopOnce sync.Once
	wake     chan struct{}   // a cache may be due sooner than the loop thinks
	life     context.Context // cancelled by Close: ends the loop and its calls
	stop     context.CancelFunc
}

// key includes the content, so an edited cache block (hot reload) gets a
// cache of its own instead of the stale one.
type key struct{ cache, model, content string }

// errClosed answers a Get after Close: a cache created then would never be
// deleted.
var errClosed = errors.New("cache manager closed")

// New returns a Manager.
func New(opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	life, stop := context.WithCancel(context.Background())
	return &Manager{
		opts:    opts,
		emit:    func(runtime.Event) {},
		entries: map[key]*entry{},
		wake:    make(chan struct{}, 1),
		life:    life,
		stop:    stop,
	}
}

// SetBudget implements runtime.CacheBudgeted: each cache reserves its
// creation and its storage for a TTL before it is created (and each
// renewal another TTL of storage), and settles to what it cost once it is
// deleted. A cache the budget cannot afford is not created: its content
// goes inline, in calls that reserve for themselves. Call it before Get.
func (m *Manager) SetBudget(b runtime.CacheBudget) { m.bud = b }

// settle releases e's reservation at what e cost, once it is deleted.
func (m *Manager) settle(e *entry) {
	if m.bud == nil {
		return
	}
	e.mu.Lock()
	held := e.held
	e.held = 0
	e.mu.Unlock()
	if held == 0 {
		return
	}
	p := m.price(e.model)
	lived := time.Duration(float64(e.lived(m.opts.Now())) / m.opts.TimeScale)
	m.bud.Settle(held, runtime.Dollars(m.creationCost(e))+runtime.Dollars(StorageCost(p, e.tokens, lived)))
}

// SetEmitter implements runtime.CacheManager: the manager's events go to
// emit (the runner's, which stamps them and hands them to the run's
// observers). Call it before any other method.
func (m *Manager) SetEmitter(emit func(runtime.Event)) { m.emit = emit }

// ContentID identifies a cache's content for one model.
func ContentID(c *interp.Cache, model string) string {
	sum := sha256.Sum256([]byte(model + "\x00" + c.System))
	return hex.EncodeToString(sum[:8])
}

// maxRecreate bounds how often one Get re-creates a cache that keeps
// vanishing, so a provider that forgets caches at once cannot loop forever.
const maxRecreate = 3

// Get implements runtime.CacheManager.
func (m *Manager) Get(ctx context.Context, c *interp.Cache, model string) (name, id string, inline bool, err error) {
	k := key{c.Name, model, ContentID(c, model)}
	for try := 0; ; try++ {
		e, err := m.entry(k, c, model)
		if err != nil {
			return "", "", false, err
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
		err = m.use(ctx, e)
		if isGone(err) && try < maxRecreate {
			m.retire(ctx, k, e)
			continue
		}
		if err != nil {
			return "", "", false, err
		}
		return e.name, e.id, false, nil
	}
}

// entry returns the entry for k, starting its creation if there is none.
func (m *Manager) entry(k key, c *interp.Cache, model string) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	if e := m.entries[k]; e != nil {
		return e, nil
	}
	e := &entry{ready: make(chan struct{}), cache: c, model: model, id: k.content}
	m.entries[k] = e
	m.wg.Add(1)
	// The creation runs on its own so that an item cancelled while it waits
	// returns at once, yet the cache, if the provider made it, is known and
	// deleted by Close (which waits for this goroutine).
	go func() {
		defer m.wg.Done()
		m.create(e)
	}()
	return e, nil
}

// Gone implements runtime.CacheManager: the next Get re-creates the cache.
func (m *Manager) Gone(ctx context.Context, c *interp.Cache, model, name string) {
	k := key{c.Name, model, ContentID(c, model)}
	m.mu.Lock()
	e := m.entries[k]
	m.mu.Unlock()
	if e != nil && e.name == name {
		m.retire(ctx, k, e)
	}
}

// retire drops a vanished cache: it no longer costs storage, and nothing
// is left to delete, so its store record goes too.
func (m *Manager) retire(ctx context.Context, k key, e *entry) {
	m.mu.Lock()
	if m.entries[k] != e {
		m.mu.Unlock()
		return
	}
	delete(m.entries, k)
	m.retired = append(m.retired, e)
	m.mu.Unlock()
	e.markDeleted(m.opts.Now())
	m.settle(e)
	if m.opts.Store != nil {
		_ = m.opts.Store.ForgetCache(context.WithoutCancel(ctx), e.name)
	}
}

func (m *Manager) forget(k key, e *entry) {
	m.mu.Lock()
	if m.entries[k] == e {
		delete(m.entries, k)
	}
	m.mu.Unlock()
}

// deleteTimeout bounds each delete at the end of a run, so a provider that
// hangs cannot keep a finished run from exiting.
const deleteTimeout = 30 * time.Second

// Close implements runtime.CacheManager: it deletes every cache this run
// created, whether the run finished, failed or was cancelled. Pass a
// context that is not cancelled with the run (context.WithoutCancel).
func (m *Manager) Close(ctx context.Context) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.stop()
	m.mu.Unlock()
	// Creations in flight finish first: their caches must be deleted too.
	m.wg.Wait()

	m.mu.Lock()
	live := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		if e.name != "" {
			live = append(live, e)
		}
	}
	m.mu.Unlock()
	for _, e := range live {
		m.delete(ctx, e)
	}
}

func (m *Manager) delete(ctx context.Context, e *entry) {
	dctx, cancel := context.WithTimeout(ctx, deleteTimeout)
	defer cancel()
	err := m.opts.Provider.DeleteCache(dctx, e.name)
	e.markDeleted(m.opts.Now())
	m.settle(e)
	msg := e.name
	if err != nil {
		// The store record stays, so the next start tries again.
		msg = e.name + ": " + err.Error()
	} else if m.opts.Store != nil {
		_ = m.opts.Store.ForgetCache(ctx, e.name)
	}
	m.emit(runtime.Event{Kind: runtime.EventCacheDeleted, Cache: e.cache.Name, Model: e.model, Message: msg})
}

// Peek returns the id Get would return for (cache, model), and whether the
// content is known to go inline, without creating anything. The runtime
// keys its response cache with it, so a reply stored by an earlier run is
// found without paying for a cache creation first.
func (m *Manager) Peek(c *interp.Cache, model string) (id string, inline bool) {
	k := key{c.Name, model, ContentID(c, model)}
	m.mu.Lock()
	e := m.entries[k]
	m.mu.Unlock()
	if e != nil {
		select {
		case <-e.ready:
			return k.content, e.inline
		default:
		}
	}
	return k.content, false
}
