package gemini

import (
	"context"
	"time"
)

// withAttemptTimeout bounds one attempt; zero means only ctx bounds it,
// and ctx itself is returned (a context of its own would only cost). With
// a timeout the attempt's own context is separate from ctx so classify can
// tell our timeout (transient, retry) from the caller giving up (stop).
func withAttemptTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
