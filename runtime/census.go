package runtime

import (
	"context"
	"io"

	"github.com/llmpipe/llmpipe/interp"
)

// StepCensus counts one step's items as the store holds them now.
type StepCensus struct {
	// Done and Failed count items whose result is current: stored under the
	// step's fingerprint for the input the item brings now, so a run would
	// resume it rather than call again. Failed includes Malformed.
	Done, Failed int
	// Malformed counts source rows that are not items (they do not parse,
	// or their where or id cannot be evaluated): failed at every run, never
	// stored.
	Malformed int
	// Skipped counts items the step's where turns away.
	Skipped int
	// Pending counts items a run would still call for. For a step after a
	// pending step it is an upper bound: its where cannot be evaluated on an
	// output that does not exist yet.
	Pending int
}

// LookupFunc returns the terminal result of item at step under
// fingerprint, or nil (Store.Lookup has this shape).
type LookupFunc func(ctx context.Context, step, item, fingerprint string) (*Result, error)

// Census walks the program's items as a run would, without calling
// anything: every source a step reads, through the same admission as a run
// (where, id, limit, malformed rows), then every step in turn, its where
// evaluated on the record rebuilt from stored outputs. It is how `status`
// agrees with a run's summary to the item. Sources are read in full; the
// --limit of a particular run is not known here, only a source's own.
func Census(ctx context.Context, prog *interp.Program, open OpenSource, lookup LookupFunc) (map[string]*StepCensus, error) {
	c := &census{lookup: lookup, counts: map[string]*StepCensus{}, children: map[*interp.Step][]*interp.Step{}}
	direct := map[*interp.Source][]*interp.Step{}
	for _, s := range prog.Steps {
		c.counts[s.Name] = &StepCensus{}
		switch {
		case s.FromStep != nil:
			c.children[s.FromStep] = append(c.children[s.FromStep], s)
		case s.FromSource != nil:
			direct[s.FromSource] = append(direct[s.FromSource], s)
		}
	}
	for _, src := range prog.Sources {
		steps := direct[src]
		if len(steps) == 0 {
			continue
		}
		if err := c.source(ctx, src, open, steps); err != nil {
			return nil, err
		}
	}
	return c.counts, nil
}

type census struct {
	lookup   LookupFunc
	counts   map[string]*StepCensus
	children map[*interp.Step][]*interp.Step
}

func (c *census) source(ctx context.Context, src *interp.Source, open OpenSource, steps []*interp.Step) error {
	s, err := open(ctx, src)
	if err != nil {
		return err // names the source (see OpenSource)
	}
	defer s.Close()
	env := map[string]any{}
	for admitted := 0; src.Limit <= 0 || admitted < src.Limit; {
		it, err := s.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rec := admit(src, it, env)
		if rec == nil {
			continue
		}
		admitted++
		for _, step := range steps {
			if rec.Malformed {
				n := c.counts[step.Name]
				n.Failed++
				n.Malformed++
				continue
			}
			if err := c.visit(ctx, step, rec.clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

// visit counts rec at step and, when its result there is a success, takes
// it on to the steps that read step, as the runner does.
func (c *census) visit(ctx context.Context, step *interp.Step, rec *Record) error {
	n := c.counts[step.Name]
	if step.Where != nil {
		// An error here fails the item at run time, with a stored result.
		if keep, err := step.Where.EvalBool(recordEnv(rec)); err == nil && !keep {
			n.Skipped++
			return nil
		}
	}
	res, err := c.lookup(ctx, step.Name, rec.ID, step.Fingerprint())
	if err != nil {
		return err
	}
	if res == nil || res.Input != inputHash(rec) {
		c.pending(step)
		return nil
	}
	if !res.OK {
		n.Failed++
		return nil
	}
	out, err := decodeOutput(step, res.Output)
	if err != nil {
		c.pending(step) // a run would make it again
		return nil
	}
	n.Done++
	rec.Outputs[step.Name] = out
	rec.addOrder(step.Name)
	kids := c.children[step]
	for i, kid := range kids {
		next := rec
		if i < len(kids)-1 {
			next = rec.clone()
		}
		if err := c.visit(ctx, kid, next); err != nil {
			return err
		}
	}
	return nil
}

// pending counts an item pending at step and at every step after it.
func (c *census) pending(step *interp.Step) {
	c.counts[step.Name].Pending++
	for _, kid := range c.children[step] {
		c.pending(kid)
	}
}
