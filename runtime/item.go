package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/interp"
)

// errAbandoned means an item stopped without a terminal state (the run is
// draining, was cancelled, or hit the budget); it resumes on the next run.
var errAbandoned = errors.New("abandoned")

// maxRateLimitWaits bounds how many 429s one attempt may absorb before it
// counts as a transient failure, so a stuck quota cannot spin forever.
const maxRateLimitWaits = 100

// itemRun is one item's progress through one step.
type itemRun struct {
	// calling is the stage's place this item holds until its calls are
	// over (see stage.calling); nil once given back, or without a store.
	calling  *semaphore
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
	// answered holds the request keys this item already got a reply for
	// (kept only with a store, the one thing that could replay them):
	// asking the same again (same failures, same feedback) must reach the
	// model, not replay the reply that just failed.
	answered []string
	// fresh skips the response cache for the whole item (--retry-failed).
	fresh bool
	// started: the item got past resume and counts as in flight.
	started bool

	// Batch Mode (batch_run.go): the answer a job gave for the next
	// attempt; the job name to journal; jobs the item went into; noBatch
	// sends every further attempt online; parked asks the caller to put
	// the item into a new job.
	batch    *batchAnswer
	job      string
	jobTries int
	noBatch  bool
	parked   bool
	// capBoost is the least output cap for the item's next call, after a
	// reply was cut at a smaller one (MAX_TOKENS).
	capBoost int
	lastCap  int // the output cap of the item's last request

	// box boxes the replies' strings for the worker running the item (a
	// box.Strings' String; nil: box them plainly).
	box func(string) any
}

// process takes one record through one step to a terminal state. It
// reports false when the item was abandoned (draining, cancelled, budget).
func (r *Runner) process(ctx context.Context, st *stage, rec *Record, boxer func(string) any) bool {
	// On the stack: nothing keeps the item's run past this call, and a
	// heap itemRun would cost an allocation per item.
	it := itemRun{box: boxer, calling: st.calling}
	e := r.run(ctx, st, rec, &it)
	ok := r.finish(ctx, st, &it, e)
	it.doneCalling()
	if it.started {
		r.stats.inFlight.Add(-1)
	}
	putEnv(it.env) // nothing holds it now: expressions and templates keep no reference
	return ok
}

// doneCalling gives back the item's place among the calling ones, once.
func (it *itemRun) doneCalling() {
	if it.calling != nil {
		it.calling.release()
		it.calling = nil
	}
}

// end is how an item's run through a step ended: the one value its one
// terminal exit, finish, acts on.
type end struct {
	kind endKind
	// endFailed: the failure's class and message; endSkipped: who skipped.
	class Class
	msg   string
	// endOK: the model that answered, the parsed output, the reply and
	// whether it came from the response cache.
	model *interp.Model
	out   any
	resp  *Response
	hit   bool
}

type endKind uint8

const (
	endAbandoned endKind = iota // not terminal: the item resumes on the next run
	endResumed                  // terminal already: delivered from the store
	endSkipped                  // where or a middleware skipped it
	endOK                       // answered and valid
	endFailed                   // failed, with a class and a message
)

func failedEnd(class Class, msg string) end { return end{kind: endFailed, class: class, msg: msg} }

// finish is an item's one terminal exit: it succeeds, fails or is skipped
// here and nowhere else. It reports false for an abandoned item.
func (r *Runner) finish(ctx context.Context, st *stage, it *itemRun, e end) bool {
	switch e.kind {
	case endAbandoned:
		return false
	case endSkipped:
		r.stats.skipped.Add(1)
		r.emit(Event{Kind: EventItemSkipped, Step: it.step.Name, Item: it.rec.ID, Message: e.msg})
	case endOK:
		r.succeed(ctx, st, it, e.model, e.out, e.resp, e.hit)
	case endFailed:
		r.finishFailed(ctx, st, it, e.class, e.msg)
	}
	return true
}

// run takes a record through where, the Before middleware, resume and the
// templates to the attempts, filling it, and says how it ended; finish
// acts on that.
func (r *Runner) run(ctx context.Context, st *stage, rec *Record, it *itemRun) end {
	if e, more := r.prepare(ctx, st, rec, it); !more {
		return e
	}
	return r.attempts(ctx, it)
}

// prepare is run up to the first call, filling it. more is false when the
// record already ended (the end says how); a batched step gathers prepared
// items into jobs instead of calling at once.
func (r *Runner) prepare(ctx context.Context, st *stage, rec *Record, it *itemRun) (_ end, more bool) {
	p := r.plan.Load() // items run under the plan in force when they start
	step := p.steps[st.name]
	if step == nil {
		return end{kind: endAbandoned}, false
	}
	rec.Step, rec.Plan = step.Name, p.version
	rec.Failed, rec.Failure, rec.Cached, rec.FromStore = false, nil, false, false
	rec.Attempts, rec.Usage, rec.Cost, rec.Model, rec.Rung = 0, Usage{}, 0, "", 0

	it.step, it.rec = step, rec
	env := recordEnv(rec)
	it.env = env
	if step.Where != nil {
		keep, err := step.Where.EvalBool(env)
		if err != nil {
			return failedEnd(ClassFatal, "where: "+err.Error()), false
		}
		if !keep {
			return end{kind: endSkipped}, false
		}
	}
	for _, mw := range r.opts.Middleware {
		skip, err := mw.Before(ctx, step.Name, rec)
		if err != nil {
			return failedEnd(ClassFatal, "middleware: "+err.Error()), false
		}
		if skip {
			return end{kind: endSkipped, msg: "middleware"}, false
		}
	}
	if r.opts.Store != nil {
		it.input = inputHash(rec)
	}
	resumed := r.resume(ctx, st, step, rec, it.input)
	switch resumed {
	case resumeDone:
		return end{kind: endResumed}, false
	case resumeAbandon:
		return end{kind: endAbandoned}, false
	}

	r.stats.inFlight.Add(1)
	it.started = true
	r.emit(Event{Kind: EventItemStarted, Step: step.Name, Item: rec.ID, Plan: p.version})

	it.fresh = resumed == resumeRetry
	var err error
	if it.prompt, err = step.Prompt.Render(env); err != nil {
		return failedEnd(ClassFatal, "prompt: "+err.Error()), false
	}
	if step.System != nil {
		if it.system, err = step.System.Render(env); err != nil {
			return failedEnd(ClassFatal, "system: "+err.Error()), false
		}
	}
	return end{}, true
}

// recordEnv is what expressions and templates see for a record. The map
// comes from envPool: process gives it back with putEnv once the item is
// done, which saves a map (three allocations) per item; a caller that does
// not simply leaves it to the collector.
func recordEnv(rec *Record) map[string]any {
	env := envPool.Get().(map[string]any)
	if s, ok := rec.idv.(string); ok && s == rec.ID {
		env[interp.VarID] = rec.idv // boxed once, by admit
	} else {
		env[interp.VarID] = rec.ID
	}
	env[interp.VarItem] = rec.Item
	for k, v := range rec.Outputs {
		env[k] = v
	}
	return env
}

var envPool = sync.Pool{New: func() any { return make(map[string]any, 8) }}

// putEnv empties env and returns it to envPool; nil is ignored.
func putEnv(env map[string]any) {
	if env == nil {
		return
	}
	clear(env)
	envPool.Put(env)
}

// attempts is the item state machine: call, parse, check; retry, climb or
// give up, until the item is terminal or abandoned.
func (r *Runner) attempts(ctx context.Context, it *itemRun) end {
	step := it.step
	var lastClass Class
	var lastMsg string
	for {
		if it.attempt >= step.Retry.Attempts {
			return failedEnd(lastClass, fmt.Sprintf("gave up after %d attempts: %s", it.attempt, lastMsg))
		}
		model := step.Models[it.rung]
		resp, hit, err := r.callOnce(ctx, it, model)
		if errors.Is(err, errAbandoned) || errors.Is(err, errBudgetStop) {
			return end{kind: endAbandoned}
		}
		if errors.Is(err, errParked) {
			it.parked = true // the caller puts it into a new job
			return end{kind: endAbandoned}
		}
		if errors.Is(err, ErrQuotaExhausted) {
			if it.rung < len(step.Models)-1 {
				r.escalate(it, "daily quota exhausted")
				continue
			}
			return failedEnd(ClassRateLimit, fmt.Sprintf("daily quota of %s exhausted and no stronger rung to climb to", model.ID))
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
				return failedEnd(class, msg)
			}
			// Transient: same rung, after a backoff that honours the server.
			it.transN++
			if it.attempt >= step.Retry.Attempts {
				continue
			}
			r.retrying(ctx, it, ae)
			d := r.jitter(it.transN, step.Retry.BackoffMin, step.Retry.BackoffMax, serverDelay(err))
			if serr := sleep(ctx, r.clock, d); serr != nil {
				return end{kind: endAbandoned}
			}
			continue
		}
		it.transN = 0
		if resp.FinishReason == FinishMaxTokens {
			// Cut at the output cap: the cap's fault, not the model's. Ask
			// again on the same rung with a larger cap, using no attempt;
			// at the ceiling the reply goes on to be validated.
			if next, ok := grow(model, it.lastCap); ok {
				r.attemptError(it, model, ClassMaxTokens, fmt.Sprintf("reply cut at its cap of %d output tokens; asking again with %d", it.lastCap, next), nil)
				it.attempt--
				it.capBoost = next
				continue
			}
		} else {
			r.caps.observe(step.Name, model.ID, resp.Usage.OutputTokens+resp.Usage.ThinkingTokens)
		}
		it.last = resp.Text
		v := r.validate(step, it.env, resp.Text, it.box)
		if v.ok() {
			return end{kind: endOK, model: model, out: v.out, resp: resp, hit: hit}
		}
		ae := r.attemptError(it, model, v.class, v.msg, v.failed)
		lastClass, lastMsg = v.class, v.msg
		if it.attempt >= step.Retry.Attempts {
			continue // out of attempts: the loop's head fails the item
		}
		r.retrying(ctx, it, ae)
		it.onRung++
		if it.onRung >= step.Retry.EscalateAfter && it.rung < len(step.Models)-1 {
			r.escalate(it, v.msg)
		}
		if ferr := r.renderFeedback(it, v.failed, v.passed); ferr != nil {
			return failedEnd(ClassFatal, "feedback: "+ferr.Error())
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

// verdict is what validate found in a reply.
type verdict struct {
	out    any                 // the parsed output (the text for a text step); nil when it does not parse
	failed []interp.FieldError // what failed; empty when the reply passed
	passed []string            // top-level fields that parsed and passed every check
	class  Class               // when failed: ClassInvalidOutput or ClassCheckFailed
	msg    string              // when failed: the failures in one line
}

// ok reports whether the reply passed.
func (v *verdict) ok() bool { return len(v.failed) == 0 }

// validate parses a reply and runs the checks; boxer, when not nil, boxes
// the reply's text and its strings.
func (r *Runner) validate(step *interp.Step, env map[string]any, text string, boxer func(string) any) verdict {
	var textv any // boxed once, for out and for the checks' env
	if boxer != nil {
		textv = boxer(text)
	} else {
		textv = text
	}
	v := verdict{out: textv}
	if step.Output != nil {
		reply, err := step.Output.ParseReplyBoxing(text, boxer)
		if err != nil {
			return verdict{failed: []interp.FieldError{{Field: "reply", Message: err.Error()}}, class: ClassInvalidOutput, msg: err.Error()}
		}
		if reply.Recovered {
			r.stats.recovered.Add(1)
		}
		if len(reply.Failed) > 0 {
			return verdict{failed: reply.Failed, passed: reply.Passed, class: ClassInvalidOutput, msg: describeFields(reply.Failed)}
		}
		v.out, v.passed = reply.Value, reply.Passed
	}
	if len(step.Checks) == 0 {
		return v
	}
	// The checks see the item's own env plus output and text, added here
	// and removed before returning: copying env cost a map per attempt.
	// output and text are reserved names, so nothing is overwritten.
	env[interp.VarOutput] = v.out
	env[interp.VarText] = textv
	defer func() {
		delete(env, interp.VarOutput)
		delete(env, interp.VarText)
	}()
	var failed []interp.FieldError
	for _, c := range step.Checks {
		ok, err := c.Expr.EvalBool(env)
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
		return v
	}
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.Field] = true
	}
	kept := v.passed[:0:0]
	for _, p := range v.passed {
		if !bad[p] {
			kept = append(kept, p)
		}
	}
	return verdict{out: v.out, failed: failed, passed: kept, class: ClassCheckFailed, msg: describeFields(failed)}
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
