package quota

import (
	"sort"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// FakeClock is a clock.Clock that moves only when told to, for tests that
// step time by hand (most use testing/synctest instead). Timers fire, in order
// of their deadlines, during Advance or Set. It is safe for concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer // pending, unordered
}

// NewFakeClock returns a clock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the clock's current reading.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d, firing every timer that falls due.
func (c *FakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards), firing every timer that falls
// due on the way in deadline order.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		return
	}
	sort.Slice(c.timers, func(i, j int) bool { return c.timers[i].when.Before(c.timers[j].when) })
	n := 0
	for _, ft := range c.timers {
		if ft.when.After(t) {
			c.timers[n] = ft
			n++
			continue
		}
		if ft.when.After(c.now) {
			c.now = ft.when
		}
		ft.fire(c.now)
	}
	clear(c.timers[n:])
	c.timers = c.timers[:n]
	c.now = t
}

// Timers returns how many timers are pending: a test advances the clock
// once the goroutines it expects to wait are waiting.
func (c *FakeClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// NewTimer returns a timer that fires once the clock reaches now+d.
func (c *FakeClock) NewTimer(d time.Duration) clock.Timer {
	ft := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	ft.Reset(d)
	return ft
}

type fakeTimer struct {
	c    *FakeClock
	ch   chan time.Time
	when time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) fire(now time.Time) {
	select {
	case t.ch <- now:
	default:
	}
}

// Reset re-arms the timer; a value from the previous arming is discarded.
func (t *fakeTimer) Reset(d time.Duration) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(t)
	t.drain()
	t.when = c.now.Add(d)
	if d <= 0 {
		t.fire(c.now)
		return
	}
	c.timers = append(c.timers, t)
}

// Stop disarms the timer and discards a value not yet received.
func (t *fakeTimer) Stop() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(t)
	t.drain()
}

func (t *fakeTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}

func (c *FakeClock) remove(t *fakeTimer) {
	for i, ft := range c.timers {
		if ft == t {
			last := len(c.timers) - 1
			c.timers[i] = c.timers[last]
			c.timers[last] = nil
			c.timers = c.timers[:last]
			return
		}
	}
}
