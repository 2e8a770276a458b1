package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// The circuit breaker. A call that cannot reach the endpoint at all (the
// connection is refused, the name does not resolve: Error.Unreachable) says
// nothing about its item, only that the endpoint is down. After
// breakerThreshold such calls in a row, with no call getting through in
// between, the breaker opens: no call goes out and no item starts, so an
// outage does not burn through every item's attempts in seconds. While it
// is open, one call at a time probes the endpoint, after a backoff that
// doubles from probeMin to probeMax; the first call that gets through
// (whatever its answer) closes the breaker and every waiting item goes on.
// When the endpoint has been unreachable for Settings.MaxOutage, the run
// stops with ErrOutage: calls in flight finish, items not finished stay
// pending, and the same command resumes them once the endpoint is back.
//
// Unreachable calls are not attempts, like 429s: they never fail an item.

// DefaultMaxOutage is how long the endpoint may stay unreachable before
// the run stops, when Settings.MaxOutage is 0.
const DefaultMaxOutage = 5 * time.Minute

const (
	breakerThreshold = 3
	probeMin         = time.Second
	probeMax         = 30 * time.Second
)

// ErrOutage is matched (errors.Is) by the error a run stops with when the
// endpoint stayed unreachable for longer than Settings.MaxOutage.
var ErrOutage = errors.New("endpoint unreachable")

// OutageError says the endpoint stayed unreachable too long.
type OutageError struct {
	For  time.Duration // how long it was unreachable
	Last error         // the last call's error
}

func (e *OutageError) Error() string {
	return fmt.Sprintf("the endpoint has been unreachable for %s (%v); stopping: items not finished are left pending, run the same command again once it is back (--max-outage sets how long to wait)",
		e.For.Round(time.Second), e.Last)
}

func (e *OutageError) Unwrap() error { return ErrOutage }

type breaker struct {
	clock     clock.Clock
	maxOutage time.Duration
	emit      func(Event)

	mu      sync.Mutex
	fails   int       // unreachable calls in a row
	since   time.Time // when the run of unreachable calls began
	last    error
	open    bool
	probing bool          // a probe call is out
	next    time.Time     // earliest next probe, while open
	backoff time.Duration // the wait before the next probe
	changed chan struct{} // closed (and replaced) when the breaker closes or a probe ends

	// clean mirrors "closed, with no unreachable call counted" (fails == 0
	// and !open), written under mu: every call passes enter and done, and
	// while the endpoint answers neither has anything to change, so they
	// read it instead of taking mu.
	clean atomic.Bool
}

func newBreaker(clk clock.Clock, maxOutage time.Duration, emit func(Event)) *breaker {
	if maxOutage <= 0 {
		maxOutage = DefaultMaxOutage
	}
	b := &breaker{clock: clk, maxOutage: maxOutage, emit: emit, changed: make(chan struct{})}
	b.clean.Store(true)
	return b
}

// setClean updates clean from the state. The caller holds mu.
func (b *breaker) setClean() { b.clean.Store(b.fails == 0 && !b.open) }

// enter waits until a call may go out. probe reports that this call is the
// breaker's probe, which must be followed by done (or cancelProbe if it is
// not made). It returns an *OutageError once the endpoint has been down for
// longer than the limit, and the cause when ctx ends or stop closes.
func (b *breaker) enter(ctx context.Context, stop <-chan struct{}) (probe bool, err error) {
	if b.clean.Load() {
		return false, nil // closed: what the locked check below says too
	}
	for {
		b.mu.Lock()
		if !b.open {
			b.mu.Unlock()
			return false, nil
		}
		now := b.clock.Now()
		down := now.Sub(b.since)
		if down >= b.maxOutage {
			err := &OutageError{For: down, Last: b.last}
			b.mu.Unlock()
			return false, err
		}
		if !b.probing && !now.Before(b.next) {
			b.probing = true
			b.mu.Unlock()
			return true, nil
		}
		wait := b.since.Add(b.maxOutage).Sub(now)
		if !b.probing {
			wait = min(wait, b.next.Sub(now))
		}
		ch := b.changed
		b.mu.Unlock()
		t := b.clock.NewTimer(wait)
		select {
		case <-ch:
		case <-t.C():
		case <-stop:
			t.Stop()
			return false, errAbandoned
		case <-ctx.Done():
			t.Stop()
			return false, context.Cause(ctx)
		}
		t.Stop()
	}
}

// done reports a call's outcome: unreachable (err is the call's error) or
// it got through to the endpoint, whatever it answered.
func (b *breaker) done(probe, unreachable bool, err error) {
	if !probe && !unreachable && b.clean.Load() {
		return // nothing to reset: fails is 0 and the breaker closed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.setClean()
	if probe {
		b.probing = false
	}
	if !unreachable {
		b.fails = 0
		if b.open {
			b.open = false
			b.wake()
			b.emit(Event{Kind: EventEndpointUp, Message: "the endpoint answers again after " + b.clock.Now().Sub(b.since).Round(time.Millisecond).String()})
		}
		return
	}
	if b.fails == 0 {
		b.since = b.clock.Now()
	}
	b.fails++
	b.last = err
	switch {
	case b.open && probe:
		b.backoff = min(2*b.backoff, probeMax)
		b.next = b.clock.Now().Add(b.backoff)
		b.wake()
	case !b.open && b.fails >= breakerThreshold:
		b.open = true
		b.backoff = probeMin
		b.next = b.clock.Now().Add(b.backoff)
		b.emit(Event{Kind: EventEndpointDown, Message: fmt.Sprintf("%d calls in a row could not reach the endpoint (%v): pausing, probing it", b.fails, err), Delay: b.maxOutage})
	}
}

// cancelProbe gives back a probe turn that was not used for a call.
func (b *breaker) cancelProbe() {
	b.mu.Lock()
	b.probing = false
	b.wake()
	b.mu.Unlock()
}

// wake tells waiters the state changed. The caller holds mu.
func (b *breaker) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}
