package llmpipe_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

const budgetPipeline = `
source lines {
  lines = "in.txt"
}

model lite {
  id                = "gemini-2.5-flash-lite"
  max_output_tokens = 100
}

step answer {
  from   = lines
  models = [lite]
  prompt = "Say one thing about {{ item.text }}"
}

sink out {
  from  = answer
  jsonl = "out/answers.jsonl"
}

config {
  workers = 8
  budget  = $0.0005
}
`

func numberedLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line number %d\n", i)
	}
	return b.String()
}

func TestSimBudgetStopsTheRun(t *testing.T) {
	const items, budget = 300, 0.0005
	p := writePipeline(t, map[string]string{"main.llmp": budgetPipeline, "in.txt": numberedLines(items)})
	// A compressed quota minute keeps the pacer in the path but fast.
	sum, err, log := simRun(t, p, sim.DefaultConfig(), llmpipe.RunOptions{NoStore: true, QuotaWindow: 100 * time.Millisecond})
	if !errors.Is(err, runtime.ErrBudgetExceeded) {
		t.Fatalf("run error = %v, want one matching runtime.ErrBudgetExceeded", err)
	}
	if sum == nil || sum.Outcome != runtime.OutcomeBudget {
		t.Fatalf("summary = %+v, want outcome %q", sum, runtime.OutcomeBudget)
	}
	// What the provider billed, priced independently from the log.
	_, billed := logTotals(t, log)
	t.Logf("%d of %d items done; billed $%.6f of $%.4f", sum.Succeeded, items, billed, budget)
	if billed > budget {
		t.Errorf("the simulator billed $%.6f, over the $%.4f budget", billed, budget)
	}
	if !sameCost(sum.Cost, billed, generateCalls(log)) {
		t.Errorf("summary cost $%.9f, simulator log prices to $%.9f", sum.Cost, billed)
	}
	// The budget must have cut the run short, not merely been close.
	if sum.Succeeded == 0 || sum.Succeeded >= items {
		t.Errorf("%d of %d items succeeded; the budget should stop the run part-way", sum.Succeeded, items)
	}
	if sum.Budget != budget {
		t.Errorf("summary budget %v, want %v", sum.Budget, budget)
	}
}
