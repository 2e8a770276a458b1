// Package clock is the one time source of llmpipe's runtime: the runner
// (latencies, backoff sleeps, event times) and the quota limiter (pacing
// timers) both take a Clock, and production code passes Real. Tests run
// under testing/synctest with Real, or hand in a fake of their own from a
// _test.go file; no fake clock is compiled into the program.
package clock

import (
	"context"
	"time"
)

// Clock is a source of time. Implementations are safe for concurrent use.
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

// Sleep waits for d on c, or until ctx is done, whichever comes first; it
// then returns context.Cause(ctx).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C():
		return nil
	}
}
