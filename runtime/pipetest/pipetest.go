// Package pipetest runs the test blocks of a pipeline: the real step
// (templates, reply parsing, checks, feedback, the ladder) through the
// runtime, with the model's replies served in process from the test. No
// call leaves the process and nothing is stored.
package pipetest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// Options configures Run.
type Options struct {
	// Cost prices one call's usage for a model id (the `cost` a test sees);
	// nil prices everything at 0.
	Cost func(modelID string, u runtime.Usage) runtime.Money
}

// Result is the outcome of one test.
type Result struct {
	Test *interp.Test
	// Error is set when the test could not be judged: the step asked for
	// more replies than the test gave ("no reply for attempt N"), or the
	// item never reached the step. Expectations are not evaluated then.
	Error string
	// Failures are the expectations that did not hold, in file order.
	Failures []Failure
}

// Passed reports whether the test ran and every expectation held.
func (r *Result) Passed() bool { return r.Error == "" && len(r.Failures) == 0 }

// Failure is one expectation that did not hold.
type Failure struct {
	Expect *interp.Expect
	Err    string   // the expectation could not be evaluated; "" when it was false
	Values []string // the values it saw, e.g. `output.age = 212`
}

// Run runs every test of prog, in file order. It is safe to call
// concurrently; each test runs on its own runner.
func Run(ctx context.Context, prog *interp.Program, opts Options) []*Result {
	out := make([]*Result, 0, len(prog.Tests))
	for _, t := range prog.Tests {
		out = append(out, RunTest(ctx, prog, t, opts))
	}
	return out
}

// RunTest runs one test of prog.
func RunTest(ctx context.Context, prog *interp.Program, t *interp.Test, opts Options) *Result {
	res := &Result{Test: t}
	root := t.Step
	for root.FromStep != nil {
		root = root.FromStep
	}
	src := &interp.Source{Name: "test " + t.Name, Kind: "test", Range: t.Range}
	if root.FromSource != nil {
		src.ID = root.FromSource.ID
	}
	step := t.Step.Isolated(src)
	one := &interp.Program{
		File: prog.File, Dir: prog.Dir,
		Sources: []*interp.Source{src},
		Schemas: prog.Schemas, Models: step.Models, Caches: prog.Caches,
		Steps:  []*interp.Step{step},
		Config: interp.Config{Workers: 1, Provider: prog.Config.Provider, Tier: prog.Config.Tier},
	}

	prov := &provider{replies: t.Replies}
	var (
		mu      sync.Mutex
		final   *runtime.Record
		retried []runtime.AttemptError
		skipped bool
	)
	mw := runtime.MiddlewareFuncs{
		AfterFunc: func(_ context.Context, _ string, rec *runtime.Record) error {
			mu.Lock()
			final = rec
			mu.Unlock()
			return nil
		},
		OnRetryFunc: func(_ context.Context, _ string, _ *runtime.Record, ae runtime.AttemptError) {
			mu.Lock()
			retried = append(retried, ae)
			mu.Unlock()
		},
	}
	obs := runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventItemSkipped {
			mu.Lock()
			skipped = true
			mu.Unlock()
		}
	})
	item := &runtime.Item{Index: 1, Data: cloneMap(t.Item), Outputs: t.Upstream}
	_, err := runtime.Run(ctx, one, runtime.Options{
		Provider: prov,
		OpenSource: func(context.Context, *interp.Source) (runtime.Source, error) {
			return &oneItem{it: item}, nil
		},
		// A test writes nothing: not even the default failed sink a
		// failing item would otherwise open.
		OpenSink: func(context.Context, *interp.Sink) (runtime.Sink, error) { return discard{}, nil },
		Cost:     opts.Cost,
		Seed:     1,
		Settings: runtime.Settings{
			Workers:    1,
			Middleware: []runtime.Middleware{mw},
			Observers:  []runtime.Observer{obs},
		},
	})
	mu.Lock()
	defer mu.Unlock()
	switch {
	case err != nil:
		res.Error = err.Error()
		return res
	case prov.missing > 0:
		res.Error = fmt.Sprintf("no reply for attempt %d", prov.missing)
		return res
	case skipped:
		res.Error = fmt.Sprintf("step %q skipped the item: its where is false", step.Name)
		return res
	case final == nil:
		res.Error = "the item never reached the step"
		return res
	case final.Failed && len(prov.reqs) == 0:
		res.Error = "the item failed before any call: " + final.Failure.Message
		return res
	}
	env := prov.env(t, step, final, retried)
	for _, e := range t.Expects {
		ok, err := e.Expr.EvalBool(env)
		switch {
		case err != nil:
			res.Failures = append(res.Failures, Failure{Expect: e, Err: err.Error()})
		case !ok:
			res.Failures = append(res.Failures, Failure{Expect: e, Values: e.Explain(env)})
		}
	}
	return res
}

// env builds the names a test's expectations see from what happened.
func (p *provider) env(t *interp.Test, step *interp.Step, rec *runtime.Record, retried []runtime.AttemptError) map[string]any {
	// Failures by attempt number: those retried, plus the last ones of a
	// failed item (its Failure lists them all).
	failures := map[int][]interp.FieldError{}
	for _, ae := range retried {
		failures[ae.Attempt] = ae.Fields
	}
	if rec.Failed && rec.Failure != nil {
		for _, ae := range rec.Failure.Errors {
			failures[ae.Attempt] = ae.Fields
		}
	}
	n := len(p.reqs)
	models := make([]any, n)
	attempts := make([]any, n)
	failedFields := []any{}
	feedback := []any{}
	for i, req := range p.reqs {
		models[i] = req.Model
		var fb string
		if i+1 < n {
			fb = strings.TrimPrefix(p.reqs[i+1].Prompt, p.reqs[0].Prompt+"\n\n")
			feedback = append(feedback, fb)
		}
		failed := []any{}
		for _, f := range failures[i+1] {
			failed = append(failed, map[string]any{"field": f.Field, "message": f.Message})
			failedFields = append(failedFields, fieldName(step, f))
		}
		attempts[i] = map[string]any{"model": req.Model, "reply": p.replies[i], "failed": failed, "feedback": fb}
	}
	text := ""
	if n > 0 {
		text = p.replies[n-1]
	}
	var output any
	if v, ok := rec.Outputs[step.Name]; ok && !rec.Failed {
		output = v
	} else if n > 0 {
		output = parsed(step, text)
	}
	record := map[string]any{interp.VarID: rec.ID, interp.VarItem: rec.Item}
	env := map[string]any{interp.VarID: rec.ID, interp.VarItem: rec.Item}
	for k, v := range t.Upstream {
		record[k] = v
		env[k] = v
	}
	if !rec.Failed {
		record[step.Name] = output
	}
	env[interp.TestOutput] = output
	env[interp.TestText] = text
	env[interp.TestRecord] = record
	env[interp.TestModels] = models
	env[interp.TestFailedFields] = failedFields
	env[interp.TestFeedback] = feedback
	env[interp.TestAttempts] = attempts
	env[interp.TestCost] = rec.Cost.Dollars()
	return env
}

// fieldName is what failed_fields lists for one failure: the check's
// field, else its message; a reply that does not parse gives "reply".
func fieldName(step *interp.Step, f interp.FieldError) string {
	for _, c := range step.Checks {
		if c.Field == "" && (f.Message == c.Message || strings.HasPrefix(f.Message, c.Message+" (")) {
			return c.Message
		}
	}
	return f.Field
}

// parsed is the final reply as the step would parse it, or nil when it
// does not parse against the schema.
func parsed(step *interp.Step, text string) any {
	if step.Output == nil {
		return text
	}
	r, err := step.Output.ParseReply(text)
	if err != nil || len(r.Failed) > 0 {
		return nil
	}
	return r.Value
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// provider serves a test's replies, one per call, in order.
type provider struct {
	mu      sync.Mutex
	replies []string
	reqs    []*runtime.Request
	missing int // the attempt that found no reply left; 0 if none
}

func (p *provider) Generate(_ context.Context, req *runtime.Request) (*runtime.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.reqs)
	if n >= len(p.replies) {
		p.missing = n + 1
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: fmt.Sprintf("no reply for attempt %d", n+1)}
	}
	p.reqs = append(p.reqs, req)
	text := p.replies[n]
	return &runtime.Response{
		Text: text,
		// Tokens estimated as the simulator does: about four bytes each.
		Usage: runtime.Usage{
			PromptTokens: (len(req.System) + len(req.Prompt) + 3) / 4,
			OutputTokens: (len(text) + 3) / 4,
		},
		FinishReason: "STOP",
		ModelVersion: req.Model,
	}, nil
}

// oneItem is a source of one item.
type oneItem struct {
	it   *runtime.Item
	done bool
}

func (s *oneItem) Next(context.Context) (*runtime.Item, error) {
	if s.done {
		return nil, io.EOF
	}
	s.done = true
	return s.it, nil
}

func (s *oneItem) Close() error { return nil }

// discard is a sink that keeps nothing.
type discard struct{}

func (discard) Write(context.Context, *runtime.Record) error { return nil }
func (discard) Close() error                                 { return nil }
