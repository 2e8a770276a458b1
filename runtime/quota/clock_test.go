package quota

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

func TestFakeClockTimers(t *testing.T) {
	c := NewFakeClock(t0)
	a, b, stopped := c.NewTimer(3*time.Second), c.NewTimer(time.Second), c.NewTimer(2*time.Second)
	stopped.Stop()
	if n := c.Timers(); n != 2 {
		t.Fatalf("%d timers pending, want 2", n)
	}
	c.Advance(2 * time.Second)
	select {
	case got := <-b.C():
		if !got.Equal(t0.Add(time.Second)) {
			t.Errorf("timer fired reading %v, want its deadline %v", got, t0.Add(time.Second))
		}
	default:
		t.Fatal("1s timer did not fire after 2s")
	}
	select {
	case <-a.C():
		t.Fatal("3s timer fired after 2s")
	case <-stopped.C():
		t.Fatal("stopped timer fired")
	default:
	}
	// Reset re-arms from now and drops nothing but the old deadline.
	a.Reset(5 * time.Second)
	c.Advance(2 * time.Second)
	select {
	case <-a.C():
		t.Fatal("reset timer fired at its old deadline")
	default:
	}
	c.Advance(3 * time.Second)
	select {
	case <-a.C():
	default:
		t.Fatal("reset timer did not fire at its new deadline")
	}
	if n := c.Timers(); n != 0 {
		t.Errorf("%d timers pending, want 0", n)
	}
	if got := c.Now(); !got.Equal(t0.Add(7 * time.Second)) {
		t.Errorf("Now = %v, want t0+7s", got)
	}
}

// TestSleepWakesOnAdvance: a goroutine sleeping on the fake clock wakes
// when another advances it, and a cancelled context ends the sleep.
func TestSleepWakesOnAdvance(t *testing.T) {
	c := NewFakeClock(t0)
	done := make(chan error, 1)
	go func() { done <- clock.Sleep(context.Background(), c, time.Minute) }()
	eventually(t, "the sleeper", func() bool { return c.Timers() == 1 })
	c.Advance(time.Minute)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Sleep did not wake")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- clock.Sleep(ctx, c, time.Hour) }()
	eventually(t, "the sleeper", func() bool { return c.Timers() == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sleep: %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Sleep did not return on cancel")
	}
}
