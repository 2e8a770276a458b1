package runtime

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/llmpipe/llmpipe/interp"
)

// sinkSet routes records to the sinks that read their step. Each sink is
// written under its own lock, so one slow file does not stall the others.
type sinkSet struct {
	prog   *interp.Program
	open   OpenSink
	ok     map[string][]*lockedSink // by step
	failed map[string][]*lockedSink // by step

	mu       sync.Mutex // guards lazily opened default failed sinks and all
	all      []*lockedSink
	firstErr error

	// orders tracks item order per source, for the sinks with order =
	// "source" reading from its lineage; empty when there are none.
	orders map[*interp.Source]*sourceOrder
}

type lockedSink struct {
	mu      sync.Mutex
	name    string
	s       Sink
	written bool // a record reached Write; guarded by mu

	ord  *sourceOrder // order = "source": records wait in held for those before them
	held heldRecords  // guarded by mu
}

func openSinks(ctx context.Context, prog *interp.Program, open OpenSink) (*sinkSet, error) {
	set := &sinkSet{prog: prog, open: open, ok: map[string][]*lockedSink{}, failed: map[string][]*lockedSink{},
		orders: map[*interp.Source]*sourceOrder{}}
	for _, def := range prog.Sinks {
		s, err := open(ctx, def)
		if err != nil {
			set.close(context.WithoutCancel(ctx), false)
			return nil, err // names the sink (see OpenSink)
		}
		ls := &lockedSink{name: def.Name, s: s}
		if src := rootSource(def.From); def.Order == interp.OrderSource && src != nil {
			o := set.orders[src]
			if o == nil {
				o = newSourceOrder()
				set.orders[src] = o
			}
			ls.ord = o
			o.sinks = append(o.sinks, ls)
		}
		set.all = append(set.all, ls)
		if def.Failed {
			set.failed[def.From.Name] = append(set.failed[def.From.Name], ls)
		} else {
			set.ok[def.From.Name] = append(set.ok[def.From.Name], ls)
		}
	}
	return set, nil
}

// targets returns the sinks for rec, opening the step's default failed
// file on the first failure that has nowhere else to go.
func (set *sinkSet) targets(ctx context.Context, rec *Record) ([]*lockedSink, error) {
	if !rec.Failed {
		return set.ok[rec.Step], nil
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	if t := set.failed[rec.Step]; len(t) > 0 {
		return t, nil
	}
	var from *interp.Step
	for _, s := range set.prog.Steps {
		if s.Name == rec.Step {
			from = s
		}
	}
	def := &interp.Sink{Name: rec.Step + ".failed", Kind: "jsonl", Path: defaultFailedPath(set.prog, rec.Step), From: from, Failed: true}
	s, err := set.open(ctx, def)
	if err != nil {
		return nil, fmt.Errorf("opening default failed sink %s: %w", def.Path, err)
	}
	ls := &lockedSink{name: def.Name, s: s}
	set.all = append(set.all, ls)
	set.failed[rec.Step] = []*lockedSink{ls}
	return set.failed[rec.Step], nil
}

// close closes every sink, first writing, in order, what ordered sinks
// still hold (items a stopping run left unfinished hold no record back).
// When the run did not complete, a sink that got no record is aborted
// (see Aborter), so its earlier output survives.
func (set *sinkSet) close(ctx context.Context, completed bool) error {
	set.mu.Lock()
	defer set.mu.Unlock()
	var errs []error
	for _, ls := range set.all {
		ls.mu.Lock()
		if ls.ord != nil {
			if err := ls.writeHeld(ctx, true); err != nil {
				errs = append(errs, fmt.Errorf("writing sink %q: %w", ls.name, err))
			}
		}
		closeFn := ls.s.Close
		if a, ok := ls.s.(Aborter); ok && !completed && !ls.written {
			closeFn = a.Abort
		}
		if err := closeFn(); err != nil {
			errs = append(errs, fmt.Errorf("closing sink %q: %w", ls.name, err))
		}
		ls.mu.Unlock()
	}
	set.all = nil
	return errors.Join(errs...)
}

// deliver writes rec to its sinks. A sink that cannot be written stops the
// run (the result is already in the store, so nothing is lost).
func (r *Runner) deliver(ctx context.Context, rec *Record) {
	targets, err := r.sinks.targets(ctx, rec)
	if err != nil {
		r.fail(err)
		return
	}
	wctx := r.sinkCtx // made once per run: WithoutCancel allocates
	if wctx == nil {
		wctx = context.WithoutCancel(ctx)
	}
	for _, ls := range targets {
		ls.mu.Lock()
		var err error
		if ls.ord != nil && rec.trk != nil {
			// Held until the items before it are done; a copy, since
			// the next step goes on changing rec.
			heap.Push(&ls.held, rec.clone())
			err = ls.writeHeld(wctx, false)
		} else {
			ls.written = true
			err = ls.s.Write(wctx, rec)
		}
		ls.mu.Unlock()
		if err != nil {
			r.fail(fmt.Errorf("writing sink %q: %w", ls.name, err))
			return
		}
	}
}
