package caches

import (
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// entry is one cache block's cached content for one model.
type entry struct {
	ready chan struct{} // closed once creation finished
	cache *interp.Cache
	model string
	id    string

	// Set before ready closes, read-only after.
	name    string
	inline  bool
	err     error
	tokens  int
	created time.Time

	mu      sync.Mutex // guards the rest; held across a renewal call
	expires time.Time  // real time, as the provider counts it
	used    time.Time  // last Get
	deleted time.Time
	held    runtime.Money // reserved from the run's budget, until settled at deletion
}

func (e *entry) markDeleted(t time.Time) {
	e.mu.Lock()
	if e.deleted.IsZero() {
		e.deleted = t
	}
	e.mu.Unlock()
}

// lived is how long the cache has existed (until now if not deleted).
func (e *entry) lived(now time.Time) time.Duration {
	e.mu.Lock()
	end := e.deleted
	e.mu.Unlock()
	if end.IsZero() {
		end = now
	}
	return end.Sub(e.created)
}
