package clock

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestSleep: Sleep waits its full duration on the real clock (in a
// synctest bubble, where time is virtual), returns at once for d ≤ 0, and
// ends early with the context's cause when the context is cancelled.
func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := Sleep(context.Background(), Real, time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != time.Minute {
			t.Errorf("slept %v, want 1m", got)
		}
		if err := Sleep(context.Background(), Real, -time.Second); err != nil {
			t.Errorf("Sleep(-1s) = %v", err)
		}

		why := errors.New("drained")
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan error, 1)
		start = time.Now()
		go func() { done <- Sleep(ctx, Real, time.Hour) }()
		time.Sleep(time.Second)
		cancel(why)
		if err := <-done; !errors.Is(err, why) {
			t.Errorf("Sleep after cancel = %v, want the cause %v", err, why)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("cancelled sleep took %v, want 1s", got)
		}
	})
}

func TestTimerReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		tm := Real.NewTimer(time.Hour)
		tm.Reset(time.Minute)
		<-tm.C()
		if got := time.Since(start); got != time.Minute {
			t.Errorf("reset timer fired after %v, want 1m", got)
		}
		tm.Stop()
	})
}
