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
// an attempt is cut off after at least d and at most 1.01·d. A slot counts
// the attempts using it; once it is no longer among the newest few (a
// newer slot replaced it) and its last attempt is over, its context is
// cancelled, which releases its timer and its place in the parent, as the
// per-attempt cancel did. So the contexts alive are those of attempts in
// flight plus a few, whatever the parents (a parent per call shares
// nothing and costs what WithTimeout did).
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
	end    time.Time // attempts starting before end may share ctx
	ctx    context.Context
	cancel context.CancelFunc
	// refs counts the attempts using ctx; -1 once ctx is cancelled, after
	// which no attempt may join.
	refs atomic.Int64
	// replaced is set when a newer slot takes this one's place.
	replaced atomic.Bool
}

// join adds an attempt to the slot unless its context was released.
func (sl *deadlineSlot) join() bool {
	for {
		r := sl.refs.Load()
		if r < 0 {
			return false
		}
		if sl.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// leave ends an attempt, and releases the context if it was the last one
// of a replaced slot.
func (sl *deadlineSlot) leave() {
	if sl.refs.Add(-1) == 0 && sl.replaced.Load() {
		sl.release()
	}
}

// release cancels the context if no attempt uses it.
func (sl *deadlineSlot) release() {
	if sl.refs.CompareAndSwap(0, -1) {
		sl.cancel()
	}
}

// attempt is the context of one attempt; done must be called when the
// attempt is over.
type attempt struct {
	ctx    context.Context
	slot   *deadlineSlot      // a shared context, or
	cancel context.CancelFunc // the attempt's own
}

func (a attempt) done() {
	if a.slot != nil {
		a.slot.leave()
	} else {
		a.cancel()
	}
}

// minSharedTimeout is the shortest timeout whose attempts share contexts
// (its slot is then 1 ms); shorter ones, seen in tests, get their own.
const minSharedTimeout = 100 * time.Millisecond

// attempt returns the context for an attempt bounded by d (0: only by
// parent).
func (s *sharedDeadlines) attempt(parent context.Context, d time.Duration) attempt {
	// A parent is matched by identity, which only a pointer can be
	// trusted to have (== on other types may panic or conflate).
	if d < minSharedTimeout || reflect.TypeOf(parent).Kind() != reflect.Pointer {
		ctx, cancel := withAttemptTimeout(parent, d)
		return attempt{ctx: ctx, cancel: cancel}
	}
	now := time.Now()
	if sl := s.lookup(parent, d, now); sl != nil {
		return attempt{ctx: sl.ctx, slot: sl}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl := s.lookup(parent, d, now); sl != nil {
		return attempt{ctx: sl.ctx, slot: sl}
	}
	sl := &deadlineSlot{parent: parent, d: d, end: now.Add(d / 100)}
	sl.ctx, sl.cancel = context.WithDeadline(parent, sl.end.Add(d))
	sl.refs.Store(1)
	old := s.slots[s.next.Add(1)%uint32(len(s.slots))].Swap(sl)
	if old != nil {
		old.replaced.Store(true)
		old.release()
	}
	return attempt{ctx: sl.ctx, slot: sl}
}

// lookup joins a current slot for parent and d, if there is one.
func (s *sharedDeadlines) lookup(parent context.Context, d time.Duration, now time.Time) *deadlineSlot {
	for i := range s.slots {
		sl := s.slots[i].Load()
		if sl != nil && sl.d == d && sl.parent == parent && now.Before(sl.end) && sl.join() {
			return sl
		}
	}
	return nil
}
