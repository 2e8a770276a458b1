package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// A reply cut at the output cap is asked again on the same rung with a
// larger cap, using no validation attempt (issue 17).
func TestMaxTokensRetriesWithALargerCap(t *testing.T) {
	// One worker: the caps are read in request order, and with more the
	// items' requests interleave.
	src := strings.Replace(personPipeline, "attempts       = 4", "attempts       = 1", 1) + "\nconfig {\n  workers = 1\n}\n"
	prog := compile(t, map[string]string{"main.llmp": src, "people.jsonl": people(3)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		// This model needs 1,500 tokens (thinking included) to answer.
		if req.MaxOutputTokens < 1500 {
			return &runtime.Response{Text: `{"name":"X",`, FinishReason: runtime.FinishMaxTokens,
				Usage: runtime.Usage{PromptTokens: 10, OutputTokens: 4, ThinkingTokens: req.MaxOutputTokens - 4}}, nil
		}
		return &runtime.Response{Text: `{"name":"X","age":5}`, FinishReason: "STOP",
			Usage: runtime.Usage{PromptTokens: 10, OutputTokens: 8, ThinkingTokens: 1492}}, nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 3 || sum.Failed != 0 {
		t.Fatalf("succeeded %d failed %d: a cut reply must not use the only attempt", sum.Succeeded, sum.Failed)
	}
	if sum.ByClass["max_tokens"] == 0 {
		t.Errorf("failures by class %v: no max_tokens counted", sum.ByClass)
	}
	var caps []int
	for _, r := range fp.requests() {
		caps = append(caps, r.MaxOutputTokens)
		if r.Model != "gemini-2.5-flash-lite" {
			t.Errorf("a cut reply climbed to %s: it must stay on its rung", r.Model)
		}
	}
	if caps[0] != 1024 || caps[1] != 2048 {
		t.Errorf("caps %v: want 1024, then 2048", caps)
	}
}

// An item the budget cannot afford at its next rung stops, left for the
// next run, while cheaper items go on (issue 17).
func TestBudgetStopsExpensiveItemsCheapOnesGoOn(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline + "\nconfig {\n  budget = $0.002\n  workers = 2\n}\n", "people.jsonl": people(100)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		// Every tenth item is wrong on the first rung and climbs.
		if req.Model == "gemini-2.5-flash-lite" && strings.HasSuffix(req.Item, "0") {
			return textReply(`{"name":"X","age":500}`), nil
		}
		return textReply(`{"name":"X","age":5}`), nil
	}}
	opts := options(fp)
	// The first rung costs $1 per 1M tokens, the others $100: a call on
	// them holds 256+ output tokens at $100/1M, $0.0256, more than the
	// whole budget.
	opts.Price = func(m *interp.Model) interp.Price {
		if m.ID == "gemini-2.5-flash-lite" {
			return interp.Price{InputPerM: 1, OutputPerM: 1}
		}
		return interp.Price{InputPerM: 100, OutputPerM: 100}
	}
	opts.Cost = func(id string, u runtime.Usage) runtime.Money {
		per := runtime.Money(1000)
		if id != "gemini-2.5-flash-lite" {
			per = 100_000
		}
		return runtime.Money(u.PromptTokens+u.OutputTokens) * per
	}
	var (
		mu      sync.Mutex
		stopped []string
	)
	opts.Observers = append(opts.Observers, runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventItemStopped {
			mu.Lock()
			stopped = append(stopped, e.Item+" "+e.Model+" "+e.Message)
			mu.Unlock()
		}
	}))
	sum, err := runtime.Run(context.Background(), prog, opts)
	if !errors.Is(err, runtime.ErrBudgetExceeded) || sum.Outcome != runtime.OutcomeBudget {
		t.Fatalf("err %v, outcome %s: want a budget stop", err, sum.Outcome)
	}
	if sum.Succeeded != 90 || sum.BudgetStopped != 10 || len(stopped) != 10 {
		t.Errorf("succeeded %d, stopped %d (%v): want the 90 cheap items done and the 10 climbers stopped", sum.Succeeded, sum.BudgetStopped, stopped)
	}
	if sum.Cost > 0.002 {
		t.Errorf("spent $%v of $0.002", sum.Cost)
	}
	for _, r := range fp.requests() {
		if r.Model != "gemini-2.5-flash-lite" {
			t.Errorf("a call on %s was made that the budget could not afford", r.Model)
		}
	}
}
