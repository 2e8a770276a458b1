package gemini

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSharedDeadlines(t *testing.T) {
	var s sharedDeadlines
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	const d = 10 * time.Second

	before := time.Now()
	a, cancelA := s.attempt(parent, d)
	b, cancelB := s.attempt(parent, d)
	after := time.Now()
	defer cancelA()
	defer cancelB()
	if a != b {
		t.Error("attempts started together with one timeout do not share a context")
	}
	dl, ok := a.Deadline()
	if !ok || dl.Before(before.Add(d)) || dl.After(after.Add(d+d/100)) {
		t.Errorf("deadline %v after start, want between %v and %v", dl.Sub(before), d, d+d/100)
	}
	if c, cancel := s.attempt(parent, 2*d); c == a {
		t.Error("another timeout shares the context")
	} else {
		cancel()
	}
	other, stopOther := context.WithCancel(context.Background())
	defer stopOther()
	if c, cancel := s.attempt(other, d); c == a {
		t.Error("another parent shares the context")
	} else {
		cancel()
	}
	// Once the slot is over (d/100 = 100 ms), a new attempt gets a new one.
	time.Sleep(d/100 + 10*time.Millisecond)
	if c, cancel := s.attempt(parent, d); c == a {
		t.Error("an attempt after the slot joins it")
	} else {
		cancel()
	}

	// The caller giving up ends the shared context.
	stop()
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not end the shared context")
	}
	if !errors.Is(a.Err(), context.Canceled) {
		t.Errorf("err = %v, want Canceled", a.Err())
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
	a, cancelA := s.attempt(p, time.Second)
	b, cancelB := s.attempt(p, time.Second)
	if a == b {
		t.Error("a non-pointer parent shares a context")
	}
	cancelA()
	cancelB()

	// A short timeout gets a context of exactly its own length, which
	// ends on time.
	c, cancel := s.attempt(context.Background(), 20*time.Millisecond)
	after := time.Now()
	defer cancel()
	if dl, _ := c.Deadline(); dl.After(after.Add(20 * time.Millisecond)) {
		t.Errorf("short timeout's deadline is %v after the call", dl.Sub(after))
	}
	<-c.Done()
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", c.Err())
	}
}
