package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/llmpipe/llmpipe/interp"
)

// succeed makes the item terminal-ok: stored, then written, then passed on.
func (r *Runner) succeed(ctx context.Context, st *stage, it *itemRun, model *interp.Model, out any, resp *Response, hit bool) {
	rec := it.rec
	rec.Outputs[it.step.Name] = out
	rec.addOrder(it.step.Name)
	rec.Model, rec.Rung, rec.Attempts, rec.Cached = model.ID, it.rung, it.attempt, hit
	if !hit {
		top := it.step.Models[len(it.step.Models)-1].ID
		r.stats.topNano.Add(int64(r.cost(top, resp.Usage)))
	}
	if !r.terminal(ctx, it) {
		return
	}
	if rec.Failed { // middleware turned it into a failure
		r.stats.failed.Add(1)
		r.emit(Event{Kind: EventItemFailed, Step: rec.Step, Item: rec.ID, Model: rec.Model, Attempt: rec.Attempts, Class: rec.Failure.Class.String(), Message: rec.Failure.Message, Cost: rec.Cost})
		return
	}
	r.stats.succeeded.Add(1)
	r.stats.bump(r.stats.answeredBy, model.ID)
	if len(r.opts.Observers) > 0 { // &u escapes: skip the allocation when nobody listens
		u := rec.Usage
		r.emit(Event{Kind: EventItemSucceeded, Step: it.step.Name, Item: rec.ID, Model: model.ID, Attempt: it.attempt, Cost: rec.Cost, Usage: &u, Plan: rec.Plan})
	}
	st.send(ctx, rec)
}

// finishFailed makes the item terminal-failed; failed records are kept and
// written to the step's failed sink, never dropped.
func (r *Runner) finishFailed(ctx context.Context, st *stage, it *itemRun, class Class, msg string) {
	rec := it.rec
	rec.Failed = true
	rec.Failure = &Failure{Class: class, Message: msg, Errors: it.errs, LastReply: it.last}
	rec.Attempts = it.attempt
	if it.step != nil && len(it.step.Models) > 0 {
		rec.Model, rec.Rung = it.step.Models[it.rung].ID, it.rung
	}
	if !r.terminal(ctx, it) {
		return
	}
	if !rec.Failed { // middleware rescued it
		r.stats.succeeded.Add(1)
		st.send(ctx, rec)
		return
	}
	r.stats.failed.Add(1)
	if transientOnly(rec.Failure) {
		r.stats.retryable.Add(1)
	}
	r.emit(Event{Kind: EventItemFailed, Step: rec.Step, Item: rec.ID, Model: rec.Model, Attempt: rec.Attempts, Class: class.String(), Message: msg, Cost: rec.Cost})
}

// transientOnly reports a failure that says nothing against the item: every
// attempt failed on a transient error or a rate limit (an outage, an
// overloaded model, a day's quota spent). A plain re-run retries such an
// item; other failures stay failed until --retry-failed.
func transientOnly(f *Failure) bool {
	if f == nil || (f.Class != ClassTransient && f.Class != ClassRateLimit) {
		return false
	}
	for _, e := range f.Errors {
		if e.Class != ClassTransient && e.Class != ClassRateLimit {
			return false
		}
	}
	return true
}

// terminal runs the After middleware, commits the result to the store and
// writes the record to its sinks, in that order: a result is durable before
// anyone sees it. It reports false when the run must stop.
func (r *Runner) terminal(ctx context.Context, it *itemRun) bool {
	rec := it.rec
	for _, mw := range r.opts.Middleware {
		if err := mw.After(ctx, rec.Step, rec); err != nil {
			rec.Failed = true
			rec.Failure = &Failure{Class: ClassFatal, Message: "middleware: " + err.Error(), Errors: it.errs, LastReply: it.last}
		}
	}
	if rec.Failed && rec.Failure == nil {
		rec.Failure = &Failure{Class: ClassFatal, Message: "failed by middleware", Errors: it.errs, LastReply: it.last}
	}
	if s := r.opts.Store; s != nil && it.step != nil {
		res := &Result{
			RunID: r.runID, Step: rec.Step, Item: rec.ID, Fingerprint: it.step.Fingerprint(), Input: it.input,
			OK: !rec.Failed, Failure: rec.Failure, Model: rec.Model, Rung: rec.Rung,
			Attempts: rec.Attempts, Usage: rec.Usage, Cost: rec.Cost, Plan: rec.Plan, At: r.clock.Now(),
		}
		if !rec.Failed {
			res.Output = outputJSON(rec.Outputs[rec.Step])
		}
		// Its calls are over: another worker may start an item while this
		// one waits for the commit.
		it.doneCalling()
		// The commit must land even if the caller is cancelling: the call
		// was paid for.
		if err := s.Commit(context.WithoutCancel(ctx), res); err != nil {
			r.fail(fmt.Errorf("storing result of %q at %s: %w", rec.ID, rec.Step, err))
			return false
		}
	}
	r.deliver(ctx, rec)
	return true
}

// resumeOutcome is what resume did with an item.
type resumeOutcome int

const (
	resumeNone    resumeOutcome = iota // nothing usable stored: run the item
	resumeRetry                        // a stored failure to run again (--retry-failed, or transient only)
	resumeDone                         // delivered from the store: terminal
	resumeAbandon                      // the store could not be read: leave the item
)

// resume delivers a result stored by an earlier run instead of calling
// again.
func (r *Runner) resume(ctx context.Context, st *stage, step *interp.Step, rec *Record, input string) resumeOutcome {
	s := r.opts.Store
	if s == nil || r.opts.Fresh {
		return resumeNone
	}
	res, err := s.Lookup(ctx, step.Name, rec.ID, step.Fingerprint())
	if err != nil {
		if ctx.Err() == nil {
			r.fail(fmt.Errorf("looking up %q at %s: %w", rec.ID, step.Name, err))
		}
		return resumeAbandon
	}
	if res == nil || res.Input != input {
		return resumeNone
	}
	if !res.OK && (r.opts.RetryFailed || transientOnly(res.Failure)) {
		return resumeRetry
	}
	var out any
	if res.OK {
		if out, err = decodeOutput(step, res.Output); err != nil {
			return resumeNone // unreadable: make it again
		}
	}
	// The original cost stays with the record, so the sinks' costs add up
	// to what was spent; from_store says it was not spent again.
	rec.Model, rec.Rung, rec.Attempts, rec.Usage, rec.Cost = res.Model, res.Rung, res.Attempts, res.Usage, res.Cost
	rec.Cached, rec.FromStore = false, true
	rec.Plan = res.Plan
	r.stats.resumed.Add(1)
	r.emit(Event{Kind: EventItemResumed, Step: step.Name, Item: rec.ID, Model: res.Model})
	if !res.OK {
		rec.Failed, rec.Failure = true, res.Failure
		r.stats.failed.Add(1)
		r.deliver(ctx, rec)
		return resumeDone
	}
	rec.Outputs[step.Name] = out
	rec.addOrder(step.Name)
	r.stats.succeeded.Add(1)
	r.deliver(ctx, rec)
	st.send(ctx, rec)
	return resumeDone
}

// decodeOutput turns a stored output back into the values a fresh run
// would have produced (ints as ints), by parsing it against the schema.
func decodeOutput(step *interp.Step, raw json.RawMessage) (any, error) {
	if step.Output == nil {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	reply, err := step.Output.ParseReply(string(raw))
	if err != nil {
		return nil, err
	}
	if len(reply.Failed) > 0 {
		return nil, fmt.Errorf("stored output no longer fits the schema")
	}
	return reply.Value, nil
}

// addOrder appends step to rec.Order unless it is there already. The
// first step goes into the record's own orderBuf: no allocation.
func (rec *Record) addOrder(step string) {
	for _, s := range rec.Order {
		if s == step {
			return
		}
	}
	if rec.Order == nil {
		rec.Order = rec.orderBuf[:0]
	}
	rec.Order = append(rec.Order, step)
}

func endRun(ctx context.Context, s Store, id int64, sum *Summary) error {
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	if err := s.EndRun(ctx, id, b); err != nil {
		return fmt.Errorf("ending run: %w", err)
	}
	return nil
}

// inputHash identifies what an item brings to a step: its source data and
// the outputs of the steps before, in canonical JSON (sorted keys). A result
// stored under another input is stale even when the id and the step's
// fingerprint match.
func inputHash(rec *Record) string {
	b, err := json.Marshal(struct {
		Item    map[string]any `json:"item"`
		Outputs map[string]any `json:"outputs"`
	}{rec.Item, rec.Outputs})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
