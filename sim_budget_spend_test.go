package llmpipe_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// spendPipeline is a three-rung ladder whose lower rungs give wrong
// answers (set by the simulator's invalid rates), so items climb to Pro.
const spendPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string "full name as written"
  age  int
  city string
}

ladder rungs = ["gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro"]

step extract {
  from   = people
  models = rungs
  output = Person
  prompt = "Extract the person in this text: {{ item.text }}"
  check age "must be between 0 and 130": output.age >= 0 && output.age <= 130
  retry {
    attempts       = 4
    escalate_after = 1
    backoff        = 1ms .. 5ms
  }
}

sink out {
  from  = extract
  jsonl = "out/people.jsonl"
}

config {
  workers = 8
}
`

func spendPeople(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "{\"id\":\"p%d\",\"text\":\"Maria Lopez %d is %d years old and lives in Madrid; she works as an engineer.\"}\n", i, i, 20+i%50)
	}
	return b.String()
}

func spendSim(seed int64) sim.Config {
	cfg := sim.DefaultConfig()
	cfg.Seed = seed
	cfg.Invalid = map[string]float64{"gemini-2.5-flash-lite": 0.3, "gemini-2.5-flash": 0.3}
	return cfg
}

// TestBudgetSpendsWhatItIsGiven: with a budget of about a third of what
// the whole run costs, the run spends between 90 % and 100 % of it, never
// more, and reports what it left undone (issue 17).
func TestBudgetSpendsWhatItIsGiven(t *testing.T) {
	const items = 400
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			files := map[string]string{"main.llmp": spendPipeline, "people.jsonl": spendPeople(items)}
			opts := llmpipe.RunOptions{NoStore: true, QuotaWindow: 100 * time.Millisecond}
			full, err, _ := simRun(t, writePipeline(t, files), spendSim(seed), opts)
			if err != nil || full.Succeeded+full.Failed != items {
				t.Fatalf("full run: %v, %d ok %d failed", err, full.Succeeded, full.Failed)
			}
			budget := full.Cost / 3
			opts.Budget = budget
			sum, err, log := simRun(t, writePipeline(t, files), spendSim(seed), opts)
			if !errors.Is(err, runtime.ErrBudgetExceeded) || sum.Outcome != runtime.OutcomeBudget {
				t.Fatalf("err %v, outcome %s: want a budget stop", err, sum.Outcome)
			}
			_, billed := logTotals(t, log)
			t.Logf("full run $%.6f; budget $%.6f; spent $%.6f (%.1f%%); %d done, %d stopped by the budget",
				full.Cost, budget, billed, 100*billed/budget, sum.Succeeded+sum.Failed, sum.BudgetStopped)
			if billed > budget {
				t.Errorf("billed $%.9f, over the budget of $%.9f", billed, budget)
			}
			if billed < 0.9*budget {
				t.Errorf("billed $%.9f, under 90%% of the budget of $%.9f", billed, budget)
			}
			if sum.Succeeded+sum.Failed >= items {
				t.Errorf("every item finished: the budget should leave some undone")
			}
		})
	}
}

// TestCJKIsNeverUnderReserved: on a CJK-heavy source, where the simulator
// (like a real tokenizer) counts about a token per character and a
// bytes/4 estimate would count three quarters of that, no call costs
// more than the budget reserved for it (issue 17).
func TestCJKIsNeverUnderReserved(t *testing.T) {
	var src strings.Builder
	for i := 1; i <= 40; i++ {
		text := strings.Repeat(fmt.Sprintf("東京都の田中太郎さん（%d歳）は毎朝コーヒーを飲みます。", 20+i), 300)
		fmt.Fprintf(&src, "{\"id\":\"c%d\",\"text\":%q}\n", i, text)
	}
	files := map[string]string{"main.llmp": spendPipeline, "people.jsonl": src.String()}
	var (
		mu    sync.Mutex
		calls []runtime.Event
	)
	obs := runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventCallFinished && e.Class == "ok" {
			mu.Lock()
			calls = append(calls, e)
			mu.Unlock()
		}
	})
	opts := llmpipe.RunOptions{NoStore: true, QuotaWindow: 100 * time.Millisecond}
	opts.Observers = []runtime.Observer{obs}
	cfg := spendSim(1)
	cfg.LogBodies = true
	sum, err, log := simRun(t, writePipeline(t, files), cfg, opts)
	if err != nil || sum.Succeeded == 0 {
		t.Fatalf("run: %v, %d succeeded", err, sum.Succeeded)
	}
	if len(calls) == 0 {
		t.Fatal("no calls observed")
	}
	for _, e := range calls {
		if e.Reserved <= 0 || e.Cost > e.Reserved {
			t.Errorf("%s on %s cost $%s, reserved $%s", e.Item, e.Model, e.Cost, e.Reserved)
		}
	}
	// The source is CJK-heavy enough to catch a bytes/4 estimate.
	for _, e := range log {
		if isGenerate(e) && e.Status == 200 {
			if bytes4 := len(promptOf(t, e)) / 4; e.PromptTokens <= bytes4 {
				t.Fatalf("the simulator counted %d prompt tokens, bytes/4 says %d: the source does not test CJK", e.PromptTokens, bytes4)
			}
			break
		}
	}
}
