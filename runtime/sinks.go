package runtime

import (
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
}

type lockedSink struct {
	mu      sync.Mutex
	name    string
	s       Sink
	written bool // a record reached Write; guarded by mu
}

func openSinks(ctx context.Context, prog *interp.Program, open OpenSink) (*sinkSet, error) {
	set := &sinkSet{prog: prog, open: open, ok: map[string][]*lockedSink{}, failed: map[string][]*lockedSink{}}
	for _, def := range prog.Sinks {
		s, err := open(ctx, def)
		if err != nil {
			set.close(false)
			return nil, err // names the sink (see OpenSink)
		}
		ls := &lockedSink{name: def.Name, s: s}
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

// close closes every sink. When the run did not complete, a sink that got
// no record is aborted (see Aborter), so its earlier output survives.
func (set *sinkSet) close(completed bool) error {
	set.mu.Lock()
	defer set.mu.Unlock()
	var errs []error
	for _, ls := range set.all {
		ls.mu.Lock()
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
		ls.written = true
		err := ls.s.Write(wctx, rec)
		ls.mu.Unlock()
		if err != nil {
			r.fail(fmt.Errorf("writing sink %q: %w", ls.name, err))
			return
		}
	}
}
