package gemini

import (
	"context"
	"time"
)

// withAttemptTimeout bounds one attempt; zero means only ctx bounds it.
// The attempt's own context is separate from ctx so classify can tell our
// timeout (transient, retry) from the caller giving up (stop).
func withAttemptTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
