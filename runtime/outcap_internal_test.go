package runtime

import (
	"sync"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
)

func TestOutputCapLearnsFromReplies(t *testing.T) {
	var c outputCaps
	flash := &interp.Model{ID: "flash"}
	if got := c.cap("s", flash); got != firstCap {
		t.Errorf("before any reply: cap %d, want %d", got, firstCap)
	}
	for range capSamples {
		c.observe("s", "flash", 300)
	}
	// 300 + a third + 64.
	if got := c.cap("s", flash); got != 464 {
		t.Errorf("after replies of 300 tokens: cap %d, want 464", got)
	}
	// Another model of the same step starts from twice the longest reply
	// seen on the step, or firstCap if that is more.
	c.observe("s", "lite", 900)
	if got := c.cap("s", &interp.Model{ID: "pro"}); got != 1800 {
		t.Errorf("a new model on a known step: cap %d, want 1800", got)
	}
	// The model block bounds it.
	for range capSamples {
		c.observe("t", "flash", 5)
	}
	if got := c.cap("t", flash); got != defaultMinOutput {
		t.Errorf("tiny replies: cap %d, want the floor %d", got, defaultMinOutput)
	}
	if got := c.cap("t", &interp.Model{ID: "flash", MinOutputTokens: 16}); got != 5+1+64 {
		t.Errorf("with min_output_tokens 16: cap %d, want 70", got)
	}
	for range capSamples {
		c.observe("u", "flash", 50_000)
	}
	if got := c.cap("u", &interp.Model{ID: "flash", MaxOutputTokens: 4000}); got != 4000 {
		t.Errorf("long replies: cap %d, want the ceiling 4000", got)
	}
	if got := c.cap("u", flash); got != defaultMaxOutput {
		t.Errorf("long replies: cap %d, want the default ceiling %d", got, defaultMaxOutput)
	}
	// One long reply among many short ones moves the 99th percentile.
	for range 50 {
		c.observe("v", "flash", 100)
	}
	c.observe("v", "flash", 2000)
	if got := c.cap("v", flash); got < 2000 {
		t.Errorf("after a reply of 2,000 tokens: cap %d", got)
	}
}

func TestGrow(t *testing.T) {
	m := &interp.Model{MaxOutputTokens: 3000}
	for _, c := range []struct {
		cap, want int
		ok        bool
	}{{1000, 2000, true}, {2000, 3000, true}, {3000, 3000, false}} {
		if got, ok := grow(m, c.cap); got != c.want || ok != c.ok {
			t.Errorf("grow(%d) = %d, %v; want %d, %v", c.cap, got, ok, c.want, c.ok)
		}
	}
}

// TestOutputCapConcurrent: observe and cap from many goroutines (run with
// -race); replies all of one size make the same cap as in one goroutine.
func TestOutputCapConcurrent(t *testing.T) {
	var c outputCaps
	m := &interp.Model{ID: "flash"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				c.observe("s", "flash", 300)
				if got := c.cap("s", m); got != firstCap && got != 464 {
					t.Errorf("goroutine %d, reply %d: cap %d", g, i, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := c.cap("s", m); got != 464 {
		t.Errorf("cap %d, want 464", got)
	}
}
