package runtime

import (
	"context"
	"sync"
)

// semaphore bounds concurrent calls across all steps. Its limit can change
// while goroutines wait (SetWorkers); waiters are woken only when someone
// actually waits, so the uncontended path does not allocate.
type semaphore struct {
	mu      sync.Mutex
	limit   int
	used    int
	waiting int
	wake    chan struct{}
}

func newSemaphore(limit int) *semaphore {
	return &semaphore{limit: limit, wake: make(chan struct{})}
}

func (s *semaphore) acquire(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.used < s.limit {
			s.used++
			s.mu.Unlock()
			return nil
		}
		s.waiting++
		ch := s.wake
		s.mu.Unlock()
		select {
		case <-ch:
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
		case <-ctx.Done():
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			return context.Cause(ctx)
		}
	}
}

func (s *semaphore) release() {
	s.mu.Lock()
	s.used--
	s.broadcastLocked()
	s.mu.Unlock()
}

func (s *semaphore) setLimit(n int) {
	s.mu.Lock()
	s.limit = n
	s.broadcastLocked()
	s.mu.Unlock()
}

func (s *semaphore) broadcastLocked() {
	if s.waiting > 0 {
		close(s.wake)
		s.wake = make(chan struct{})
	}
}
