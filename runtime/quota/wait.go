package quota

import (
	"context"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// waiter is one blocked Acquire. Waiters form a FIFO queue per model; only
// the head watches the clock, the rest sleep until they become head, so a
// long queue costs one timer.
type waiter struct {
	wake       chan struct{} // capacity 1: a pending "look again"
	timer      clock.Timer   // created on first use, kept across reuse
	prev, next *waiter
}

func (l *Limiter) getWaiter() *waiter {
	w := l.waiters.Get().(*waiter)
	select {
	case <-w.wake: // a stale wake-up from the waiter's last use
	default:
	}
	return w
}

func (l *Limiter) putWaiter(w *waiter) {
	w.prev, w.next = nil, nil
	l.waiters.Put(w)
}

func (m *model) enqueue(w *waiter) {
	w.prev, w.next = m.tail, nil
	if m.tail != nil {
		m.tail.next = w
	} else {
		m.head = w
	}
	m.tail = w
	m.waiting++
}

// dequeue removes w and, if it was the head, wakes the next waiter, which
// now has to watch the clock.
func (m *model) dequeue(w *waiter) {
	wasHead := m.head == w
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		m.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		m.tail = w.prev
	}
	w.prev, w.next = nil, nil
	m.waiting--
	if wasHead {
		m.wakeHead()
	}
}

// acquire is Acquire's path for a model with limits.
func (m *model) acquire(ctx context.Context, est int) (Permit, error) {
	if err := ctx.Err(); err != nil {
		return Permit{}, err
	}
	m.mu.Lock()
	now := m.l.now()
	m.refresh(now)
	if err := m.refuse(est); err != nil {
		m.mu.Unlock()
		return Permit{}, err
	}
	c := m.chargeFor(est)
	if m.head == nil {
		if wait, blocked := m.ready(now, c); !blocked && wait == 0 {
			// Found ready on arrival: the model was idle, so it gets
			// no credit for the idle time.
			p := m.admit(now, est, c, false)
			m.mu.Unlock()
			return p, nil
		}
	}
	w := m.l.getWaiter()
	m.enqueue(w)
	defer m.l.putWaiter(w)

	// timed: the last look found the call waiting on time (the buckets or
	// a pause) rather than on a concurrency slot.
	timed := true
	for {
		wait, blocked := time.Duration(0), true
		if m.head == w {
			wait, blocked = m.ready(now, c)
			if !blocked && wait == 0 {
				m.dequeue(w)
				p := m.admit(now, est, c, timed)
				m.mu.Unlock()
				return p, nil
			}
			timed = !blocked
		}
		m.mu.Unlock()

		var tick <-chan time.Time
		if !blocked {
			if w.timer == nil {
				w.timer = m.l.opts.Clock.NewTimer(wait)
			} else {
				w.timer.Reset(wait)
			}
			tick = w.timer.C()
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-tick:
		}
		if tick != nil {
			w.timer.Stop()
		}

		m.mu.Lock()
		if err := ctx.Err(); err != nil {
			m.dequeue(w)
			m.mu.Unlock()
			return Permit{}, err
		}
		now = m.l.now()
		m.refresh(now)
		if err := m.refuse(est); err != nil {
			m.dequeue(w)
			m.mu.Unlock()
			return Permit{}, err
		}
		c = m.chargeFor(est)
	}
}
