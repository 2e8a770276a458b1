package quota_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime/quota"
)

func ExampleLimiter() {
	l := quota.New(quota.Options{})
	l.SetLimits("gemini-2.5-flash", quota.Limits{RPM: 1000, TPM: 1_000_000, RPD: 10_000})

	ctx := context.Background()
	p, err := l.Acquire(ctx, "gemini-2.5-flash", 1200)
	switch {
	case errors.Is(err, quota.ErrDayExhausted):
		// Climb the ladder to another model, or fail the item.
		return
	case err != nil:
		return
	}
	// ... make the call; on a 429 call p.RateLimited instead, with the
	// axes its QuotaFailure names and its retryDelay.
	p.Done(1250, 800*time.Millisecond)

	st := l.Stats("gemini-2.5-flash")
	// Concurrency by Little's law: TPM allows 16,500 tokens/s, 13.2 calls/s
	// of 1,250 tokens; at 0.8 s each that is N̄ = 10.6, plus 4√N̄ headroom.
	fmt.Println(st.Acquired, st.InFlight, st.Concurrency)
	// Output: 1 0 24
}
