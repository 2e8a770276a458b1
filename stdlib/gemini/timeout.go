package gemini

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// withAttemptTimeout bounds one attempt; zero means only ctx bounds it,
// and ctx itself is returned (a context of its own would only cost). With
// a timeout the attempt's own context is separate from ctx so classify can
// tell our timeout (transient, retry) from the caller giving up (stop).
func withAttemptTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// sharedDeadlines gives attempts that start close together one deadline
// context between them, instead of a context.WithTimeout each: a timer,
// a context and an entry in the parent's child set per call were about a
// thirtieth of a call's client CPU at thousands of calls a second.
//
// Attempts with the same parent and timeout d that start within one slot
// (d/100 long) share a context whose deadline is the slot's end plus d. So
// an attempt is cut off after at least d and at most 1.01·d, and about a
// hundred such contexts are alive per parent and timeout, each released by
// its own timer at its deadline (or when the parent ends). Nothing is
// cancelled when an attempt returns: the transport's own per-request
// context, a child of the shared one, is what ends the request.
//
// The zero value is ready; it is safe for concurrent use.
type sharedDeadlines struct {
	slots [4]atomic.Pointer[deadlineSlot] // the newest, for a few timeouts
	next  atomic.Uint32                   // the slot to replace on a miss
	mu    sync.Mutex                      // serialises making a slot
}

type deadlineSlot struct {
	parent context.Context
	d      time.Duration
	end    time.Time // attempts starting before end share ctx
	ctx    context.Context
	// cancel is never called: ctx's own timer releases it at its deadline,
	// after every attempt sharing it has returned or timed out.
	cancel context.CancelFunc
}

// minSharedTimeout is the shortest timeout whose attempts share contexts
// (its slot is then 1 ms); shorter ones, seen in tests, get their own.
const minSharedTimeout = 100 * time.Millisecond

// attempt returns the context for an attempt bounded by d > 0, and the
// function to call when the attempt is over.
func (s *sharedDeadlines) attempt(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	// A parent is matched by identity, which only a pointer can be
	// trusted to have (== on other types may panic or conflate).
	if d < minSharedTimeout || reflect.TypeOf(parent).Kind() != reflect.Pointer {
		return withAttemptTimeout(parent, d)
	}
	now := time.Now()
	if ctx := s.lookup(parent, d, now); ctx != nil {
		return ctx, noCancel
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx := s.lookup(parent, d, now); ctx != nil {
		return ctx, noCancel
	}
	sl := &deadlineSlot{parent: parent, d: d, end: now.Add(d / 100)}
	sl.ctx, sl.cancel = context.WithDeadline(parent, sl.end.Add(d))
	s.slots[s.next.Add(1)%uint32(len(s.slots))].Store(sl)
	return sl.ctx, noCancel
}

func (s *sharedDeadlines) lookup(parent context.Context, d time.Duration, now time.Time) context.Context {
	for i := range s.slots {
		if sl := s.slots[i].Load(); sl != nil && sl.d == d && sl.parent == parent && now.Before(sl.end) {
			return sl.ctx
		}
	}
	return nil
}

func noCancel() {}
