package runtime

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/interp/tokens"
)

// callOnce makes one attempt's call: from the response cache if the same
// request was answered before, else through the budget, the pacer and the
// worker semaphore. Rate limits and a vanished context cache are absorbed
// here (they are not attempts); the error returned is the attempt's.
func (r *Runner) callOnce(ctx context.Context, it *itemRun, model *interp.Model) (*Response, bool, error) {
	if a := it.batch; a != nil {
		return r.useBatchAnswer(ctx, it, model, a)
	}
	if r.batch != nil && r.followUpInBatch(it) {
		return nil, false, errParked
	}
	if req := r.peekRequest(it, model); req != nil {
		// A reply stored by an earlier run must not cost a context cache
		// creation: look it up before Get creates one.
		if resp, hit, err := r.stored(ctx, it, model, req, RequestKey(req)); hit || err != nil {
			return resp, hit, err
		}
	}
	for waits := 0; ; waits++ {
		req, err := r.buildRequest(ctx, it, model)
		if err != nil {
			return nil, false, err
		}
		// The response cache's key: without a store nothing reads it, and
		// hashing the request is a string per call.
		var key string
		if r.opts.Store != nil {
			key = RequestKey(req)
		}
		it.lastCap = req.MaxOutputTokens
		if resp, hit, err := r.stored(ctx, it, model, req, key); hit || err != nil {
			return resp, hit, err
		}
		first := it.attempt == 0 && waits == 0 // the item has not started yet
		if first && r.draining() {
			return nil, false, errAbandoned
		}
		// While the endpoint is down, wait here: no call, no item started.
		probe, err := r.brk.enter(ctx, r.drainCh)
		if err != nil {
			var oe *OutageError
			if errors.As(err, &oe) {
				r.fail(oe) // stops the run; this item stays pending
			}
			return nil, false, errAbandoned
		}
		slot, err := r.acquireSlot(ctx, model, req, first)
		if errors.Is(err, errBudgetStop) {
			if now := max(r.caps.cap(it.step.Name, model), it.capBoost); now < req.MaxOutputTokens {
				// The cap was set before the step's replies taught a
				// smaller one (the reservation waited): ask again with it.
				continue
			}
			// Nothing cheaper than an item's first call on the first rung
			// will come: then the run has nothing affordable left.
			r.budgetStop(it, model, req, it.attempt == 0 && it.rung == 0 && it.capBoost == 0)
		}
		if err != nil {
			if probe {
				r.brk.cancelProbe()
			}
			return nil, false, err
		}
		start := r.clock.Now()
		resp, callErr := r.opts.Provider.Generate(ctx, req)
		latency := r.clock.Now().Sub(start)
		r.stats.latency.observe(latency)
		cost := r.account(it, model, resp, callErr)
		cancelled := ctx.Err() != nil
		pe := slot.release(r, cost, resp, callErr, cancelled, latency)
		if r.auto != nil && !cancelled {
			r.auto.observe(pe)
		}
		unreachable := pe != nil && pe.Unreachable
		if cancelled && probe {
			r.brk.cancelProbe()
		} else if !cancelled {
			r.brk.done(probe, unreachable, callErr)
		}

		if len(r.opts.Observers) > 0 { // &u escapes: skip the allocation when nobody listens
			ev := Event{Kind: EventCallFinished, Step: it.step.Name, Item: it.rec.ID, Model: model.ID,
				Class: "ok", Cost: cost, Reserved: slot.worst, Delay: latency}
			if callErr != nil {
				ev.Class = ClassOf(callErr).String()
			} else {
				u := resp.Usage
				ev.Usage = &u
			}
			r.emit(ev)
		}
		if callErr == nil && r.opts.Store != nil {
			it.markAnswered(key)
			// First, and even while the run is being cancelled: a reply
			// that was paid for is answered from the store next time.
			if err := r.opts.Store.PutResponse(context.WithoutCancel(ctx), key, resp); err != nil {
				r.fail(err)
			}
		}
		if cancelled {
			if callErr == nil {
				r.journal(context.WithoutCancel(ctx), it, model, req, key, resp, nil, cost, latency, false)
			}
			return nil, false, errAbandoned
		}
		if pe != nil && pe.Class == ClassRateLimit {
			r.stats.rateLimited.Add(1)
			r.emit(Event{Kind: EventCooldown, Step: it.step.Name, Item: it.rec.ID, Model: model.ID, Delay: pe.RetryDelay, Message: pe.Message})
			if waits >= maxRateLimitWaits {
				return nil, false, &Error{Class: ClassTransient, Status: pe.Status, Message: "still rate limited after many waits: " + pe.Message}
			}
			if r.opts.Pacer == nil || pe.RetryDelay == 0 {
				// Without a pacer to hold the model (or a delay for it to
				// hold it for), wait here: the server's delay when it gave
				// one, else a backoff bounded by the quota window.
				d := pe.RetryDelay
				if d == 0 {
					d = r.jitter(min(waits+1, 6), time.Second, 60*time.Second, 0)
				}
				if err := sleep(ctx, r.clock, d); err != nil {
					return nil, false, errAbandoned
				}
			}
			continue
		}
		if unreachable {
			// Not an attempt: the endpoint is down, not the item. The
			// breaker holds the next call once enough fail in a row;
			// until then, back off so a flaky endpoint is not hammered.
			r.journal(ctx, it, model, req, key, resp, callErr, cost, latency, false)
			if waits >= maxRateLimitWaits {
				return nil, false, callErr
			}
			d := r.jitter(min(waits+1, 6), it.step.Retry.BackoffMin, it.step.Retry.BackoffMax, 0)
			if err := sleep(ctx, r.clock, d); err != nil {
				return nil, false, errAbandoned
			}
			continue
		}
		if callErr != nil && pe != nil && pe.CacheGone && r.opts.Caches != nil && it.step.Cache != nil {
			r.opts.Caches.Gone(ctx, it.step.Cache, model.ID, req.CachedContent)
			if waits < maxRateLimitWaits {
				continue
			}
		}
		r.journal(ctx, it, model, req, key, resp, callErr, cost, latency, false)
		return resp, false, callErr
	}
}

// callSlot is one call's claim on the run's shared resources: the
// budget's reservation of the call's worst case, the pacer's permit for
// the model and a worker of the semaphore. acquireSlot takes all three or
// none; release gives every one back, once, in one place.
type callSlot struct {
	worst  Money  // reserved from the budget
	permit Permit // nil without a pacer
}

// acquireSlot takes, in order, the budget reservation, the pacer's permit
// and a worker. On failure it has given back what it took: errAbandoned
// when the run is draining (and first says the item has not started yet),
// cancelled or out of budget; the pacer's error otherwise.
func (r *Runner) acquireSlot(ctx context.Context, model *interp.Model, req *Request, first bool) (callSlot, error) {
	estTokens := tokens.Estimate(req.System, req.Prompt)
	s := callSlot{worst: r.worstCost(model, estTokens, req.MaxOutputTokens)}
	switch r.bud.reserve(ctx, s.worst) {
	case unaffordable:
		return callSlot{}, errBudgetStop
	case gaveUp:
		return callSlot{}, errAbandoned
	}
	if r.opts.Pacer != nil {
		p, err := r.opts.Pacer.Acquire(ctx, model.ID, estTokens)
		if err != nil {
			r.bud.settle(s.worst, 0)
			if errors.Is(err, ErrQuotaExhausted) {
				return callSlot{}, err
			}
			if ctx.Err() != nil {
				return callSlot{}, errAbandoned
			}
			return callSlot{}, &Error{Class: ClassFatal, Message: err.Error(), Err: err}
		}
		s.permit = p
	}
	abandon := r.sem.acquire(ctx) != nil
	if !abandon && first && r.draining() {
		// Drain came while this item waited for its turn: it has not
		// started, so it is left for the next run.
		r.sem.release()
		abandon = true
	}
	if abandon {
		r.bud.settle(s.worst, 0)
		if s.permit != nil {
			s.permit.Cancel()
		}
		return callSlot{}, errAbandoned
	}
	return s, nil
}

// release ends the slot once the call has returned: the worker goes back,
// the budget is settled at what the call cost, and the permit is closed
// as the call ended — cancelled (the run was cancelled and the call
// failed), rate limited (a 429) or done (the server counted its prompt;
// a reply that came during cancellation was paid for and counts). It
// returns the call's error as an *Error, if it is one.
func (s callSlot) release(r *Runner, cost Money, resp *Response, callErr error, cancelled bool, latency time.Duration) *Error {
	r.sem.release()
	r.bud.settle(s.worst, cost)
	pe := asError(callErr)
	if s.permit == nil {
		return pe
	}
	switch {
	case cancelled && callErr != nil:
		s.permit.Cancel()
	case !cancelled && pe != nil && pe.Class == ClassRateLimit:
		s.permit.RateLimited(pe)
	default:
		prompt := 0
		if resp != nil {
			prompt = resp.Usage.PromptTokens
		}
		s.permit.Done(prompt, latency)
	}
	return pe
}

// account books a call's usage and cost on the item and the run's stats,
// and returns the cost (0 for a failed call).
func (r *Runner) account(it *itemRun, model *interp.Model, resp *Response, callErr error) Money {
	if callErr != nil {
		return 0
	}
	cost := r.cost(model.ID, resp.Usage)
	r.stats.addUsage(resp.Usage, cost)
	it.rec.Usage = it.rec.Usage.Add(resp.Usage)
	it.rec.Cost += cost
	if u := resp.Usage; u.CachedTokens > 0 && r.opts.Price != nil {
		pr := r.opts.Price(model)
		// dollars = tokens × price per 1e6 tokens; nano-dollars ×1e9.
		r.stats.savedNano.Add(int64(math.Round(float64(u.CachedTokens) * (pr.InputPerM - pr.CachedPerM) * 1e3)))
	}
	return cost
}

// markAnswered records that the item got a reply for key.
func (it *itemRun) markAnswered(key string) {
	if !it.wasAnswered(key) {
		it.answered = append(it.answered, key)
	}
}

// wasAnswered reports whether the item already got a reply for key. An
// item asks a handful of requests at most: a slice beats a map.
func (it *itemRun) wasAnswered(key string) bool {
	return slices.Contains(it.answered, key)
}

// stored answers req from the response cache, if the run may use it and
// the item has not already been given this reply.
func (r *Runner) stored(ctx context.Context, it *itemRun, model *interp.Model, req *Request, key string) (*Response, bool, error) {
	st := r.opts.Store
	if st == nil || r.opts.NoCache || it.fresh || it.wasAnswered(key) {
		return nil, false, nil
	}
	resp, err := st.CachedResponse(ctx, key)
	if err != nil {
		if ctx.Err() == nil {
			r.fail(err)
		}
		return nil, false, errAbandoned
	}
	if resp == nil {
		return nil, false, nil
	}
	if resp.FinishReason == FinishMaxTokens {
		// A reply cut at its cap is not an answer: ask the model, with
		// the cap of now. It was paid for, by this item in an earlier
		// run: its cost stays with the item, once.
		it.markAnswered(key)
		it.rec.Usage = it.rec.Usage.Add(resp.Usage)
		it.rec.Cost += r.cost(model.ID, resp.Usage)
		return nil, false, nil
	}
	it.markAnswered(key)
	r.stats.cacheHits.Add(1)
	// The item carries what its reply cost when it was paid for (by an
	// earlier run, perhaps one that crashed before the item finished), so
	// the sinks' costs add up to what the store says was spent. The run
	// spends nothing on it: the journal and the summary count 0.
	it.rec.Usage = it.rec.Usage.Add(resp.Usage)
	it.rec.Cost += r.cost(model.ID, resp.Usage)
	r.journal(ctx, it, model, req, key, resp, nil, 0, 0, true)
	return resp, true, nil
}

// peekRequest is the request buildRequest would make for a step with a
// context cache, built without creating the cache (its name is not part of
// the response cache's key); nil when there is no cache or no way to peek.
func (r *Runner) peekRequest(it *itemRun, model *interp.Model) *Request {
	pk, ok := r.opts.Caches.(CachePeeker)
	if !ok || it.step.Cache == nil || r.opts.Store == nil || r.opts.NoCache {
		return nil
	}
	id, inline := pk.Peek(it.step.Cache, model.ID)
	req := r.baseRequest(it, model)
	applyCache(req, it.step.Cache, "", id, inline)
	return req
}

// asError is errors.As for *Error. Its target escapes to the heap, so it
// lives here, where only a failed call pays for it.
func asError(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// buildRequest assembles the request for the item's current rung.
func (r *Runner) buildRequest(ctx context.Context, it *itemRun, model *interp.Model) (*Request, error) {
	req := r.baseRequest(it, model)
	if c := it.step.Cache; c != nil {
		inline, name, id := true, "", ""
		if r.opts.Caches != nil {
			n, i, in, err := r.opts.Caches.Get(ctx, c, model.ID)
			if err != nil {
				if ctx.Err() != nil {
					return nil, errAbandoned
				}
				return nil, err
			}
			inline, name, id = in, n, i
		}
		applyCache(req, c, name, id, inline)
	}
	return req, nil
}

// applyCache points req at cached content, or sends the content inline.
func applyCache(req *Request, c *interp.Cache, name, id string, inline bool) {
	if inline {
		req.System = joinNonEmpty(c.System, req.System)
		return
	}
	// A request that names cached content may not carry its own system
	// instruction: the step's system text joins the prompt.
	req.CachedContent, req.CacheID = name, id
	if req.System != "" {
		req.Prompt = req.System + "\n\n" + req.Prompt
		req.System = ""
	}
}

// baseRequest is the item's request before any context cache.
func (r *Runner) baseRequest(it *itemRun, model *interp.Model) *Request {
	step := it.step
	req := &Request{
		Item:            it.rec.ID,
		Step:            step.Name,
		Model:           model.ID,
		System:          it.system,
		Prompt:          it.prompt,
		Temperature:     model.Temperature,
		TopP:            model.TopP,
		TopK:            model.TopK,
		MaxOutputTokens: max(r.caps.cap(step.Name, model), it.capBoost),
		ThinkingBudget:  model.ThinkingBudget,
		Timeout:         step.Timeout,
	}
	if it.feedback != "" {
		req.Prompt = it.prompt + "\n\n" + it.feedback
	}
	if step.Output != nil {
		req.Schema = step.Output.GeminiSchema()
		req.SchemaID = step.Output.Hash()
	}
	return req
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}

func (r *Runner) cost(modelID string, u Usage) Money {
	if r.opts.Cost == nil {
		return 0
	}
	return r.opts.Cost(modelID, u)
}

// budgetStop reports an item the budget cannot afford at its rung; with
// last, nothing affordable is left and the run drains.
func (r *Runner) budgetStop(it *itemRun, model *interp.Model, req *Request, last bool) {
	r.bud.stop(last)
	r.stats.budgetStopped.Add(1)
	worst := r.worstCost(model, tokens.Estimate(req.System, req.Prompt), req.MaxOutputTokens)
	r.emit(Event{Kind: EventItemStopped, Step: it.step.Name, Item: it.rec.ID, Model: model.ID, Attempt: it.attempt,
		Cost: worst, Message: "stopped by the budget: its next call on " + model.ID + " may cost $" + worst.String() + ", more than is left"})
	if last {
		r.Drain()
	}
}

// worstCost is a call's cost if the model used every output token allowed:
// the input estimate and the request's output cap, rounded up.
func (r *Runner) worstCost(m *interp.Model, inTokens, maxOut int) Money {
	if r.opts.Price == nil {
		return 0
	}
	p := r.opts.Price(m)
	return Money(math.Ceil((float64(inTokens)*p.InputPerM + float64(maxOut)*p.OutputPerM) * 1e3))
}

// journal records one attempt in the store (buffered by the store).
func (r *Runner) journal(ctx context.Context, it *itemRun, model *interp.Model, req *Request, key string, resp *Response, callErr error, cost Money, latency time.Duration, cached bool) {
	st := r.opts.Store
	if st == nil {
		return
	}
	a := &Attempt{
		RunID: r.runID, Step: it.step.Name, Item: it.rec.ID, Attempt: it.attempt + 1,
		Rung: it.rung, Model: model.ID, RequestKey: key, Prompt: req.Prompt,
		System: req.System, Cache: req.CachedContent, Feedback: it.feedback,
		Status: "ok", Cost: cost, Latency: latency, Cached: cached, At: r.clock.Now(), Job: it.job,
	}
	if resp != nil {
		a.Reply, a.Usage = resp.Text, resp.Usage
	}
	if callErr != nil {
		// The class is the status: the error is said without it.
		a.Status, a.Error = ClassOf(callErr).String(), failureMessage(callErr)
	}
	if err := st.LogAttempt(ctx, a); err != nil && ctx.Err() == nil {
		r.fail(err)
	}
}
