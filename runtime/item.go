package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/interp"
)

// errAbandoned means an item stopped without a terminal state (the run is
// draining, was cancelled, or hit the budget); it resumes on the next run.
var errAbandoned = errors.New("abandoned")

// defaultMaxOutput bounds replies when a model block sets no
// max_output_tokens, so a budget reservation has a finite worst case.
const defaultMaxOutput = 8192

// maxRateLimitWaits bounds how many 429s one attempt may absorb before it
// counts as a transient failure, so a stuck quota cannot spin forever.
const maxRateLimitWaits = 100

// itemRun is one item's progress through one step.
type itemRun struct {
	step     *interp.Step
	rec      *Record
	env      map[string]any
	system   string
	prompt   string
	feedback string
	rung     int
	onRung   int // validation failures on the current rung
	attempt  int // attempts made (calls and cache hits)
	transN   int // consecutive transient failures, for backoff
	errs     []AttemptError
	last     string // last raw reply
	input    string // inputHash of the record, when there is a store
	// answered holds the request keys this item already got a reply for:
	// asking the same again (same failures, same feedback) must reach the
	// model, not replay the reply that just failed.
	answered map[string]bool
	// fresh skips the response cache for the whole item (--retry-failed).
	fresh bool
}

// process takes one record through one step to a terminal state. It
// reports false when the item was abandoned (draining, cancelled, budget).
func (r *Runner) process(ctx context.Context, st *stage, rec *Record) bool {
	p := r.plan.Load() // items run under the plan in force when they start
	step := p.steps[st.name]
	if step == nil {
		return false
	}
	rec.Step, rec.Plan = step.Name, p.version
	rec.Failed, rec.Failure, rec.Cached = false, nil, false
	rec.Attempts, rec.Usage, rec.Cost, rec.Model, rec.Rung = 0, Usage{}, 0, "", 0

	env := recordEnv(rec)
	if step.Where != nil {
		keep, err := step.Where.EvalBool(env)
		if err != nil {
			r.finishFailed(ctx, st, &itemRun{step: step, rec: rec}, ClassFatal, "where: "+err.Error())
			return true
		}
		if !keep {
			r.stats.skipped.Add(1)
			r.emit(Event{Kind: EventItemSkipped, Step: step.Name, Item: rec.ID})
			return true
		}
	}
	for _, mw := range r.opts.Middleware {
		skip, err := mw.Before(ctx, step.Name, rec)
		if err != nil {
			r.finishFailed(ctx, st, &itemRun{step: step, rec: rec}, ClassFatal, "middleware: "+err.Error())
			return true
		}
		if skip {
			r.stats.skipped.Add(1)
			r.emit(Event{Kind: EventItemSkipped, Step: step.Name, Item: rec.ID, Message: "middleware"})
			return true
		}
	}
	var input string
	if r.opts.Store != nil {
		input = inputHash(rec)
	}
	resumed := r.resume(ctx, st, step, rec, input)
	switch resumed {
	case resumeDone:
		return true
	case resumeAbandon:
		return false
	}

	r.stats.inFlight.Add(1)
	defer r.stats.inFlight.Add(-1)
	r.emit(Event{Kind: EventItemStarted, Step: step.Name, Item: rec.ID, Plan: p.version})

	it := &itemRun{step: step, rec: rec, env: env, input: input, fresh: resumed == resumeRetry}
	var err error
	if it.prompt, err = step.Prompt.Render(env); err != nil {
		r.finishFailed(ctx, st, it, ClassFatal, "prompt: "+err.Error())
		return true
	}
	if step.System != nil {
		if it.system, err = step.System.Render(env); err != nil {
			r.finishFailed(ctx, st, it, ClassFatal, "system: "+err.Error())
			return true
		}
	}
	return r.attempts(ctx, st, it)
}

// recordEnv is what expressions and templates see for a record.
func recordEnv(rec *Record) map[string]any {
	env := make(map[string]any, len(rec.Outputs)+8)
	env[interp.VarID] = rec.ID
	env[interp.VarItem] = rec.Item
	for k, v := range rec.Outputs {
		env[k] = v
	}
	return env
}

// attempts is the item state machine: call, parse, check; retry, climb or
// give up, until the item is terminal or abandoned.
func (r *Runner) attempts(ctx context.Context, st *stage, it *itemRun) bool {
	step := it.step
	var lastClass Class
	var lastMsg string
	for {
		if it.attempt >= step.Retry.Attempts {
			r.finishFailed(ctx, st, it, lastClass, fmt.Sprintf("gave up after %d attempts: %s", it.attempt, lastMsg))
			return true
		}
		model := step.Models[it.rung]
		resp, hit, err := r.callOnce(ctx, it, model)
		if errors.Is(err, errAbandoned) {
			return false
		}
		if errors.Is(err, ErrQuotaExhausted) {
			if it.rung < len(step.Models)-1 {
				r.escalate(it, "daily quota exhausted")
				continue
			}
			r.finishFailed(ctx, st, it, ClassRateLimit, fmt.Sprintf("daily quota of %s exhausted and no stronger rung to climb to", model.ID))
			return true
		}
		it.attempt++
		r.stats.attempts.Add(1)
		if it.attempt > 1 {
			r.stats.retries.Add(1)
		}
		if err != nil {
			class := ClassOf(err)
			msg := failureMessage(err)
			ae := r.attemptError(it, model, class, msg, nil)
			lastClass, lastMsg = class, msg
			if class == ClassFatal {
				r.finishFailed(ctx, st, it, class, msg)
				return true
			}
			// Transient: same rung, after a backoff that honours the server.
			it.transN++
			if it.attempt >= step.Retry.Attempts {
				continue
			}
			r.retrying(ctx, it, ae)
			d := r.jitter(it.transN, step.Retry.BackoffMin, step.Retry.BackoffMax, serverDelay(err))
			if serr := sleep(ctx, r.clock, d); serr != nil {
				return false
			}
			continue
		}
		it.transN = 0
		it.last = resp.Text
		out, failed, passed, class, msg := r.validate(step, it.env, resp.Text)
		if class < 0 {
			r.succeed(ctx, st, it, model, out, resp, hit)
			return true
		}
		ae := r.attemptError(it, model, class, msg, failed)
		lastClass, lastMsg = class, msg
		if it.attempt >= step.Retry.Attempts {
			continue // out of attempts: the loop's head fails the item
		}
		r.retrying(ctx, it, ae)
		it.onRung++
		if it.onRung >= step.Retry.EscalateAfter && it.rung < len(step.Models)-1 {
			r.escalate(it, msg)
		}
		{
			if ferr := r.renderFeedback(it, failed, passed); ferr != nil {
				r.finishFailed(ctx, st, it, ClassFatal, "feedback: "+ferr.Error())
				return true
			}
		}
	}
}

// serverDelay is the wait a server asked for, if it asked.
func serverDelay(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryDelay
	}
	return 0
}

func (r *Runner) escalate(it *itemRun, why string) {
	from := it.step.Models[it.rung].ID
	it.rung++
	it.onRung = 0
	to := it.step.Models[it.rung].ID
	r.stats.bump(r.stats.escalations, from+" -> "+to)
	r.emit(Event{Kind: EventEscalated, Step: it.step.Name, Item: it.rec.ID, From: from, To: to, Message: why})
}

func (r *Runner) attemptError(it *itemRun, model *interp.Model, class Class, msg string, fields []interp.FieldError) AttemptError {
	ae := AttemptError{Attempt: it.attempt, Model: model.ID, Class: class, Message: msg, Fields: fields, At: r.clock.Now()}
	it.errs = append(it.errs, ae)
	r.stats.bump(r.stats.byClass, class.String())
	r.emit(Event{Kind: EventAttemptFailed, Step: it.step.Name, Item: it.rec.ID, Model: model.ID, Attempt: it.attempt, Class: class.String(), Message: msg})
	return ae
}

func (r *Runner) retrying(ctx context.Context, it *itemRun, ae AttemptError) {
	for _, mw := range r.opts.Middleware {
		mw.OnRetry(ctx, it.step.Name, it.rec, ae)
	}
}

// validate parses a reply and runs the checks. class < 0 means it passed.
func (r *Runner) validate(step *interp.Step, env map[string]any, text string) (out any, failed []interp.FieldError, passed []string, class Class, msg string) {
	textv := any(text) // boxed once, for out and for the checks' env
	out = textv
	if step.Output != nil {
		reply, err := step.Output.ParseReply(text)
		if err != nil {
			return nil, []interp.FieldError{{Field: "reply", Message: err.Error()}}, nil, ClassInvalidOutput, err.Error()
		}
		if reply.Recovered {
			r.stats.recovered.Add(1)
		}
		if len(reply.Failed) > 0 {
			return nil, reply.Failed, reply.Passed, ClassInvalidOutput, describeFields(reply.Failed)
		}
		out = reply.Value
		passed = reply.Passed
	}
	if len(step.Checks) == 0 {
		return out, nil, passed, -1, ""
	}
	// The checks see the item's own env plus output and text, added here
	// and removed before returning: copying env cost a map per attempt.
	// output and text are reserved names, so nothing is overwritten.
	env[interp.VarOutput] = out
	env[interp.VarText] = textv
	defer func() {
		delete(env, interp.VarOutput)
		delete(env, interp.VarText)
	}()
	cenv := env
	for _, c := range step.Checks {
		ok, err := c.Expr.EvalBool(cenv)
		field := c.Field
		if field == "" {
			field = "output"
		}
		if err != nil {
			failed = append(failed, interp.FieldError{Field: field, Message: c.Message + " (the check could not be evaluated: " + err.Error() + ")"})
		} else if !ok {
			failed = append(failed, interp.FieldError{Field: field, Message: c.Message})
		}
	}
	if len(failed) == 0 {
		return out, nil, passed, -1, ""
	}
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.Field] = true
	}
	kept := passed[:0:0]
	for _, p := range passed {
		if !bad[p] {
			kept = append(kept, p)
		}
	}
	return out, failed, kept, ClassCheckFailed, describeFields(failed)
}

func describeFields(fs []interp.FieldError) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}

// renderFeedback prepares the next attempt's prompt addition.
func (r *Runner) renderFeedback(it *itemRun, failed []interp.FieldError, passed []string) error {
	next := it.step.Models[it.rung].ID
	if it.step.Retry.Feedback == nil {
		var b strings.Builder
		b.WriteString("Your previous answer did not pass validation.\n")
		if len(passed) > 0 {
			b.WriteString("These fields were right: " + strings.Join(passed, ", ") + ".\n")
		}
		b.WriteString("Fix these:\n")
		for _, f := range failed {
			b.WriteString("- " + f.Field + ": " + f.Message + "\n")
		}
		b.WriteString("Answer again in full.")
		it.feedback = b.String()
		return nil
	}
	fenv := make(map[string]any, len(it.env)+5)
	for k, v := range it.env {
		fenv[k] = v
	}
	fl := make([]any, len(failed))
	for i, f := range failed {
		fl[i] = map[string]any{"field": f.Field, "message": f.Message}
	}
	if passed == nil {
		passed = []string{}
	}
	fenv[interp.VarFailed] = fl
	fenv[interp.VarPassed] = passed
	fenv[interp.VarPrevious] = it.last
	fenv[interp.VarAttempt] = it.attempt + 1
	fenv[interp.VarModel] = next
	fb, err := it.step.Retry.Feedback.Render(fenv)
	if err != nil {
		return err
	}
	it.feedback = fb
	return nil
}

// outputJSON is how a step's output is stored.
func outputJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
