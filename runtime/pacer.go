package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime/quota"
)

// ErrQuotaExhausted is returned (wrapped) by a Pacer when a model's daily
// quota is spent: items waiting on it climb the ladder or fail.
var ErrQuotaExhausted = errors.New("daily quota exhausted")

// Pacer paces calls to each model's quota (see runtime/quota). Methods are
// called concurrently.
type Pacer interface {
	// Acquire waits until model may take a call of estTokens input tokens.
	Acquire(ctx context.Context, model string, estTokens int) (Permit, error)
	// SuggestConcurrency is how many calls the model's quota can keep busy
	// (0: no opinion).
	SuggestConcurrency(model string) int
	Stats(model string) ModelStats
	// SetLimits sets (or, on reload, changes) a model's quota.
	SetLimits(model string, l quota.Limits)
}

// Permit is one admitted call. Exactly one of its methods is called.
type Permit interface {
	// Done: the call completed (well or not) and the server counted
	// promptTokens input tokens.
	Done(promptTokens int, latency time.Duration)
	// RateLimited: the call got a 429.
	RateLimited(e *Error)
	// Cancel: the call was never made.
	Cancel()
}

// CacheManager owns the shared-context caches of a run (see stdlib's cache
// manager). Methods are called concurrently.
type CacheManager interface {
	// Get returns the cached content to name in requests for (cache, model),
	// creating it on first use; inline reports that the content must be
	// sent in the request instead (too small to cache). id identifies the
	// content, for the response cache.
	Get(ctx context.Context, c *interp.Cache, model string) (name, id string, inline bool, err error)
	// Gone tells the manager a request found name expired or deleted; the
	// next Get re-creates it.
	Gone(ctx context.Context, c *interp.Cache, model, name string)
	// Close deletes every cache the run created.
	Close(ctx context.Context)
	// Costs is what the run's caches cost so far; the runner adds it to
	// its Summary once Close has returned.
	Costs() CacheCosts
	// SetEmitter routes the manager's events (cache_created, …) through
	// the runner, to the run's observers. New calls it once, before any
	// other method.
	SetEmitter(emit func(Event))
}

// CacheCosts is what a run's shared-context caches cost.
type CacheCosts struct {
	Creation float64 // the content once per cache at the input price
	Storage  float64 // tokens × hours lived × the storage price
	Caches   int     // caches created (including re-creations)
	Inline   int     // (cache, model) pairs sent inline because too small
	Tokens   int     // tokens stored, summed over the caches
}

// CachePeeker is a CacheManager that can tell the id Get would return, and
// whether the content is known to go inline, without creating anything.
// The runner uses it to find a stored reply before paying for a cache.
type CachePeeker interface {
	Peek(c *interp.Cache, model string) (id string, inline bool)
}
