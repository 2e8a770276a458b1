package runtime_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
)

// countingPacer hands out permits that must each be closed exactly once.
type countingPacer struct {
	t                        *testing.T
	acquired                 atomic.Int64
	done, limited, cancelled atomic.Int64
}

type countingPermit struct {
	p      *countingPacer
	closed atomic.Bool
}

func (c *countingPacer) Acquire(ctx context.Context, model string, estTokens int) (runtime.Permit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.acquired.Add(1)
	return &countingPermit{p: c}, nil
}
func (c *countingPacer) SuggestConcurrency(string) int   { return 0 }
func (c *countingPacer) Stats(string) runtime.ModelStats { return runtime.ModelStats{} }
func (c *countingPacer) SetLimits(string, quota.Limits)  {}
func (p *countingPermit) close(n *atomic.Int64) {
	if !p.closed.CompareAndSwap(false, true) {
		p.p.t.Error("a permit was closed twice")
	}
	n.Add(1)
}
func (p *countingPermit) Done(int, time.Duration)    { p.close(&p.p.done) }
func (p *countingPermit) RateLimited(*runtime.Error) { p.close(&p.p.limited) }
func (p *countingPermit) Cancel()                    { p.close(&p.p.cancelled) }

// TestEveryCallSlotIsReleased drives calls through every way a call can
// end — success, 429, transient, fatal, and cancellation mid-call — and
// holds the call slot to its contract: every permit the pacer gave is
// closed exactly once, with the right ending.
func TestEveryCallSlotIsReleased(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline + "\nconfig {\n  workers = 4\n}\n", "people.jsonl": people(40)})
	pacer := &countingPacer{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	prov := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		c := calls.Add(1)
		switch {
		case c == 30:
			// Cancel the run while this call is in flight.
			once.Do(func() { cancel(); close(release) })
			return nil, context.Canceled
		case c > 30:
			<-release
			return nil, context.Canceled
		case strings.HasSuffix(req.Item, "3") && n == 1:
			return nil, &runtime.Error{Class: runtime.ClassRateLimit, Status: 429, RetryDelay: time.Millisecond}
		case strings.HasSuffix(req.Item, "5") && n == 1:
			return nil, &runtime.Error{Class: runtime.ClassTransient, Status: 503}
		case strings.HasSuffix(req.Item, "7"):
			return nil, &runtime.Error{Class: runtime.ClassFatal, Status: 400}
		}
		return &runtime.Response{Text: `{"name":"x","age":30}`, Usage: runtime.Usage{PromptTokens: 10, OutputTokens: 5}}, nil
	}}
	opts := options(prov)
	opts.Pacer = pacer
	_, _ = runtime.Run(ctx, prog, opts)

	acquired := pacer.acquired.Load()
	closed := pacer.done.Load() + pacer.limited.Load() + pacer.cancelled.Load()
	if acquired == 0 || acquired != closed {
		t.Errorf("%d permits acquired, %d closed (done %d, rate limited %d, cancelled %d)",
			acquired, closed, pacer.done.Load(), pacer.limited.Load(), pacer.cancelled.Load())
	}
	if pacer.limited.Load() == 0 {
		t.Error("no permit ended rate limited: the 429 path was not exercised")
	}
	if pacer.cancelled.Load() == 0 {
		t.Error("no permit was cancelled: the cancellation path was not exercised")
	}
}
