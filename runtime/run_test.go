package runtime_test

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

const personPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string
  age  int
}

ladder rungs = ["gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro"]

step extract {
  from   = people
  models = rungs
  output = Person
  prompt = "Extract: {{ item.text }}"
  check age "must be between 0 and 130": output.age >= 0 && output.age <= 130
  retry {
    attempts       = 4
    escalate_after = 1
    backoff        = 1ms .. 5ms
    feedback       = """
      Fields that passed: {{ join(passed, ", ") }}.
      {{ for f in failed }}
      - {{ f.field }}: {{ f.message }}
      {{ end }}
      """
  }
}

sink ok {
  from  = extract
  jsonl = "out/ok.jsonl"
}

sink bad {
  from  = extract.failed
  jsonl = "out/bad.jsonl"
}
`

func people(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "{\"id\":\"p%d\",\"text\":\"Person %d is %d years old\"}\n", i, i, 20+i%50)
	}
	return b.String()
}

func TestRunAllSucceed(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(200)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		return textReply(`{"name":"X","age":33}`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 200 || sum.Failed != 0 || sum.Outcome != runtime.OutcomeCompleted {
		t.Fatalf("summary: ok %d failed %d outcome %s", sum.Succeeded, sum.Failed, sum.Outcome)
	}
	recs := readJSONL(t, prog.Dir+"/out/ok.jsonl")
	if len(recs) != 200 {
		t.Fatalf("ok sink has %d records, want 200", len(recs))
	}
	seen := map[string]bool{}
	for _, r := range recs {
		id := r["id"].(string)
		if seen[id] {
			t.Fatalf("duplicate record %s", id)
		}
		seen[id] = true
		out := r["extract"].(map[string]any)
		if out["age"].(float64) != 33 {
			t.Fatalf("record %s: output %v", id, out)
		}
	}
	if got := len(fp.requests()); got != 200 {
		t.Fatalf("%d calls, want 200", got)
	}
	if sum.Usage.PromptTokens != 2000 || sum.Usage.OutputTokens != 1000 {
		t.Fatalf("usage %+v", sum.Usage)
	}
}

func TestInvalidReplyClimbsWithFeedback(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(1)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		switch req.Model {
		case "gemini-2.5-flash-lite":
			return textReply(`{"name":"X","age":"old"}`), nil // wrong type
		case "gemini-2.5-flash":
			return textReply(`{"name":"X","age":212}`), nil // check fails
		}
		return textReply(`{"name":"X","age":44}`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	reqs := fp.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d calls, want 3 (one per rung)", len(reqs))
	}
	wantModels := []string{"gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro"}
	for i, r := range reqs {
		if r.Model != wantModels[i] {
			t.Fatalf("call %d went to %s, want %s", i+1, r.Model, wantModels[i])
		}
	}
	if strings.Contains(reqs[0].Prompt, "Fields that passed") {
		t.Fatalf("first prompt already has feedback: %q", reqs[0].Prompt)
	}
	// Second call: feedback after an invalid reply names the bad field and the good one.
	if !strings.Contains(reqs[1].Prompt, "Extract: Person 1") || !strings.Contains(reqs[1].Prompt, "- age:") ||
		!strings.Contains(reqs[1].Prompt, "Fields that passed: name.") {
		t.Fatalf("second prompt lacks the rendered feedback:\n%s", reqs[1].Prompt)
	}
	// Third call: feedback after a failed check carries the check's message.
	if !strings.Contains(reqs[2].Prompt, "- age: must be between 0 and 130") {
		t.Fatalf("third prompt lacks the check feedback:\n%s", reqs[2].Prompt)
	}
	if sum.Succeeded != 1 || sum.Escalations["gemini-2.5-flash-lite -> gemini-2.5-flash"] != 1 ||
		sum.Escalations["gemini-2.5-flash -> gemini-2.5-pro"] != 1 {
		t.Fatalf("summary %+v", sum.Stats)
	}
	if sum.AnsweredBy["gemini-2.5-pro"] != 1 {
		t.Fatalf("answered by %v", sum.AnsweredBy)
	}
}

func TestTransientStaysOnRung(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(1)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		if n == 1 {
			return nil, &runtime.Error{Class: runtime.ClassTransient, Status: 503, Message: "overloaded"}
		}
		return textReply(`{"name":"X","age":5}`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	reqs := fp.requests()
	if len(reqs) != 2 || reqs[0].Model != reqs[1].Model || reqs[1].Model != "gemini-2.5-flash-lite" {
		t.Fatalf("calls: %d, models %v", len(reqs), models(reqs))
	}
	if sum.Succeeded != 1 || len(sum.Escalations) != 0 || sum.ByClass["transient"] != 1 {
		t.Fatalf("summary %+v", sum.Stats)
	}
}

func TestAttemptsRunOutIntoFailedRecord(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(1)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		return textReply(`not json at all`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 1 || len(fp.requests()) != 4 {
		t.Fatalf("failed %d, calls %d (want 1, 4)", sum.Failed, len(fp.requests()))
	}
	bad := readJSONL(t, prog.Dir+"/out/bad.jsonl")
	if len(bad) != 1 {
		t.Fatalf("failed sink has %d records", len(bad))
	}
	e := bad[0]["error"].(map[string]any)
	if e["class"] != "invalid_output" || len(e["errors"].([]any)) != 4 || e["last_reply"] != "not json at all" {
		t.Fatalf("failed record: %v", e)
	}
}

func TestPoisonFailsAtOnce(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(3)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		if req.Item == "p2" {
			return nil, &runtime.Error{Class: runtime.ClassFatal, Status: 400, Message: "invalid argument"}
		}
		return textReply(`{"name":"X","age":5}`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, r := range fp.requests() {
		if r.Item == "p2" {
			calls++
		}
	}
	if calls != 1 || sum.Failed != 1 || sum.Succeeded != 2 {
		t.Fatalf("poison item called %d times; ok %d failed %d", calls, sum.Succeeded, sum.Failed)
	}
}

func TestRateLimitWaitsAndIsNotAnAttempt(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(1)})
	var first time.Time
	var second time.Time
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		if n <= 4 {
			if n == 1 {
				first = time.Now()
			}
			return nil, &runtime.Error{Class: runtime.ClassRateLimit, Status: 429, RetryDelay: 50 * time.Millisecond,
				Quota: []runtime.QuotaViolation{{Axis: runtime.AxisRPM, Model: req.Model}}}
		}
		second = time.Now()
		return textReply(`{"name":"X","age":5}`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	// Four 429s with attempts = 4 would have exhausted the item if they counted.
	if sum.Succeeded != 1 || sum.RateLimited != 4 || sum.Attempts != 1 {
		t.Fatalf("ok %d, 429s %d, attempts %d", sum.Succeeded, sum.RateLimited, sum.Attempts)
	}
	if d := second.Sub(first); d < 4*50*time.Millisecond {
		t.Fatalf("retried after %v, want at least 4 × retryDelay", d)
	}
}

func TestNoGoroutineOutlivesRun(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(300)})
	before := goruntime.NumGoroutine()
	for _, cancelAt := range []int{0, 50} {
		ctx, cancel := context.WithCancel(context.Background())
		fp := &fakeProvider{}
		var calls int
		fp.reply = func(req *runtime.Request, n int) (*runtime.Response, error) {
			fp.mu.Lock()
			calls++
			c := calls
			fp.mu.Unlock()
			if cancelAt > 0 && c == cancelAt {
				cancel()
			}
			return textReply(`{"name":"X","age":5}`), nil
		}
		_, err := runtime.Run(ctx, prog, options(fp))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for goruntime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := goruntime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		n := goruntime.Stack(buf, true)
		t.Fatalf("%d goroutines before Run, %d after:\n%s", before, after, buf[:n])
	}
}

func TestBudgetStopsRun(t *testing.T) {
	// The whole run costs 500 × $0.000015 = $0.0075: a budget of $0.004
	// stops it part-way.
	prog := compile(t, map[string]string{"main.llmp": personPipeline + "\nconfig {\n  budget = $0.004\n  workers = 4\n}\n", "people.jsonl": people(500)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		return textReply(`{"name":"X","age":5}`), nil
	}}
	opts := options(fp)
	// $1 per million tokens both ways: each call's worst case is its input
	// estimate plus its output cap (1,024 tokens at first, then the floor
	// of 256 once replies of 5 tokens are seen), its real cost 15 / 1e6.
	opts.Price = func(*interp.Model) interp.Price { return interp.Price{InputPerM: 1, OutputPerM: 1} }
	opts.Cost = func(_ string, u runtime.Usage) runtime.Money {
		return runtime.Money(u.PromptTokens+u.OutputTokens) * 1000 // $1 per 1M tokens
	}
	sum, err := runtime.Run(context.Background(), prog, opts)
	if !errors.Is(err, runtime.ErrBudgetExceeded) {
		t.Fatalf("err = %v, want ErrBudgetExceeded", err)
	}
	if sum.Outcome != runtime.OutcomeBudget || sum.Cost > 0.004 {
		t.Fatalf("outcome %s cost %v", sum.Outcome, sum.Cost)
	}
	if sum.Succeeded == 0 || sum.Succeeded == 500 {
		t.Fatalf("succeeded %d: the budget should stop the run part-way", sum.Succeeded)
	}
	// Reservations wait for calls in flight to settle, and each holds only
	// the output cap learnt from the replies, so the run spends the budget:
	// it stops only once the next call's worst case (about $0.0003) does
	// not fit.
	if sum.Cost < 0.9*0.004 {
		t.Fatalf("stopped after spending $%.6f of $0.004: the budget should be spent", sum.Cost)
	}
	if sum.BudgetStopped == 0 {
		t.Error("no item reported as stopped by the budget")
	}
	if int64(len(readJSONL(t, prog.Dir+"/out/ok.jsonl"))) != sum.Succeeded {
		t.Fatal("every finished item must be written")
	}
}

func models(reqs []*runtime.Request) []string {
	var m []string
	for _, r := range reqs {
		m = append(m, r.Model)
	}
	return m
}
