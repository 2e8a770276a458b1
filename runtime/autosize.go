package runtime

import (
	"context"
	"math"
	"strconv"
	"sync/atomic"
	"time"
)

// DefaultMaxWorkers bounds the pool that workers = auto sizes, when the
// config does not set max_workers.
const DefaultMaxWorkers = 1024

// autosizeTick is how often a workers = auto run looks at its pool.
const autosizeTick = time.Second

// Tuning of the sizing rule (see nextSize).
const (
	backoffShare = 0.05 // timeouts and 5xx above this share of a tick's calls cut the pool
	backoffCut   = 0.5  // the multiplicative decrease
	regrowShare  = 0.1  // the ceiling regains this share of the target per quiet tick
	resizeSlack  = 0.05 // changes smaller than this share of the pool are not worth an event
)

// autoSizer adapts the worker pool of a workers = auto run while it runs.
// The target is Little's law over the quota: calls in flight = the rate the
// pacer admits × the latency it observes (with the pacer's headroom for
// fluctuation), summed over the models — Pacer.SuggestConcurrency. Over
// that sits an AIMD ceiling: a tick in which timeouts and 5xx were more
// than backoffShare of the calls halves the pool, and each quiet tick lets
// it grow back by a tenth of the target. Without a pacer opinion (no quota)
// the pool stays at its starting size, less any back-off.
//
// observe is on every call's path and only touches atomics; tick runs on
// the sizer's own goroutine.
type autoSizer struct {
	calls atomic.Int64 // calls returned since the last tick
	errs  atomic.Int64 // of which timeouts and 5xx

	base int // the starting size: the target when the pacer has no opinion
	st   sizeState
}

// sizeState is what the sizing rule carries from one tick to the next.
type sizeState struct {
	ceil float64 // the AIMD ceiling; 0 before the first tick (no ceiling)
}

// sizeInput is what one tick of the rule sees.
type sizeInput struct {
	cur   int   // the pool's size now
	want  int   // Little's law target from the pacer; 0: no opinion
	base  int   // the target when want is 0
	max   int   // max_workers
	calls int64 // calls returned during the tick
	errs  int64 // of which timeouts and 5xx
}

// nextSize is one tick of the sizing rule: the pool's next size.
func nextSize(st *sizeState, in sizeInput) int {
	want := in.want
	if want <= 0 {
		want = in.base
	}
	want = max(1, min(want, in.max))
	if st.ceil == 0 {
		st.ceil = float64(in.max)
	}
	backoff := in.errs > 0 && float64(in.errs) >= backoffShare*float64(in.calls)
	if backoff {
		st.ceil = max(1, math.Floor(float64(in.cur)*backoffCut))
	} else if st.ceil < float64(in.max) {
		st.ceil = min(float64(in.max), st.ceil+max(1, math.Ceil(regrowShare*float64(want))))
	}
	n := max(1, min(want, int(st.ceil)))
	if !backoff && abs(n-in.cur) < max(2, int(resizeSlack*float64(in.cur))) {
		return in.cur
	}
	return n
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// observe counts one returned call for the next tick.
func (a *autoSizer) observe(pe *Error) {
	a.calls.Add(1)
	if pe != nil && pe.Class == ClassTransient {
		a.errs.Add(1)
	}
}

// autoSizing reports whether the pool is the sizer's to change: the plan
// in force says workers = auto, no --workers was given, and nobody has
// set the pool by hand (SetWorkers).
func (r *Runner) autoSizing() bool {
	return r.auto != nil && r.opts.Workers <= 0 && !r.pinned.Load() && r.plan.Load().prog.Config.Workers <= 0
}

// maxWorkers is the plan's max_workers, or the default.
func (r *Runner) maxWorkers() int {
	n := r.plan.Load().prog.Config.MaxWorkers
	if n <= 0 {
		n = DefaultMaxWorkers
	}
	return min(n, MaxWorkers)
}

// suggestWorkers is the pacer's Little's law target summed over the
// plan's models; 0 when it has no opinion.
func (r *Runner) suggestWorkers() int {
	if r.opts.Pacer == nil {
		return 0
	}
	n := 0
	for _, m := range r.plan.Load().prog.Models {
		n += r.opts.Pacer.SuggestConcurrency(m.ID)
	}
	return n
}

// autosize runs the sizing rule every autosizeTick until ctx ends.
func (r *Runner) autosize(ctx context.Context) {
	t := r.clock.NewTimer(autosizeTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		r.autosizeTick()
		t.Reset(autosizeTick)
	}
}

// autosizeTick is one look at the pool: resize it if the rule says so,
// and record the change as a workers_resized event.
func (r *Runner) autosizeTick() {
	a := r.auto
	in := sizeInput{
		cur:   r.Workers(),
		want:  r.suggestWorkers(),
		base:  a.base,
		max:   r.maxWorkers(),
		calls: a.calls.Swap(0),
		errs:  a.errs.Swap(0),
	}
	if !r.autoSizing() {
		return
	}
	n := nextSize(&a.st, in)
	if n == in.cur {
		return
	}
	r.resize(n)
	reason := "latency"
	if in.errs > 0 && n < in.cur {
		reason = "backoff: " + strconv.FormatInt(in.errs, 10) + " timeouts or 5xx of " + strconv.FormatInt(in.calls, 10) + " calls"
	}
	r.emit(Event{Kind: EventWorkersResized, From: strconv.Itoa(in.cur), To: strconv.Itoa(n), Workers: n, Message: reason})
}
