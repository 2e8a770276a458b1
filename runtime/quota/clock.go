package quota

import (
	"context"
	"time"
)

// Clock is the limiter's source of time. Tests inject a FakeClock (or run
// under testing/synctest with the real one).
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends on C after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a resettable one-shot timer, with the Go 1.23 semantics: after
// Stop or Reset returns, no stale value is received from C.
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time   { return t.t.C }
func (t realTimer) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTimer) Stop()                 { t.t.Stop() }

// Sleep waits for d on c, or until ctx is done, whichever comes first.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
