package gemini

import (
	"context"
	"errors"
	goruntime "runtime"
	"sync"
	"testing"
	"time"
)

func TestSharedDeadlines(t *testing.T) {
	var s sharedDeadlines
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	const d = 10 * time.Second

	before := time.Now()
	a := s.attempt(parent, d)
	b := s.attempt(parent, d)
	after := time.Now()
	if a.ctx != b.ctx {
		t.Error("attempts started together with one timeout do not share a context")
	}
	dl, ok := a.ctx.Deadline()
	if !ok || dl.Before(before.Add(d)) || dl.After(after.Add(d+d/100)) {
		t.Errorf("deadline %v after start, want between %v and %v", dl.Sub(before), d, d+d/100)
	}
	if c := s.attempt(parent, 2*d); c.ctx == a.ctx {
		t.Error("another timeout shares the context")
	} else {
		c.done()
	}
	other, stopOther := context.WithCancel(context.Background())
	defer stopOther()
	if c := s.attempt(other, d); c.ctx == a.ctx {
		t.Error("another parent shares the context")
	} else {
		c.done()
	}
	// Once the slot is over (d/100 = 100 ms), a new attempt gets a new one.
	time.Sleep(d/100 + 10*time.Millisecond)
	if c := s.attempt(parent, d); c.ctx == a.ctx {
		t.Error("an attempt after the slot joins it")
	} else {
		c.done()
	}
	a.done()
	if a.ctx.Err() != nil {
		t.Fatal("the shared context ended while an attempt still used it")
	}

	// The caller giving up ends the shared context.
	stop()
	select {
	case <-b.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not end the shared context")
	}
	if !errors.Is(b.ctx.Err(), context.Canceled) {
		t.Errorf("err = %v, want Canceled", b.ctx.Err())
	}
	b.done()
}

// A replaced slot's context is released when its last attempt is over,
// so a parent per call (which never shares) keeps no timers alive.
func TestSharedDeadlinesRelease(t *testing.T) {
	var s sharedDeadlines
	root := context.Background()
	type key struct{}
	var old []attempt
	for i := range 20 {
		a := s.attempt(context.WithValue(root, key{}, i), time.Minute)
		if i == 0 {
			// Still in flight when replaced: must stay alive.
			old = append(old, a)
			continue
		}
		a.done()
		old = append(old, a)
	}
	if old[0].ctx.Err() != nil {
		t.Fatal("a replaced slot's context ended while its attempt was in flight")
	}
	old[0].done()
	alive := 0
	for _, a := range old {
		if a.ctx.Err() == nil {
			alive++
		} else if !errors.Is(a.ctx.Err(), context.Canceled) {
			t.Errorf("released context's err = %v", a.ctx.Err())
		}
	}
	if alive > len(s.slots) {
		t.Errorf("%d of %d contexts alive after every attempt ended; want at most %d (the current slots)", alive, len(old), len(s.slots))
	}
}

// valueCtx is a parent context that is not a pointer: it cannot be
// matched by identity, so it never shares.
type valueCtx struct {
	context.Context
	tags []string // makes == panic
}

func TestSharedDeadlinesOwnContext(t *testing.T) {
	var s sharedDeadlines
	p := valueCtx{Context: context.Background(), tags: []string{"x"}}
	a := s.attempt(p, time.Second)
	b := s.attempt(p, time.Second)
	if a.ctx == b.ctx {
		t.Error("a non-pointer parent shares a context")
	}
	a.done()
	b.done()
	if a.ctx.Err() == nil {
		t.Error("an attempt's own context is not cancelled when it is done")
	}

	// A short timeout gets a context of exactly its own length, which
	// ends on time.
	c := s.attempt(context.Background(), 20*time.Millisecond)
	after := time.Now()
	defer c.done()
	if dl, _ := c.ctx.Deadline(); dl.After(after.Add(20 * time.Millisecond)) {
		t.Errorf("short timeout's deadline is %v after the call", dl.Sub(after))
	}
	<-c.ctx.Done()
	if !errors.Is(c.ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", c.ctx.Err())
	}

	// No timeout: the parent itself.
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	if z := s.attempt(parent, 0); z.ctx != parent {
		t.Error("no timeout does not return the parent")
	} else {
		z.done()
	}
}

// Many attempts turning slots over quickly (a 1 ms slot): none may find
// its context ended while it is in flight.
func TestSharedDeadlinesConcurrent(t *testing.T) {
	var s sharedDeadlines
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 2000 {
				a := s.attempt(parent, minSharedTimeout)
				if err := a.ctx.Err(); err != nil {
					t.Errorf("a fresh attempt's context has ended: %v", err)
					a.done()
					return
				}
				goruntime.Gosched()
				if err := a.ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("an attempt's context was released while in flight: %v", err)
					a.done()
					return
				}
				a.done()
			}
		})
	}
	wg.Wait()
}
